"""The training behaviour of NeuralRanker, as skorch callbacks.

- :class:`ValidNDCG` records the validation NDCG of each epoch;
- :class:`EarlyStoppingOnNDCG` is skorch's ``EarlyStopping`` on it, restoring
  the best weights however training ends;
- :func:`own_torch_rng` runs a block on torch's generators, seeded by the
  estimator and restored afterwards, so ``fit`` leaves the user's stream alone.
"""

import contextlib
import math

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

__all__ = ["EarlyStoppingOnNDCG", "ValidNDCG", "own_torch_rng"]


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
    relevant document.
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
        self.parts_.append(
            (scores[mask].float().cpu(), labels[mask].cpu(), mask.sum(1).cpu())
        )

    def on_epoch_end(self, net, **kwargs):
        parts, self.parts_ = self.parts_, []
        if not parts:
            return
        from ..metrics import ndcg_score

        scores, labels, sizes = (torch.cat(p).numpy() for p in zip(*parts, strict=True))
        groups = np.repeat(np.arange(sizes.shape[0]), sizes)
        value = float(ndcg_score(labels, scores, groups, k=net.ndcg_k))
        if math.isnan(value):
            return
        previous = [row.get("valid_ndcg") for row in net.history[:-1]]
        previous = [v for v in previous if v is not None]
        net.history.record("valid_ndcg", value)
        net.history.record("valid_ndcg_best", not previous or value > max(previous))

    def __getstate__(self):
        return {**self.__dict__, "parts_": []}


class EarlyStoppingOnNDCG(EarlyStopping):
    """skorch's ``EarlyStopping`` on ``valid_ndcg``, idle without validation.

    With ``load_best=True`` skorch restores the best weights when training
    ends, however it ends (patience, ``max_epochs`` or Ctrl-C), and leaves
    the weight copy out of pickles. This subclass only skips epochs that
    recorded no ``valid_ndcg`` (no validation data), instead of failing on
    the missing key, and publishes the restored epoch as ``best_epoch_``.
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
        if self.monitor in net.history[-1]:
            super().on_epoch_end(net, **kwargs)

    def on_train_end(self, net, **kwargs):
        super().on_train_end(net, **kwargs)
        if self.best_model_weights_ is not None:
            net.best_epoch_ = self.best_epoch_
