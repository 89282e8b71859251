"""NeuralRanker: a skorch ``NeuralNet`` that trains scorers with ranking losses."""

import inspect
import math
import numbers
import warnings
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import sklearn
import torch
from sklearn.utils import check_random_state
from skorch import NeuralNet
from skorch.exceptions import NotInitializedError

from ..utils import QueryIndex
from ..utils._validation import (
    HasMethods,
    Interval,
    StrOptions,
    check_relevance,
    validate_data,
    validate_parameter_constraints,
)
from ._callbacks import (
    EarlyStoppingOnNDCG,
    ValidNDCG,
    flush_subnormals,
    own_torch_rng,
)
from ._data import QueryBatchSampler, QueryDataset, dense_float32, query_loader
from ._modules import MLPScorer
from ._screen import screen_features
from ._weights import check_query_weights, supports_query_weights, weighted_loss

__all__ = ["NeuralRanker", "NoGroupsWarning"]


class NoGroupsWarning(UserWarning):
    """Raised when ``fit`` or ``score`` gets no ``groups``: one big query."""


def _missing_groups(method, n_samples):
    """Groups are missing: an error without metadata routing, else a warning.

    Without routing, scikit-learn's meta-estimators (``GridSearchCV``,
    ``cross_validate``, ``Pipeline``) never pass ``groups`` to ``fit`` or
    ``score``: training and scoring one big query would rank candidates on
    meaningless numbers, so this is an error. With routing on, a missing
    ``groups`` is a deliberate choice of the caller: one query, with a warning.
    """
    if not sklearn.get_config()["enable_metadata_routing"]:
        raise ValueError(
            f"NeuralRanker.{method} was called without groups: pass groups=qid, "
            "one query id per row. Inside GridSearchCV, cross_validate or "
            "Pipeline, call sklearn.set_config(enable_metadata_routing=True) and "
            "pass groups=qid to their fit: without metadata routing they do not "
            "pass groups on."
        )
    warnings.warn(
        f"{method} was called without groups: all {n_samples} rows are treated "
        "as one query (and no query-level validation split is made). Pass "
        "groups=qid, one query id per row.",
        NoGroupsWarning,
        stacklevel=3,
    )


def _unwrapped(module):
    if isinstance(module, torch.nn.parallel.DistributedDataParallel):
        return module.module  # wrapped by Accelerate for data-parallel training
    return module


def _is_context_aware(module):
    return bool(getattr(_unwrapped(module), "context_aware", False))


#: Largest finite float32: NeuralRanker computes in float32.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _selected_weights(probe, best):
    """``member_weights_`` from a probe's records at its ``best`` epoch.

    None (every member scores) unless the binned members' held-out NDCG
    (``valid_ndcg_binned``) beats every member's by ``_SELECTION_MARGIN``.
    """
    row = probe.history[best - 1]
    alone, every = row.get("valid_ndcg_binned"), row.get("valid_ndcg")
    if alone is None or every is None or not alone > every + _SELECTION_MARGIN:
        return None
    keep = probe._selection_candidates()
    weights = np.zeros(_n_members(probe.module_))
    weights[keep] = 1.0 / len(keep)
    return weights


def _n_members(module):
    return int(getattr(_unwrapped(module), "n_members", 1))


#: ``max_epochs="auto"``: the cap of a run that early-stops (the probe's, or
#: one given validation data), the probe's held-out share of queries, the
#: refit's budget in probe epochs, the budget without a probe (fewer than
#: _AUTO_MIN_QUERIES queries), and the fewest optimiser steps of a refit.
_AUTO_MAX_EPOCHS = 100
_AUTO_PROBE_FRACTION = 0.2
_AUTO_REFIT_FACTOR = 1.5
_AUTO_MIN_QUERIES = 10
_AUTO_FALLBACK_EPOCHS = 15
_AUTO_MIN_STEPS = 100

#: ``batch_size="auto"``: documents a batch holds on average, and the bounds
#: on its number of queries.
_AUTO_BATCH_DOCUMENTS = 600
_AUTO_BATCH_QUERIES = (4, 32)


#: feature_penalty="auto": the group-lasso strength on the features without a
#: marginal effect, applied when fewer than this share of the features that
#: vary within queries have one.
_AUTO_PENALTY = 1e-2
_AUTO_PENALTY_SHARE = 0.5
#: member_selection="auto": the binned members score alone when the probe's
#: held-out NDCG of their mean beats every member's mean by more than this
_SELECTION_MARGIN = 0.005


def _resolve_batch_size(batch_size, index):
    """Queries per batch: ``batch_size``, or the "auto" rule on ``index``."""
    if batch_size != "auto":
        return batch_size
    low, high = _AUTO_BATCH_QUERIES
    mean_length = index.n_samples / max(index.n_queries, 1)
    return int(np.clip(round(_AUTO_BATCH_DOCUMENTS / max(mean_length, 1)), low, high))


def _make_input_transform(spec, sparse=False):
    """A fresh transformer from the ``input_transform`` parameter."""
    if spec is None:
        return None
    if spec in ("scaled_log1p", "log1p"):
        from ..preprocessing import SymmetricLog1p

        return SymmetricLog1p(unit="median" if spec == "scaled_log1p" else None)
    if spec == "standard":
        from sklearn.preprocessing import StandardScaler

        return StandardScaler(with_mean=not sparse)
    from sklearn.base import clone

    return clone(spec)


#: Bytes of float32 features densified at once when predicting (the
#: module's own activations, e.g. MLPScorer's encoding with up to 17 times
#: as many columns, come on top).
_PREDICT_CHUNK_BYTES = 8 * 2**20


