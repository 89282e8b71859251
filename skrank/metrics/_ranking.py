"""Ranking metrics over many queries at once.

All metrics share one sort: :class:`_RankedLists` orders the rows by query and
by decreasing score once, finds the groups of tied scores, and has one method
per metric returning a value per query. The public ``*_score`` functions are
thin wrappers that average these values over queries.
"""

import contextlib
import contextvars
import re
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import gammaln
from sklearn.exceptions import UndefinedMetricWarning

from ..utils._groups import QueryIndex, check_query_weights
from ..utils._validation import (
    Interval,
    StrOptions,
    check_relevance,
    check_scores,
    validate_parameter_constraints,
    validate_params,
)
from ._gains import GAINS, check_gain_overflow, discount, scaled_gain

__all__ = [
    "err_score",
    "map_score",
    "mrr_score",
    "ndcg_score",
    "per_query_scores",
    "precision_at_k_score",
    "recall_at_k_score",
]

_K = [Interval(Integral, 1, None, closed="left"), None]
_THRESHOLD = [Interval(Real, 0, None, closed="neither")]
_COMMON = {
    "y_true": ["array-like"],
    "y_score": ["array-like"],
    "groups": ["array-like"],
    "k": _K,
    "sample_weight": ["array-like", None],
}


_MAX_GRADE = [Interval(Real, 0, None, closed="neither")]
#: The declarative constraints of each public metric (the scorers validate
#: their keyword arguments with them when they are made).
_CONSTRAINTS = {
    "ndcg_score": {**_COMMON, "gain": [StrOptions(set(GAINS))]},
    "map_score": {**_COMMON, "relevance_threshold": _THRESHOLD},
    "mrr_score": {**_COMMON, "relevance_threshold": _THRESHOLD},
    "err_score": {**_COMMON, "max_grade": _MAX_GRADE},
    "precision_at_k_score": {**_COMMON, "relevance_threshold": _THRESHOLD},
    "recall_at_k_score": {**_COMMON, "relevance_threshold": _THRESHOLD},
}


def _check_options(caller, k=None, no_relevant="skip"):
    """Checks the declarative constraints cannot express; returns no_relevant.

    ``k=True`` passes ``Interval(Integral, ...)`` (a bool is an int) and is
    refused here.
    """
    if isinstance(k, bool):
        raise ValueError(
            f"The 'k' parameter of {caller} must be an int in the range [1, inf) "
            f"or None. Got {k!r} instead."
        )
    return _check_no_relevant(no_relevant, caller)


def _check_metric_kwargs(name, kwargs):
    """Validate keyword arguments for the public metric ``name`` up front."""
    validate_parameter_constraints(_CONSTRAINTS[name], kwargs, caller_name=name)
    _check_options(name, kwargs.get("k"), kwargs.get("no_relevant", "skip"))


def _check_no_relevant(no_relevant, caller):
    if isinstance(no_relevant, str):
        if no_relevant == "skip":
            return no_relevant
    elif isinstance(no_relevant, Real) and not isinstance(no_relevant, bool):
        if no_relevant in (0.0, 1.0):
            return float(no_relevant)
    raise ValueError(
        f"The 'no_relevant' parameter of {caller} must be a str among {{'skip'}} "
        f"or a float among {{0.0, 1.0}}. Got {no_relevant!r} instead."
    )


