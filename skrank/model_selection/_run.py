"""Run a comparison: fit every model on the same query splits, score per query."""

import contextlib
import signal
import threading
import time
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier

from ..utils import QueryIndex
from ..utils._routing import final_step, fit_params, predict_params
from ..utils._validation import Interval, StrOptions, validate_params
from ._result import RankerComparison
from ._split import check_query_splits

__all__ = ["compare_rankers"]


@validate_params(
    {
        "estimators": [dict],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "groups": ["array-like"],
        "cv": ["cv_object"],
        "metrics": [str, list, tuple],
        "baseline": [str, None],
        "gain": [StrOptions({"exponential", "linear"})],
        "no_relevant": "no_validation",  # checked by the metrics' own helper
        "relevance_threshold": [Interval(Real, 0, None, closed="neither")],
        "correction": [StrOptions({"holm", "bonferroni", "none"})],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "n_jobs": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Integral, None, -1, closed="right"),
            None,
        ],
        "verbose": ["verbose"],
        "callback": [callable, None],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=False,  # the models validate their own params
)
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
    sample_weight=None,
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
        split that puts rows of one query on two sides is refused with a
        :class:`QuerySplitError`. Validation rows go, as
        ``eval_set=(X_val, y_val, groups_val)``, to every estimator whose
        ``fit`` names an ``eval_set`` parameter (:class:`~skrank.NeuralRanker`
        and :class:`GroupSizeRanker` early-stop on them); other estimators,
        and pipelines (whose transformers would not see them), do not use
        them.
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
        Number of (model, split) fits run in parallel with joblib (any
        backend: loky, threading, multiprocessing).
    verbose : int, default=0
        Print one progress line per finished fit when > 0.
    callback : callable, default=None
        Called as ``callback(info)`` after each fit, with a dict holding
        ``"model"``, ``"split"``, ``"done"``, ``"total"``, ``"fit_time"`` and
        ``"predict_time"`` (the CLI's progress display uses it).
    sample_weight : array-like of shape (n_samples,), default=None
        Query weights for training: one per row, the same for every row of a
        query. Each model whose ``fit`` (its last step's, for a pipeline)
        takes ``sample_weight`` gets the weights of its training rows; other
        models are fitted unweighted. The scores, intervals and paired tests
        still count every held-out query once.

    Returns
    -------
    result : RankerComparison
        Per-query scores of every model, timings, summary and tests.

    Raises
    ------
    QuerySplitError
        If a split cuts a query in two (or cannot be made).
    ValueError
        If a parameter is invalid: ``baseline`` not a model name, an unknown
        metric name, an empty ``estimators``, ...
    RuntimeError
        If a model fails to fit or predict; the message names the model and
        the split, and the model's own error is chained as the cause.
    KeyboardInterrupt
        On Ctrl-C (SIGINT), even when the model itself (like skorch's nets)
        treats it as "stop training": an interrupted comparison never
        returns a result.

    See Also
    --------
    RankerComparison : The result, its tables, tests and plot.
    sklearn.model_selection.cross_validate : Per-split means, not per query.

    Notes
    -----
    Per-query scores of the held-out queries are pooled over the splits
    (with ``GroupKFold`` every query is tested exactly once). A query tested
    in several splits (repeated or overlapping test sets) is averaged over
    them first: each distinct query is one pair in the tests. The summary's
    mean and standard deviation are over the splits' means; the confidence
    interval and the paired tests are over the distinct queries, which gives
    them far more power than a test over 5 fold means.

    **Interrupts.** :class:`~skrank.NeuralRanker` alone treats Ctrl-C as
    "stop training now" and keeps the best weights. Within
    ``compare_rankers`` that would turn an interrupted fit into a result, so
    while it runs, a SIGINT in the main thread is recorded and the comparison
    raises ``KeyboardInterrupt`` as soon as the interrupted fit returns. With
    ``n_jobs > 1`` the interrupt stops the main process at once; loky and
    multiprocessing workers are stopped by joblib, threads finish their
    current fit in the background.

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
    names, metrics, score_kw = _check_params(
        estimators, metrics, baseline, gain, no_relevant, relevance_threshold
    )
    baseline = names[0] if baseline is None else baseline
    y = np.asarray(y, dtype=np.float64)
    groups = np.asarray(groups)
    splits = check_query_splits(cv, X, y, groups)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        QueryIndex(groups, y.shape[0]).query_values(sample_weight, "sample_weight")
    tasks = [(name, s) for name in names for s in range(len(splits))]
    jobs = [
        delayed(_fit_and_score)(
            estimators[name],
            X,
            y,
            groups,
            splits[s],
            score_kw,
            (name, s, len(splits)),
            sample_weight,
        )
        for name, s in tasks
    ]
    outputs = {}
    with _interrupts_raise() as interrupts:
        for done, ((name, s), out) in enumerate(
            zip(tasks, _run(jobs, n_jobs), strict=True), 1
        ):
            _raise_if_interrupted(interrupts)
            outputs[name, s] = out
            _report_progress(verbose, callback, name, s, len(splits), done, out, tasks)
    tested = [test for _, _, test in splits]
    predictions = {
        "rows": np.concatenate(tested),
        "splits": np.concatenate(
            [np.full(t.shape[0], s) for s, t in enumerate(tested)]
        ),
    }
    predictions["groups"] = np.asarray(groups)[predictions["rows"]]
    predictions["y"] = np.asarray(y, dtype=np.float64)[predictions["rows"]]
    predictions["scores"] = {
        name: np.concatenate([outputs[name, s]["pred"] for s in range(len(splits))])
        for name in names
    }
    return _collect(
        outputs, names, len(splits), metrics, baseline, correction, alpha, predictions
    )


def _check_params(estimators, metrics, baseline, gain, no_relevant, threshold):
    """The checks ``validate_params`` cannot declare; return names and score kw."""
    from ..metrics._ranking import _check_no_relevant, _parse_metric_name

    if not estimators:
        raise ValueError(
            "The 'estimators' parameter of compare_rankers must be a non-empty "
            "dict mapping a name to an estimator. Got {} instead."
        )
    for name, est in estimators.items():
        if not (hasattr(est, "fit") and hasattr(est, "predict")):
            raise ValueError(
                f"The estimator {name!r} of compare_rankers must have fit and "
                f"predict methods. Got {type(est).__name__} instead."
            )
    names = [str(name) for name in estimators]
    if len(set(names)) != len(names):
        raise ValueError(f"The model names must be distinct as str. Got {names}.")
    if baseline is not None and baseline not in names:
        raise ValueError(
            f"The 'baseline' parameter of compare_rankers must be one of the model "
            f"names {names}. Got {baseline!r} instead."
        )
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not metrics:
        raise ValueError("The 'metrics' parameter of compare_rankers names no metric.")
    for metric in metrics:
        _parse_metric_name(metric)
    score_kw = {
        "metrics": metrics,
        "gain": gain,
        "no_relevant": _check_no_relevant(no_relevant, "compare_rankers"),
        "relevance_threshold": threshold,
    }
    return names, metrics, score_kw


def _run(jobs, n_jobs):
    """Results of ``jobs`` in order, as they finish where the backend can say so."""
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    except ValueError:
        # a backend without generator output (multiprocessing): all at once
        return Parallel(n_jobs=n_jobs)(jobs)
    return parallel(jobs)


def _report_progress(verbose, callback, name, s, n_splits, done, out, tasks):
    if verbose:
        print(
            f"[{done}/{len(tasks)}] {name} split {s + 1}/{n_splits}: "
            f"fit {out['fit_time']:.2f}s, predict {out['predict_time']:.2f}s",
            flush=True,
        )
    if callback is not None:
        callback(
            {
                "model": name,
                "split": s,
                "done": done,
                "total": len(tasks),
                "fit_time": out["fit_time"],
                "predict_time": out["predict_time"],
            }
        )


def _collect(
    outputs, names, n_splits, metrics, baseline, correction, alpha, predictions
):
    per_split = range(n_splits)
    first = [outputs[names[0], s]["query_ids"] for s in per_split]
    return RankerComparison(
        scores={
            name: {
                m: np.concatenate([outputs[name, s]["scores"][m] for s in per_split])
                for m in metrics
            }
            for name in names
        },
        query_ids=np.concatenate(first),
        splits=np.concatenate(
            [np.full(ids.shape[0], s) for s, ids in enumerate(first)]
        ),
        fit_time={
            name: np.array([outputs[name, s]["fit_time"] for s in per_split])
            for name in names
        },
        predict_time={
            name: np.array([outputs[name, s]["predict_time"] for s in per_split])
            for name in names
        },
        metrics=metrics,
        baseline=baseline,
        correction=correction,
        alpha=alpha,
        predictions=predictions,
    )


@contextlib.contextmanager
def _interrupts_raise():
    """Make a SIGINT end the run even if a model swallows ``KeyboardInterrupt``.

    skorch (and so NeuralRanker) catches ``KeyboardInterrupt`` in ``fit`` and
    ends training normally. While this context is active in a main thread, a
    SIGINT is recorded before the ``KeyboardInterrupt`` is raised, and
    :func:`_raise_if_interrupted` (called after each fit, and on leaving the
    context) raises it again. Nested contexts share the outer record. In a
    worker thread, or when SIGINT is not handled by Python's default handler
    (ignored, or a user's own handler), it records nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    previous = signal.getsignal(signal.SIGINT)
    outer = getattr(previous, "skrank_interrupts", None)
    if outer is not None or previous is not signal.default_int_handler:
        yield outer
        return
    state = {"interrupted": False}

    def handler(signum, frame):
        state["interrupted"] = True
        raise KeyboardInterrupt

    handler.skrank_interrupts = state
    signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)
    _raise_if_interrupted(state)


def _raise_if_interrupted(state):
    if state is not None and state["interrupted"]:
        raise KeyboardInterrupt


def _take(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def ranking_scores(estimator, X, groups=None):
    """One ranking score per row from any fitted estimator (higher ranks first)."""
    _, final = final_step(estimator)
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
    params = predict_params(estimator, groups)
    return np.asarray(estimator.predict(X, **params), dtype=np.float64).ravel()


def _fit_and_score(estimator, X, y, groups, split, score_kw, where, weights=None):
    """Fit a clone on the training rows, score the test queries; one task."""
    from ..metrics import per_query_scores

    name, s, n_splits = where
    train, val, test = split
    est = clone(estimator)
    val_data = None
    if val.shape[0]:
        val_data = (_take(X, val), y[val], groups[val])
    params = fit_params(
        est, groups[train], val_data, None if weights is None else weights[train]
    )
    with _interrupts_raise() as interrupts:  # a fit in a process's main thread
        start = time.perf_counter()
        step = "fit"
        try:
            est.fit(_take(X, train), y[train], **params)
            fit_time = time.perf_counter() - start
            _raise_if_interrupted(interrupts)
            start = time.perf_counter()
            step = "predict with"
            pred = ranking_scores(est, _take(X, test), groups[test])
        except Exception as exc:
            where = f"Could not {step} model {name!r} on split {s + 1} of {n_splits}"
            if hasattr(exc, "add_note"):  # Python >= 3.11: keep the user's type
                exc.add_note(f"{where}.")
                raise
            raise RuntimeError(f"{where}: {type(exc).__name__}: {exc}") from exc
        predict_time = time.perf_counter() - start
    if not np.all(np.isfinite(pred)):
        raise ValueError(
            f"Model {name!r} ({type(est).__name__}) predicted non-finite scores on "
            f"split {s + 1} of {n_splits} ({int((~np.isfinite(pred)).sum())} of "
            f"{pred.shape[0]} rows)."
        )
    query_ids, scores = per_query_scores(y[test], pred, groups[test], **score_kw)
    return {
        "query_ids": np.asarray(query_ids),
        "scores": {m: np.asarray(v, dtype=np.float64) for m, v in scores.items()},
        "fit_time": fit_time,
        "predict_time": predict_time,
        "pred": pred,
    }
