"""Training callbacks of NeuralRanker (skorch callbacks)."""

import math

import torch
from skorch.callbacks import Callback

__all__ = ["CosineLR", "WeightAveraging"]


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


class CosineLR(Callback):
    r"""Cosine decay of the learning rate over the epochs of a fit.

    At the start of epoch :math:`e` (counted from 0 in each ``fit`` or
    ``partial_fit`` call) of :math:`E` = ``net.max_epochs``, every parameter
    group of the optimiser gets

    .. math::
        \eta_e = \eta_{\min} + \frac{\eta - \eta_{\min}}{2}
        \left(1 + \cos\frac{\pi e}{E}\right),

    :math:`\eta` being ``net.lr``: the full rate in the first epoch, decaying
    smoothly towards ``min_lr``. Large steps early and small ones late let a
    fixed number of epochs settle into a good region without early stopping
    (Loshchilov and Hutter, "SGDR", ICLR 2017, without restarts). It reads
    ``max_epochs`` when training starts, so ``set_params(max_epochs=...)``
    is honoured.

    Parameters
    ----------
    min_lr : float, default=0.0
        The rate the decay tends to.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.estimators import NeuralRanker
    >>> from skrank.estimators._callbacks import CosineLR
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 3, 60)
    >>> ranker = NeuralRanker(lr_schedule=None, callbacks=[CosineLR()], lr=0.1,
    ...                       max_epochs=4, random_state=0)
    >>> _ = ranker.fit(X, y, np.repeat(np.arange(6), 10))
    >>> [round(row["lr"], 4) for row in ranker.history]
    [0.1, 0.0854, 0.05, 0.0146]
    """

    def __init__(self, min_lr=0.0):
        self.min_lr = min_lr

    def on_train_begin(self, net, **kwargs):
        self.epoch_ = 0

    def on_epoch_begin(self, net, **kwargs):
        total = max(int(net.max_epochs), 1)
        cos = 0.5 * (1.0 + math.cos(math.pi * min(self.epoch_, total) / total))
        lr = self.min_lr + (float(net.lr) - self.min_lr) * cos
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        net.history.record("lr", lr)
        self.epoch_ += 1