class _RankedLists:
    """Rows sorted by query and decreasing score, with the groups of tied scores.

    Built once, then every metric method returns ``(values, defined)``: one
    value per query (in the order of ``index.query_ids``) and a boolean mask
    of the queries where the metric is defined (the query has a relevant
    document).
    """

    def __init__(self, y_true, y_score, groups, caller="per_query_scores"):
        y = check_relevance(y_true)
        s = check_scores(y_score)
        if y.shape[0] != s.shape[0]:
            raise ValueError(
                f"y_true and y_score have different lengths: y_true has "
                f"{y.shape[0]} entries but y_score has {s.shape[0]}."
            )
        index = QueryIndex(groups, y.shape[0], other_name="y_true")
        self.index = index
        self.caller = caller
        n = y.shape[0]
        # One sort, by query then decreasing score. Every metric below only
        # uses per-tie-group sums (or a fixed convention for ERR), so the
        # order inside a tie group never matters.
        order = index.argsort_within(s, descending=True)
        self.order = order
        self.y_input = y
        self.y = y[order]
        s_sorted = s[order]
        self.sizes = index.sizes
        self.starts = index.offsets[:-1]
        self.codes = index.sorted_codes
        self.positions = index.positions
        brk = np.empty(n + 1, dtype=bool)
        brk[0] = brk[n] = True
        np.not_equal(s_sorted[1:], s_sorted[:-1], out=brk[1:n])
        brk[self.starts] = True
        # Only rows in tie groups of two or more need group bookkeeping
        # (about 5% in typical data): ``tied`` lists them (sorted rows, each
        # group contiguous), ``tie_offsets``/``tie_sizes`` cut it into groups.
        self.tied = np.flatnonzero(~(brk[:-1] & brk[1:]))
        self.has_ties = self.tied.shape[0] > 0
        if self.has_ties:
            is_first = brk[self.tied]
            self.tie_offsets = np.flatnonzero(is_first)
            self.tie_sizes = np.diff(np.r_[self.tie_offsets, self.tied.shape[0]])
            self.tie_starts = self.tied[self.tie_offsets]
        self._cache = {}

    # -- helpers ---------------------------------------------------------

    @property
    def n_queries(self):
        return self.sizes.shape[0]

    def _per_query(self, row_values):
        return self.index.reduce(row_values)

    def _group_mean(self, row_values):
        """Replace each row value by the mean over its tie group (a new array)."""
        out = np.array(row_values, dtype=np.float64)
        if self.has_ties:
            sums = np.add.reduceat(out[self.tied], self.tie_offsets)
            out[self.tied] = np.repeat(sums / self.tie_sizes, self.tie_sizes)
        return out

    def _tie_group_sums(self, row_values):
        """Per tie group (two rows or more), the sum of ``row_values``."""
        return np.add.reduceat(row_values[self.tied], self.tie_offsets)

    def _within_query_cumsum(self, row_values):
        """Inclusive cumulative sum of ``row_values`` inside each query."""
        total = np.cumsum(row_values)
        base = total[self.starts] - row_values[self.starts]
        return total - base[self.codes]

    def _relevant(self, threshold):
        key = ("rel", threshold)
        if key not in self._cache:
            rel = (self.y >= threshold).astype(np.float64)
            self._cache[key] = (rel, self._per_query(rel))
        return self._cache[key]

    def _expected_top_k(self, row_values, k):
        """Per query, the expected sum of ``row_values`` over the top ``k`` rows.

        Averaged over the orders of tied scores (linear, so it is the group
        mean times the number of the group's positions before ``k``).
        """
        if k is None:
            return self._per_query(row_values)
        mean = self._group_mean(row_values)
        return self._per_query(np.where(self.positions < k, mean, 0.0))

    def _scaled_gains(self, gain_kind):
        """Row gains and per-query shift: gains times ``2**-shift`` of the query.

        NDCG is a ratio of sums of one query's gains, so both sums are taken
        on gains divided by a power of two near the query's largest gain: the
        result is exact, and ``2**1023 - 1`` gains cannot overflow the sums.
        """
        check_gain_overflow(self.y, gain_kind, caller=self.caller)
        top = self.index.reduce(self.y, np.maximum)
        if gain_kind == "exponential":
            shift = np.floor(top)
        else:
            shift = np.maximum(np.frexp(top)[1], 0).astype(np.float64)
        gains = scaled_gain(self.y, gain_kind, shift[self.codes])
        return gains, shift

    def _ideal_dcg(self, gain_kind, k, shift):
        y = self.y
        max_len = int(self.sizes.max())
        cum_disc = np.r_[0.0, np.cumsum(discount(np.arange(max_len, dtype=float)))]
        if k is not None:
            cum_disc = cum_disc[: min(k, max_len) + 1]
            cap = cum_disc.shape[0] - 1
        else:
            cap = max_len
        levels = None
        top = y.max()
        if top <= 1024 and self.n_queries * (top + 1) <= 4 * y.shape[0] + 4096:
            as_int = y.astype(np.int64)
            if np.array_equal(as_int, y):
                levels = as_int
        if levels is not None:
            # Integer grades: count documents per (query, grade); the ideal list
            # puts grades in decreasing order, so each grade fills a known range
            # of positions.
            n_levels = int(top) + 1
            counts = np.bincount(
                self.codes * n_levels + levels, minlength=self.n_queries * n_levels
            ).reshape(self.n_queries, n_levels)[:, ::-1]
            ends = np.cumsum(counts, axis=1)
            begin = np.minimum(ends - counts, cap)
            ends = np.minimum(ends, cap)
            grades = np.arange(n_levels, dtype=float)[::-1]
            g = scaled_gain(grades[None, :], gain_kind, shift[:, None])
            return ((cum_disc[ends] - cum_disc[begin]) * g).sum(axis=1)
        # General labels: sort them within each query.
        ideal = self.y_input[self.index.argsort_within(self.y_input, descending=True)]
        disc = discount(self.positions.astype(float))
        if k is not None:
            disc[self.positions >= k] = 0.0
        return self._per_query(scaled_gain(ideal, gain_kind, shift[self.codes]) * disc)

    # -- metrics ---------------------------------------------------------

    def _top(self, k):
        """Sorted rows in the top ``k`` of their query (all rows for None)."""
        if k is None or k >= self.sizes.max():
            return slice(None)
        key = ("top", k)
        if key not in self._cache:
            self._cache[key] = np.flatnonzero(self.positions < k)
        return self._cache[key]

    def ndcg(self, k=None, gain_kind="exponential"):
        max_len = int(self.sizes.max())
        table = discount(np.arange(max_len, dtype=float))
        top = self._top(k)
        gains, shift = self._scaled_gains(gain_kind)
        gains = self._group_mean(gains)[top]
        dcg = np.bincount(
            self.codes[top],
            gains * table[self.positions[top]],
            minlength=self.n_queries,
        )
        idcg = self._ideal_dcg(gain_kind, k, shift)
        defined = idcg > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(defined, dcg / idcg, 0.0)
        return values, defined

    def average_precision(self, k=None, threshold=1):
        rel, n_rel = self._relevant(threshold)
        defined = n_rel > 0
        crel = self._within_query_cumsum(rel)
        # Rows alone in their tie group: rel_i * P@i at their own position.
        row_contrib = rel * crel / (self.positions + 1.0)
        if k is not None:
            row_contrib[self.positions >= k] = 0.0
        if self.has_ties:
            row_contrib[self.tied] = 0.0
        total = self._per_query(row_contrib)
        if self.has_ties:
            # A tie group is passed as a whole (threshold convention); a group
            # cut by k counts the share of its positions inside the top k.
            first = self.tie_starts
            size = self.tie_sizes
            rel_g = self._tie_group_sums(rel)
            first_pos = self.positions[first]
            inside = size if k is None else np.clip(k - first_pos, 0, size)
            expected = rel_g * (inside / size)
            before = crel[first] - rel[first]
            cut = np.maximum(first_pos + inside, 1)
            contrib = expected * (before + expected) / cut
            total += np.bincount(self.codes[first], contrib, minlength=self.n_queries)
        denom = n_rel if k is None else np.minimum(n_rel, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(defined, total / denom, 0.0)
        return values, defined

    def reciprocal_rank(self, k=None, threshold=1):
        rel, n_rel = self._relevant(threshold)
        defined = n_rel > 0
        values = np.zeros(self.n_queries)
        hit = np.flatnonzero(rel)
        if hit.shape[0] == 0:
            return values, defined
        hit_codes = self.codes[hit]
        first = hit[np.r_[True, hit_codes[1:] != hit_codes[:-1]]]
        # Tie group of each query's first relevant row: first row p (0-based
        # position), m rows, r relevant (1, 1, 1 for a row alone).
        p = self.positions[first].astype(float)
        m = np.ones(first.shape[0], dtype=np.int64)
        r = np.ones(first.shape[0], dtype=np.int64)
        if self.has_ties:
            where = np.searchsorted(self.tied, first)
            in_tie = where < self.tied.shape[0]
            in_tie[in_tie] = self.tied[where[in_tie]] == first[in_tie]
            group = np.searchsorted(self.tie_offsets, where[in_tie], side="right") - 1
            p[in_tie] = self.positions[self.tie_starts[group]]
            m[in_tie] = self.tie_sizes[group]
            r[in_tie] = self._tie_group_sums(rel)[group].astype(np.int64)
        # The first relevant document is preceded inside its group by J
        # non-relevant ones, P(J = j) = C(m - 1 - j, r - 1) / C(m, r).
        n_terms = m - r + 1
        owner = np.repeat(np.arange(first.shape[0]), n_terms)
        j = np.arange(owner.shape[0]) - np.repeat(np.cumsum(n_terms) - n_terms, n_terms)
        mo, ro = m[owner], r[owner]
        log_prob = _log_comb(mo - 1 - j, ro - 1) - _log_comb(mo, ro)
        rank = p[owner] + 1 + j
        term = np.exp(log_prob) / rank
        if k is not None:
            term = np.where(rank <= k, term, 0.0)
        values[self.codes[first]] = np.bincount(owner, term, minlength=first.shape[0])
        return values, defined

    def err(self, k=None, max_grade=4):
        y = self.y
        if y.max() > max_grade:
            raise ValueError(
                f"y_true has a label of {y.max():g} above max_grade={max_grade:g} "
                f"in {self.caller}; pass max_grade={y.max():g} or larger (the "
                f"largest grade of the relevance scale)."
            )
        if self.has_ties:
            # Pessimistic convention: inside a tie group, the least relevant
            # documents come first.
            y = y.copy()
            group = np.repeat(np.arange(self.tie_sizes.shape[0]), self.tie_sizes)
            tied_y = y[self.tied]
            y[self.tied] = tied_y[np.lexsort((tied_y, group))]
        # R = (2**y - 1) / 2**max_grade, computed without forming 2**y (exact
        # for any grade); a query stops for sure (R = 1) only when y is at a
        # large max_grade, then every later document is never reached.
        stop = scaled_gain(y, "exponential", float(max_grade))
        certain = (stop >= 1.0).astype(np.float64)
        log_go = np.log1p(-np.where(certain > 0, 0.0, stop))
        before = self._within_query_cumsum(log_go) - log_go
        reached = self._within_query_cumsum(certain) - certain == 0
        term = np.where(reached, stop * np.exp(before), 0.0) / (self.positions + 1.0)
        if k is not None:
            term = np.where(self.positions < k, term, 0.0)
        values = self._per_query(term)
        defined = self._per_query(y) > 0
        return values, defined

    def precision(self, k=None, threshold=1):
        rel, n_rel = self._relevant(threshold)
        hits = self._expected_top_k(rel, k)
        depth = self.sizes if k is None else np.minimum(self.sizes, k)
        return hits / depth, n_rel > 0

    def recall(self, k=None, threshold=1):
        rel, n_rel = self._relevant(threshold)
        hits = self._expected_top_k(rel, k)
        defined = n_rel > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(defined, hits / n_rel, 0.0)
        return values, defined


def _log_comb(a, b):
    return gammaln(a + 1.0) - gammaln(b + 1.0) - gammaln(a - b + 1.0)


def _fill(values, defined, no_relevant):
    values = values.astype(np.float64, copy=True)
    values[~defined] = np.nan if no_relevant == "skip" else no_relevant
    return values


class _NoQueryDefined(Exception):
    """No query has a relevant document (raised only inside a scorer call)."""

    def __init__(self, caller):
        super().__init__(caller)
        self.caller = caller


_IN_SCORER = contextvars.ContextVar("skrank_in_scorer", default=False)


@contextlib.contextmanager
def _scorer_context():
    """While active, an undefined mean raises ``_NoQueryDefined`` (no NaN).

    The scorers turn it into their documented constant; a context variable
    (not a warnings filter) so that threads never see each other's state.
    """
    token = _IN_SCORER.set(True)
    try:
        yield
    finally:
        _IN_SCORER.reset(token)


def _query_weights(lists, sample_weight, caller):
    """One weight per query from per-row ``sample_weight`` (constant in a query)."""
    return check_query_weights(sample_weight, lists.index, other_name="y_true")


def _average(values, defined, no_relevant, caller, lists=None, sample_weight=None):
    if sample_weight is not None:
        weights = _query_weights(lists, sample_weight, caller)
        if no_relevant == "skip":
            defined = defined & (weights > 0)
        else:
            values, defined = _fill(values, defined, no_relevant), weights > 0
            no_relevant = "skip"
        values = values * weights / weights[defined].mean() if defined.any() else values
    if no_relevant == "skip":
        if not defined.any():
            if _IN_SCORER.get():
                raise _NoQueryDefined(caller)
            warnings.warn(
                f"No query has a relevant document, so {caller} is undefined and "
                f"NaN is returned. Pass no_relevant=0.0 or 1.0 to count such "
                f"queries as that value.",
                UndefinedMetricWarning,
                stacklevel=3,
            )
            return float("nan")
        return float(values[defined].mean())
    return float(_fill(values, defined, no_relevant).mean())


@validate_params(_CONSTRAINTS["ndcg_score"], prefer_skip_nested_validation=True)
def ndcg_score(
    y_true,
    y_score,
    groups,
    *,
    k=None,
    gain="exponential",
    no_relevant="skip",
    sample_weight=None,
):
    r"""Normalized discounted cumulative gain, averaged over queries.

    .. math::

        \mathrm{DCG@k} = \sum_{i=1}^{k} \frac{g(rel_i)}{\log_2(i + 1)},
        \qquad \mathrm{NDCG@k} = \frac{\mathrm{DCG@k}}{\mathrm{IDCG@k}}

    where documents are ranked by decreasing score, :math:`g(rel) = 2^{rel} - 1`
    (``gain="exponential"``) or :math:`g(rel) = rel` (``gain="linear"``, then the
    value of one query equals :func:`sklearn.metrics.ndcg_score`), and IDCG is
    the DCG of the ideal ranking.

    Tied scores: the expected DCG over all orders of the tied documents
    (scikit-learn's ``ignore_ties=False``): each tied document gets the mean
    gain of its tie group, so the input order of rows never matters.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Graded relevance labels, finite and >= 0.
    y_score : array-like of shape (n_samples,)
        Predicted scores, higher means more relevant.
    groups : array-like of shape (n_samples,)
        The query id of each row (ints or strings; rows of a query need not
        be contiguous).
    k : int, default=None
        Only the top ``k`` positions count; None means the whole list.
    gain : {"exponential", "linear"}, default="exponential"
        The gain of a relevance label.
    no_relevant : {"skip", 0.0, 1.0}, default="skip"
        How queries whose ideal DCG is 0 (no document with a positive gain)
        count: ``"skip"`` leaves them out of the mean (NaN with an
        ``UndefinedMetricWarning`` when no query is left), ``0.0`` or ``1.0``
        counts them as that value (scikit-learn, TF-Ranking and Rax use 0;
        LightGBM, XGBoost and allRank use 1).
    sample_weight : array-like of shape (n_samples,), default=None
        Query weights, one per row and the same for every row of a query
        (e.g. query frequencies); the result is the weighted mean over
        queries. None weighs every query equally.

    Returns
    -------
    score : float
        The mean NDCG over queries.

    See Also
    --------
    per_query_scores : One value per query, several metrics from one sort.

    References
    ----------
    K. Järvelin and J. Kekäläinen, "Cumulated gain-based evaluation of IR
    techniques", ACM TOIS 20(4), 2002.

    C. Burges et al., "Learning to rank using gradient descent", ICML 2005.

    Examples
    --------
    >>> from skrank.metrics import ndcg_score
    >>> y_true = [3, 0, 1, 0, 2, 0]
    >>> y_score = [0.9, 0.8, 0.1, 0.7, 0.2, 0.4]
    >>> groups = [1, 1, 1, 2, 2, 2]
    >>> round(ndcg_score(y_true, y_score, groups), 4)
    0.7414
    """
    no_relevant = _check_options("ndcg_score", k, no_relevant)
    lists = _RankedLists(y_true, y_score, groups, "ndcg_score")
    values, defined = lists.ndcg(k, gain)
    return _average(values, defined, no_relevant, "ndcg_score", lists, sample_weight)


@validate_params(_CONSTRAINTS["map_score"], prefer_skip_nested_validation=True)
def map_score(
    y_true,
    y_score,
    groups,
    *,
    k=None,
    relevance_threshold=1,
    no_relevant="skip",
    sample_weight=None,
):
    r"""Mean average precision over queries.

    .. math::

        \mathrm{AP@k} = \frac{1}{\min(R, k)} \sum_{i=1}^{k} rel_i \,
        \mathrm{P@i}, \qquad \mathrm{P@i} = \frac{1}{i}\sum_{j=1}^{i} rel_j

    where :math:`rel_i` is 1 when the document at rank :math:`i` has a label
    ``>= relevance_threshold`` and :math:`R` is the number of relevant
    documents of the query (without ``k``: :math:`\min(R, k) = R`).

    Tied scores follow the threshold convention of
    :func:`sklearn.metrics.average_precision_score`: a tie group is passed as
    a whole, its relevant documents all get the precision at the end of the
    group, so without ``k`` a query's AP equals ``average_precision_score``.
    With ``k``, a group cut by position ``k`` counts its expected relevant
    documents inside the top ``k`` (the fraction of its positions before ``k``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Graded relevance labels, finite and >= 0.
    y_score : array-like of shape (n_samples,)
        Predicted scores, higher means more relevant.
    groups : array-like of shape (n_samples,)
        The query id of each row.
    k : int, default=None
        Only the top ``k`` positions count; None means the whole list.
    relevance_threshold : float, default=1
        Documents with a label ``>= relevance_threshold`` are relevant.
    no_relevant : {"skip", 0.0, 1.0}, default="skip"
        How queries without a relevant document count: ``"skip"`` leaves them
        out of the mean (NaN with an ``UndefinedMetricWarning`` when no query
        is left), ``0.0`` or ``1.0`` counts them as that value.
    sample_weight : array-like of shape (n_samples,), default=None
        Query weights, one per row and the same for every row of a query
        (e.g. query frequencies); the result is the weighted mean over
        queries. None weighs every query equally.

    Returns
    -------
    score : float
        The mean average precision over queries.

    References
    ----------
    C. D. Manning, P. Raghavan and H. Schütze, "Introduction to Information
    Retrieval", chapter 8, Cambridge University Press, 2008.

    Examples
    --------
    >>> from skrank.metrics import map_score
    >>> y_true = [1, 0, 1, 0, 2, 0]
    >>> y_score = [0.9, 0.8, 0.1, 0.7, 0.2, 0.4]
    >>> groups = [1, 1, 1, 2, 2, 2]
    >>> round(map_score(y_true, y_score, groups), 4)
    0.5833
    """
    no_relevant = _check_options("map_score", k, no_relevant)
    lists = _RankedLists(y_true, y_score, groups, "map_score")
    values, defined = lists.average_precision(k, relevance_threshold)
    return _average(values, defined, no_relevant, "map_score", lists, sample_weight)


@validate_params(_CONSTRAINTS["mrr_score"], prefer_skip_nested_validation=True)
def mrr_score(
    y_true,
    y_score,
    groups,
    *,
    k=None,
    relevance_threshold=1,
    no_relevant="skip",
    sample_weight=None,
):
    r"""Mean reciprocal rank of the first relevant document.

    .. math::

        \mathrm{RR@k} = \frac{1}{r} \text{ if } r \le k \text{ else } 0

    where :math:`r` is the rank of the first document with a label
    ``>= relevance_threshold``.

    Tied scores: the exact expected value over all orders of the tied
    documents. If the first tie group holding a relevant document starts at
    rank :math:`p + 1`, has :math:`m` documents and :math:`c` relevant ones,
    :math:`E[\mathrm{RR}] = \sum_{j=0}^{m-c} \binom{m-1-j}{c-1}
    \binom{m}{c}^{-1} / (p + 1 + j)`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Graded relevance labels, finite and >= 0.
    y_score : array-like of shape (n_samples,)
        Predicted scores, higher means more relevant.
    groups : array-like of shape (n_samples,)
        The query id of each row.
    k : int, default=None
        A first relevant document below rank ``k`` counts 0; None means the
        whole list.
    relevance_threshold : float, default=1
        Documents with a label ``>= relevance_threshold`` are relevant.
    no_relevant : {"skip", 0.0, 1.0}, default="skip"
        How queries without a relevant document count: ``"skip"`` leaves them
        out of the mean (NaN with an ``UndefinedMetricWarning`` when no query
        is left), ``0.0`` or ``1.0`` counts them as that value.
    sample_weight : array-like of shape (n_samples,), default=None
        Query weights, one per row and the same for every row of a query
        (e.g. query frequencies); the result is the weighted mean over
        queries. None weighs every query equally.

    Returns
    -------
    score : float
        The mean reciprocal rank over queries.

    References
    ----------
    E. M. Voorhees, "The TREC-8 question answering track report", TREC 1999.

    Examples
    --------
    >>> from skrank.metrics import mrr_score
    >>> y_true = [0, 1, 0, 0, 0, 1]
    >>> y_score = [0.9, 0.8, 0.1, 0.7, 0.2, 0.4]
    >>> groups = [1, 1, 1, 2, 2, 2]
    >>> mrr_score(y_true, y_score, groups)
    0.5
    """
    no_relevant = _check_options("mrr_score", k, no_relevant)
    lists = _RankedLists(y_true, y_score, groups, "mrr_score")
    values, defined = lists.reciprocal_rank(k, relevance_threshold)
    return _average(values, defined, no_relevant, "mrr_score", lists, sample_weight)


@validate_params(_CONSTRAINTS["err_score"], prefer_skip_nested_validation=True)
def err_score(
    y_true,
    y_score,
    groups,
    *,
    k=None,
    max_grade=4,
    no_relevant="skip",
    sample_weight=None,
):
    r"""Expected reciprocal rank (cascade model), averaged over queries.

    .. math::

        \mathrm{ERR@k} = \sum_{i=1}^{k} \frac{1}{i} R_i \prod_{j<i} (1 - R_j),
        \qquad R_i = \frac{2^{rel_i} - 1}{2^{g_{max}}}

    :math:`g_{max}` is ``max_grade``, the top grade of the relevance scale. It
    is a fixed parameter, never read from the data, so that the value of a
    query does not depend on which other queries are in the batch or fold; a
    label above ``max_grade`` raises a ``ValueError``.

    Tied scores: a pessimistic order inside each tie group (its least relevant
    documents first), so the input order of rows never matters and a constant
    model gets the worst ranking of its ties.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Graded relevance labels, finite, >= 0 and <= ``max_grade``.
    y_score : array-like of shape (n_samples,)
        Predicted scores, higher means more relevant.
    groups : array-like of shape (n_samples,)
        The query id of each row.
    k : int, default=None
        Only the top ``k`` positions count; None means the whole list.
    max_grade : float, default=4
        The top grade of the relevance scale (4 for LETOR/MSLR 0-4 labels).
    no_relevant : {"skip", 0.0, 1.0}, default="skip"
        How queries whose labels are all 0 count: ``"skip"`` leaves them out
        of the mean (NaN with an ``UndefinedMetricWarning`` when no query is
        left), ``0.0`` or ``1.0`` counts them as that value.
    sample_weight : array-like of shape (n_samples,), default=None
        Query weights, one per row and the same for every row of a query
        (e.g. query frequencies); the result is the weighted mean over
        queries. None weighs every query equally.

    Returns
    -------
    score : float
        The mean ERR over queries.

    References
    ----------
    O. Chapelle, D. Metzler, Y. Zhang and P. Grinspan, "Expected reciprocal
    rank for graded relevance", CIKM 2009.

    Examples
    --------
    >>> from skrank.metrics import err_score
    >>> y_true = [4, 0, 1, 0, 2, 0]
    >>> y_score = [0.9, 0.8, 0.1, 0.7, 0.2, 0.4]
    >>> groups = [1, 1, 1, 2, 2, 2]
    >>> round(err_score(y_true, y_score, groups), 4)
    0.5007
    """
    no_relevant = _check_options("err_score", k, no_relevant)
    lists = _RankedLists(y_true, y_score, groups, "err_score")
    values, defined = lists.err(k, max_grade)
    return _average(values, defined, no_relevant, "err_score", lists, sample_weight)


@validate_params(
    _CONSTRAINTS["precision_at_k_score"], prefer_skip_nested_validation=True
)
def precision_at_k_score(
    y_true,
    y_score,
    groups,
    *,
    k=None,
    relevance_threshold=1,
    no_relevant="skip",
    sample_weight=None,
):
    r"""Precision in the top ``k`` positions, averaged over queries.

    .. math::

        \mathrm{P@k} = \frac{1}{\min(k, n)} \sum_{i=1}^{\min(k, n)} rel_i

    where :math:`n` is the number of documents of the query (a query shorter
    than ``k`` is not penalised for its length) and :math:`rel_i` is 1 when
    the label is ``>= relevance_threshold``.

    Tied scores: the expected value over all orders of the tied documents (a
    tie group cut by position ``k`` counts the fraction of its relevant
    documents that matches its share of positions before ``k``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Graded relevance labels, finite and >= 0.
    y_score : array-like of shape (n_samples,)
        Predicted scores, higher means more relevant.
    groups : array-like of shape (n_samples,)
        The query id of each row.
    k : int, default=None
        The cut-off; None means the whole list.
    relevance_threshold : float, default=1
        Documents with a label ``>= relevance_threshold`` are relevant.
    no_relevant : {"skip", 0.0, 1.0}, default="skip"
        How queries without a relevant document count: ``"skip"`` leaves them
        out of the mean (NaN with an ``UndefinedMetricWarning`` when no query
        is left), ``0.0`` or ``1.0`` counts them as that value.
    sample_weight : array-like of shape (n_samples,), default=None
        Query weights, one per row and the same for every row of a query
        (e.g. query frequencies); the result is the weighted mean over
        queries. None weighs every query equally.

    Returns
    -------
    score : float
        The mean precision@k over queries.

    References
    ----------
    C. D. Manning, P. Raghavan and H. Schütze, "Introduction to Information
    Retrieval", chapter 8, Cambridge University Press, 2008.

    Examples
    --------
    >>> from skrank.metrics import precision_at_k_score
    >>> y_true = [1, 0, 1, 0, 2, 0]
    >>> y_score = [0.9, 0.8, 0.1, 0.7, 0.2, 0.4]
    >>> groups = [1, 1, 1, 2, 2, 2]
    >>> precision_at_k_score(y_true, y_score, groups, k=2)
    0.25
    """
    no_relevant = _check_options("precision_at_k_score", k, no_relevant)
    lists = _RankedLists(y_true, y_score, groups, "precision_at_k_score")
    values, defined = lists.precision(k, relevance_threshold)
    return _average(
        values, defined, no_relevant, "precision_at_k_score", lists, sample_weight
    )


@validate_params(_CONSTRAINTS["recall_at_k_score"], prefer_skip_nested_validation=True)
def recall_at_k_score(
    y_true,
    y_score,
    groups,
    *,
    k=None,
    relevance_threshold=1,
    no_relevant="skip",
    sample_weight=None,
):
    r"""Recall in the top ``k`` positions, averaged over queries.

    .. math::

        \mathrm{R@k} = \frac{1}{R} \sum_{i=1}^{k} rel_i

    where :math:`R` is the number of relevant documents of the query (label
    ``>= relevance_threshold``).

    Tied scores: the expected value over all orders of the tied documents.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Graded relevance labels, finite and >= 0.
    y_score : array-like of shape (n_samples,)
        Predicted scores, higher means more relevant.
    groups : array-like of shape (n_samples,)
        The query id of each row.
    k : int, default=None
        The cut-off; None means the whole list (recall 1).
    relevance_threshold : float, default=1
        Documents with a label ``>= relevance_threshold`` are relevant.
    no_relevant : {"skip", 0.0, 1.0}, default="skip"
        How queries without a relevant document count: ``"skip"`` leaves them
        out of the mean (NaN with an ``UndefinedMetricWarning`` when no query
        is left), ``0.0`` or ``1.0`` counts them as that value.
    sample_weight : array-like of shape (n_samples,), default=None
        Query weights, one per row and the same for every row of a query
        (e.g. query frequencies); the result is the weighted mean over
        queries. None weighs every query equally.

    Returns
    -------
    score : float
        The mean recall@k over queries.

    References
    ----------
    C. D. Manning, P. Raghavan and H. Schütze, "Introduction to Information
    Retrieval", chapter 8, Cambridge University Press, 2008.

    Examples
    --------
    >>> from skrank.metrics import recall_at_k_score
    >>> y_true = [1, 0, 1, 0, 2, 0]
    >>> y_score = [0.9, 0.8, 0.1, 0.7, 0.2, 0.4]
    >>> groups = [1, 1, 1, 2, 2, 2]
    >>> recall_at_k_score(y_true, y_score, groups, k=2)
    0.25
    """
    no_relevant = _check_options("recall_at_k_score", k, no_relevant)
    lists = _RankedLists(y_true, y_score, groups, "recall_at_k_score")
    values, defined = lists.recall(k, relevance_threshold)
    return _average(
        values, defined, no_relevant, "recall_at_k_score", lists, sample_weight
    )


_NAME = re.compile(r"^(ndcg|map|mrr|err|precision|recall)(?:@([0-9]+))?$")
_VALID_NAMES = (
    "'ndcg', 'ndcg@K', 'map', 'map@K', 'mrr', 'mrr@K', 'err', 'err@K', "
    "'precision@K', 'recall@K' (K an int >= 1)"
)


def _parse_metric_name(name):
    """Split ``"ndcg@10"`` into ``("ndcg", 10)``; ``"map"`` into ``("map", None)``."""
    match = _NAME.match(name) if isinstance(name, str) else None
    if match is None or (match.group(2) is not None and int(match.group(2)) < 1):
        raise ValueError(
            f"Unknown ranking metric {name!r}. Valid names are {_VALID_NAMES}."
        )
    k = None if match.group(2) is None else int(match.group(2))
    return match.group(1), k


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "groups": ["array-like"],
        "metrics": [str, list, tuple],
        "gain": [StrOptions(set(GAINS))],
        "relevance_threshold": _THRESHOLD,
        "max_grade": _MAX_GRADE,
    },
    prefer_skip_nested_validation=True,
)
def per_query_scores(
    y_true,
    y_score,
    groups,
    *,
    metrics=("ndcg@10", "map"),
    gain="exponential",
    no_relevant="skip",
    relevance_threshold=1,
    max_grade=4,
):
    """One value per query for several metrics, all from one sort.

    The rows are sorted by query and score once; every metric reuses that
    ranking. Conventions (gain, ties, queries without a relevant document)
    are those of the matching ``*_score`` function.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Graded relevance labels, finite and >= 0.
    y_score : array-like of shape (n_samples,)
        Predicted scores, higher means more relevant.
    groups : array-like of shape (n_samples,)
        The query id of each row.
    metrics : str or sequence of str, default=("ndcg@10", "map")
        Metric names: ``"ndcg"``, ``"ndcg@K"``, ``"map"``, ``"map@K"``,
        ``"mrr"``, ``"mrr@K"``, ``"err"``, ``"err@K"``, ``"precision@K"``,
        ``"recall@K"``.
    gain : {"exponential", "linear"}, default="exponential"
        The NDCG gain (see :func:`ndcg_score`).
    no_relevant : {"skip", 0.0, 1.0}, default="skip"
        The value of a query without a relevant document: ``"skip"`` gives
        NaN (such a query is left out of the mean of the ``*_score``
        functions), ``0.0`` or ``1.0`` gives that value.
    relevance_threshold : float, default=1
        Relevant means a label ``>= relevance_threshold`` (MAP, MRR,
        precision and recall).
    max_grade : float, default=4
        The top grade of the relevance scale for ERR (see :func:`err_score`).

    Returns
    -------
    query_ids : ndarray of shape (n_queries,)
        The distinct query ids, sorted.
    scores : dict of str to ndarray of shape (n_queries,)
        For each metric name, its value for each query of ``query_ids``.

    Examples
    --------
    >>> from skrank.metrics import per_query_scores
    >>> ids, scores = per_query_scores(
    ...     [1, 0, 0, 0], [0.9, 0.8, 0.1, 0.7], ["a", "a", "b", "b"],
    ...     metrics=["ndcg@10", "mrr"])
    >>> ids
    array(['a', 'b'], dtype='<U1')
    >>> scores["mrr"]
    array([ 1., nan])
    """
    no_relevant = _check_no_relevant(no_relevant, "per_query_scores")
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError(
            "metrics must name at least one metric, e.g. ('ndcg@10', 'map'). "
            "Got an empty sequence."
        )
    parsed = [_parse_metric_name(name) for name in names]
    lists = _RankedLists(y_true, y_score, groups, "per_query_scores")
    scores = {}
    for name, (kind, k) in zip(names, parsed, strict=True):
        if kind == "ndcg":
            values, defined = lists.ndcg(k, gain)
        elif kind == "map":
            values, defined = lists.average_precision(k, relevance_threshold)
        elif kind == "mrr":
            values, defined = lists.reciprocal_rank(k, relevance_threshold)
        elif kind == "err":
            values, defined = lists.err(k, max_grade)
        elif kind == "precision":
            values, defined = lists.precision(k, relevance_threshold)
        else:
            values, defined = lists.recall(k, relevance_threshold)
        scores[name] = _fill(values, defined, no_relevant)
    return lists.index.query_ids, scores
