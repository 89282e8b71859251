"""Make rankers that want group sizes (LightGBM, XGBoost) take query ids."""

import inspect
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..utils import QueryIndex

__all__ = ["GroupSizeRanker"]


class GroupSizeRanker(MetaEstimatorMixin, BaseEstimator):
    """Adapt a ranker that takes group sizes so that it takes query ids.

    LightGBM's ``LGBMRanker`` and XGBoost's ``XGBRanker`` want the rows of
    each query contiguous and the list of query sizes (``group=[3, 5, ...]``).
    This wrapper takes skrank's ``groups`` (one query id per row, any order),
    sorts the rows by query with :class:`~skrank.utils.QueryIndex`, and passes
    the sizes. Predictions are row-wise and come back in the input row order.

    Parameters
    ----------
    estimator : estimator object
        The ranker to wrap, e.g. ``lightgbm.LGBMRanker()``.
    group_param : str, default="group"
        The name of the estimator's ``fit`` parameter that takes the group
        sizes (``"group"`` for LightGBM and XGBoost).

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

    def fit(self, X, y, groups=None, **fit_params):
        """Fit the wrapped ranker on rows sorted by query.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Feature rows.
        y : array-like of shape (n_samples,)
            Graded relevance labels.
        groups : array-like of shape (n_samples,)
            One query id per row; rows of a query need not be contiguous.
        **fit_params : dict
            Passed on to the wrapped estimator's ``fit``.

        Returns
        -------
        self : object
            The fitted wrapper.
        """
        n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
        index = QueryIndex(groups, n_samples)
        Xs = X.iloc[index.order] if hasattr(X, "iloc") else X[index.order]
        ys = np.asarray(y)[index.order]
        self.estimator_ = clone(self.estimator)
        params = {self.group_param: index.sizes, **fit_params}
        self.estimator_.fit(Xs, ys, **params)
        self.n_features_in_ = Xs.shape[1]
        return self

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


def _explicit_params(method):
    """The explicitly named parameters of ``method`` (``**kwargs`` excluded)."""
    try:
        sig = inspect.signature(method)
    except (TypeError, ValueError):
        return set()
    return {
        name
        for name, p in sig.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
