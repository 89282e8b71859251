"""NeuralRanker: a skorch ``NeuralNet`` that trains scorers with ranking losses."""

import copy
import inspect
import math
import numbers
import warnings
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state
from skorch import NeuralNet
from skorch.callbacks import Callback

from ..utils import QueryIndex
from ..utils._validation import (
    HasMethods,
    Interval,
    StrOptions,
    check_relevance,
    validate_data,
    validate_parameter_constraints,
)
from ._data import QueryBatchIterator, QueryDataset
from ._modules import MLPScorer

__all__ = ["NeuralRanker", "NoGroupsWarning"]


class NoGroupsWarning(UserWarning):
    """Raised when ``fit`` or ``score`` gets no ``groups``: one big query."""


def _no_groups_message(method, n_samples):
    return (
        f"{method} was called without groups: all {n_samples} rows are treated "
        "as one query (and no query-level validation split is made). Pass "
        "groups=qid, one query id per row; inside GridSearchCV, cross_validate "
        "or Pipeline call sklearn.set_config(enable_metadata_routing=True) and "
        "pass groups=qid to their fit."
    )


def _is_context_aware(module):
    return bool(getattr(module, "context_aware", False))


def _n_members(module):
    return int(getattr(module, "n_members", 1))


def _make_input_transform(spec, sparse=False):
    """A fresh transformer from the ``input_transform`` parameter."""
    if spec is None:
        return None
    if spec == "log1p":
        from ..preprocessing import SymmetricLog1p

        return SymmetricLog1p(standardize=True)
    if spec == "standard":
        from sklearn.preprocessing import StandardScaler

        return StandardScaler(with_mean=not sparse)
    from sklearn.base import clone

    return clone(spec)


class _BestWeights(Callback):
    """Early stopping on validation NDCG that restores the best weights.

    Keeps a copy of the module's ``state_dict`` at the best ``valid_ndcg``;
    stops training (skorch's way: ``KeyboardInterrupt``) after ``patience``
    epochs without improvement, and restores the best weights when training
    ends, however it ends (early stop, ``max_epochs``, or Ctrl-C).
    """

    def __init__(self, patience=10, monitor="valid_ndcg", threshold=0.0):
        self.patience = patience
        self.monitor = monitor
        self.threshold = threshold

    def initialize(self):
        self.best_score_ = -math.inf
        self.best_epoch_ = None
        self.best_state_ = None
        self.misses_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        self.misses_ = 0

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        score = row.get(self.monitor)
        if score is None:
            return
        if score > self.best_score_ + self.threshold:
            self.best_score_ = score
            self.best_epoch_ = row["epoch"]
            self.best_state_ = copy.deepcopy(net.module_.state_dict())
            self.misses_ = 0
            return
        self.misses_ += 1
        if self.patience is not None and self.misses_ >= self.patience:
            if net.verbose:
                print(
                    f"Stopping since {self.monitor} has not improved in the last "
                    f"{self.patience} epochs; best epoch {self.best_epoch_}."
                )
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
            net.best_epoch_ = self.best_epoch_
            net.best_score_ = self.best_score_
            if net.verbose:
                print(
                    f"Restored the weights of epoch {self.best_epoch_} "
                    f"({self.monitor}={self.best_score_:.4f})."
                )


