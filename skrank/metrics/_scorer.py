"""Scorers that give ranking metrics the query ids through metadata routing.

A scorer is a consumer in scikit-learn's metadata routing through the public
protocol: its ``get_metadata_routing()`` returns a
:class:`~sklearn.utils.metadata_routing.MetadataRequest` asking for ``groups``
when scoring. No private scikit-learn class is subclassed.
"""

import inspect
import warnings

from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.metadata_routing import MetadataRequest

from ..utils._routing import names_param, predict_params
from ._ranking import (
    _check_metric_kwargs,
    _NoQueryDefined,
    _parse_metric_name,
    _scorer_context,
    err_score,
    map_score,
    mrr_score,
    ndcg_score,
    precision_at_k_score,
    recall_at_k_score,
)

__all__ = ["make_ranking_scorer", "map_scorer", "ndcg_scorer"]

_BY_NAME = {
    "ndcg": ndcg_score,
    "map": map_score,
    "mrr": mrr_score,
    "err": err_score,
    "precision": precision_at_k_score,
    "recall": recall_at_k_score,
}


#: The score of a scored set in which no query has a relevant document (and
#: the metric's ``no_relevant`` is "skip"): the same for every candidate of a
#: search, so such a fold cannot change which candidate wins.
UNDEFINED_SCORE = 0.0


class _RankingScorer:
    """Score ``estimator.predict(X)`` with a ranking metric over query ids.

    Called as ``scorer(estimator, X, y_true, groups=groups)``. It requests
    ``groups`` for ``score`` at class level, so scikit-learn's metadata routing
    delivers the query ids of the scored rows without a ``set_score_request``
    call.
    """

    def __init__(self, metric, kwargs, name=None):
        self._metric = metric
        self._kwargs = dict(kwargs)
        self._name = name

    def get_metadata_routing(self):
        """The routing request of this scorer: ``groups`` (and query weights).

        Returns
        -------
        routing : MetadataRequest
            A request asking for ``groups`` when scoring, and for
            ``sample_weight`` when the metric takes it (it is passed only
            when given).
        """
        request = MetadataRequest(owner=repr(self))
        request.score.add_request(param="groups", alias=True)
        if self._accept_sample_weight():
            request.score.add_request(param="sample_weight", alias=True)
        return request

    def _accept_sample_weight(self):
        # scikit-learn asks every scorer this when routing is off and
        # sample_weight is passed to fit
        return names_param(self._metric, "sample_weight")

    def __call__(self, estimator, X, y_true, groups=None, sample_weight=None):
        """Evaluate ``estimator`` on ``X`` with the ranking metric.

        Parameters
        ----------
        estimator : object
            A fitted estimator with ``predict`` (any regressor or ranker). When
            ``groups`` is a named parameter of its ``predict``, it is called as
            ``predict(X, groups=groups)``.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to score.
        y_true : array-like of shape (n_samples,)
            Graded relevance labels.
        groups : array-like of shape (n_samples,)
            The query id of each row, routed by scikit-learn.
        sample_weight : array-like of shape (n_samples,), default=None
            Query weights (one per row, constant within a query): the
            metric's weighted mean over queries.

        Returns
        -------
        score : float
            The metric averaged over the queries of ``X``. When no query of
            ``X`` has a relevant document (and the metric's ``no_relevant`` is
            ``"skip"``), 0.0 with an ``UndefinedMetricWarning``: the same
            value for every estimator, so such a fold of a search cannot
            change which candidate wins.
        """
        if groups is None:
            raise ValueError(
                f"{self!r} needs the query id of each scored row, but no groups "
                "were passed. Call sklearn.set_config(enable_metadata_routing=True) "
                "and pass groups= (e.g. GridSearchCV(...).fit(X, y, groups=qid) or "
                "cross_validate(..., params={'groups': qid}))."
            )
        y_score = estimator.predict(X, **predict_params(estimator, groups))
        with _scorer_context():
            try:
                kwargs = dict(self._kwargs)
                if sample_weight is not None:
                    if not self._accept_sample_weight():
                        raise ValueError(
                            f"{self!r} got sample_weight, but its metric takes no "
                            "sample_weight parameter."
                        )
                    kwargs["sample_weight"] = sample_weight
                return self._metric(y_true, y_score, groups, **kwargs)
            except _NoQueryDefined as exc:
                warnings.warn(
                    f"{self!r}: no query of the scored rows has a relevant "
                    f"document, so {exc.caller} is undefined on them; the "
                    f"scorer returns {UNDEFINED_SCORE} for every estimator, so "
                    "that this fold cannot change which candidate of a search "
                    "wins. Pass no_relevant=0.0 or 1.0 to the metric to choose "
                    "the value.",
                    UndefinedMetricWarning,
                    stacklevel=2,
                )
                return UNDEFINED_SCORE

    def __repr__(self):
        if self._name is not None:
            return self._name
        name = getattr(self._metric, "__name__", repr(self._metric))
        kwargs = "".join(f", {key}={value!r}" for key, value in self._kwargs.items())
        return f"make_ranking_scorer({name}{kwargs})"


