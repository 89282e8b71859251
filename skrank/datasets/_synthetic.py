"""A seeded synthetic learning-to-rank generator."""

from numbers import Integral, Real

import numpy as np
from scipy.special import ndtri
from sklearn.utils import check_random_state

from ..utils._validation import Interval, validate_params

__all__ = ["make_ranking"]


def _check_list_length(list_length):
    """Return ``(min, max)`` list lengths from an int or a 2-tuple."""
    if isinstance(list_length, Integral):
        return int(list_length), int(list_length)
    if (
        len(list_length) == 2
        and all(isinstance(v, Integral) for v in list_length)
        and 1 <= list_length[0] <= list_length[1]
    ):
        return int(list_length[0]), int(list_length[1])
    raise ValueError(
        "list_length must be an int >= 1 or a tuple (min, max) of ints with "
        f"1 <= min <= max. Got {list_length!r} instead."
    )


def _list_lengths(n_queries, low, high, heavy_tailed, rng):
    """Draw one list length per query in ``[low, high]``."""
    if not heavy_tailed:
        return rng.randint(low, high + 1, size=n_queries)
    # log-uniform: log(length) is uniform, P(length = l) ~ log((l + 1) / l)
    u = rng.uniform(np.log(low), np.log(high + 1), size=n_queries)
    return np.clip(np.floor(np.exp(u)).astype(np.int64), low, high)


def _utility(Z, rng):
    """A nonlinear within-query utility of unit variance from ``Z``.

    The sum of three uncorrelated parts of unit variance each: a linear term,
    pairwise interactions and centred squares of the informative features.
    """
    k = Z.shape[1]
    w = rng.normal(size=k)
    parts = [Z @ (w / np.linalg.norm(w))]
    if k >= 2:
        pairs = [(0, 1)] if k == 2 else [(i, (i + 1) % k) for i in range(k)]
        a = rng.normal(size=len(pairs))
        a /= np.linalg.norm(a)
        parts.append(
            sum(a_p * Z[:, i] * Z[:, j] for a_p, (i, j) in zip(a, pairs, strict=True))
        )
    e = rng.normal(size=k)
    # var(sin(2 z)) = (1 - exp(-8)) / 2 for z ~ N(0, 1)
    scale = np.linalg.norm(e) * np.sqrt((1 - np.exp(-8)) / 2)
    parts.append(np.sin(2 * Z) @ (e / scale))
    return sum(parts) / np.sqrt(len(parts))


