"""Compare rankers and regressors on the same queries, with paired tests."""

import json
import math
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import clone, is_classifier

from ._adapters import _explicit_params
from ._split import check_query_splits

__all__ = ["RankerComparison", "compare_rankers"]

_CORRECTIONS = ("holm", "bonferroni", "none")


def compare_rankers(
    estimators,
    X,
    y,
    groups,
    *,
    cv=None,
    metrics=("ndcg@5", "ndcg@10", "map"),
    baseline=None,
    gain="exponential",
    no_relevant="skip",
    relevance_threshold=1,
    correction="holm",
    alpha=0.05,
    n_jobs=None,
    verbose=0,
    callback=None,
):
    """Fit several rankers on the same query splits and compare them per query.

    Every estimator is cloned and fitted on each training part of the
    cross-validation and scored on the held-out queries with
    :func:`skrank.metrics.per_query_scores`. All models see the same splits,
    so their per-query scores are paired: the result tests each model against
    ``baseline`` over the same queries.

    Parameters
    ----------
    estimators : dict of str to estimator
        The models to compare, by display name. Any estimator with ``fit`` and
        ``predict`` works: :class:`~skrank.NeuralRanker` with any loss, any
        scikit-learn regressor, a classifier (ranked by the expected label
        from ``predict_proba``, else ``decision_function``), a
        :class:`~sklearn.pipeline.Pipeline`, or a group-size ranker such as
        LightGBM's wrapped in :class:`GroupSizeRanker`. An estimator whose
        ``fit`` (or, for a pipeline, its last step's ``fit``) names a
        ``groups`` parameter receives the training query ids; one whose
        ``predict`` names ``groups`` receives the test query ids.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Feature rows.
    y : array-like of shape (n_samples,)
        Graded relevance labels (>= 0).
    groups : array-like of shape (n_samples,)
        One query id per row.
    cv : int, cross-validation generator or iterable, default=None
        How to split the queries (see :func:`check_query_splits`): None for
        ``GroupKFold(5)``, an int for ``GroupKFold(cv)``, a splitter, or fixed
        ``(train, test)`` or ``(train, validation, test)`` row indices. A
        split that puts rows of one query on two sides is refused. Validation
        rows go to a :class:`~skrank.NeuralRanker` as its ``eval_set`` (early
        stopping); other estimators, and a NeuralRanker inside a pipeline
        (whose transformers would not see them), do not use them.
    metrics : str or tuple of str, default=("ndcg@5", "ndcg@10", "map")
        Metric names understood by :func:`skrank.metrics.per_query_scores`,
        e.g. ``"ndcg@10"``, ``"map"``, ``"mrr"``, ``"err@10"``.
    baseline : str, default=None
        The name of the model every other model is tested against. None
        takes the first key of ``estimators``.
    gain : {"exponential", "linear"}, default="exponential"
        NDCG gain, ``2**rel - 1`` or ``rel``.
    no_relevant : "skip", 0.0 or 1.0, default="skip"
        What a query without a relevant document scores: left out of every
        mean and test (default), or counted as 0 or 1.
    relevance_threshold : float, default=1
        The label from which a document counts as relevant (MAP, MRR, ...).
    correction : {"holm", "bonferroni", "none"}, default="holm"
        Correction of the p-values for testing several models against the
        baseline (one family per metric and test).
    alpha : float, default=0.05
        Significance level of the tests and ``1 - alpha`` confidence
        intervals.
    n_jobs : int, default=None
        Number of (model, split) fits run in parallel with joblib.
    verbose : int, default=0
        Print one progress line per finished fit when > 0.
    callback : callable, default=None
        Called as ``callback(info)`` after each fit, with a dict holding
        ``"model"``, ``"split"``, ``"done"``, ``"total"``, ``"fit_time"`` and
        ``"predict_time"`` (the CLI's progress display uses it).

    Returns
    -------
    result : RankerComparison
        Per-query scores of every model, timings, summary and tests.

    Raises
    ------
    ValueError
        If a split cuts a query in two, ``baseline`` is not a model name, a
        metric name is unknown, or ``estimators`` is empty.

    See Also
    --------
    RankerComparison : The result, its tables, tests and plot.
    sklearn.model_selection.cross_validate : Per-split means, not per query.

    Notes
    -----
    Per-query scores of the held-out queries are pooled over the splits
    (with ``GroupKFold`` every query is tested exactly once). The summary's
    mean and standard deviation are over the splits' means; the confidence
    interval and the paired tests are over the pooled queries, which gives
    them far more power than a test over 5 fold means.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyRegressor
    >>> from sklearn.linear_model import Ridge
    >>> from skrank.model_selection import compare_rankers
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)); qid = np.repeat(np.arange(30), 10)
    >>> y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0.5).astype(float)
    >>> result = compare_rankers(
    ...     {"constant": DummyRegressor(), "ridge": Ridge()}, X, y, qid,
    ...     cv=3, metrics=("ndcg@5", "map"))
    >>> bool(result.summary("ndcg@5")["ridge"]["mean"] > 0.7)
    True
    """
    if not isinstance(estimators, dict) or not estimators:
        raise ValueError(
            "estimators must be a non-empty dict mapping a name to an estimator. "
            f"Got {type(estimators).__name__} instead."
        )
    names = [str(name) for name in estimators]
    if baseline is None:
        baseline = names[0]
    elif baseline not in names:
        raise ValueError(
            f"baseline must be one of the model names {names}. Got {baseline!r}."
        )
    if correction not in _CORRECTIONS:
        raise ValueError(
            f"The 'correction' parameter of compare_rankers must be a str among "
            f"{set(_CORRECTIONS)}. Got {correction!r} instead."
        )
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ValueError(
            "The 'alpha' parameter of compare_rankers must be a float in the "
            f"range (0.0, 1.0). Got {alpha!r} instead."
        )
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(metrics)
    if not metrics:
        raise ValueError("metrics must name at least one metric.")
    from ..metrics import per_query_scores

    y = np.asarray(y, dtype=np.float64)
    groups = np.asarray(groups)
    splits = check_query_splits(cv, X, y, groups)
    score_kw = {
        "metrics": metrics,
        "gain": gain,
        "no_relevant": no_relevant,
        "relevance_threshold": relevance_threshold,
    }
    # Fail on a bad metric name or option before any training.
    first = splits[0][2][:1]
    per_query_scores(y[first], np.zeros(1), groups[first], **score_kw)

    tasks = [(name, s) for name in names for s in range(len(splits))]
    total = len(tasks)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    outputs = parallel(
        delayed(_fit_and_score)(
            estimators[name], X, y, groups, splits[s], per_query_scores, score_kw
        )
        for name, s in tasks
    )
    done_results = {}
    for done, ((name, s), out) in enumerate(zip(tasks, outputs, strict=True), 1):
        done_results[name, s] = out
        info = {
            "model": name,
            "split": s,
            "done": done,
            "total": total,
            "fit_time": out["fit_time"],
            "predict_time": out["predict_time"],
        }
        if verbose:
            print(
                f"[{done}/{total}] {name} split {s + 1}/{len(splits)}: "
                f"fit {out['fit_time']:.2f}s, predict {out['predict_time']:.2f}s",
                flush=True,
            )
        if callback is not None:
            callback(info)

    query_ids = np.concatenate(
        [done_results[names[0], s]["query_ids"] for s in range(len(splits))]
    )
    split_of = np.concatenate(
        [
            np.full(done_results[names[0], s]["query_ids"].shape[0], s)
            for s in range(len(splits))
        ]
    )
    scores = {
        name: {
            m: np.concatenate(
                [done_results[name, s]["scores"][m] for s in range(len(splits))]
            )
            for m in metrics
        }
        for name in names
    }
    fit_time = {
        name: np.array([done_results[name, s]["fit_time"] for s in range(len(splits))])
        for name in names
    }
    predict_time = {
        name: np.array(
            [done_results[name, s]["predict_time"] for s in range(len(splits))]
        )
        for name in names
    }
    return RankerComparison(
        scores=scores,
        query_ids=query_ids,
        splits=split_of,
        fit_time=fit_time,
        predict_time=predict_time,
        metrics=metrics,
        baseline=baseline,
        correction=correction,
        alpha=alpha,
    )


