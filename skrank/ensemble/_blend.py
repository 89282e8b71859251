"""BlendedRanker: a weighted mean of several rankers' standardised scores."""

from collections import defaultdict
from typing import ClassVar

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..model_selection._run import ranking_scores
from ..utils import QueryIndex
from ..utils._routing import fit_params

__all__ = ["BlendedRanker"]


class BlendedRanker(MetaEstimatorMixin, BaseEstimator):
    r"""Rank by a weighted mean of several rankers' standardised scores.

    Each estimator is fitted on the same data (with ``groups`` and
    ``sample_weight`` where its ``fit`` takes them). Scores of different
    models live on different scales, so each model's scores are
    standardised before they are averaged, with the location and the
    *within-query* spread of its scores on the training rows:

    .. math::
        f(x) = \frac{\sum_m w_m \, (s_m(x) - \mu_m) / \sigma_m}{\sum_m w_m},
        \qquad
        \sigma_m^2 = \frac{1}{n} \sum_q \sum_{i \in q}
        \big(s_m(x_{qi}) - \bar s_{m,q}\big)^2,

    where :math:`\bar s_{m,q}` is the mean score of query :math:`q`. Only
    differences within a query decide a ranking, so the spread is measured
    within queries: a pointwise model whose scores mostly move between
    queries is not down-weighted by that movement.

    Blending models that err differently (a neural ranker and a linear one,
    or a neural ranker and a gradient-boosted one) often ranks better than
    either (see the recipe in the user guide).

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        The rankers, by name. Any estimator with ``fit`` and ``predict`` (or
        a classifier's ``predict_proba``, scored by its expected label);
        nested parameters are set as ``<name>__<parameter>``.
    weights : array-like of shape (n_estimators,), default=None
        Non-negative weight of each estimator (not all zero); ``None``
        weighs them equally.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted clones, in the order of ``estimators``.
    named_estimators_ : dict
        The fitted clones by name.
    weights_ : ndarray of shape (n_estimators,)
        The weights, normalised to sum to 1.
    loc_ : ndarray of shape (n_estimators,)
        Mean training score :math:`\mu_m` of each estimator.
    scale_ : ndarray of shape (n_estimators,)
        Within-query standard deviation :math:`\sigma_m` of each estimator's
        training scores (1 where it is 0: a constant model).

    See Also
    --------
    sklearn.ensemble.VotingRegressor : Averages raw predictions.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from skrank.datasets import make_ranking
    >>> from skrank.ensemble import BlendedRanker
    >>> X, y, groups = make_ranking(20, 4, random_state=0)
    >>> blend = BlendedRanker(
    ...     [("ridge", Ridge()), ("strong_ridge", Ridge(alpha=100.0))],
    ...     weights=[1.0, 0.5],
    ... )
    >>> blend.fit(X, y, groups).predict(X[:3]).shape
    (3,)
    """

    __metadata_request__fit: ClassVar[dict] = {"groups": True, "sample_weight": True}
    __metadata_request__predict: ClassVar[dict] = {"groups": True}
    __metadata_request__score: ClassVar[dict] = {"groups": True, "sample_weight": True}

    def __init__(self, estimators, *, weights=None):
        self.estimators = estimators
        self.weights = weights

    # ------------------------------------------------------------------
    # Parameters: nested as <name>__<parameter>
    # ------------------------------------------------------------------
    def get_params(self, deep=True):
        """Parameters, with each estimator's as ``<name>__<parameter>``.

        Parameters
        ----------
        deep : bool, default=True
            Include the estimators and their own parameters.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = {"estimators": self.estimators, "weights": self.weights}
        if not deep:
            return params
        for name, estimator in self._named():
            params[name] = estimator
            if hasattr(estimator, "get_params"):
                for key, value in estimator.get_params(deep=True).items():
                    params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params):
        """Set parameters, an estimator's as ``<name>__<parameter>``.

        Parameters
        ----------
        **params : dict
            ``estimators``, ``weights``, ``<name>`` (replaces that estimator)
            or ``<name>__<parameter>``.

        Returns
        -------
        self : BlendedRanker
            This estimator.
        """
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        if "weights" in params:
            self.weights = params.pop("weights")
        names = [name for name, _ in self._named()]
        nested = defaultdict(dict)
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in names:
                valid = sorted(self.get_params(deep=True))
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {self!r}. "
                    f"Valid parameters are: {valid!r}."
                )
            if sub:
                nested[name][sub] = value
            else:  # replace the estimator itself
                self.estimators = [
                    (n, value if n == name else e) for n, e in self._named()
                ]
        current = dict(self._named())
        for name, sub_params in nested.items():
            current[name].set_params(**sub_params)
        return self

    def _named(self):
        """The well-formed ``(name, estimator)`` items (validated in fit)."""
        if not isinstance(self.estimators, list):
            return []
        return [
            item
            for item in self.estimators
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
        ]

    # ------------------------------------------------------------------
    # Fit, predict, score
    # ------------------------------------------------------------------
    def _validate(self):
        estimators = self.estimators
        if not isinstance(estimators, list) or not estimators:
            raise ValueError(
                "The 'estimators' parameter of BlendedRanker must be a non-empty "
                f"list of (name, estimator) tuples. Got {estimators!r} instead."
            )
        for item in estimators:
            if (
                not isinstance(item, tuple)
                or len(item) != 2
                or not isinstance(item[0], str)
            ):
                raise ValueError(
                    "The 'estimators' parameter of BlendedRanker must be a list "
                    f"of (name, estimator) tuples. Got the item {item!r}."
                )
            name, estimator = item
            if "__" in name or not name:
                raise ValueError(
                    "Estimator names must be non-empty and must not contain "
                    f"'__'. Got {name!r}."
                )
            if not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
                raise TypeError(
                    f"Estimator {name!r} must have fit and predict. Got {estimator!r}."
                )
        names = [name for name, _ in estimators]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Estimator names must be unique. Got {duplicates}.")
        if self.weights is None:
            return np.ones(len(estimators))
        weights = np.asarray(self.weights, dtype=np.float64)
        if weights.shape != (len(estimators),):
            raise ValueError(
                f"The 'weights' parameter of BlendedRanker must have one weight "
                f"per estimator ({len(estimators)}). Got {self.weights!r}."
            )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(
                "The 'weights' parameter of BlendedRanker must hold finite "
                f"non-negative numbers. Got {self.weights!r}."
            )
        if weights.sum() <= 0:
            raise ValueError(
                "The 'weights' parameter of BlendedRanker must not be all zero. "
                f"Got {self.weights!r}."
            )
        return weights

    def fit(self, X, y, groups=None, sample_weight=None):
        """Fit a clone of every estimator and the standardisation of its scores.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Features of each document.
        y : array-like of shape (n_samples,)
            Graded relevance labels.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row: passed to every estimator whose ``fit``
            names ``groups``, and used for the within-query spread. Without
            it: a ``ValueError`` when metadata routing is off, else all rows
            are one query.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every estimator whose ``fit`` names it.

        Returns
        -------
        self : BlendedRanker
            The fitted blend.
        """
        weights = self._validate()
        groups = self._check_groups(groups, "fit", X)
        self.estimators_ = []
        loc, scale = [], []
        index = QueryIndex(groups, _n_rows(X))
        for _, estimator in self.estimators:
            fitted = clone(estimator)
            fitted.fit(X, y, **fit_params(fitted, groups, sample_weight=sample_weight))
            scores = ranking_scores(fitted, X, groups)
            query_mean = index.reduce(index.sort(scores)) / index.sizes
            spread = np.sqrt(np.mean((scores - query_mean[index.codes]) ** 2))
            loc.append(scores.mean())
            # no spread beyond rounding: a model that does not rank at all
            tiny = 1e3 * np.finfo(np.float64).eps * max(1.0, np.abs(scores).max())
            scale.append(spread if spread > tiny else 1.0)
            self.estimators_.append(fitted)
        self.named_estimators_ = {
            name: fitted
            for (name, _), fitted in zip(self.estimators, self.estimators_, strict=True)
        }
        self.loc_ = np.asarray(loc)
        self.scale_ = np.asarray(scale)
        self.weights_ = weights / weights.sum()
        return self

    def predict(self, X, groups=None):
        """The weighted mean of the estimators' standardised scores.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Features of each document.
        groups : array-like of shape (n_samples,), default=None
            Query ids, passed to estimators whose ``predict`` names
            ``groups`` (context-aware rankers).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            One score per row, in row order (higher ranks first).
        """
        check_is_fitted(self)
        total = np.zeros(_n_rows(X))
        for m, fitted in enumerate(self.estimators_):
            if self.weights_[m] == 0:
                continue
            scores = ranking_scores(fitted, X, groups)
            total += self.weights_[m] * (scores - self.loc_[m]) / self.scale_[m]
        return total

    def score(self, X, y, groups=None, sample_weight=None):
        """Mean NDCG@10 over queries (gain ``2**y - 1``, tie-aware).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Features of each document.
        y : array-like of shape (n_samples,)
            Graded relevance labels.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row (see :meth:`fit` when it is missing).
        sample_weight : array-like of shape (n_samples,), default=None
            Query weights: the weighted mean NDCG over queries.

        Returns
        -------
        score : float
            The mean NDCG@10 (queries without a relevant document left out).
        """
        from ..metrics import ndcg_score

        groups = self._check_groups(groups, "score", X)
        return float(
            ndcg_score(
                y, self.predict(X, groups), groups, k=10, sample_weight=sample_weight
            )
        )

    def _check_groups(self, groups, method, X):
        if groups is not None:
            return np.asarray(groups)
        if not sklearn.get_config()["enable_metadata_routing"]:
            raise ValueError(
                f"BlendedRanker.{method} was called without groups: pass "
                "groups=qid, one query id per row. Inside GridSearchCV, "
                "cross_validate or Pipeline, call "
                "sklearn.set_config(enable_metadata_routing=True) and pass "
                "groups=qid to their fit."
            )
        return np.zeros(_n_rows(X), dtype=np.intp)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)
