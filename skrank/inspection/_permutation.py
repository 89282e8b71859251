"""Permutation feature importance scored per query."""

import numbers

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.utils import Bunch, check_random_state

from ..metrics import make_ranking_scorer, ndcg_scorer
from ..utils import QueryIndex
from ..utils._validation import HasMethods, Interval, validate_params

__all__ = ["permutation_importance"]


def _as_scorers(scoring):
    """``{name: scorer}`` and whether a single scorer was asked for."""
    if scoring is None:
        return {"score": ndcg_scorer}, True
    if isinstance(scoring, str):
        return {"score": make_ranking_scorer(scoring)}, True
    if callable(scoring):
        return {"score": scoring}, True
    if isinstance(scoring, dict):
        items = list(scoring.items())
    else:
        items = [(name, name) for name in scoring]
    if not items:
        raise ValueError("scoring is an empty collection; give at least one metric.")
    scorers = {}
    for name, scorer in items:
        if isinstance(scorer, str):
            scorer = make_ranking_scorer(scorer)
        elif not callable(scorer):
            raise ValueError(
                "Each scorer in scoring must be a metric name such as 'ndcg@10' "
                f"or a callable scorer(estimator, X, y, groups=groups). Got "
                f"{scorer!r} for {name!r} instead."
            )
        scorers[str(name)] = scorer
    return scorers, False


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _shuffled_rows(rng, index, within_queries):
    """Source row of each destination row for one shuffle of one column."""
    n = index.n_samples
    if not within_queries:
        return rng.permutation(n)
    # A random order inside each query: sort the query-sorted rows by
    # (query, random key), then map back to input rows.
    within = np.lexsort((rng.random(n), index.sorted_codes))
    source = np.empty(n, dtype=np.intp)
    source[index.order] = index.order[within]
    return source


def _with_column(X, column, source):
    """A copy of ``X`` whose ``column`` takes the values of rows ``source``."""
    if hasattr(X, "iloc"):
        X_new = X.copy()
        X_new.iloc[:, column] = X.iloc[source, column].to_numpy()
        return X_new
    if sp.issparse(X):
        X_csc = sp.csc_matrix(X)
        col = X_csc[:, [column]][source]
        parts = [X_csc[:, :column], col, X_csc[:, column + 1 :]]
        return sp.hstack(
            parts, format=X.format if X.format in ("csr", "csc") else "csr"
        )
    X_new = np.array(X, copy=True)
    X_new[:, column] = X_new[source, column]
    return X_new


def _column_scores(
    estimator, X, y, groups, column, index, within, seed, scorers, n_repeats
):
    rng = np.random.default_rng(seed)
    out = {name: np.empty(n_repeats) for name in scorers}
    for repeat in range(n_repeats):
        X_perm = _with_column(X, column, _shuffled_rows(rng, index, within))
        for name, scorer in scorers.items():
            out[name][repeat] = scorer(estimator, X_perm, y, groups=groups)
    return out