def _take(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _final_step(estimator):
    """(name, estimator) of a pipeline's last step, or (None, estimator)."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        return steps[-1][0], steps[-1][1]
    return None, estimator


def _fit_params(estimator, groups, val):
    """Keyword arguments that give ``estimator.fit`` its query ids."""
    step, final = _final_step(estimator)
    params = {}
    accepted = _explicit_params(final.fit)
    if "groups" in accepted:
        params["groups"] = groups
    if step is None and val is not None and _is_neural_ranker(final):
        params["eval_set"] = val
    if step is None or not params:
        return params
    from sklearn import get_config

    if get_config().get("enable_metadata_routing", False):
        return params  # the pipeline routes what its last step requests
    return {f"{step}__{key}": value for key, value in params.items()}


def _is_neural_ranker(estimator):
    from ..estimators import NeuralRanker

    return isinstance(estimator, NeuralRanker)


def ranking_scores(estimator, X, groups=None):
    """One ranking score per row from any fitted estimator (higher ranks first)."""
    _, final = _final_step(estimator)
    if is_classifier(final) and hasattr(estimator, "predict_proba"):
        proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        classes = np.asarray(final.classes_, dtype=np.float64)
        return proba @ classes
    if is_classifier(final) and hasattr(estimator, "decision_function"):
        scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
        if scores.ndim == 2:
            classes = np.asarray(final.classes_, dtype=np.float64)
            return scores @ classes
        return scores
    if groups is not None and "groups" in _explicit_params(final.predict):
        return np.asarray(estimator.predict(X, groups=groups), dtype=np.float64).ravel()
    return np.asarray(estimator.predict(X), dtype=np.float64).ravel()


def _fit_and_score(estimator, X, y, groups, split, per_query_scores, score_kw):
    train, val, test = split
    est = clone(estimator)
    val_data = None
    if val.shape[0]:
        val_data = (_take(X, val), y[val], groups[val])
    params = _fit_params(est, groups[train], val_data)
    start = time.perf_counter()
    est.fit(_take(X, train), y[train], **params)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    pred = ranking_scores(est, _take(X, test), groups[test])
    predict_time = time.perf_counter() - start
    if not np.all(np.isfinite(pred)):
        raise ValueError(
            f"{type(est).__name__} predicted non-finite scores "
            f"({int((~np.isfinite(pred)).sum())} of {pred.shape[0]} rows)."
        )
    query_ids, scores = per_query_scores(y[test], pred, groups[test], **score_kw)
    return {
        "query_ids": np.asarray(query_ids),
        "scores": {m: np.asarray(v, dtype=np.float64) for m, v in scores.items()},
        "fit_time": fit_time,
        "predict_time": predict_time,
    }


def _adjust(pvalues, method):
    """Multiple-comparison adjustment of a 1-D array of p-values (NaN kept)."""
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


def _paired_tests(diff):
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


class RankerComparison:
    """The result of :func:`compare_rankers`: per-query scores and their tests.

    Scores are stored per record: one record is one held-out query of one
    split, the same records for every model (``query_ids[i]`` tested in
    split ``splits[i]``), so models are compared on exactly the same queries.

    Parameters
    ----------
    scores : dict of str to dict of str to ndarray of shape (n_records,)
        ``scores[model][metric]``: the per-query values, NaN where a query
        has no relevant document and is skipped.
    query_ids : ndarray of shape (n_records,)
        The query of each record.
    splits : ndarray of shape (n_records,)
        The split (fold number from 0) in which each record was tested.
    fit_time, predict_time : dict of str to ndarray of shape (n_splits,)
        Seconds spent in ``fit`` and ``predict`` per model and split.
    metrics : tuple of str
        The metric names.
    baseline : str
        The model the others are tested against.
    correction : {"holm", "bonferroni", "none"}, default="holm"
        The multiple-comparison correction of the p-values.
    alpha : float, default=0.05
        Significance level; the confidence intervals are ``1 - alpha``.

    Attributes
    ----------
    model_names : list of str
        The models, in the order they were given.
    n_splits : int
        The number of splits.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.model_selection import RankerComparison
    >>> res = RankerComparison(
    ...     scores={"a": {"map": np.array([0.5, 0.6, 0.7, 0.8])},
    ...             "b": {"map": np.array([0.6, 0.8, 0.8, 0.9])}},
    ...     query_ids=np.array([1, 2, 3, 4]), splits=np.array([0, 0, 1, 1]),
    ...     fit_time={"a": np.ones(2), "b": np.ones(2)},
    ...     predict_time={"a": np.ones(2), "b": np.ones(2)},
    ...     metrics=("map",), baseline="a")
    >>> round(res.summary("map")["b"]["mean"], 3)
    0.775
    >>> round(res.significance("map")["b"]["diff"], 3)
    0.125
    """

    def __init__(
        self,
        *,
        scores,
        query_ids,
        splits,
        fit_time,
        predict_time,
        metrics,
        baseline,
        correction="holm",
        alpha=0.05,
    ):
        self.scores = scores
        self.query_ids = np.asarray(query_ids)
        self.splits = np.asarray(splits)
        self.fit_time = fit_time
        self.predict_time = predict_time
        self.metrics = tuple(metrics)
        self.baseline = baseline
        self.correction = correction
        self.alpha = alpha
        self.model_names = list(scores)
        self.n_splits = int(self.splits.max()) + 1 if self.splits.size else 0

    def __repr__(self):
        return (
            f"RankerComparison(models={self.model_names}, "
            f"metrics={list(self.metrics)}, "
            f"n_splits={self.n_splits}, n_queries={self.query_ids.shape[0]}, "
            f"baseline={self.baseline!r})"
        )

    def _metric(self, metric):
        if metric is None:
            return self.metrics[0]
        if metric not in self.metrics:
            raise ValueError(
                f"metric must be one of {list(self.metrics)}. Got {metric!r} instead."
            )
        return metric

    def summary(self, metric=None):
        """Mean, spread and confidence interval of each model for one metric.

        Parameters
        ----------
        metric : str, default=None
            One of :attr:`metrics`; None takes the first.

        Returns
        -------
        summary : dict of str to dict
            Per model: ``mean`` and ``std`` of the split means (``std`` with
            ``ddof=1``, NaN for one split), ``split_means``, ``query_mean``
            (mean over all held-out queries), ``ci_low`` and ``ci_high`` (the
            ``1 - alpha`` t-interval of the query mean), ``n_queries`` (queries
            that count), ``fit_time`` and ``predict_time`` (total seconds).
        """
        metric = self._metric(metric)
        out = {}
        level = 1 - self.alpha / 2
        for name in self.model_names:
            values = self.scores[name][metric]
            ok = ~np.isnan(values)
            split_means = np.array(
                [
                    np.mean(values[ok & (self.splits == s)])
                    if np.any(ok & (self.splits == s))
                    else np.nan
                    for s in range(self.n_splits)
                ]
            )
            finite = split_means[~np.isnan(split_means)]
            n = int(ok.sum())
            qmean = float(np.mean(values[ok])) if n else math.nan
            if n > 1:
                half = stats.t.ppf(level, n - 1) * np.std(values[ok], ddof=1) / n**0.5
            else:
                half = math.nan
            out[name] = {
                "mean": float(np.mean(finite)) if finite.size else math.nan,
                "std": float(np.std(finite, ddof=1)) if finite.size > 1 else math.nan,
                "split_means": split_means,
                "query_mean": qmean,
                "ci_low": qmean - half,
                "ci_high": qmean + half,
                "n_queries": n,
                "fit_time": float(np.sum(self.fit_time[name])),
                "predict_time": float(np.sum(self.predict_time[name])),
            }
        return out

    def differences(self, metric=None):
        """Per-query differences of each model to the baseline.

        Parameters
        ----------
        metric : str, default=None
            One of :attr:`metrics`; None takes the first.

        Returns
        -------
        differences : dict of str to ndarray
            Per model other than the baseline: ``model - baseline`` over the
            records where both are defined.
        """
        metric = self._metric(metric)
        base = self.scores[self.baseline][metric]
        out = {}
        for name in self.model_names:
            if name == self.baseline:
                continue
            values = self.scores[name][metric]
            ok = ~np.isnan(values) & ~np.isnan(base)
            out[name] = values[ok] - base[ok]
        return out

    def significance(self, metric=None):
        """Paired tests of every model against the baseline over the same queries.

        Two tests per model, both two-sided over the per-query differences:
        the paired t-test (:func:`scipy.stats.ttest_rel`) and the Wilcoxon
        signed-rank test (:func:`scipy.stats.wilcoxon`, zero differences
        dropped). Each test's p-values are adjusted for the number of models
        tested against the baseline with :attr:`correction` (Holm's step-down
        method by default, which controls the family-wise error rate).

        Parameters
        ----------
        metric : str, default=None
            One of :attr:`metrics`; None takes the first.

        Returns
        -------
        tests : dict of str to dict
            Per model other than the baseline: ``diff`` (mean difference),
            ``n`` (paired queries), ``wins``/``losses``/``ties`` (queries),
            ``t_pvalue``, ``wilcoxon_pvalue`` (raw), ``t_pvalue_adj``,
            ``wilcoxon_pvalue_adj`` (corrected) and ``significant`` (both
            corrected p-values below :attr:`alpha`).
        """
        diffs = self.differences(metric)
        names = list(diffs)
        raw = np.array([_paired_tests(diffs[n]) for n in names]).reshape(-1, 2)
        t_adj = _adjust(raw[:, 0], self.correction)
        w_adj = _adjust(raw[:, 1], self.correction)
        out = {}
        for i, name in enumerate(names):
            d = diffs[name]
            out[name] = {
                "diff": float(np.mean(d)) if d.size else math.nan,
                "n": int(d.shape[0]),
                "wins": int(np.sum(d > 0)),
                "losses": int(np.sum(d < 0)),
                "ties": int(np.sum(d == 0)),
                "t_pvalue": float(raw[i, 0]),
                "wilcoxon_pvalue": float(raw[i, 1]),
                "t_pvalue_adj": float(t_adj[i]),
                "wilcoxon_pvalue_adj": float(w_adj[i]),
                "significant": bool(t_adj[i] < self.alpha and w_adj[i] < self.alpha),
            }
        return out

    # ------------------------------------------------------------------ tables
    def _main_metric(self, metric):
        if metric is not None:
            return self._metric(metric)
        return "ndcg@10" if "ndcg@10" in self.metrics else self.metrics[0]

    def _rows(self, digits=3, metric=None):
        """Header and rows of the summary table (strings)."""
        header = ["model"]
        for m in self.metrics:
            header += [m, f"{m} {100 * (1 - self.alpha):g}% CI"]
        main = self._main_metric(metric)
        header += [f"vs. {self.baseline}: diff {main}", "p (t / Wilcoxon)"]
        header += ["fit s", "predict s"]
        summaries = {m: self.summary(m) for m in self.metrics}
        tests = self.significance(main)
        rows = []
        for name in self.model_names:
            row = [name]
            for m in self.metrics:
                s = summaries[m][name]
                row.append(_fmt_mean_std(s["mean"], s["std"], digits))
                row.append(f"[{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]")
            if name == self.baseline:
                row += ["(baseline)", ""]
            else:
                t = tests[name]
                star = " *" if t["significant"] else ""
                row.append(f"{t['diff']:+.{digits}f}{star}")
                row.append(
                    f"{_fmt_p(t['t_pvalue_adj'])} / {_fmt_p(t['wilcoxon_pvalue_adj'])}"
                )
            s = summaries[self.metrics[0]][name]
            row += [f"{s['fit_time']:.1f}", f"{s['predict_time']:.2f}"]
            rows.append(row)
        return header, rows, main

    def _footnote(self, main):
        corr = {
            "holm": "Holm-corrected",
            "bonferroni": "Bonferroni-corrected",
            "none": "uncorrected",
        }[self.correction]
        n = self.query_ids.shape[0]
        n_ok = int(np.sum(~np.isnan(self.scores[self.baseline][main])))
        return (
            f"Mean ± std over {self.n_splits} split(s); "
            f"CI: {100 * (1 - self.alpha):g}% "
            f"t-interval over the {n_ok} of {n} held-out queries that count (queries "
            f"without a relevant document are skipped unless no_relevant is set). "
            f"p: two-sided paired t-test / Wilcoxon "
            f"signed-rank on per-query {main} differences to {self.baseline!r}, "
            f"{corr} over {max(len(self.model_names) - 1, 0)} comparisons; "
            f"* = both below {self.alpha:g}. Times: total seconds over all splits."
        )

    def to_markdown(self, digits=3, metric=None):
        """The summary table as GitHub-flavoured Markdown.

        Parameters
        ----------
        digits : int, default=3
            Decimal places of the scores.
        metric : str, default=None
            The metric of the difference and p-value columns; None takes
            "ndcg@10" when it was computed, else the first metric.

        Returns
        -------
        text : str
            A Markdown table followed by a note on the statistics.
        """
        header, rows, main = self._rows(digits, metric)
        lines = ["| " + " | ".join(header) + " |"]
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines) + "\n\n" + self._footnote(main) + "\n"

    def to_text(self, digits=3, metric=None):
        """The summary table as aligned plain text.

        Parameters
        ----------
        digits : int, default=3
            Decimal places of the scores.
        metric : str, default=None
            The metric of the difference and p-value columns; None takes
            "ndcg@10" when it was computed, else the first metric.

        Returns
        -------
        text : str
            The table followed by a note on the statistics.
        """
        header, rows, main = self._rows(digits, metric)
        return _text_table(header, rows) + "\n" + self._footnote(main) + "\n"

    def __str__(self):
        return self.to_text()

    def to_frame(self, kind="summary"):
        """The results as a :class:`pandas.DataFrame` (pandas must be installed).

        Parameters
        ----------
        kind : {"summary", "per_query", "tests"}, default="summary"
            ``"summary"``: one row per (model, metric) with the fields of
            :meth:`summary`; ``"per_query"``: one row per (model, record) with
            the query id, split and every metric; ``"tests"``: one row per
            (model, metric) with the fields of :meth:`significance`.

        Returns
        -------
        frame : pandas.DataFrame
            The table asked for by ``kind``.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover
            raise ImportError("to_frame requires pandas: pip install pandas") from exc
        if kind == "per_query":
            parts = []
            for name in self.model_names:
                data = {
                    "model": name,
                    "query_id": self.query_ids,
                    "split": self.splits,
                }
                data.update(self.scores[name])
                parts.append(pd.DataFrame(data))
            return pd.concat(parts, ignore_index=True)
        if kind not in ("summary", "tests"):
            raise ValueError(
                f"kind must be 'summary', 'per_query' or 'tests'. Got {kind!r} instead."
            )
        rows = []
        for m in self.metrics:
            table = self.summary(m) if kind == "summary" else self.significance(m)
            for name, fields in table.items():
                row = {"model": name, "metric": m}
                row.update({k: v for k, v in fields.items() if k != "split_means"})
                rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self):
        """A JSON-serialisable dict: settings, summary, tests and per-query scores.

        Returns
        -------
        data : dict
            Plain Python types only (lists, floats, None for NaN).
        """
        summary = {
            m: {
                name: {
                    k: (v.tolist() if isinstance(v, np.ndarray) else v)
                    for k, v in s.items()
                }
                for name, s in self.summary(m).items()
            }
            for m in self.metrics
        }
        return {
            "models": self.model_names,
            "metrics": list(self.metrics),
            "baseline": self.baseline,
            "correction": self.correction,
            "alpha": self.alpha,
            "n_splits": self.n_splits,
            "summary": _json_safe(summary),
            "tests": _json_safe({m: self.significance(m) for m in self.metrics}),
            "per_query": {
                "query_id": self.query_ids.tolist(),
                "split": self.splits.tolist(),
                "scores": _json_safe(
                    {
                        name: {m: v.tolist() for m, v in ms.items()}
                        for name, ms in self.scores.items()
                    }
                ),
            },
            "fit_time": {k: v.tolist() for k, v in self.fit_time.items()},
            "predict_time": {k: v.tolist() for k, v in self.predict_time.items()},
        }

    def to_json(self, **kwargs):
        """:meth:`to_dict` as a JSON string (NaN written as null).

        Parameters
        ----------
        **kwargs : dict
            Passed to :func:`json.dumps` (e.g. ``indent=2``).

        Returns
        -------
        text : str
            The JSON document.
        """
        return json.dumps(self.to_dict(), **kwargs)

    def plot(self, metric=None, *, figsize=(11, 4.5)):
        """Per-model score distributions and per-query differences to the baseline.

        Needs matplotlib (``pip install skrank[plot]``).

        Parameters
        ----------
        metric : str, default=None
            One of :attr:`metrics`; None takes the first.
        figsize : tuple of float, default=(11, 4.5)
            Figure size in inches.

        Returns
        -------
        fig : matplotlib.figure.Figure
            Left: box plots of the per-query scores of each model (the mean
            as a dot). Right: the per-query differences to the baseline,
            sorted, one line per model, with the mean difference in the
            legend.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover
            raise ImportError(
                "plot requires matplotlib: pip install 'skrank[plot]'"
            ) from exc
        metric = self._metric(metric)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=figsize)
        data = []
        for name in self.model_names:
            v = self.scores[name][metric]
            data.append(v[~np.isnan(v)])
        positions = np.arange(1, len(data) + 1)
        import matplotlib

        major, minor = (int(v) for v in matplotlib.__version__.split(".")[:2])
        horizontal = (
            {"orientation": "horizontal"}
            if (major, minor) >= (3, 10)
            else {"vert": False}
        )
        ax1.boxplot(data, positions=positions, showfliers=False, **horizontal)
        ax1.plot(
            [d.mean() if d.size else np.nan for d in data], positions, "o", color="C3"
        )
        ax1.set_yticks(positions, self.model_names)
        ax1.invert_yaxis()
        ax1.set_xlabel(f"per-query {metric}")
        ax1.set_title(f"{metric} over held-out queries")
        diffs = self.differences(metric)
        tests = self.significance(metric)
        for i, (name, d) in enumerate(diffs.items()):
            if not d.size:
                continue
            x = np.linspace(0, 100, d.shape[0])
            star = "*" if tests[name]["significant"] else ""
            ax2.plot(
                x,
                np.sort(d),
                color=f"C{i % 10}",
                label=f"{name} ({tests[name]['diff']:+.3f}{star})",
            )
        ax2.axhline(0, color="black", linewidth=0.8)
        ax2.set_xlabel("queries, sorted by difference (%)")
        ax2.set_ylabel(f"{metric} minus {self.baseline}")
        ax2.set_title(f"per-query difference to {self.baseline}")
        if diffs:
            ax2.legend(fontsize="small")
        fig.tight_layout()
        return fig


def _fmt_mean_std(mean, std, digits):
    if math.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _fmt_p(p):
    if math.isnan(p):
        return "n/a"
    if p < 1e-4:
        return "<1e-4"
    return f"{p:.4f}" if p < 0.01 else f"{p:.3f}"


def _text_table(header, rows):
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return None if math.isnan(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
