"""The result object of a comparison: per-query scores, summary, tests, exports."""

import json
import math

import numpy as np

from . import _report
from ._stats import adjust_pvalues, paired_tests, query_means, t_interval
from ._trec import ranx_pair, trec_qrels, trec_run

__all__ = ["RankerComparison"]


class RankerComparison:
    """The result of :func:`compare_rankers`: per-query scores and their tests.

    Scores are stored per record: one record is one held-out query of one
    split, the same records for every model (``query_ids[i]`` tested in
    split ``splits[i]``), so models are compared on exactly the same queries.
    A query tested in several splits (repeated or overlapping test sets) has
    several records; the intervals and paired tests first average them into
    one value per query, so every query is one observation.

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
    predictions : dict, default=None
        The held-out predictions per document, for the TREC exports:
        ``rows``, ``splits``, ``groups``, ``y`` (arrays, one entry per tested
        document) and ``scores`` (``{model: array}``); set by
        :func:`compare_rankers`.

    Attributes
    ----------
    model_names : list of str
        The models, in the order they were given.
    n_splits : int
        The number of splits.
    n_unique_queries : int
        The number of distinct held-out queries (at most the number of
        records; fewer when test sets overlap).

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
        predictions=None,
    ):
        self.scores = scores
        self.predictions = predictions
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
        self.n_unique_queries = int(np.unique(self.query_ids).shape[0])

    def __repr__(self):
        return (
            f"RankerComparison(models={self.model_names}, "
            f"metrics={list(self.metrics)}, "
            f"n_splits={self.n_splits}, n_queries={self.n_unique_queries}, "
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

    def _main_metric(self, metric):
        if metric is not None:
            return self._metric(metric)
        return "ndcg@10" if "ndcg@10" in self.metrics else self.metrics[0]

    def query_scores(self, model, metric=None):
        """One value per distinct held-out query: its records averaged.

        Parameters
        ----------
        model : str
            One of :attr:`model_names`.
        metric : str, default=None
            One of :attr:`metrics`; None takes the first.

        Returns
        -------
        query_ids : ndarray of shape (n_unique_queries,)
            The distinct held-out queries, sorted.
        scores : ndarray of shape (n_unique_queries,)
            The mean over the splits that tested each query (NaN for a query
            that does not count).
        """
        metric = self._metric(metric)
        return query_means(self.scores[model][metric], self.query_ids)

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
            (mean over the distinct held-out queries, each averaged over the
            splits that tested it), ``ci_low`` and ``ci_high`` (the
            ``1 - alpha`` t-interval of the query mean), ``n_queries``
            (distinct queries that count), ``fit_time`` and ``predict_time``
            (total seconds).
        """
        metric = self._metric(metric)
        out = {}
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
            _, per_query = query_means(values, self.query_ids)
            qmean, half, n = t_interval(per_query, self.alpha)
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

        Each distinct query gives one difference: both models' scores are
        first averaged over the splits that tested the query.

        Parameters
        ----------
        metric : str, default=None
            One of :attr:`metrics`; None takes the first.

        Returns
        -------
        differences : dict of str to ndarray
            Per model other than the baseline: ``model - baseline`` over the
            distinct queries where both are defined, in sorted query order.
        """
        metric = self._metric(metric)
        _, base = query_means(self.scores[self.baseline][metric], self.query_ids)
        out = {}
        for name in self.model_names:
            if name == self.baseline:
                continue
            _, values = query_means(self.scores[name][metric], self.query_ids)
            ok = ~np.isnan(values) & ~np.isnan(base)
            out[name] = values[ok] - base[ok]
        return out

    def significance(self, metric=None):
        """Paired tests of every model against the baseline over the same queries.

        Two tests per model, both two-sided over the per-query differences
        (one per distinct query, see :meth:`differences`): the paired t-test
        (:func:`scipy.stats.ttest_rel`) and the Wilcoxon signed-rank test
        (:func:`scipy.stats.wilcoxon`, zero differences dropped). Each test's
        p-values are adjusted for the number of models tested against the
        baseline with :attr:`correction` (Holm's step-down method by default,
        which controls the family-wise error rate).

        Parameters
        ----------
        metric : str, default=None
            One of :attr:`metrics`; None takes the first.

        Returns
        -------
        tests : dict of str to dict
            Per model other than the baseline: ``diff`` (mean difference),
            ``n`` (distinct paired queries), ``wins``/``losses``/``ties``
            (queries), ``t_pvalue``, ``wilcoxon_pvalue`` (raw),
            ``t_pvalue_adj``, ``wilcoxon_pvalue_adj`` (corrected) and
            ``significant`` (both corrected p-values below :attr:`alpha`).
        """
        diffs = self.differences(metric)
        names = list(diffs)
        raw = np.array([paired_tests(diffs[n]) for n in names]).reshape(-1, 2)
        t_adj = adjust_pvalues(raw[:, 0], self.correction)
        w_adj = adjust_pvalues(raw[:, 1], self.correction)
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

    # ------------------------------------------------------------- rendering
    def to_text(self, digits=3, metric=None, *, compact=False):
        """The summary table as aligned plain text.

        Parameters
        ----------
        digits : int, default=3
            Decimal places of the scores.
        metric : str, default=None
            The metric of the difference and p-value columns; None takes
            "ndcg@10" when it was computed, else the first metric.
        compact : bool, default=False
            If True, the headline table: one column per metric (mean ± std)
            and the difference to the baseline with both p-values, followed
            by :meth:`conclusions` instead of the note on the statistics.

        Returns
        -------
        text : str
            The table followed by a note on the statistics.
        """
        return _report.render(self, digits, self._main_metric(metric), compact, "text")

    def to_markdown(self, digits=3, metric=None, *, compact=False):
        """The summary table as GitHub-flavoured Markdown.

        Parameters
        ----------
        digits : int, default=3
            Decimal places of the scores.
        metric : str, default=None
            The metric of the difference and p-value columns; None takes
            "ndcg@10" when it was computed, else the first metric.
        compact : bool, default=False
            If True, the headline table (see :meth:`to_text`).

        Returns
        -------
        text : str
            A Markdown table followed by a note on the statistics.
        """
        main = self._main_metric(metric)
        return _report.render(self, digits, main, compact, "markdown")

    def conclusions(self, metric=None):
        """Sentences naming the significant differences to the baseline.

        Parameters
        ----------
        metric : str, default=None
            The metric tested; None takes "ndcg@10" when it was computed,
            else the first metric.

        Returns
        -------
        lines : list of str
            Which models are significantly better or worse, then how the
            tests were made (distinct queries used, correction, alpha).
        """
        return _report.conclusions(self, self._main_metric(metric))

    def to_report(self, *, title="skrank comparison", notes=(), metric=None):
        """A Markdown report: notes, the headline table, conclusions, details.

        Parameters
        ----------
        title : str, default="skrank comparison"
            The first heading.
        notes : sequence of str, default=()
            Bullet points under the title (data, command, versions, ...).
        metric : str, default=None
            The metric tested; None takes "ndcg@10" when it was computed,
            else the first metric.

        Returns
        -------
        text : str
            The report.
        """
        return _report.report(self, title, notes, self._main_metric(metric))

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
        return _report.frame(self, kind)

    def to_dict(self):
        """A JSON-serialisable dict: settings, summary, tests and per-query scores.

        Returns
        -------
        data : dict
            Plain Python types only (lists, floats, None for NaN).
        """
        return _report.as_dict(self)

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

    def to_trec_run(self, model, *, split=None, run_name=None):
        """One model's held-out scores as TREC run text (``trec_eval``, ranx).

        Lines ``qid Q0 docno rank score run_name``, by decreasing score within
        each query; ``docno`` is ``d<row>``, the document's row in the ``X``
        given to :func:`compare_rankers`. ``split=i`` keeps the queries tested
        in split ``i``; it is needed when queries were tested in several
        splits, since a run holds each document once. ``run_name`` defaults to
        the model name. :meth:`to_trec_qrels` gives the matching qrels and
        :meth:`to_ranx` both as ranx objects (``pip install ranx``), for
        randomisation tests and fusion.

        Parameters
        ----------
        model : str
            A model name.
        split : int, default=None
            Only the queries tested in this split.
        run_name : str, default=None
            The run's tag.

        Returns
        -------
        text : str
            The run file's content.
        """
        return trec_run(self.predictions, model, split=split, run_name=run_name)

    def to_trec_qrels(self, *, split=None):
        """Held-out labels as TREC qrels text, ``qid 0 docno label``.

        Parameters
        ----------
        split : int, default=None
            As in :meth:`to_trec_run`.

        Returns
        -------
        text : str
            The qrels file's content (integer labels).
        """
        return trec_qrels(self.predictions, split=split)

    def to_ranx(self, model, *, split=None):
        """The ranx ``(Qrels, Run)`` of one model's held-out scores.

        Parameters
        ----------
        model : str
            A model name.
        split : int, default=None
            As in :meth:`to_trec_run`.

        Returns
        -------
        qrels, run : ranx.Qrels, ranx.Run
            For ranx's metrics, statistical tests and fusion.
        """
        return ranx_pair(self.predictions, model, split=split)

    def plot(self, metric=None, *, figsize=(11, 4.5)):
        """A forest plot of each model against the baseline, and per-query curves.

        Needs matplotlib (the ``plot`` extra).

        Parameters
        ----------
        metric : str, default=None
            One of :attr:`metrics`; None takes the first.
        figsize : tuple of float, default=(11, 4.5)
            Figure size in inches.

        Returns
        -------
        fig : matplotlib.figure.Figure
            Left: each model's mean difference to the baseline over the
            distinct held-out queries with its ``1 - alpha`` confidence
            interval, sorted best first; a filled marker and ``*`` mark a
            significant difference (both corrected tests). Right: the sorted
            per-query differences, one curve per model, in distinct colours
            however many models, with the legend outside the axes.
        """
        from ._plot import plot_comparison

        return plot_comparison(self, self._metric(metric), figsize)
