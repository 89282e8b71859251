"""Which features show a marginal effect on relevance within queries.

``feature_penalty="auto"`` of :class:`NeuralRanker` penalises the first-layer
weights of the features without one, when most features have none.
"""

import numpy as np
import scipy.sparse as sp
from scipy import stats

#: Quantile bins of a feature in the tests of its marginal effect.
_SCREEN_BINS = 16
#: The false discovery rate of the screen (Benjamini-Hochberg).
_SCREEN_FDR = 0.05


def _columns(X):
    """Each column of ``X`` as a dense float64 vector."""
    if sp.issparse(X):
        X = sp.csc_array(X)
        for j in range(X.shape[1]):
            column = np.zeros(X.shape[0])
            start, stop = X.indptr[j], X.indptr[j + 1]
            column[X.indices[start:stop]] = X.data[start:stop]
            yield column
    else:
        for j in range(X.shape[1]):
            yield np.asarray(X[:, j], dtype=np.float64)


def marginal_effect_pvalues(X, y, index, n_bins=_SCREEN_BINS):
    r"""P-value of each feature's marginal effect on the labels within queries.

    Two tests look at the labels minus their query's mean,
    :math:`r_{qi} = y_{qi} - \bar y_q` (what a ranking loss sees), against
    :math:`u_{qi}`, the number of the quantile bin of feature :math:`j` that
    row :math:`qi` falls in (up to ``n_bins`` bins, fewer where values tie):

    - a one-way ANOVA of :math:`r` over the :math:`B` bins, which sees
      non-monotone effects,

      .. math::
          F_j = \frac{\sum_b n_b \bar r_b^2 / (B - 1)}
                     {\big(\sum r^2 - \sum_b n_b \bar r_b^2\big) / (n - B)}
          \sim F(B - 1, n - B);

    - a trend test, the slope of :math:`r` on :math:`u` with a constant per
      query, which spends one degree of freedom where the ANOVA spends
      :math:`B - 1` and so sees monotone effects with more power: with
      :math:`\tilde u_{qi} = u_{qi} - \bar u_q` and
      :math:`\rho = \sum r \tilde u / \sqrt{\sum r^2 \sum \tilde u^2}`,

      .. math::
          t_j = \rho \sqrt{\frac{n - Q - 1}{1 - \rho^2}}
          \sim t(n - Q - 1),

      :math:`Q` the number of queries.

    The p-value is their Bonferroni combination, :math:`\min(1, 2
    \min(p_F, p_t))`. Both tests are rank-based (any monotone transformation
    of a feature gives the same p-value); an effect that exists only in
    interaction with other features is not seen. A feature constant within
    every query gets 1.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,)
        Graded relevance labels.
    index : QueryIndex
        The rows' queries.
    n_bins : int, default=16
        Quantile bins per feature.

    Returns
    -------
    pvalues : ndarray of shape (n_features,)
    """
    return _column_tests(X, y, index, n_bins)[0]


def _column_tests(X, y, index, n_bins=_SCREEN_BINS):
    """``(pvalues, constant)`` in one pass over the columns.

    ``pvalues`` as :func:`marginal_effect_pvalues`; ``constant`` marks the
    columns with one value within every query.
    """
    anova, trend, constant = _bin_tests(X, y, index, n_bins)
    return np.minimum(1.0, 2.0 * np.minimum(anova, trend)), constant


def _bin_tests(X, y, index, n_bins):
    """``(anova, trend, constant)``: both tests' p-values, and constancy."""
    y = np.asarray(y, dtype=np.float64)
    n = y.shape[0]
    sizes = np.maximum(index.sizes, 1)

    def centred(v):  # minus the mean of its query
        return v - (np.bincount(index.codes, v) / sizes)[index.codes]

    r = centred(y)
    squares = float(r @ r)  # r sums to 0: the grand mean drops out of F
    slope_df = n - int((index.sizes > 0).sum()) - 1
    inner = np.linspace(0, 1, n_bins + 1)[1:-1]
    starts = index.offsets[:-1][index.sizes > 0]
    anova = np.ones(X.shape[1])
    trend = np.ones(X.shape[1])
    constant = np.ones(X.shape[1], dtype=bool)
    for j, x in enumerate(_columns(X)):
        if n == 0:
            break
        x_sorted = x[index.order]
        low = np.minimum.reduceat(x_sorted, starts)
        constant[j] = bool((low == np.maximum.reduceat(x_sorted, starts)).all())
        bins = np.searchsorted(np.unique(np.quantile(x, inner)), x, side="right")
        anova[j] = _anova_pvalue(bins, r, squares)
        trend[j] = _slope_pvalue(centred(bins), r, squares, slope_df)
    return anova, trend, constant


def _anova_pvalue(bins, r, squares):
    """One-way ANOVA of ``r`` (mean 0, sum of squares ``squares``) over bins."""
    n = r.shape[0]
    counts = np.bincount(bins)
    sums = np.bincount(bins, r)[counts > 0]
    counts = counts[counts > 0]
    k = counts.shape[0]
    if k < 2 or n <= k:
        return 1.0
    between = float((sums**2 / counts).sum())
    within = max(squares - between, 0.0) / (n - k)
    if within <= 0:
        return 0.0 if between > 0 else 1.0
    return float(stats.f.sf(between / (k - 1) / within, k - 1, n - k))


def _slope_pvalue(u, r, squares, df):
    """Two-sided t test of the slope of ``r`` on ``u``, both centred."""
    spread = float(u @ u)
    if spread <= 0 or squares <= 0 or df < 1:
        return 1.0
    rho = float(r @ u) / np.sqrt(spread * squares)
    t = rho * np.sqrt(df / max(1.0 - rho**2, 1e-300))
    return float(2.0 * stats.t.sf(abs(t), df))


def benjamini_hochberg(pvalues, fdr=_SCREEN_FDR):
    """The discoveries of the Benjamini-Hochberg procedure at level ``fdr``."""
    p = pvalues.shape[0]
    order = np.argsort(pvalues, kind="stable")
    passed = np.flatnonzero(pvalues[order] <= fdr * np.arange(1, p + 1) / p)
    found = np.zeros(p, dtype=bool)
    if passed.shape[0]:
        found[order[: passed[-1] + 1]] = True
    return found


def screen_features(X, y, index):
    """``(with_effect, constant)``: boolean masks over the features.

    ``with_effect`` marks the features whose marginal effect within queries
    is a Benjamini-Hochberg discovery at a 5% false discovery rate
    (:func:`marginal_effect_pvalues`); ``constant`` those with one value
    within every query (a constant column, or a query-level one such as a
    query's length): a ranking loss cannot see their marginal effect.
    """
    pvalues, constant = _column_tests(X, y, index)
    return benjamini_hochberg(pvalues), constant