#: Training rows a module's ``initialize_from_data`` sees at most, and the
#: most bytes of float32 features they may take (wide sparse data: fewer).
_DATA_INIT_ROWS = 65_536
_DATA_INIT_BYTES = 64 * 2**20


_NO_SIGNAL_MESSAGE = (
    "No query in the training data has two documents with different labels"
)
_ONE_DOCUMENT_MESSAGE = "max_list_length=1 trains on one document of each list"


def _warn_without_ranking_signal(y, index, loss, max_list_length):
    """Warn when training cannot see two documents with different labels.

    A pairwise or listwise loss compares the documents of a list, so it
    learns nothing that ranks from query ids given one per row, labels that
    do not vary within any query, or lists cut to one document
    (``max_list_length=1``). A pointwise loss still fits the labels.
    """
    from ..losses._registry import _family_of

    if _family_of(loss) == "pointwise" or index.n_queries == 0:
        return
    if max_list_length == 1:
        warnings.warn(
            f"{_ONE_DOCUMENT_MESSAGE}, so the loss {loss!r} has nothing to rank: "
            "the scores will not rank documents. "
            "Pass max_list_length >= 2 (or None), or a pointwise loss.",
            UserWarning,
            stacklevel=4,
        )
        return
    ordered = index.sort(y)
    if (index.reduce(ordered, np.maximum) > index.reduce(ordered, np.minimum)).any():
        return
    largest = int(index.sizes.max())
    rows = f"{largest} row{'s' * (largest != 1)}"
    warnings.warn(
        f"{_NO_SIGNAL_MESSAGE} ({index.n_queries} queries of at most {rows}), so "
        f"the loss {loss!r} has nothing to rank: the scores will not rank "
        "documents. Check that groups holds one id per query (not per row) and "
        "that y holds relevance labels.",
        UserWarning,
        stacklevel=4,
    )