@validate_params(
    {
        "estimator": [HasMethods(["predict"])],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "groups": ["array-like"],
        "scoring": [str, callable, list, tuple, dict, None],
        "n_repeats": [Interval(numbers.Integral, 1, None, closed="left")],
        "within_queries": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def permutation_importance(
    estimator,
    X,
    y,
    groups,
    *,
    scoring=None,
    n_repeats=5,
    within_queries=False,
    random_state=None,
    n_jobs=None,
):
    r"""Permutation importance of each feature for a ranking metric.

    The importance of feature :math:`j` is the drop of the ranking metric
    when the values of column :math:`j` are shuffled, averaged over
    ``n_repeats`` shuffles:

    .. math::
        I_j = s(f, X, y, q) - \frac{1}{R} \sum_{r=1}^{R} s(f, X^{(j, r)}, y, q)

    where :math:`s` is the scorer (mean over queries) and :math:`X^{(j, r)}`
    is ``X`` with column :math:`j` permuted. scikit-learn's
    :func:`~sklearn.inspection.permutation_importance` cannot pass the query
    ids to a ranking scorer; this one does, and can also shuffle within
    queries (``within_queries=True``): that keeps each query's set of values
    and so asks only whether the feature orders documents *inside* a query,
    the question a ranker answers. A feature that only varies between queries
    (e.g. a query-level feature) then has zero importance by construction.

    Parameters
    ----------
    estimator : object
        A fitted estimator with ``predict`` (a ranker or any regressor). When
        ``predict`` takes ``groups``, the scorer passes them.
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        The rows to score, typically held-out queries. Never modified.
    y : array-like of shape (n_samples,)
        Graded relevance labels.
    groups : array-like of shape (n_samples,)
        The query id of each row.
    scoring : str, callable, list, tuple or dict, default=None
        The metric: ``None`` for :data:`~skrank.metrics.ndcg_scorer`
        (NDCG@10), a metric name such as ``"map"`` or ``"ndcg@5"`` (see
        :func:`~skrank.metrics.make_ranking_scorer`), a scorer
        ``scorer(estimator, X, y, groups=groups)``, or a list/tuple of names
        or a dict ``{name: scorer}`` for several metrics at once.
    n_repeats : int, default=5
        Shuffles per feature.
    within_queries : bool, default=False
        Shuffle a feature's values inside each query instead of across all
        rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles. Each feature gets its own seed drawn from it, so
        the result does not depend on ``n_jobs``.
    n_jobs : int, default=None
        Features scored in parallel by joblib (``-1``: all cores).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch` or dict of Bunch
        With ``importances_mean`` and ``importances_std`` of shape
        ``(n_features,)``, ``importances`` of shape ``(n_features,
        n_repeats)`` and ``baseline_score`` (the unshuffled score). Several
        metrics give a dict of such Bunch objects, keyed by metric name.

    See Also
    --------
    sklearn.inspection.permutation_importance : The same idea for metrics
        without query ids.

    References
    ----------
    .. [1] L. Breiman, "Random Forests", Machine Learning, 45(1), 5-32, 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skrank.inspection import permutation_importance
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = (X[:, 0] > 0.5).astype(int) + (X[:, 0] > 1.0)
    >>> qid = np.repeat(np.arange(20), 10)
    >>> ridge = Ridge().fit(X, y)
    >>> result = permutation_importance(ridge, X, y, qid, n_repeats=3,
    ...                                 random_state=0)
    >>> int(np.argmax(result.importances_mean))
    0
    """
    n_samples = _n_rows(X)
    index = QueryIndex(groups, n_samples)
    if _n_rows(y) != n_samples:
        raise ValueError(f"y has {_n_rows(y)} entries but X has {n_samples} rows.")
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    if len(X.shape) != 2:
        raise ValueError(
            f"Expected a 2D X of shape (n_samples, n_features). Got shape {X.shape}."
        )
    scorers, single = _as_scorers(scoring)
    baseline = {
        name: float(scorer(estimator, X, y, groups=groups))
        for name, scorer in scorers.items()
    }
    rng = check_random_state(random_state)
    n_features = X.shape[1]
    seeds = rng.randint(np.iinfo(np.int32).max, size=n_features)
    per_column = Parallel(n_jobs=n_jobs)(
        delayed(_column_scores)(
            estimator,
            X,
            y,
            groups,
            j,
            index,
            within_queries,
            seeds[j],
            scorers,
            n_repeats,
        )
        for j in range(n_features)
    )
    results = {}
    for name in scorers:
        drops = baseline[name] - np.stack([scores[name] for scores in per_column])
        results[name] = Bunch(
            importances_mean=drops.mean(axis=1),
            importances_std=drops.std(axis=1),
            importances=drops,
            baseline_score=baseline[name],
        )
    return results["score"] if single else results
