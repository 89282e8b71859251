"""The training behaviour of NeuralRanker, as skorch callbacks.

- :class:`ValidNDCG` records the validation NDCG of each epoch;
- :class:`EarlyStoppingOnNDCG` is skorch's ``EarlyStopping`` on it, restoring
  the best weights however training ends;
- :func:`own_torch_rng` runs a block on torch's generators, seeded by the
  estimator and restored afterwards, so ``fit`` leaves the user's stream alone;
- :class:`CosineLR` anneals the learning rate over ``max_epochs`` (a default);
- :class:`WeightAveraging` evaluates with a moving average of the weights (an
  option the quality experiments tried; see benchmarks/README.md).
"""

import contextlib
import math

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

from ..losses._chunked import no_subnormals

__all__ = [
    "CosineLR",
    "EarlyStoppingOnNDCG",
    "ValidNDCG",
    "WeightAveraging",
    "own_torch_rng",
]


@contextlib.contextmanager
def own_torch_rng(device, seed=None):
    """Run a block on torch's default generators, restored afterwards.

    ``fork_rng`` saves the CPU generator (and the one of ``device`` when it is
    a CUDA device) and restores them on exit, even on an error: the user's own
    torch stream is left exactly as it was. With ``seed``, the forked
    generators are seeded first.
    """
    device = torch.device(device)
    cuda = []
    if device.type == "cuda":
        index = device.index
        cuda = [torch.cuda.current_device() if index is None else index]
    with torch.random.fork_rng(devices=cuda):
        if seed is not None:
            torch.random.default_generator.manual_seed(seed)
            for index in cuda:
                with torch.cuda.device(index):
                    torch.cuda.manual_seed(seed)
        yield


class ValidNDCG(Callback):
    """Record ``valid_ndcg`` (NDCG@``net.ndcg_k``) and ``valid_ndcg_best``.

    Collects the scores and labels of the validation batches of an epoch
    (skorch passes each batch's output to ``on_batch_end``) and computes the
    mean NDCG over the validation queries at the end of the epoch. Nothing is
    recorded without validation data or when no validation query has a
    relevant document. In the probe of ``member_selection="auto"`` it also
    records ``valid_ndcg_binned``, the NDCG of the binned members' mean.
    """

    def initialize(self):
        self.parts_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.parts_ = []

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        y_pred = kwargs.get("y_pred")
        if training or y_pred is None:
            return
        (_, mask), labels = batch
        scores = net._score_from_output(y_pred)
        part = [scores[mask].float().cpu(), labels[mask].cpu(), mask.sum(1).cpu()]
        keep = getattr(net, "_selection_candidates", lambda: None)()
        if keep is not None:
            part.append(net._mean_score(y_pred, keep)[mask].float().cpu())
        self.parts_.append(tuple(part))

    def on_epoch_end(self, net, **kwargs):
        parts, self.parts_ = self.parts_, []
        if not parts:
            return
        from ..metrics import ndcg_score

        scores, labels, sizes, *alone = (
            torch.cat(p).numpy() for p in zip(*parts, strict=True)
        )
        groups = np.repeat(np.arange(sizes.shape[0]), sizes)
        value = float(ndcg_score(labels, scores, groups, k=net.ndcg_k))
        if math.isnan(value):
            return
        previous = [row.get("valid_ndcg") for row in net.history[:-1]]
        previous = [v for v in previous if v is not None]
        net.history.record("valid_ndcg", value)
        net.history.record("valid_ndcg_best", not previous or value > max(previous))
        if alone:
            binned = float(ndcg_score(labels, alone[0], groups, k=net.ndcg_k))
            net.history.record("valid_ndcg_binned", binned)

    def __getstate__(self):
        return {**self.__dict__, "parts_": []}


def _budget_chosen(net):
    """A probe of ``max_epochs="auto"`` chose this fit's epochs on validation."""
    return getattr(net, "probe_best_epoch_", None) is not None


class EarlyStoppingOnNDCG(EarlyStopping):
    """skorch's ``EarlyStopping`` on ``valid_ndcg``, idle without validation.

    With ``load_best=True`` skorch restores the best weights when training
    ends, however it ends (patience, ``max_epochs`` or Ctrl-C), and leaves
    the weight copy out of pickles. This subclass only skips epochs that
    recorded no ``valid_ndcg`` (no validation data), instead of failing on
    the missing key, and publishes the restored epoch as ``best_epoch_``. It
    is idle too when a probe of ``max_epochs="auto"`` chose the budget on
    validation data already.
    """

    def __init__(self, patience=10):
        super().__init__(
            monitor="valid_ndcg",
            patience=patience,
            threshold=0.0,
            lower_is_better=False,
            load_best=True,
        )

    def on_epoch_end(self, net, **kwargs):
        if self.monitor in net.history[-1] and not _budget_chosen(net):
            super().on_epoch_end(net, **kwargs)

    def on_train_end(self, net, **kwargs):
        if not len(net.history):  # max_epochs=0: nothing trained, nothing to restore
            return
        if _budget_chosen(net):
            return
        super().on_train_end(net, **kwargs)
        if self.best_model_weights_ is not None:
            net.best_epoch_ = self.best_epoch_


@torch.no_grad()
def flush_subnormals(tensors):
    """Set the subnormal entries of floating-point CPU tensors to 0, in place.

    Weights that the feature penalty shrinks with no gradient from the data
    (e.g. the bins of a feature that a penalty switches off) decay into the
    subnormal range, where x86 CPUs compute many times slower (see
    ``no_subnormals``): one fit's epochs slowed seven-fold.
    ``torch.set_flush_denormal`` would avoid it on the calling thread only,
    not on torch's other threads, and would change the process for everyone.
    """
    for tensor in tensors:
        if tensor.dim() and tensor.is_floating_point() and tensor.device.type == "cpu":
            tensor.copy_(no_subnormals(tensor))


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
        # a weight the flush set to 0 would decay geometrically in the
        # average, into the subnormal range
        flush_subnormals(self.average_)

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
    the budget at each epoch (a :class:`NeuralRanker`'s ``max_epochs_``, the
    number ``max_epochs="auto"`` chose, else ``max_epochs``), so
    ``set_params(max_epochs=...)`` is honoured.

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
        # NeuralRanker's budget of this fit (max_epochs may be "auto")
        total = getattr(net, "max_epochs_", None) or net.max_epochs
        total = max(int(total), 1)
        cos = 0.5 * (1.0 + math.cos(math.pi * min(self.epoch_, total) / total))
        lr = self.min_lr + (float(net.lr) - self.min_lr) * cos
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        net.history.record("lr", lr)
        self.epoch_ += 1