def _check_float32_range(X, feature_names=None):
    """Refuse NaN, infinity and values beyond float32, naming the columns."""
    if sp.issparse(X):
        bad = ~(np.abs(X.data) <= _FLOAT32_MAX)  # NaN compares False
        if not bad.any():
            return
        columns = np.unique(X.indices[bad])
        value = X.data[bad][0]
    else:
        with np.errstate(invalid="ignore"):
            ok = (X.max(axis=0, initial=-np.inf) <= _FLOAT32_MAX) & (
                X.min(axis=0, initial=np.inf) >= -_FLOAT32_MAX
            )
        if X.shape[0] == 0 or ok.all():
            return
        columns = np.flatnonzero(~ok)
        column = X[:, columns[0]]
        value = column[~(np.abs(column) <= _FLOAT32_MAX)][0]

    def name(column):
        if feature_names is None:
            return str(column)
        return f"{column} ({str(feature_names[column])!r})"

    shown = ", ".join(name(c) for c in columns[:5])
    more = f" and {columns.shape[0] - 5} more" if columns.shape[0] > 5 else ""
    raise ValueError(
        f"Input X contains NaN, infinity or values beyond the float32 range "
        f"(absolute value above {_FLOAT32_MAX:.7g}) in column(s) {shown}{more}; "
        f"NeuralRanker computes in float32. Got {float(value)!r} in column "
        f"{name(columns[0])}. Clean or scale these features."
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
        (128, 64), three of them fed the features and their encoding over
        16 quantile bins, see :class:`MLPScorer`'s ``n_members``, ``n_bins``
        and ``alternate_bins``). A module with an ``initialize_from_data(X)``
        method gets a sample of the (transformed) training rows once per
        initialisation, before the first step. Row-wise modules
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
    max_epochs : int or "auto", default="auto"
        Number of passes over the training queries (fewer if early stopping
        ends training); with ``lr_schedule="cosine"`` also the length of the
        learning-rate decay. ``"auto"`` chooses it on validation data
        (``max_epochs_``): a *probe*, a clone trained at a constant rate
        until its validation loss has not improved for ``patience`` epochs,
        finds the epoch of least validation loss, and the ranker is then
        trained for 1.5 times that many epochs (about twice the cost of one
        fit), and for at least 100 optimisation steps: on small data an
        epoch is a handful of steps, and the loss of the probe's few
        held-out lists can bottom out long before their ranking does. The
        probe validates on the ``eval_set`` when ``fit`` gets one, else on
        a ``validation_fraction`` (default: 20%) of the queries,
        and the ranker trains on the queries the probe trained on plus, when
        no split was asked for, the probe's validation queries. As the
        budget is chosen on validation data, ``early_stopping`` does not
        apply. With fewer than 10 queries and no ``eval_set`` there is no
        probe: 15 epochs (see Notes).
    batch_size : int or "auto", default="auto"
        Number of queries per batch (-1: all queries in one batch).
        ``"auto"`` sizes batches by documents, not queries: as many queries
        as hold about 600 documents on average, at least 4 and at most 32
        (``batch_size_``). Lists of ~19 documents (MQ2008) give 32 queries a
        batch, lists of ~120 give 5, so long-list data get as many
        optimisation steps per epoch as their documents warrant, instead of a
        handful (see Notes).
    validation_fraction : float or None, default=None
        Fraction of the queries (at least one) held out, at random seeded by
        ``random_state``, to compute the validation NDCG@``ndcg_k`` each
        epoch. ``None`` or 0 disables the split. Ignored when ``fit`` gets an
        explicit ``eval_set``. The default makes no split for the final
        model: on small data the NDCG of a few dozen held-out queries is too
        noisy to stop by, so ``max_epochs="auto"`` chooses the budget on a
        probe's validation *loss* and then trains on all queries (see
        Notes).
    early_stopping : bool, default=True
        Stop when the validation NDCG has not improved for ``patience``
        epochs and restore the weights of the best epoch. Without validation
        data it has no effect, nor when ``max_epochs="auto"`` chose the
        budget with a probe.
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
        Seeds the estimator's own generators: weights, dropout, the
        validation split, batch order and subsampling. ``fit`` forks torch's
        global generator and leaves it as it was. The same integer on CPU
        gives identical predictions.
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
    input_transform : str, transformer or None, default="log1p"
        ``"log1p"``, ``"scaled_log1p"``, ``"standard"``, a transformer or
        None. Fitted on the training features in ``fit`` and applied to every
        ``X`` the estimator sees (``fit``, ``eval_set``, ``predict``):
        ``"log1p"`` is :class:`skrank.preprocessing.SymmetricLog1p`
        (``sign(x) * log1p(|x|)``, then standardisation), which makes the
        defaults insensitive to the scale and tails of raw features;
        ``"scaled_log1p"`` divides each feature by its median non-zero
        magnitude first (``SymmetricLog1p(unit="median")``), so that the
        model does not depend on the unit a feature is given in, as a tree
        does not (on validation data: +0.0016 NDCG@10 on MQ2008, about
        -0.004 on raw features spread over six decades, and 1.25 times the
        epochs on an MSLR-shaped task; see ``benchmarks/README.md``, rounds
        19 and 21); ``"standard"`` is scikit-learn's ``StandardScaler``; a transformer
        instance is cloned and may change the number of columns (the
        module's ``n_features`` is its output width); None feeds ``X`` as
        given. A sparse ``X`` stays sparse in memory and is densified a
        batch of rows at a time, *before* the transform, so the rows are
        centred as dense ones are: a sparse and a dense copy of the same
        data train the same model and get the same scores.
    lr_schedule : {"cosine"} or None, default="cosine"
        ``"cosine"`` decays the learning rate from ``lr`` towards 0 over
        ``max_epochs`` epochs (:class:`~skrank.estimators._callbacks.CosineLR`);
        None keeps it constant.
    feature_penalty : "auto", float >= 0 or None, default="auto"
        A *group lasso* on the scorer's input weights, added to the training
        loss: :math:`\frac{1}{M} \sum_m \sum_j \lambda_j \lVert
        W^{(m)}_{:, G_j} \rVert_2`, where :math:`W^{(m)}_{:, G_j}` are the
        weights of member :math:`m`'s first layer that multiply feature
        :math:`j` (its column and its bins'; see
        :meth:`MLPScorer.feature_norms`). It drives the weights of features
        that do not help the loss towards 0: a neural network, unlike a
        tree ensemble, is not robust to uninformative features. A float is
        :math:`\lambda` for every feature; None or 0 adds nothing.
        ``"auto"`` tests each feature for a marginal effect on the labels
        within queries (an :math:`F` test and a trend test over its
        quantile bins, Benjamini-Hochberg at a 5% false discovery rate), and
        when fewer than half of the features that vary within queries have
        one (but at least one does), penalises the others with :math:`\lambda = 0.01`
        and the ones with an effect not at all. When most features have an
        effect (curated features, such as LETOR's), the few without one more
        likely act in interaction with others than not at all, and
        ``"auto"`` adds nothing. It also adds nothing for a module without
        ``feature_norms`` or an ``input_transform`` that changes the number
        of columns (``feature_penalty_`` is None). The test is on the
        training rows; its cost is small next to training.
    member_selection : "auto" or None, default="auto"
        With ``max_epochs="auto"`` and an ensemble scorer whose members see
        different inputs (:class:`MLPScorer`'s members with and without
        quantile bins), the probe also decides which members score. At its
        epoch of least validation loss it compares, on its held-out queries,
        the NDCG@``ndcg_k`` of the mean of the binned members' scores with
        that of every member's. If the binned members alone are ahead by
        more than 0.005, the ranker scores with their mean
        (``member_weights_``); every member still trains. On data whose
        relevance turns on thresholds of the features (where trees do well)
        the members without bins can fall far behind and drag the mean
        down; elsewhere they add diversity, and the mean of all stays.
        None: every member scores, whatever the probe finds.
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
    batch_size_ : int
        Queries per training batch: ``batch_size``, or what ``"auto"`` chose
        for the training data.
    max_epochs_ : int
        The epoch budget of the last ``fit``: ``max_epochs``, or what
        ``"auto"`` chose.
    probe_best_epoch_ : int or None
        With ``max_epochs="auto"`` and no validation data: the probe's epoch
        of least validation loss (else None).
    best_epoch_ : int
        With early stopping, the epoch whose weights were restored.
    output_offset_ : torch.Tensor of shape (n_members * n_outputs,) or None
        Added to the scorer's outputs: where the loss starts from the
        training labels (``loss.initial_output``, e.g. the ordinal loss's
        threshold logits); None for most losses.
    member_weights_ : ndarray of shape (n_members,) or None
        Each member's weight in the score where ``member_selection`` left
        members out (weights of the kept members equal, summing to 1), else
        None: the mean of every member's score.
    feature_penalty_ : ndarray of shape (n_features,) or None
        The group-lasso strength of each feature in the training loss
        (``feature_penalty``, resolved on the training data), None without
        one.
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

    **Without groups**, ``fit``, ``partial_fit`` and ``score`` raise a
    ``ValueError`` when metadata routing is off (a meta-estimator would be
    dropping ``groups`` silently); with routing on, they treat all rows as
    one query and emit a :class:`NoGroupsWarning`.

    **Explicit validation set.** ``fit(X, y, groups, eval_set=(X_val, y_val,
    groups_val))`` validates (and early-stops) on the given queries instead
    of an internal split.

    **Defaults.** The defaults (an ensemble of 5 MLPs with dropout 0.2,
    ListNet, Adam with ``lr=1e-3`` decayed by a cosine over an epoch budget
    chosen by a probe, batches of about 600 documents, the symmetric log
    transform of the inputs, a group lasso on the features without a
    marginal effect where those are the majority, every query trained on,
    the binned members alone scoring where the probe finds them ahead)
    were chosen on the validation
    files of MQ2008 and of synthetic sets of other shapes, never on test
    data; the protocol and the results are in the project's
    ``benchmarks/README.md`` (section *Quality*). For a single network,
    pass ``module__n_members=1``; to early-stop on data of your own, pass
    ``eval_set`` (or set ``validation_fraction`` on large data).

    **Robustness.** A non-finite training loss stops ``fit`` with a
    ``FloatingPointError`` naming the epoch; the best finite weights (from
    early stopping) are restored and the error says so, or, without them,
    the ranker is left unfitted. Ctrl-C (or a callback raising
    ``KeyboardInterrupt``) ends training with the best weights so far.
    Features must be finite and within float32's range (checked per column).
    :func:`save_ranker` writes a model file that loads without running code.

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
        "max_epochs": [
            Interval(numbers.Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
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
            StrOptions({"log1p", "scaled_log1p", "standard"}),
            HasMethods(["fit", "transform"]),
            None,
        ],
        "feature_penalty": [
            StrOptions({"auto"}),
            Interval(numbers.Real, 0, None, closed="left"),
            None,
        ],
        "member_selection": [StrOptions({"auto"}), None],
    }

    def __init__(
        self,
        module=MLPScorer,
        *,
        loss="listnet",
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs="auto",
        batch_size="auto",
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
        feature_penalty="auto",
        member_selection="auto",
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
        self.feature_penalty = feature_penalty
        self.member_selection = member_selection
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
        # before print_log (skorch puts PrintLog last): valid_ndcg is shown
        callbacks.append(("valid_ndcg", ValidNDCG()))
        if self.early_stopping:
            callbacks.append(
                ("early_stopping", EarlyStoppingOnNDCG(patience=self.patience))
            )
        # the learning-rate schedule
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
        # initialize() builds the loss before the module (it decides the
        # module's n_outputs) and flags it: not built twice. A later call
        # (set_params(loss__...) on an initialised net) rebuilds it.
        if not self.__dict__.pop("_loss_built", False):
            self.loss_ = self._make_loss()
        return self

    @property
    def criterion_(self):
        """Alias of ``loss_`` for skorch tools (``Checkpoint``, ``save_params``)."""
        return self.loss_

    def _n_outputs(self):
        if getattr(self, "loss_", None) is None:
            self.initialize_criterion()
        return int(getattr(self.loss_, "n_outputs", 1))

    def initialize_module(self):
        """Build ``module_``; fill in ``n_features`` and ``n_outputs``.

        The weights are drawn from torch's generator seeded from
        ``random_state``, inside ``torch.random.fork_rng``: the user's torch
        stream is left untouched. The module computes in float32, whatever
        torch's default dtype.
        """
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
                kwargs["n_features"] = getattr(
                    self, "_n_module_features", self.n_features_in_
                )
            if "n_outputs" in signature and "n_outputs" not in kwargs:
                kwargs["n_outputs"] = self._n_outputs()
        seed = getattr(self, "_seed", None)
        if seed is None:
            seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        with own_torch_rng("cpu", seed):
            module = self.initialized_instance(module, kwargs)
        self.module_ = module.to(torch.float32)
        # a fresh module: its data-dependent initialisation is still to come
        self._module_data_init = True
        return self

    def initialize(self):
        """Seed from ``random_state``, then initialise every component.

        ``random_state`` seeds the estimator's own generators: ``rng_``
        (numpy: validation split, batch order, subsampling, and the seed of
        torch's generator during each fit) and the weight initialisation.
        torch's and numpy's global streams are not touched.
        """
        try:
            return super().initialize()
        finally:
            self.__dict__.pop("_loss_built", None)

    def _initialize_virtual_params(self):
        # The first step of skorch's initialize() and of the copy of it in
        # skorch's AccelerateMixin: seeding here serves both.
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        self._seed = seed
        self.rng_ = np.random.default_rng(seed)
        self.split_seed_ = seed + 1
        self.output_offset_ = None
        # The loss decides the module's number of outputs: build it first,
        # once (initialize_criterion sees the flag and keeps it).
        with self._current_init_context("criterion"):
            self.loss_ = self._make_loss()
        self._loss_built = True
        return super()._initialize_virtual_params()

    # ------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------
    def _check_X(self, X, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,  # checked below, naming the column
        )
        _check_float32_range(X, getattr(self, "feature_names_in_", None))
        return X

    def _queries_per_batch(self):
        """The batch size in queries: fitted for "auto" (any when unfitted)."""
        if self.batch_size != "auto":
            return self.batch_size
        # before fit (or in a model loaded from an older file) any size gives
        # the same predictions
        return getattr(self, "batch_size_", None) or _AUTO_BATCH_QUERIES[1]

    def _fit_input_transform(self, X):
        # The transform applies to dense rows (sparse ones are densified a
        # batch at a time first), so sparse and dense copies of the same data
        # train the same model. A StandardScaler cannot be fitted with
        # with_mean=True on sparse X, but computes mean_ all the same.
        sparse = sp.issparse(X)
        transform = _make_input_transform(self.input_transform, sparse=sparse)
        if transform is not None and sparse and self.input_transform == "standard":
            # statistics in float64, as StandardScaler computes them on dense X
            transform.fit(X.astype(np.float64)).set_params(with_mean=True)
        elif transform is not None:
            transform.fit(X)
        self.input_transform_ = transform

    def _transform_X(self, X):
        transform = getattr(self, "input_transform_", None)
        return X if transform is None else transform.transform(X)

    def _query_dataset(self, X, y, groups, method, reset, sample_weight=None):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X = self._check_X(X, reset=reset)
        y = check_relevance(y, input_name="y")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} entries but X has {X.shape[0]} rows.")
        if groups is None:
            _missing_groups(method, X.shape[0])
            groups = np.zeros(X.shape[0], dtype=np.intp)
        index = QueryIndex(groups, X.shape[0])
        weights = None
        if sample_weight is not None:
            keep, weights = check_query_weights(sample_weight, index)
            if keep is not None:  # weight 0: as if the query were not there
                X, y = X[keep], y[keep]
                index = QueryIndex(np.asarray(groups)[keep], X.shape[0])
        if reset:  # fitted on the rows trained on: weight-0 queries do not count
            _warn_without_ranking_signal(y, index, self.loss, self.max_list_length)
            self._fit_input_transform(X)
            self.batch_size_ = _resolve_batch_size(self.batch_size, index)
        # transformed block by block while the dataset sorts its own copy
        dataset = QueryDataset(
            X, y, index, device=self._data_device(), transform=self._transform_X
        )
        dataset.query_weights = weights
        dataset.labels = y  # validated float64, for the loss's checks
        if reset:  # a transform may change the number of columns the module sees
            self._n_module_features = dataset.n_features
            self._fit_feature_penalty(X, y, index)
        return dataset

    def _fit_feature_penalty(self, X, y, index):
        """``feature_penalty_``: each feature's group-lasso strength, or None."""
        spec = self.feature_penalty
        self.feature_penalty_ = None
        if spec is None or (not isinstance(spec, str) and spec == 0):
            return
        supported = hasattr(self.module, "feature_norms")
        if spec != "auto":
            if not supported:
                raise ValueError(
                    f"feature_penalty={spec!r} needs a module with a "
                    "feature_norms() method (MLPScorer and AttentionScorer have "
                    f"one). Got module={self.module!r}; pass feature_penalty=None."
                )
            self.feature_penalty_ = np.full(self._n_module_features, float(spec))
            return
        # "auto": when the module sees the input's columns and most of the
        # features that vary show no marginal effect
        if not supported or self._n_module_features != X.shape[1]:
            return
        with_effect, constant = screen_features(X, y, index)
        # none with an effect: nothing to tell the noise from (too few rows,
        # or labels the features do not explain); most: curated features.
        # The share is of the features that vary within some query.
        if (
            not with_effect.any()
            or with_effect[~constant].mean() >= _AUTO_PENALTY_SHARE
        ):
            return
        self.feature_penalty_ = np.where(with_effect, 0.0, _AUTO_PENALTY)

    def _data_device(self):
        """Where the data go: ``device``, else the accelerator's (or the CPU).

        skorch's ``AccelerateMixin`` leaves ``device=None`` and places the
        module itself; the data are then moved once per fit to the same
        device, not batch by batch.
        """
        if self.device is not None:
            return self.device
        accelerator = getattr(self, "accelerator", None)
        return getattr(accelerator, "device", None) or "cpu"

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
        return super().get_dataset(X, y)  # pragma: no cover - fit builds queries

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
        """A ``DataLoader`` of whole queries, length-bucketed (see ``bucketing``).

        Its batch sampler yields lists of query numbers, its collate function
        pads them. With skorch's ``AccelerateMixin`` on several processes,
        Accelerate shards the loader by batches: training batches come in
        rounds of one per process (each process trains on its own share of
        the queries), validation batches once per process (each process
        validates on every query, so early stopping agrees everywhere).

        Parameters
        ----------
        dataset : QueryDataset
            The queries.
        training : bool, default=False
            Shuffle (and subsample long lists) for training.

        Returns
        -------
        iterator : torch.utils.data.DataLoader
            Yields ``(QueryBatch(X_rows, mask), labels)``.
        """
        if not isinstance(dataset, QueryDataset):
            return super().get_iterator(dataset, training=training)
        accelerator = getattr(self, "accelerator", None)  # skorch's AccelerateMixin
        return query_loader(
            dataset,
            self._queries_per_batch(),
            shuffle=training,
            bucketing=self.bucketing,
            max_list_length=self.max_list_length if training else None,
            rng=self.rng_,
            n_shards=getattr(accelerator, "num_processes", 1),
            replicate=not training,
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
            return self._add_offset(out if out.dim() == 3 else out.unsqueeze(-1))
        out = self.module_(X_rows, **fit_params)
        if out.dim() == 1:
            out = out.unsqueeze(-1)
        return x.pad(self._add_offset(out))

    def _add_offset(self, output):
        """Add ``output_offset_`` (the loss's starting point) to module outputs."""
        offset = getattr(self, "output_offset_", None)
        return output if offset is None else output + offset.to(output)

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
            Whether this is a training step: only then is the feature
            penalty (``feature_penalty_``) added.

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        mask = X.mask
        # an ensemble module: each member trained on its own loss
        members = _n_members(self.module_)
        if members > 1:
            parts = y_pred.unflatten(-1, (members, -1)).unbind(-2)
            losses = (self._member_loss(p, y_true, mask, X.weights) for p in parts)
            loss = sum(losses) / members
        else:
            loss = self._member_loss(y_pred, y_true, mask, X.weights)
        strengths = getattr(self, "feature_penalty_", None)
        if training and strengths is not None:
            # the group lasso, its mean over the members
            norms = _unwrapped(self.module_).feature_norms()
            strengths = torch.as_tensor(strengths, dtype=norms.dtype).to(norms.device)
            loss = loss + (norms * strengths).sum(-1).mean()
        return loss

    def _member_loss(self, scores, y_true, mask, weights):
        if self._n_outputs() == 1 and scores.dim() == 3:
            scores = scores.squeeze(-1)
        if weights is not None:
            return weighted_loss(self.loss_, scores, y_true, mask, weights)
        return self.loss_(scores, y_true, mask)

    def _score_from_output(self, output):
        # an ensemble module scores with the mean of its members (of those
        # member_selection kept)
        members = _n_members(getattr(self, "module_", None))
        if members > 1:
            return self._mean_score(output, self._scoring_members())
        return self._member_score(output)

    def _mean_score(self, output, keep):
        """The mean score of the members ``keep`` of an ensemble's output."""
        parts = output.unflatten(-1, (_n_members(self.module_), -1)).unbind(-2)
        return sum(self._member_score(parts[m]) for m in keep) / len(keep)

    def _selection_candidates(self):
        """The members ``member_selection`` may keep alone, or None.

        The binned members of an ensemble that mixes members with and
        without bins, in a probe of ``max_epochs="auto"``.
        """
        if not getattr(self, "_select_members", False):
            return None
        binned = getattr(_unwrapped(self.module_), "binned", None)
        if _n_members(self.module_) < 2 or not binned or all(binned):
            return None
        keep = [m for m, b in enumerate(binned) if b]
        return keep or None

    def _scoring_members(self):
        weights = getattr(self, "member_weights_", None)
        if weights is None:
            return range(_n_members(self.module_))
        return [m for m, w in enumerate(weights) if w > 0]

    def _member_score(self, output):
        fn = getattr(self.loss_, "score_from_output", None)
        if fn is not None:
            return fn(output)
        return output.squeeze(-1) if output.shape[-1] == 1 else output[..., 0]

    # ------------------------------------------------------------------
    # Training hooks: labels, seeding, non-finite loss
    # ------------------------------------------------------------------
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        # The loss's own label checks (e.g. a gain 2**y - 1 beyond what its
        # dtype holds), before any training step; duck-typed.
        check = getattr(self.loss_, "check_labels", None)
        if check is not None:
            for dataset in (X, getattr(self, "eval_dataset_", None)):
                if getattr(dataset, "labels", None) is not None:
                    check(dataset.labels)
        if X.query_weights is not None and not supports_query_weights(self.loss_):
            raise ValueError(
                "sample_weight with different query weights needs a skrank ranking "
                f"loss (one with per_list). Got {type(self.loss_).__name__}. "
                "Weights of 0 and equal weights work with any loss."
            )
        # A loss may say where its outputs should start from the labels
        # (e.g. the ordinal loss: the logits of P(y > t)); set once per
        # initialisation, kept by warm starts.
        initial = getattr(self.loss_, "initial_output", None)
        if self.output_offset_ is None and initial is not None:
            offset = torch.as_tensor(initial(X.labels), dtype=torch.float32)
            # an ensemble module's outputs are its members' side by side
            self.output_offset_ = offset.repeat(_n_members(self.module_))
        if self.__dict__.pop("_module_data_init", False):
            self._initialize_module_from_data(X)
        # Training randomness (dropout, ...) comes from torch's generator,
        # which _train forks around fit: seed it from the estimator's rng_.
        seed = int(self.rng_.integers(2**31 - 1))
        torch.random.default_generator.manual_seed(seed)
        if torch.device(self._data_device()).type == "cuda":
            torch.cuda.manual_seed(seed)

    def _initialize_module_from_data(self, dataset):
        """Call the module's ``initialize_from_data`` on a sample of rows."""
        init = getattr(_unwrapped(self.module_), "initialize_from_data", None)
        if init is None:
            return
        X = dataset.X
        n, width = X.shape[0], max(X.shape[1], dataset.n_features)
        most = min(_DATA_INIT_ROWS, max(1, _DATA_INIT_BYTES // (4 * max(width, 1))))
        if n > most:  # a sample; else every row, without a copy
            X = X[np.sort(self.rng_.choice(n, most, replace=False))]
        if dataset.sparse:  # transformed once dense, as in every batch
            X = torch.from_numpy(dense_float32(X, dataset.transform))
        init(X.to(self._data_device()))

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        loss = kwargs.get("loss")
        if training and loss is not None and not math.isfinite(loss.item()):
            epoch = len(self.history)
            raise FloatingPointError(
                f"The training loss became {loss.item()} in epoch {epoch}. The "
                f"learning rate (lr={self.lr}) is probably too high, or the "
                "features are not scaled (e.g. use a StandardScaler in a "
                "Pipeline); try a smaller lr or scale X."
            )
        if training:  # after the optimiser's step
            flush_subnormals(self._trained_tensors())

    def _trained_tensors(self):
        """The module's parameters and the optimiser's state tensors."""
        yield from self.module_.parameters()
        for state in getattr(self.optimizer_, "state", {}).values():
            yield from (value for value in state.values() if torch.is_tensor(value))

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    def fit(
        self, X, y, groups=None, sample_weight=None, *, eval_set=None, **fit_params
    ):
        """Train the scorer on queries (re-initialising unless ``warm_start``).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Features of each document.
        y : array-like of shape (n_samples,)
            Graded relevance labels, finite and >= 0.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row. Without it: a ``ValueError`` when metadata
            routing is off, else all rows are one query (with a
            :class:`NoGroupsWarning`).
        sample_weight : array-like of shape (n_samples,), default=None
            Query weights: >= 0 and the same for every row of a query (a
            weight varying within a query is an error). A query of weight 0
            is left out, exactly as if its rows were not given; the others
            weigh their list's loss ``w_q / mean(w)`` times in each batch's
            mean. Different positive weights need a skrank ranking loss (one
            with ``per_list``). The validation NDCG is not weighted.
        eval_set : tuple (X_val, y_val, groups_val), default=None
            An explicit validation set, used instead of an internal split:
            with ``max_epochs="auto"`` its loss chooses the epoch budget (the
            probe's), and the validation NDCG is recorded each epoch; with an
            integer ``max_epochs`` early stopping uses its NDCG.
        **fit_params : dict
            Keyword arguments of the module's ``forward`` go to it. Any other
            name (``qid``, ``group``, ...) is a ``TypeError``.

        Returns
        -------
        self : NeuralRanker
            The fitted ranker.
        """
        self._check_params()
        self._check_fit_params("fit", fit_params)
        reset = not (self.warm_start and self.initialized_)
        # the probe of max_epochs="auto" first: one copy of the data at a time
        epochs = (
            self._fit_epochs(X, y, groups, sample_weight, eval_set)
            if reset
            else self._continued_epochs()
        )
        dataset = self._query_dataset(
            X, y, groups, "fit", reset=reset, sample_weight=sample_weight
        )
        self.max_epochs_ = epochs
        return self._train(super().fit, dataset, eval_set, fit_params)

    def _continued_epochs(self):
        """The budget when training continues (warm start, partial fit)."""
        if self.max_epochs != "auto":
            return self.max_epochs
        # as many as "auto" chose before; no probe to continue a training
        return getattr(self, "max_epochs_", None) or _AUTO_FALLBACK_EPOCHS

    def _fit_epochs(self, X, y, groups, sample_weight, eval_set):
        """The epoch budget of a fit: ``max_epochs``, or chosen for "auto"."""
        self.probe_best_epoch_ = None
        self.member_weights_ = None
        if self.max_epochs != "auto":
            return self.max_epochs
        # validated here: the probe would otherwise meet them unchecked
        n_queries = 1 if groups is None else QueryIndex(groups).n_queries
        if eval_set is None and n_queries < _AUTO_MIN_QUERIES:
            return _AUTO_FALLBACK_EPOCHS
        return self._probe_epochs(X, y, groups, sample_weight, eval_set, n_queries)

    def _probe_epochs(self, X, y, groups, sample_weight, eval_set, n_queries):
        """``max_epochs="auto"``: probe on validation data, then 1.5x.

        The refit takes at least ``_AUTO_MIN_STEPS`` optimiser steps: with
        few queries an epoch is a handful of steps, and the probe's loss on
        its few held-out lists can bottom out before the ranking does.
        """
        from sklearn.base import clone
        from skorch.callbacks import EarlyStopping

        stop = EarlyStopping(monitor="valid_loss", patience=self.patience)
        split = None if eval_set is not None else self.validation_fraction
        probe = clone(self).set_params(
            max_epochs=_AUTO_MAX_EPOCHS,
            validation_fraction=split or _AUTO_PROBE_FRACTION,
            early_stopping=False,
            lr_schedule=None,
            callbacks=[("probe_stop", stop)],
            verbose=0,
            progress_bar=False,
            warm_start=False,
        )
        # member_selection: the probe also scores the binned members alone
        probe._select_members = self.member_selection == "auto"
        with warnings.catch_warnings():  # said once, by the refit
            for said in (_NO_SIGNAL_MESSAGE, _ONE_DOCUMENT_MESSAGE):
                warnings.filterwarnings("ignore", said, UserWarning)
            probe.fit(X, y, groups, sample_weight=sample_weight, eval_set=eval_set)
        # skorch ends training on KeyboardInterrupt, the stopper's and Ctrl-C's
        # alike: a probe that neither stopped nor ran out was interrupted
        stopper = dict(probe.callbacks_)["probe_stop"]
        if len(probe.history) < _AUTO_MAX_EPOCHS and stopper.misses_ < stopper.patience:
            raise KeyboardInterrupt("interrupted while choosing max_epochs")
        losses = np.asarray(probe.history[:, "valid_loss"], dtype=np.float64)
        if not np.isfinite(losses).any():
            return _AUTO_FALLBACK_EPOCHS
        best = int(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan))) + 1
        self.probe_best_epoch_ = best
        self.member_weights_ = _selected_weights(probe, best)
        # the refit's training batches an epoch: the probe's where the refit
        # keeps its split (history's "batches" also lists the validation
        # ones), else those of every query (one batch size rule)
        if split:
            batches = probe.history[-1, "train_batch_count"]
        else:
            batches = math.ceil(n_queries / probe.batch_size_)
        floor = math.ceil(_AUTO_MIN_STEPS / batches)
        return max(1, round(_AUTO_REFIT_FACTOR * best), floor)

    def partial_fit(
        self,
        X,
        y=None,
        groups=None,
        sample_weight=None,
        classes=None,
        *,
        eval_set=None,
        **fit_params,
    ):
        """Continue training the current weights for ``max_epochs`` epochs.

        The model is initialised on the first call. With
        ``max_epochs="auto"`` there is no probe: a call trains as many epochs
        as the last ``fit`` chose (``max_epochs_``), else 15.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Features of each document.
        y : array-like of shape (n_samples,)
            Graded relevance labels, finite and >= 0.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row (see :meth:`fit`).
        sample_weight : array-like of shape (n_samples,), default=None
            Query weights (see :meth:`fit`).
        classes : None, default=None
            Unused, for scikit-learn compatibility.
        eval_set : tuple (X_val, y_val, groups_val), default=None
            An explicit validation set (see :meth:`fit`).
        **fit_params : dict
            Keyword arguments of the module's ``forward`` (see :meth:`fit`).

        Returns
        -------
        self : NeuralRanker
            The ranker.
        """
        if isinstance(X, QueryDataset):  # called by NeuralNet.fit
            return super().partial_fit(X, y, **fit_params)

        self._check_params()
        self._check_fit_params("partial_fit", fit_params)
        dataset = self._query_dataset(
            X,
            y,
            groups,
            "partial_fit",
            reset=not self.initialized_,
            sample_weight=sample_weight,
        )
        self.max_epochs_ = self._continued_epochs()
        return self._train(super().partial_fit, dataset, eval_set, fit_params)

    def _check_fit_params(self, method, fit_params):
        """Refuse fit parameters that neither skrank nor the module takes."""
        module = self.module
        forward = getattr(module, "forward", None)
        try:
            accepted = inspect.signature(forward).parameters if forward else {}
        except (TypeError, ValueError):  # pragma: no cover - builtins
            accepted = {}
        if any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
            return
        for name in fit_params:
            if name in accepted:
                continue
            hint = " Pass query ids as groups=qid." if name in ("qid", "group") else ""
            raise TypeError(
                f"NeuralRanker.{method} got an unexpected keyword argument "
                f"{name!r}: it takes X, y, groups, eval_set and the keyword "
                f"arguments of the module's forward.{hint}"
            )

    def _train(self, method, dataset, eval_set, fit_params):
        if eval_set is not None:
            if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 3:
                got = type(eval_set).__name__
                if isinstance(eval_set, (tuple, list)):
                    got = f"a {got} of {len(eval_set)} item(s)"
                raise ValueError(
                    "eval_set must be a tuple (X_val, y_val, groups_val). "
                    f"Got {got} instead."
                )
            X_val, y_val, g_val = eval_set
            if g_val is None:
                raise ValueError("eval_set needs groups_val: one query id per row.")
            self.eval_dataset_ = self._query_dataset(
                X_val, y_val, g_val, "fit", reset=False
            )
        try:
            # torch's generators are forked: fit seeds and uses them (see
            # on_train_begin) and the user's torch stream is left untouched
            with own_torch_rng(self._data_device()):
                method(dataset, None, epochs=self.max_epochs_, **fit_params)
        except FloatingPointError as exc:
            raise FloatingPointError(f"{exc} {self._recover_finite()}") from None
        except Exception:
            self.initialized_ = False  # no half-trained model that looks fitted
            raise
        finally:
            self.eval_dataset_ = None
        return self

    def _recover_finite(self):
        """After a non-finite loss: the best finite weights, or unfitted.

        Returns the sentence that the error adds to say which.
        """
        stopper = dict(self.callbacks_).get("early_stopping")
        weights = getattr(stopper, "best_model_weights_", None)
        if weights is not None and all(
            torch.isfinite(w).all() for w in weights.values() if w.is_floating_point()
        ):
            self.module_.load_state_dict(weights)
            self.best_epoch_ = stopper.best_epoch_
            return (
                f"The weights of epoch {stopper.best_epoch_} (the best validation "
                "NDCG) were restored."
            )
        self.initialized_ = False
        return "The estimator is left unfitted."

    def check_is_fitted(self, attributes=None, *args, **kwargs):
        """Raise ``NotInitializedError`` unless the ranker is fitted.

        A ranker whose ``fit`` stopped on a non-finite loss without finite
        weights to restore is not fitted, although it has a ``module_``.

        Parameters
        ----------
        attributes : iterable of str, default=None
            Attributes a fitted ranker has (default: ``module_``).
        *args, **kwargs
            Passed to :func:`sklearn.utils.validation.check_is_fitted`.
        """
        if not getattr(self, "initialized_", False):
            raise NotInitializedError(
                f"This {type(self).__name__} instance is not fitted yet. Call "
                "'fit' with appropriate arguments before using this estimator."
            )
        super().check_is_fitted(attributes, *args, **kwargs)

    def _predict_rows(self, X):
        """Row-wise scores of a (validated) matrix, in chunks of ~64 MB."""
        chunk = max(1, _PREDICT_CHUNK_BYTES // (4 * max(1, X.shape[1])))
        out = []
        self._set_training(False)
        with torch.no_grad():
            for start in range(0, X.shape[0], chunk):
                block = dense_float32(X[start : start + chunk], self._transform_X)
                xb = torch.as_tensor(block, device=self._data_device())
                output = self.module_(xb)
                if output.dim() == 1:
                    output = output.unsqueeze(-1)
                output = self._add_offset(output)
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
        X = self._check_X(X, reset=False)  # transformed chunk by chunk below
        if not _is_context_aware(self.module_):
            return self._predict_rows(X)
        if groups is None:
            raise ValueError(
                f"{type(self.module_).__name__} is context-aware (it scores a "
                "document against the other documents of its query): predict "
                "needs groups=qid, one query id per row."
            )
        index = QueryIndex(groups, X.shape[0])
        dataset = QueryDataset(
            X, None, index, device=self._data_device(), transform=self._transform_X
        )
        sampler = QueryBatchSampler(dataset, self._queries_per_batch(), bucketing=True)
        sorted_scores = np.empty(X.shape[0], dtype=np.float64)
        self._set_training(False)
        for queries in sampler.batches():
            rows, _ = dataset.rows(queries)
            x, _ = dataset.batch(queries)
            with torch.no_grad():  # not evaluation_step: no gathering across processes
                output = self.infer(x)
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
            Query id of each row. Without it: a ``ValueError`` when metadata
            routing is off, else all rows are one query (with a
            :class:`NoGroupsWarning`).
        sample_weight : array-like of shape (n_samples,), default=None
            Query weights (the same for every row of a query): the weighted
            mean NDCG over queries.

        Returns
        -------
        score : float
            The mean NDCG@``ndcg_k``.
        """
        from ..metrics import ndcg_score

        if groups is None:
            _missing_groups("score", len(y))
            groups = np.zeros(len(y), dtype=np.intp)
        y_score = self.predict(X, groups=groups)
        return float(
            ndcg_score(y, y_score, groups, k=self.ndcg_k, sample_weight=sample_weight)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        return tags
