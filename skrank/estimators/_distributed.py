"""Data-parallel training: NeuralRanker through skorch's ``AccelerateMixin``.

skrank adds no engine of its own: Hugging Face Accelerate starts the
processes' group (``torchrun`` or ``accelerate launch``), wraps the scorer in
PyTorch's ``DistributedDataParallel`` and shards the training
``DataLoader`` by batches; :meth:`NeuralRanker.get_iterator` lays the batches
out so that each process trains on its own share of whole queries and
validates on all of them. This module is imported on first access of
``skrank.estimators.AcceleratedNeuralRanker``; ``accelerate`` itself is only
needed to build the ``Accelerator`` passed in.
"""

import torch
from skorch.hf import AccelerateMixin
from skorch.utils import noop

from ._neural_ranker import _AUTO_FALLBACK_EPOCHS, NeuralRanker

__all__ = ["AcceleratedNeuralRanker"]


def _without_parameters(component):
    return isinstance(component, torch.nn.Module) and not any(
        True for _ in component.parameters()
    )


class AcceleratedNeuralRanker(AccelerateMixin, NeuralRanker):
    """:class:`NeuralRanker` trained through Hugging Face Accelerate.

    Built as ``class AcceleratedNeuralRanker(AccelerateMixin, NeuralRanker)``
    with skorch's :class:`skorch.hf.AccelerateMixin`: pass an
    ``accelerate.Accelerator`` for data-parallel training on several
    processes (GPUs or CPUs, one host or several), mixed precision
    (``Accelerator(mixed_precision="bf16")``) or both. Launched with
    ``torchrun`` or ``accelerate launch``, every process runs the same script
    with the same ``random_state``: the scorer is wrapped in PyTorch's
    ``DistributedDataParallel``, each process trains on a disjoint share of
    whole queries per epoch (one batch per process in each round, the same
    global batch order on every process), and every process validates on all
    validation queries, so early stopping takes the same decision everywhere
    and all processes end with the same weights. The effective batch is
    ``batch_size`` queries per process times the number of processes.

    Parameters
    ----------
    *args
        The positional parameters of :class:`NeuralRanker` (``module``).
    accelerator : accelerate.Accelerator
        Decides the processes, the device and the precision.
    device : None, default=None
        Leave the device to the accelerator; the data are moved once per fit
        to ``accelerator.device``.
    unwrap_after_train : bool, default=True
        Remove Accelerate's wrappers after training, so that the ranker
        predicts, pickles and saves like a :class:`NeuralRanker`.
    callbacks__print_log__sink : 'auto' or callable, default='auto'
        Where the epoch log goes; ``'auto'`` prints on the main process only,
        and only with ``verbose`` (as :class:`NeuralRanker` does).
    **kwargs
        The parameters of :class:`NeuralRanker`.

    See Also
    --------
    NeuralRanker : The same ranker on one process.

    Notes
    -----
    Compared with a bare ``class R(AccelerateMixin, NeuralRanker)``:

    - a loss without parameters (every skrank loss) is not handed to
      Accelerate: there is nothing to synchronise, and
      ``DistributedDataParallel`` refuses a module without parameters (in
      older Accelerate versions);
    - the module is unwrapped after the callbacks' ``on_train_end``, so that
      early stopping restores its best weights into the wrapped module they
      were copied from (``module.``-prefixed names);
    - ``partial_fit`` and warm starts wrap the module again before training,
      so that the processes keep synchronising their gradients;
    - ``max_epochs="auto"`` runs no probe (a probe would be a second
      distributed run with its own process group): it trains 15 epochs,
      early-stopping on the validation NDCG when there is validation data.
      Set ``max_epochs`` for large data.

    Examples
    --------
    >>> from accelerate import Accelerator
    >>> from skrank.datasets import make_ranking
    >>> from skrank.estimators import AcceleratedNeuralRanker
    >>> X, y, qid = make_ranking(n_queries=20, n_features=5, random_state=0)
    >>> ranker = AcceleratedNeuralRanker(
    ...     accelerator=Accelerator(cpu=True), max_epochs=2, random_state=0
    ... )
    >>> ranker.fit(X, y, qid).predict(X[:3]).shape
    (3,)
    """

    def _probe_epochs(self, X, y, groups, sample_weight, eval_set, n_queries):
        return _AUTO_FALLBACK_EPOCHS  # no probe: see Notes

    def _initialize_callbacks(self):
        if self.callbacks__print_log__sink == "auto":
            # skorch honours ``verbose`` for print only (any other sink always
            # gets the log): print on the main process, nothing elsewhere.
            main = self.accelerator.is_main_process
            self.callbacks__print_log__sink = print if main else noop
        return super()._initialize_callbacks()

    def _initialize_accelerator(self):
        if self._wrapped_with_accelerator:
            return self
        criteria = self._criteria
        skipped = [n for n in criteria if _without_parameters(getattr(self, n + "_"))]
        for name in skipped:  # not prepared, so placed here
            loss = getattr(self, name + "_")
            setattr(self, name + "_", loss.to(self._data_device()))
        self._criteria = [name for name in criteria if name not in skipped]
        try:
            return super()._initialize_accelerator()
        finally:
            self._criteria = criteria

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # After a fit unwrapped the module, partial_fit and warm starts train
        # it again: wrap it again, or the processes would stop synchronising.
        self._initialize_accelerator()
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # AccelerateMixin unwraps here, before the callbacks' on_train_end:
        # unwrapping waits for the end of _train instead.
        self.accelerator.wait_for_everyone()
        return super(AccelerateMixin, self).on_train_end(net, X=X, y=y, **kwargs)

    def _train(self, *args, **kwargs):
        try:
            return super()._train(*args, **kwargs)
        finally:
            if self.unwrap_after_train:
                self._unwrap_accelerator()
