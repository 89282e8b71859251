"""Training callbacks of NeuralRanker (skorch callbacks)."""

import torch
from skorch.callbacks import Callback

__all__ = ["WeightAveraging"]


class WeightAveraging(Callback):
    r"""Exponential moving average of the weights (Polyak averaging).

    After every training step the averaged weights move towards the current
    ones,

    .. math::
        \bar\theta \leftarrow \beta \bar\theta + (1 - \beta) \theta,

    and every evaluation uses the averaged weights: validation batches of an
    epoch (so validation NDCG, early stopping and the weights it keeps are
    those of the average), and the module left after training. The
    optimiser keeps stepping the raw weights, which are swapped back in at
    the start of each training epoch. The average of a noisy trajectory
    generalises better than its last point and makes the validation curve
    smoother, so early stopping on a small validation split is less noisy.

    Parameters
    ----------
    decay : float, default=0.98
        :math:`\beta`, per training step; the average spans about
        ``1 / (1 - decay)`` steps.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.estimators import NeuralRanker
    >>> from skrank.estimators._callbacks import WeightAveraging
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 3, 60)
    >>> ranker = NeuralRanker(callbacks=[WeightAveraging(0.9)], max_epochs=2,
    ...                       random_state=0).fit(X, y, np.repeat(np.arange(6), 10))
    """

    def __init__(self, decay=0.98):
        self.decay = decay

    def initialize(self):
        self.average_ = None
        self.raw_ = None
        return self

    def _tensors(self, net):
        return [
            t for t in net.module_.state_dict().values() if torch.is_floating_point(t)
        ]

    def on_train_begin(self, net, **kwargs):
        self.average_ = [t.detach().clone() for t in self._tensors(net)]
        self.raw_ = None

    @torch.no_grad()
    def _swap_in_average(self, net):
        if self.raw_ is not None or self.average_ is None:
            return
        tensors = self._tensors(net)
        self.raw_ = [t.clone() for t in tensors]
        for t, a in zip(tensors, self.average_, strict=True):
            t.copy_(a)

    @torch.no_grad()
    def _swap_out_average(self, net):
        if self.raw_ is None:
            return
        for t, r in zip(self._tensors(net), self.raw_, strict=True):
            t.copy_(r)
        self.raw_ = None

    def on_epoch_begin(self, net, **kwargs):
        self._swap_out_average(net)

    @torch.no_grad()
    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self._swap_out_average(net)
        else:
            self._swap_in_average(net)

    @torch.no_grad()
    def on_batch_end(self, net, training=False, **kwargs):
        if not training or self.average_ is None:
            return
        beta = float(self.decay)
        for a, t in zip(self.average_, self._tensors(net), strict=True):
            a.mul_(beta).add_(t.detach(), alpha=1.0 - beta)

    def on_epoch_end(self, net, **kwargs):
        # without validation batches, evaluate (and keep) the average anyway
        self._swap_in_average(net)

    def on_train_end(self, net, **kwargs):
        self._swap_in_average(net)
        self.raw_ = None