class NeuralRanker(NeuralNet):
    r"""Learning-to-rank with a torch scorer trained on a ranking loss.

    A :class:`skorch.NeuralNet` whose data are queries: ``fit(X, y, groups)``
    groups the rows by query id, batches whole queries as padded lists
    (queries of similar length together), and trains ``module`` with
    ``loss`` on ``[n_queries, list_len]`` scores, labels and mask. ``predict``
    returns one score per row, in the given row order; sort the documents
    of a query by decreasing score to rank them.

    Parameters
    ----------
    module : torch module class or instance, default=MLPScorer
        The scorer (by default an ensemble of 5 MLPs with hidden layers
        (128, 64), see :class:`MLPScorer`'s ``n_members``). Row-wise modules
        map ``[..., n_features]`` to ``[..., n_outputs]``; context-aware
        modules (class attribute ``context_aware = True``, e.g.
        :class:`AttentionScorer`) are called as ``module(X, mask)`` on padded
        lists. If the class takes
        ``n_features`` / ``n_outputs`` they are filled in from the data and
        the loss. Set module parameters as ``module__hidden_sizes=(64,)``.
    loss : str, loss class, loss instance or callable, default="listnet"
        A name from :func:`skrank.losses.get_loss_names`, a loss class
        (built with the ``loss__*`` parameters), an instance (e.g.
        ``ListNet() + 0.5 * RankNet()``) or any callable
        ``f(scores, labels, mask) -> scalar``. ListNet is the default: its
        cost is linear in the list length, it is stable with Adam's default
        learning rate and among the strongest losses on LETOR data.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Set its parameters as ``optimizer__weight_decay=1e-4``.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=15
        Number of passes over the training queries (fewer if early stopping
        ends training); with ``lr_schedule="cosine"`` also the length of the
        learning-rate decay.
    batch_size : int, default=32
        Number of queries per batch (-1: all queries in one batch).
    validation_fraction : float or None, default=None
        Fraction of the queries (at least one) held out, at random seeded by
        ``random_state``, to compute the validation NDCG@``ndcg_k`` each
        epoch. ``None`` or 0 disables the split. Ignored when ``fit`` gets an
        explicit ``eval_set``. The default trains on all queries for
        ``max_epochs`` epochs: on small data the NDCG of a few dozen held-out
        queries is too noisy to choose an epoch by (see Notes).
    early_stopping : bool, default=True
        Stop when the validation NDCG has not improved for ``patience``
        epochs and restore the weights of the best epoch. Without validation
        data it has no effect.
    patience : int, default=10
        Epochs without improvement before stopping.
    ndcg_k : int, default=10
        Cut-off of the validation NDCG and of :meth:`score`.
    max_list_length : int, default=None
        In training, lists longer than this are randomly subsampled to this
        length each epoch, keeping documents with a label > 0 first.
    bucketing : bool, default=True
        Batch queries of similar length together (sorted by length with a
        random jitter, batch order shuffled each epoch). ``False`` batches
        queries at random.
    random_state : int, RandomState instance or None, default=None
        Seeds torch's global generator (weights, dropout) at initialisation,
        the validation split, batch order and subsampling. The same integer
        on CPU gives identical predictions.
    callbacks : list of skorch callbacks, default=None
        Extra callbacks, e.g. ``LRScheduler`` or ``Checkpoint``.
    warm_start : bool, default=False
        Continue training the current weights on the next ``fit``.
    verbose : int, default=0
        1 prints one line per epoch (train loss, validation loss and NDCG,
        time).
    progress_bar : bool, default=False
        Show a progress bar per epoch (needs ``tqdm``).
    device : str or torch.device, default="cpu"
        Where the module and the data live during fit.
    input_transform : {"log1p", "standard"}, transformer or None, default="log1p"
        Fitted on the training features in ``fit`` and applied to every
        ``X`` the estimator sees (``fit``, ``eval_set``, ``predict``):
        ``"log1p"`` is :class:`skrank.preprocessing.SymmetricLog1p`
        (``sign(x) * log1p(|x|)``, then standardisation), which makes the
        defaults insensitive to the scale and tails of raw features;
        ``"standard"`` is scikit-learn's ``StandardScaler`` (not centred for
        sparse ``X``, which stays sparse, as with ``"log1p"``: a sparse and a
        dense copy of the same data then train slightly different models); a
        transformer instance is cloned; None feeds ``X`` as given.
    lr_schedule : {"cosine"} or None, default="cosine"
        ``"cosine"`` decays the learning rate from ``lr`` towards 0 over
        ``max_epochs`` epochs (:class:`~skrank.estimators._callbacks.CosineLR`);
        None keeps it constant.
    **kwargs
        Other :class:`skorch.NeuralNet` parameters and prefixed component
        parameters (``module__*``, ``loss__*``, ``optimizer__*``,
        ``callbacks__*``).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained scorer.
    loss_ : callable
        The loss in use.
    history_ : skorch.History
        Per-epoch records: ``train_loss``, ``valid_loss``, ``valid_ndcg``, ...
    best_epoch_ : int
        With early stopping, the epoch whose weights were restored.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names of a DataFrame given to ``fit``.

    Notes
    -----
    **Groups.** ``groups`` holds one query id per row (ints or strings; rows
    of a query need not be contiguous). Under
    ``sklearn.set_config(enable_metadata_routing=True)``, ``fit``, ``score``
    and ``predict`` request ``groups`` at class level, so one ``groups=qid``
    given to ``GridSearchCV``, ``cross_validate`` or ``Pipeline`` reaches the
    splitter, ``fit`` and the scorers with no ``set_*_request`` call.

    **Without groups**, ``fit`` and ``score`` treat all rows as one query and
    emit a :class:`NoGroupsWarning`.

    **Explicit validation set.** ``fit(X, y, groups, eval_set=(X_val, y_val,
    groups_val))`` validates (and early-stops) on the given queries instead
    of an internal split.

    **Defaults.** The defaults (an ensemble of 5 MLPs, ListNet, Adam with
    ``lr=1e-3`` decayed by a cosine over 15 epochs, 32 queries per batch,
    the symmetric log transform of the inputs, no internal validation
    split) were chosen on the validation files of MQ2008 and of synthetic
    sets of other shapes, never on test data; the protocol and the results
    are in the project's ``benchmarks/README.md`` (section *Quality*). For a
    single network, pass ``module__n_members=1``; to early-stop on data of
    your own, pass ``eval_set`` (or set ``validation_fraction`` on large
    data).

    **Robustness.** A non-finite training loss stops ``fit`` with a
    ``FloatingPointError`` naming the epoch. Ctrl-C (or a callback raising
    ``KeyboardInterrupt``) ends training with the best weights so far.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.estimators import NeuralRanker
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> y = (X[:, 0] > 0).astype(float)
    >>> groups = np.repeat(np.arange(6), 10)
    >>> ranker = NeuralRanker(max_epochs=5, random_state=0, module__hidden_sizes=(8,))
    >>> ranker.fit(X, y, groups).predict(X[:3]).shape
    (3,)
    """

    __metadata_request__fit: ClassVar[dict] = {"groups": True}
    __metadata_request__partial_fit: ClassVar[dict] = {"groups": True}
    __metadata_request__predict: ClassVar[dict] = {"groups": True}
    __metadata_request__score: ClassVar[dict] = {"groups": True}

    _parameter_constraints: ClassVar[dict] = {
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "validation_fraction": [
            Interval(numbers.Real, 0, 1, closed="left"),
            None,
        ],
        "early_stopping": ["boolean"],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "ndcg_k": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_list_length": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "bucketing": ["boolean"],
        "random_state": ["random_state"],
        "progress_bar": ["boolean"],
        "lr_schedule": [StrOptions({"cosine"}), None],
        "input_transform": [
            StrOptions({"log1p", "standard"}),
            HasMethods(["fit", "transform"]),
            None,
        ],
    }

    def __init__(
        self,
        module=MLPScorer,
        *,
        loss="listnet",
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=15,
        batch_size=32,
        validation_fraction=None,
        early_stopping=True,
        patience=10,
        ndcg_k=10,
        max_list_length=None,
        bucketing=True,
        random_state=None,
        callbacks=None,
        warm_start=False,
        verbose=0,
        progress_bar=False,
        device="cpu",
        input_transform="log1p",
        lr_schedule="cosine",
        **kwargs,
    ):
        # Set before NeuralNet.__init__: a loss instance is a torch module and
        # skorch only accepts those as plain attributes during __init__.
        self.loss = loss
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.patience = patience
        self.ndcg_k = ndcg_k
        self.max_list_length = max_list_length
        self.bucketing = bucketing
        self.random_state = random_state
        self.progress_bar = progress_bar
        self.input_transform = input_transform
        self.lr_schedule = lr_schedule
        kwargs.setdefault("train_split", None)
        super().__init__(
            module,
            criterion=None,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            callbacks=callbacks,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        # ``loss`` replaces skorch's ``criterion`` parameter.
        del self.criterion

    # ------------------------------------------------------------------
    # Components
    # ------------------------------------------------------------------
    @property
    def _default_callbacks(self):
        callbacks = list(super()._default_callbacks)
        if self.progress_bar:
            from skorch.callbacks import ProgressBar

            try:
                import tqdm  # noqa: F401
            except ImportError:
                raise ImportError(
                    "progress_bar=True needs the tqdm package: pip install tqdm."
                ) from None
            callbacks.insert(-1, ("progress_bar", ProgressBar()))
        if self.early_stopping:
            callbacks.append(("early_stopping", _BestWeights(patience=self.patience)))
        # [quality] the learning-rate schedule
        if self.lr_schedule == "cosine":
            from ._callbacks import CosineLR

            callbacks.insert(0, ("lr_schedule", CosineLR()))
        return callbacks

    def _make_loss(self):
        from ..losses import get_loss

        loss = self.loss
        params = self.get_params_for("loss")
        if isinstance(loss, str):
            return get_loss(loss, **params)
        if isinstance(loss, type):
            return loss(**params)
        if isinstance(loss, torch.nn.Module):
            return type(loss)(**params) if params else loss
        if callable(loss):
            return loss
        raise ValueError(
            "The 'loss' parameter of NeuralRanker must be a str among "
            "skrank.losses.get_loss_names(), a loss class, a loss instance or a "
            f"callable. Got {loss!r} instead."
        )

    def initialize_criterion(self):
        """Build ``loss_`` from ``loss`` and the ``loss__*`` parameters."""
        self.loss_ = self._make_loss()
        return self

    @property
    def criterion_(self):
        """Alias of ``loss_`` for skorch tools (``Checkpoint``, ``save_params``)."""
        return self.loss_

    def _n_outputs(self):
        loss = getattr(self, "loss_", None)
        if loss is None:
            loss = self._make_loss()
        return int(getattr(loss, "n_outputs", 1))

    def initialize_module(self):
        """Build ``module_``; fill in ``n_features`` and ``n_outputs``."""
        kwargs = self.get_params_for("module")
        module = self.module
        if not isinstance(module, torch.nn.Module) and callable(module):
            try:
                signature = inspect.signature(module).parameters
            except (TypeError, ValueError):  # pragma: no cover
                signature = {}
            if "n_features" in signature and "n_features" not in kwargs:
                if not hasattr(self, "n_features_in_"):
                    raise ValueError(
                        "The number of features is not known yet: call fit "
                        "(or set module__n_features) before initialize."
                    )
                kwargs["n_features"] = self.n_features_in_
            if "n_outputs" in signature and "n_outputs" not in kwargs:
                kwargs["n_outputs"] = self._n_outputs()
        self.module_ = self.initialized_instance(module, kwargs)
        return self

    def initialize(self):
        """Seed from ``random_state``, then initialise every component."""
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        torch.manual_seed(seed)
        self.rng_ = np.random.default_rng(seed)
        self.split_seed_ = seed + 1
        # The loss decides the module's number of outputs: build it first.
        with self._current_init_context("criterion"):
            self.loss_ = self._make_loss()
        return super().initialize()

    # ------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------
    def _validate_X(self, X, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_all_finite=True,
        )
        # [quality] the input transform is fitted with the features (reset).
        if reset:
            self.input_transform_ = _make_input_transform(
                self.input_transform, sparse=sp.issparse(X)
            )
            if self.input_transform_ is not None:
                self.input_transform_.fit(X)
        transform = getattr(self, "input_transform_", None)
        return X if transform is None else transform.transform(X)

    def _query_dataset(self, X, y, groups, method, reset):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X = self._validate_X(X, reset=reset)
        y = check_relevance(y, input_name="y")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} entries but X has {X.shape[0]} rows.")
        if groups is None:
            warnings.warn(_no_groups_message(method, X.shape[0]), NoGroupsWarning)
            groups = np.zeros(X.shape[0], dtype=np.intp)
        index = QueryIndex(groups, X.shape[0])
        return QueryDataset(X, y, index, device=self.device)

    def _check_params(self):
        params = {name: getattr(self, name) for name in self._parameter_constraints}
        if isinstance(params["batch_size"], numbers.Integral) and (
            params["batch_size"] == -1
        ):
            params["batch_size"] = 1  # -1 means all queries in one batch
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )

    def get_dataset(self, X, y=None):
        """Return ``X`` when it is a query dataset (built by ``fit``).

        Parameters
        ----------
        X : QueryDataset or input data
            A :class:`~skrank.estimators._data.QueryDataset` is returned as
            is; anything else goes to skorch's dataset.
        y : array-like, default=None
            Targets for skorch's dataset.

        Returns
        -------
        dataset : torch Dataset
            The dataset.
        """
        if isinstance(X, QueryDataset):
            return X
        return super().get_dataset(X, y)

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split the training queries: explicit ``eval_set`` or by query.

        The internal split holds out ``ceil(validation_fraction *
        n_queries)`` queries drawn at random (seeded by ``random_state``, the
        same for every ``partial_fit``), at least one training query kept.

        Parameters
        ----------
        X : QueryDataset
            All training queries.
        y : None, default=None
            Unused (labels live in the dataset).
        **fit_params : dict
            Unused.

        Returns
        -------
        dataset_train, dataset_valid : QueryDataset
            The training and validation queries (``dataset_valid`` is None
            without validation).
        """
        dataset = self.get_dataset(X, y)
        eval_dataset = getattr(self, "eval_dataset_", None)
        if eval_dataset is not None:
            return dataset, eval_dataset
        frac = self.validation_fraction
        n_queries = len(dataset)
        if not frac or n_queries < 2 or not isinstance(dataset, QueryDataset):
            return dataset, None
        n_valid = min(n_queries - 1, max(1, math.ceil(frac * n_queries)))
        perm = np.random.default_rng(self.split_seed_).permutation(n_queries)
        return dataset.subset(perm[n_valid:]), dataset.subset(perm[:n_valid])

    def get_iterator(self, dataset, training=False):
        """Batches of whole queries, length-bucketed (see ``bucketing``).

        Parameters
        ----------
        dataset : QueryDataset
            The queries.
        training : bool, default=False
            Shuffle (and subsample long lists) for training.

        Returns
        -------
        iterator : QueryBatchIterator
            Yields ``(QueryBatch(X_rows, mask), labels)``.
        """
        if not isinstance(dataset, QueryDataset):
            return super().get_iterator(dataset, training=training)
        return QueryBatchIterator(
            dataset,
            self.batch_size,
            shuffle=training,
            bucketing=self.bucketing,
            max_list_length=self.max_list_length if training else None,
            rng=self.rng_,
        )

    # ------------------------------------------------------------------
    # Forward pass and loss
    # ------------------------------------------------------------------
    def infer(self, x, **fit_params):
        """Scorer output ``[n_queries, list_len, n_outputs]`` of a batch.

        Row-wise modules run on the real rows only; context-aware modules get
        the padded ``[Q, L, F]`` tensor and the mask.

        Parameters
        ----------
        x : QueryBatch
            The batch's ``X_rows`` ``[n_rows, n_features]`` and ``mask``.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        output : torch.Tensor of shape (n_queries, list_len, n_outputs)
            Zeros at padded positions.
        """
        X_rows, mask = x
        if _is_context_aware(self.module_):
            out = self.module_(x.pad(X_rows), mask, **fit_params)
            return out if out.dim() == 3 else out.unsqueeze(-1)
        out = self.module_(X_rows, **fit_params)
        if out.dim() == 1:
            out = out.unsqueeze(-1)
        return x.pad(out)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The ranking loss of a batch: ``loss_(scores, labels, mask)``.

        Parameters
        ----------
        y_pred : torch.Tensor of shape (n_queries, list_len, n_outputs)
            Output of :meth:`infer`.
        y_true : torch.Tensor of shape (n_queries, list_len)
            Padded labels.
        X : QueryBatch, default=None
            The batch (its ``mask`` marks the real documents).
        training : bool, default=False
            Unused.

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        mask = X.mask
        # [quality] an ensemble module: each member trained on its own loss
        members = _n_members(self.module_)
        if members > 1:
            parts = y_pred.unflatten(-1, (members, -1)).unbind(-2)
            return sum(self._member_loss(p, y_true, mask) for p in parts) / members
        return self._member_loss(y_pred, y_true, mask)

    def _member_loss(self, scores, y_true, mask):
        if self._n_outputs() == 1 and scores.dim() == 3:
            scores = scores.squeeze(-1)
        return self.loss_(scores, y_true, mask)

    def _score_from_output(self, output):
        # [quality] an ensemble module scores with the mean of its members
        members = _n_members(getattr(self, "module_", None))
        if members > 1:
            parts = output.unflatten(-1, (members, -1)).unbind(-2)
            return sum(self._member_score(p) for p in parts) / members
        return self._member_score(output)

    def _member_score(self, output):
        fn = getattr(self.loss_, "score_from_output", None)
        if fn is not None:
            return fn(output)
        return output.squeeze(-1) if output.shape[-1] == 1 else output[..., 0]

    # ------------------------------------------------------------------
    # Per-epoch bookkeeping: non-finite loss, validation NDCG
    # ------------------------------------------------------------------
    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        self.valid_parts_ = []

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        loss = kwargs.get("loss")
        if training and loss is not None and not math.isfinite(loss.item()):
            epoch = len(self.history)
            raise FloatingPointError(
                f"The training loss became {loss.item()} in epoch {epoch}. The "
                f"learning rate (lr={self.lr}) is probably too high, or the "
                "features are not scaled (e.g. use a StandardScaler in a "
                "Pipeline); try a smaller lr or scale X."
            )
        if not training and kwargs.get("y_pred") is not None:
            (_, mask), labels = batch
            scores = self._score_from_output(kwargs["y_pred"])
            self.valid_parts_.append(
                (scores[mask].float().cpu(), labels[mask].cpu(), mask.sum(1).cpu())
            )

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
        parts = getattr(self, "valid_parts_", None)
        if not parts:
            return
        from ..metrics import ndcg_score

        scores = torch.cat([p[0] for p in parts]).numpy()
        labels = torch.cat([p[1] for p in parts]).numpy()
        sizes = torch.cat([p[2] for p in parts]).numpy()
        groups = np.repeat(np.arange(sizes.shape[0]), sizes)
        value = float(ndcg_score(labels, scores, groups, k=self.ndcg_k))
        self.valid_parts_ = []
        if math.isnan(value):
            return
        previous = [row.get("valid_ndcg") for row in self.history[:-1]]
        previous = [v for v in previous if v is not None]
        self.history.record("valid_ndcg", value)
        self.history.record("valid_ndcg_best", not previous or value > max(previous))

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    def fit(self, X, y, groups=None, **fit_params):
        """Train the scorer on queries (re-initialising unless ``warm_start``).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Features of each document.
        y : array-like of shape (n_samples,)
            Graded relevance labels, finite and >= 0.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row. Without it all rows are one query (with a
            :class:`NoGroupsWarning`).
        **fit_params : dict
            ``eval_set=(X_val, y_val, groups_val)`` for an explicit validation
            set; other parameters go to the module's ``forward``.

        Returns
        -------
        self : NeuralRanker
            The fitted ranker.
        """
        self._check_params()
        reset = not (self.warm_start and self.initialized_)
        dataset = self._query_dataset(X, y, groups, "fit", reset=reset)
        return self._train(super().fit, dataset, fit_params)

    def partial_fit(self, X, y=None, groups=None, classes=None, **fit_params):
        """Continue training the current weights for ``max_epochs`` epochs.

        The model is initialised on the first call.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Features of each document.
        y : array-like of shape (n_samples,)
            Graded relevance labels, finite and >= 0.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row (see :meth:`fit`).
        classes : None, default=None
            Unused, for scikit-learn compatibility.
        **fit_params : dict
            As in :meth:`fit` (``eval_set=...``).

        Returns
        -------
        self : NeuralRanker
            The ranker.
        """
        if isinstance(X, QueryDataset):  # called by NeuralNet.fit
            return super().partial_fit(X, y, **fit_params)
        self._check_params()
        dataset = self._query_dataset(
            X, y, groups, "partial_fit", reset=not self.initialized_
        )
        return self._train(super().partial_fit, dataset, fit_params)

    def _train(self, method, dataset, fit_params):
        eval_set = fit_params.pop("eval_set", None)
        if eval_set is not None:
            if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 3:
                raise ValueError(
                    "eval_set must be a tuple (X_val, y_val, groups_val). "
                    f"Got {type(eval_set).__name__} instead."
                )
            X_val, y_val, g_val = eval_set
            if g_val is None:
                raise ValueError("eval_set needs groups_val: one query id per row.")
            self.eval_dataset_ = self._query_dataset(
                X_val, y_val, g_val, "fit", reset=False
            )
        try:
            method(dataset, None, **fit_params)
        finally:
            self.eval_dataset_ = None
            self.valid_parts_ = []
        return self

    def _predict_rows(self, X):
        """Row-wise scores of a (validated) matrix, in chunks of rows."""
        chunk = 8192
        out = []
        self._set_training(False)
        with torch.no_grad():
            for start in range(0, X.shape[0], chunk):
                block = X[start : start + chunk]
                if sp.issparse(block):
                    block = block.toarray()
                xb = torch.as_tensor(
                    np.asarray(block, dtype=np.float32), device=self.device
                )
                output = self.module_(xb)
                if output.dim() == 1:
                    output = output.unsqueeze(-1)
                out.append(self._score_from_output(output).float().cpu())
        if not out:
            return np.zeros(0)
        return torch.cat(out).numpy().astype(np.float64)

    def predict(self, X, groups=None):
        """One ranking score per row, in the row order of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Features of each document.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row; required by context-aware modules, ignored
            by row-wise ones.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is better within a query.
        """
        self.check_is_fitted()
        X = self._validate_X(X, reset=False)
        if not _is_context_aware(self.module_):
            return self._predict_rows(X)
        if groups is None:
            raise ValueError(
                f"{type(self.module_).__name__} is context-aware (it scores a "
                "document against the other documents of its query): predict "
                "needs groups=qid, one query id per row."
            )
        index = QueryIndex(groups, X.shape[0])
        dataset = QueryDataset(X, None, index, device=self.device)
        iterator = QueryBatchIterator(dataset, self.batch_size, bucketing=True)
        sorted_scores = np.empty(X.shape[0], dtype=np.float64)
        for queries in iterator._batches():
            rows, _ = dataset.rows(queries)
            x, _ = dataset.batch(queries)
            output = self.evaluation_step((x, None))
            scores = self._score_from_output(output)[x.mask]
            sorted_scores[rows] = scores.float().cpu().numpy()
        return index.unsort(sorted_scores)

    @property
    def predict_proba(self):
        """Not available: a ranker has no class probabilities."""
        raise AttributeError(
            "NeuralRanker has no predict_proba: use predict for ranking scores."
        )

    def score(self, X, y, groups=None, sample_weight=None):
        """Mean NDCG@``ndcg_k`` over queries (gain ``2**y - 1``, tie-aware).

        Queries without a relevant document are left out of the mean (see
        :func:`skrank.metrics.ndcg_score`).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Features of each document.
        y : array-like of shape (n_samples,)
            Graded relevance labels.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row. Without it all rows are one query (with a
            :class:`NoGroupsWarning`).
        sample_weight : None, default=None
            Not supported (queries are weighted equally); accepted so that
            ``Pipeline.score`` works under metadata routing.

        Returns
        -------
        score : float
            The mean NDCG@``ndcg_k``.
        """
        from ..metrics import ndcg_score

        if sample_weight is not None:
            raise ValueError(
                "NeuralRanker.score does not support sample_weight: every query "
                "counts equally in the mean NDCG. Got sample_weight of type "
                f"{type(sample_weight).__name__}."
            )

        if groups is None:
            warnings.warn(_no_groups_message("score", len(y)), NoGroupsWarning)
            groups = np.zeros(len(y), dtype=np.intp)
        y_score = self.predict(X, groups=groups)
        return float(ndcg_score(y, y_score, groups, k=self.ndcg_k))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        return tags