@validate_params(
    {
        "n_queries": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_informative": [Interval(Integral, 1, None, closed="left")],
        "list_length": [Interval(Integral, 1, None, closed="left"), tuple],
        "heavy_tailed": ["boolean"],
        "n_grades": [Interval(Integral, 2, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "query_effect": [Interval(Real, 0, None, closed="left")],
        "no_relevant_fraction": [Interval(Real, 0, 1, closed="both")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_ranking(
    n_queries=100,
    n_features=20,
    *,
    n_informative=5,
    list_length=(5, 50),
    heavy_tailed=False,
    n_grades=5,
    noise=0.5,
    query_effect=1.0,
    no_relevant_fraction=0.0,
    shuffle=False,
    random_state=None,
):
    r"""Generate a random learning-to-rank problem with graded relevance.

    Each query :math:`q` has a list of documents. A document's features are
    a query-level offset plus a document-level part,

    .. math::

        x_{qi} = c_q + z_{qi}, \qquad c_q \sim \mathcal{N}(0, s^2 I), \quad
        z_{qi} \sim \mathcal{N}(0, I),

    with :math:`s` = ``query_effect``. Its latent relevance is

    .. math::

        r_{qi} = g(z_{qi}) - v^\top c_q + \sigma \varepsilon_{qi}, \qquad
        \varepsilon_{qi} \sim \mathcal{N}(0, 1),

    where :math:`\sigma` = ``noise``, :math:`v` is a random unit vector and
    :math:`g` is a nonlinear function of the first ``n_informative`` features
    of :math:`z` with unit variance: the scaled sum of a linear term, pairwise
    interactions :math:`z_j z_{j+1}` and centred squares :math:`z_j^2 - 1`,
    with random weights. The label is the number of thresholds
    :math:`t_1 < \dots < t_{G-1}` (``G`` = ``n_grades``) that :math:`r_{qi}`
    exceeds, with thresholds set so that about 40% of documents have a label
    of at least 1 and each further grade halves the share (60/20/10/5/5% for 5
    grades).

    The term :math:`-v^\top c_q` is a per-query difficulty: constant within a
    query, so a ranking loss (which only compares documents of the same
    query) ignores it, but visible in the features through :math:`c_q`, so a
    pointwise regressor fitted on ``X`` spends weight on predicting it, weight
    that reorders the documents within a query. With ``query_effect=0`` the
    problem has no query-level part.

    Exactly ``round(no_relevant_fraction * n_queries)`` queries have no
    document with a label of at least 1: those whose best document has the
    lowest latent relevance (the hardest queries). Every other query has at
    least one relevant document (its best document gets label 1 if it had
    none).

    Parameters
    ----------
    n_queries : int, default=100
        The number of queries.
    n_features : int, default=20
        The number of features.
    n_informative : int, default=5
        The number of features the within-query relevance depends on: the
        first ``n_informative`` columns of ``X``. Values above ``n_features``
        are clipped to ``n_features``. The query difficulty depends on all
        features.
    list_length : int or tuple (min, max), default=(5, 50)
        The number of documents per query: a fixed number, or drawn from
        ``[min, max]`` (inclusive), uniformly unless ``heavy_tailed``.
    heavy_tailed : bool, default=False
        If True, draw list lengths log-uniformly in ``[min, max]``
        (:math:`P(\ell) \propto \log((\ell + 1) / \ell)`, a truncated power
        law): many short lists and a few long ones that hold a large share of
        the documents, as in web search data.
    n_grades : int, default=5
        The number of relevance grades; labels are ``0, ..., n_grades - 1``.
    noise : float, default=0.5
        The standard deviation :math:`\sigma` of the Gaussian noise added to
        the latent relevance (whose within-query part has unit variance).
    query_effect : float, default=1.0
        The standard deviation :math:`s` of the per-query feature offset and
        of the per-query difficulty.
    no_relevant_fraction : float, default=0.0
        The share of queries without any relevant document (label >= 1).
    shuffle : bool, default=False
        If False, the rows of a query are contiguous and queries come in
        order of their ids. If True, the rows are shuffled.
    random_state : int, RandomState instance or None, default=None
        Determines the random numbers. Pass an int for reproducible output
        across multiple function calls.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features; ``n_samples`` is the sum of the list lengths.
    y : ndarray of shape (n_samples,)
        The graded relevance labels, ``0.0, ..., n_grades - 1.0``, as float64.
    groups : ndarray of shape (n_samples,)
        The query id of each row: ``0, ..., n_queries - 1`` as int64.

    See Also
    --------
    sklearn.datasets.make_regression : A pointwise regression problem.

    Examples
    --------
    >>> from skrank.datasets import make_ranking
    >>> X, y, groups = make_ranking(n_queries=3, n_features=4, list_length=(2, 4),
    ...                             n_grades=3, random_state=0)
    >>> X.shape
    (7, 4)
    >>> y
    array([0., 1., 1., 0., 0., 0., 1.])
    >>> groups
    array([0, 0, 1, 1, 1, 2, 2])
    """
    rng = check_random_state(random_state)
    low, high = _check_list_length(list_length)
    n_informative = min(n_informative, n_features)

    lengths = _list_lengths(n_queries, low, high, heavy_tailed, rng)
    groups = np.repeat(np.arange(n_queries, dtype=np.int64), lengths)
    n_samples = groups.shape[0]

    offsets = rng.normal(scale=query_effect, size=(n_queries, n_features))
    Z = rng.normal(size=(n_samples, n_features))
    X = offsets[groups] + Z

    utility = _utility(Z[:, :n_informative], rng)
    v = rng.normal(size=n_features)
    difficulty = -(offsets @ (v / np.linalg.norm(v)))
    latent = utility + difficulty[groups] + noise * rng.normal(size=n_samples)

    # P(label >= g) = 0.4 * 0.5 ** (g - 1) under a normal approximation
    at_least = 0.4 * 0.5 ** np.arange(n_grades - 1)
    scale = np.sqrt(1.0 + query_effect**2 + noise**2)
    thresholds = scale * ndtri(1.0 - at_least)
    y = np.searchsorted(thresholds, latent, side="right").astype(np.float64)

    # the best document of each query: rows are sorted by query, then latent
    order = np.lexsort((latent, groups))
    best = order[np.cumsum(lengths) - 1]
    n_empty = round(no_relevant_fraction * n_queries)
    hardest = np.argsort(latent[best], kind="stable")
    empty = np.zeros(n_queries, dtype=bool)
    empty[hardest[:n_empty]] = True
    y[empty[groups]] = 0.0
    max_label = np.maximum.reduceat(y, np.cumsum(lengths) - lengths)
    y[best[~empty & (max_label == 0)]] = 1.0

    if shuffle:
        perm = rng.permutation(n_samples)
        X, y, groups = X[perm], y[perm], groups[perm]
    return X, y, groups
