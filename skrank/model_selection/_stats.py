"""The statistics of a comparison: per-query pairing, paired tests, corrections.

A comparison stores one record per (held-out query, split). A query tested in
several splits (repeated or overlapping test sets: ``GroupShuffleSplit``,
repeated k-fold, fixed splits given twice) is still one observation of the
query population: its records are averaged into one value per query before
any interval or paired test, so repeating a split never adds evidence.
"""

import math
import warnings

import numpy as np
from scipy import stats

__all__ = []


def query_means(values, query_ids):
    """Average per-record ``values`` over the records of each query.

    Parameters
    ----------
    values : ndarray of shape (n_records,)
        NaN marks a record that does not count (a query without a relevant
        document); it is left out of its query's mean.
    query_ids : ndarray of shape (n_records,)
        The query of each record.

    Returns
    -------
    queries : ndarray of shape (n_queries,)
        The distinct query ids, sorted.
    means : ndarray of shape (n_queries,)
        The mean of each query's defined records, NaN where it has none.
    """
    queries, inverse = np.unique(query_ids, return_inverse=True)
    inverse = inverse.ravel()
    ok = ~np.isnan(values)
    sums = np.bincount(inverse[ok], weights=values[ok], minlength=queries.shape[0])
    counts = np.bincount(inverse[ok], minlength=queries.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    means[counts == 0] = np.nan
    return queries, means


def t_interval(values, alpha):
    """Mean and ``1 - alpha`` t-interval half width of the finite ``values``."""
    values = values[~np.isnan(values)]
    n = values.shape[0]
    mean = float(np.mean(values)) if n else math.nan
    if n < 2:
        return mean, math.nan, n
    half = stats.t.ppf(1 - alpha / 2, n - 1) * np.std(values, ddof=1) / n**0.5
    return mean, float(half), n


def adjust_pvalues(pvalues, method):
    """Multiple-comparison adjustment of a 1-D array of p-values (NaN kept).

    ``method`` is "holm" (step-down, family-wise error rate), "bonferroni" or
    "none".
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.shape[0]
    if m == 0 or method == "none":
        out[ok] = p[ok]
        return out
    if method == "bonferroni":
        out[ok] = np.minimum(p[ok] * m, 1.0)
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out[order] = np.minimum(adjusted, 1.0)
    return out


def paired_tests(diff):
    """Two-sided paired t-test and Wilcoxon signed-rank p-values of ``diff``."""
    n = diff.shape[0]
    if n < 2:
        return math.nan, math.nan
    if np.all(diff == 0):
        return 1.0, 1.0
    if np.ptp(diff) <= 1e-12 * max(1.0, float(np.max(np.abs(diff)))):
        t_p = 0.0  # a constant non-zero difference: no variance at all
    else:
        with warnings.catch_warnings():
            # near-constant differences: scipy warns about precision loss
            warnings.simplefilter("ignore", RuntimeWarning)
            t_p = float(stats.ttest_rel(diff, np.zeros(n)).pvalue)
    w_p = float(stats.wilcoxon(diff, zero_method="wilcox").pvalue)
    return t_p, w_p
