"""Make rankers that want group sizes (LightGBM, XGBoost, CatBoost) take query ids."""

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..utils import QueryIndex
from ..utils._routing import names_param

__all__ = ["GroupSizeRanker"]

# fit parameter taking the query structure -> its form and the matching
# parameter for the validation set
_GROUP_PARAMS = {
    "group": ("sizes", "eval_group"),  # LightGBM, XGBoost
    "qid": ("ids", "eval_qid"),  # XGBoost
    "group_id": ("ids", None),  # CatBoost
}


class GroupSizeRanker(MetaEstimatorMixin, BaseEstimator):
    """Adapt a ranker that takes group sizes so that it takes query ids.

    LightGBM's ``LGBMRanker``, XGBoost's ``XGBRanker`` and CatBoost's
    ``CatBoostRanker`` want the rows of each query contiguous and the query
    structure as group sizes (``group=[3, 5, ...]``) or as one sorted query id
    per row (``qid=``, ``group_id=``). This wrapper takes skrank's ``groups``
    (one query id per row, any order), sorts the rows by query with
    :class:`~skrank.utils.QueryIndex`, and passes what the estimator wants.
    Predictions are row-wise and come back in the input row order.

    Parameters
    ----------
    estimator : estimator object
        The ranker to wrap, e.g. ``lightgbm.LGBMRanker()``.
    group_param : {"group", "qid", "group_id"}, default="group"
        The name of the estimator's ``fit`` parameter that takes the query
        structure: ``"group"`` (LightGBM, XGBoost) gets the group sizes,
        ``"qid"`` (XGBoost) and ``"group_id"`` (CatBoost) get one query
        number per sorted row.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    n_features_in_ : int
        The number of features seen in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skrank.model_selection import GroupSizeRanker
    >>> class SizePrinter(BaseEstimator):
    ...     def fit(self, X, y, group):
    ...         print(group.tolist()); return self
    ...     def predict(self, X):
    ...         return X[:, 0]
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> ranker = GroupSizeRanker(SizePrinter()).fit(X, [0, 1, 2], groups=[7, 5, 7])
    [1, 2]
    >>> ranker.predict(X)
    array([0., 1., 2.])
    """

    __metadata_request__fit: ClassVar[dict] = {"groups": True}

    def __init__(self, estimator, *, group_param="group"):
        self.estimator = estimator
        self.group_param = group_param

    def fit(self, X, y, groups=None, *, eval_set=None, **fit_params):
        """Fit the wrapped ranker on rows sorted by query.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Feature rows.
        y : array-like of shape (n_samples,)
            Graded relevance labels.
        groups : array-like of shape (n_samples,)
            One query id per row; rows of a query need not be contiguous.
        eval_set : tuple (X_val, y_val, groups_val), default=None
            Validation queries, passed on sorted by query as the estimator's
            ``eval_set`` (``eval_X`` and ``eval_y`` when its ``fit`` names
            them, as LightGBM's does) with their structure in ``eval_group`` (for
            ``group_param="group"``) or ``eval_qid`` (``"qid"``), so that its
            early stopping (e.g. ``LGBMRanker(early_stopping_round=10)``,
            ``XGBRanker(early_stopping_rounds=10)``) can use them.
        **fit_params : dict
            Passed on to the wrapped estimator's ``fit``. A value with one
            entry per row (``sample_weight``, ``init_score``, ...) is
            reordered with the rows; any other value is passed unchanged.

        Returns
        -------
        self : object
            The fitted wrapper.
        """
        if self.group_param not in _GROUP_PARAMS:
            raise ValueError(
                "The 'group_param' parameter of GroupSizeRanker must be a str "
                f"among {sorted(_GROUP_PARAMS)}. Got {self.group_param!r} instead."
            )
        if groups is None:
            raise ValueError(
                "GroupSizeRanker needs groups, one query id per row: call "
                "fit(X, y, groups=qid)."
            )
        n_samples = _num_rows(X)
        index = QueryIndex(groups, n_samples)
        params = {
            key: _reorder(value, index.order, n_samples)
            for key, value in fit_params.items()
        }
        params[self.group_param] = self._structure(index)
        if eval_set is not None:
            params.update(self._eval_params(eval_set))
        self.estimator_ = clone(self.estimator)
        Xs = _take(X, index.order)
        self.estimator_.fit(Xs, np.asarray(y)[index.order], **params)
        self.n_features_in_ = Xs.shape[1]
        return self

    def _structure(self, index):
        form, _ = _GROUP_PARAMS[self.group_param]
        if form == "sizes":
            return index.sizes
        return index.codes[index.order]

    def _eval_params(self, eval_set):
        _, eval_param = _GROUP_PARAMS[self.group_param]
        if eval_param is None:
            raise ValueError(
                f"GroupSizeRanker cannot pass an eval_set with group_param="
                f"{self.group_param!r}; use 'group' or 'qid', or fit without "
                "eval_set."
            )
        if not isinstance(eval_set, tuple | list) or len(eval_set) != 3:
            raise ValueError(
                "eval_set must be a tuple (X_val, y_val, groups_val). "
                f"Got {type(eval_set).__name__} instead."
            )
        X_val, y_val, groups_val = eval_set
        index = QueryIndex(groups_val, _num_rows(X_val))
        Xs, ys = _take(X_val, index.order), np.asarray(y_val)[index.order]
        params = {eval_param: [self._structure(index)]}
        if names_param(self.estimator.fit, "eval_X"):  # LightGBM >= 4.6
            return {"eval_X": (Xs,), "eval_y": (ys,), **params}
        return {"eval_set": [(Xs, ys)], **params}

    def predict(self, X):
        """Return one ranking score per row, in the given row order.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Feature rows.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The wrapped ranker's scores.
        """
        check_is_fitted(self)
        return np.asarray(self.estimator_.predict(X), dtype=np.float64).ravel()


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _take(X, rows):
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return X[rows] if hasattr(X, "shape") else np.asarray(X)[rows]


def _reorder(value, order, n_samples):
    """``value`` in the sorted row order when it has one entry per row."""
    if isinstance(value, str | bytes | dict) or not hasattr(value, "__len__"):
        return value
    if len(value) != n_samples:
        return value
    if hasattr(value, "iloc"):
        return value.iloc[order]
    return np.asarray(value)[order]