def make_ranking_scorer(metric, **kwargs):
    """Make a scorer for ``GridSearchCV`` and ``cross_validate`` from a ranking metric.

    The scorer calls only ``estimator.predict`` (so a plain regressor is scored
    the same way as a ranker) and receives the query ids of the scored rows
    through scikit-learn's metadata routing: ``groups`` is requested at class
    level, no ``set_score_request`` call is needed. Routing must be on:
    ``sklearn.set_config(enable_metadata_routing=True)``, then pass ``groups=``
    to ``fit`` (``GridSearchCV``) or ``params={"groups": qid}``
    (``cross_validate``). Without groups the scorer raises a ``ValueError``
    saying so. The conventions (gain, ties, queries without a relevant
    document) are those of the metric, except on a scored set in which no
    query has a relevant document: with ``no_relevant="skip"`` (the default)
    the metric is undefined there, and the scorer returns 0.0 with an
    ``UndefinedMetricWarning`` (never NaN), the same for every estimator, so
    that one such fold of a ``GridSearchCV`` cannot decide ``best_params_``.

    Parameters
    ----------
    metric : str or callable
        A metric name (``"ndcg"``, ``"ndcg@K"``, ``"map"``, ``"map@K"``,
        ``"mrr"``, ``"mrr@K"``, ``"err"``, ``"err@K"``, ``"precision@K"``,
        ``"recall@K"``) or a callable ``metric(y_true, y_score, groups,
        **kwargs)`` returning a float, higher is better (e.g.
        :func:`ndcg_score`).
    **kwargs : dict
        Keyword arguments of the metric, e.g. ``k=5, gain="linear"``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y_true, groups=groups)`` returning a float.

    Examples
    --------
    >>> from skrank.metrics import make_ranking_scorer, ndcg_score
    >>> make_ranking_scorer("ndcg@5", gain="linear")
    make_ranking_scorer(ndcg_score, k=5, gain='linear')
    >>> make_ranking_scorer(ndcg_score, k=5)
    make_ranking_scorer(ndcg_score, k=5)
    """
    if isinstance(metric, str):
        kind, k = _parse_metric_name(metric)
        if k is not None:
            if "k" in kwargs:
                raise ValueError(
                    f"k is given twice: in the metric name {metric!r} and as "
                    f"k={kwargs['k']!r}. Give it once."
                )
            kwargs = {"k": k, **kwargs}
        metric = _BY_NAME[kind]
    elif not callable(metric):
        raise ValueError(
            "metric must be a ranking metric name such as 'ndcg@10' or a callable "
            f"metric(y_true, y_score, groups, **kwargs). Got {metric!r} instead."
        )
    try:
        params = inspect.signature(metric).parameters
    except (TypeError, ValueError):  # pragma: no cover
        params = {}
    has_var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    unknown = sorted(set(kwargs) - set(params)) if params and not has_var_kw else []
    if unknown:
        raise ValueError(
            f"{getattr(metric, '__name__', metric)} got unexpected keyword "
            f"argument(s) {unknown}; valid ones are "
            f"{[p for p in params if p not in ('y_true', 'y_score', 'groups')]}."
        )
    if metric in _BY_NAME.values():
        # the metric's own messages, now rather than at every scoring call
        # (inside a search, scikit-learn would turn them into NaN scores)
        _check_metric_kwargs(metric.__name__, kwargs)
    return _RankingScorer(metric, kwargs)


ndcg_scorer = _RankingScorer(ndcg_score, {"k": 10}, name="ndcg_scorer")
ndcg_scorer.__doc__ = """Scorer for NDCG@10 with exponential gain (see ndcg_score)."""
map_scorer = _RankingScorer(map_score, {}, name="map_scorer")
