"""Group-aware and robust feature transformers."""

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils import QueryIndex
from ..utils._validation import StrOptions, validate_data

__all__ = ["QueryNormalizer", "SymmetricLog1p"]


class QueryNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    r"""Normalise each feature within each query (LETOR's QueryLevelNorm).

    For the rows :math:`x_{q1}, \dots, x_{qn}` of query :math:`q` and each
    feature :math:`j`:

    - ``method="minmax"``: :math:`(x_{qij} - \min_i x_{qij}) /
      (\max_i x_{qij} - \min_i x_{qij})`, in :math:`[0, 1]`;
    - ``method="standard"``: :math:`(x_{qij} - \bar x_{qj}) / s_{qj}` with the
      query's mean and (population) standard deviation.

    A feature constant within a query (a spread within ten rounding errors
    of its values) becomes 0 in that query; the result does not depend on
    the feature's scale. Rankings within a query only depend on differences
    between its documents, so this removes query-level offsets and scales
    that a ranker would otherwise have to learn to ignore; it also removes
    any information the feature's level carries across queries.

    The statistics are those of the query being transformed: nothing is
    learned in ``fit`` beyond the number of features, so ``transform`` needs
    the ``groups`` of the rows it transforms. ``fit`` and ``transform``
    request ``groups`` at class level: with
    ``sklearn.set_config(enable_metadata_routing=True)``, a ``groups=qid``
    given to ``Pipeline.fit``, ``GridSearchCV.fit`` or ``cross_validate``
    reaches them without ``set_*_request`` calls.

    Parameters
    ----------
    method : {"minmax", "standard"}, default="minmax"
        Per-query min-max scaling to :math:`[0, 1]`, or standardisation.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names of a DataFrame given to ``fit``.

    See Also
    --------
    SymmetricLog1p : A global (not per-query) transform for heavy tails.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.preprocessing import QueryNormalizer
    >>> X = np.array([[1.0, 5.0], [3.0, 5.0], [10.0, 0.0], [20.0, 4.0]])
    >>> groups = [0, 0, 1, 1]
    >>> QueryNormalizer().fit_transform(X, groups=groups)
    array([[0., 0.],
           [1., 0.],
           [0., 0.],
           [1., 1.]])
    """

    __metadata_request__fit: ClassVar[dict] = {"groups": True}
    __metadata_request__transform: ClassVar[dict] = {"groups": True}

    _parameter_constraints: ClassVar[dict] = {
        "method": [StrOptions({"minmax", "standard"})],
    }

    def __init__(self, method="minmax"):
        self.method = method

    def fit(self, X, y=None, groups=None):
        """Check ``X`` and ``groups`` and record the number of features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of each document.
        y : None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row. Required.

        Returns
        -------
        self : QueryNormalizer
            The fitted transformer.
        """
        self._validate_params()
        X = validate_data(self, X, reset=True, dtype=[np.float64, np.float32])
        _query_index(groups, X.shape[0], "fit")
        return self

    def transform(self, X, groups=None):
        """Normalise each feature within each query.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of each document.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row. Required.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            The normalised features (a new array).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        index = _query_index(groups, X.shape[0], "transform")
        if X.shape[0] == 0:
            return X.copy()
        # Each query's column divided by a power of 2 near its largest
        # magnitude: exact, so the results are those of the formulas on X, but
        # neither max - min nor the squares overflow (or underflow) on finite
        # features near the dtype's limits.
        Xs = index.sort(X)
        _, exponent = np.frexp(index.reduce(np.abs(Xs), np.maximum))  # < 2**exp
        power = np.ldexp(np.ones(1, dtype=X.dtype), exponent - 1)
        Xs = Xs / np.repeat(power, index.sizes, axis=0)
        if self.method == "minmax":
            low = index.reduce(Xs, np.minimum)
            span = index.reduce(Xs, np.maximum) - low
            center = low
        else:
            sizes = index.sizes[:, None].astype(X.dtype)
            center = index.reduce(Xs) / sizes
            dev = Xs - np.repeat(center, index.sizes, axis=0)
            span = np.sqrt(index.reduce(dev * dev) / sizes)
        # constant: no spread beyond the rounding of the values; relative only
        # (as StandardScaler's test), so a feature of tiny values is kept
        constant = span <= 10 * np.finfo(X.dtype).eps * np.abs(center)
        scale = np.where(constant, np.inf, span)
        out = (Xs - np.repeat(center, index.sizes, axis=0)) / np.repeat(
            scale, index.sizes, axis=0
        )
        return index.unsort(out)

    def fit_transform(self, X, y=None, groups=None):
        """Fit, then normalise ``X`` within each query.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of each document.
        y : None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Query id of each row. Required.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            The normalised features.
        """
        return self.fit(X, y, groups=groups).transform(X, groups=groups)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


def _query_index(groups, n_samples, method):
    if groups is None:
        raise ValueError(
            f"QueryNormalizer.{method} needs groups=qid, one query id per row. "
            "Inside a Pipeline or GridSearchCV, call "
            "sklearn.set_config(enable_metadata_routing=True) and pass groups=qid "
            "to their fit (and to predict or score)."
        )
    return QueryIndex(groups, n_samples)


class SymmetricLog1p(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    r"""Symmetric log transform, optionally followed by standardisation.

    .. math::
        \phi(x_j) = \operatorname{sign}(x_j) \log(1 + |x_j| / u_j)

    is monotone, odd, linear near 0 and logarithmic for large
    :math:`|x_j|`, so heavy-tailed counts, lengths or scores (web ranking
    features span many orders of magnitude) become comparable to features
    already in :math:`[0, 1]`, while the order of values within each feature,
    all that a tree model uses, is kept. Qin et al. [1]_ found this
    transform essential for neural rankers to match gradient-boosted trees.
    With ``standardize=True`` each transformed feature is then centred and
    scaled to unit variance with statistics learned in ``fit``.

    The unit :math:`u_j` decides where the log bends. With :math:`u_j = 1`
    (``unit=None``) it depends on the unit a feature is given in: a feature
    in :math:`[0, 0.05]` is left almost linear, the same feature in
    thousandths is logged. ``unit="median"`` measures each feature in its
    own typical magnitude, the median of its non-zero :math:`|x_j|` in
    ``fit``, so that the transform, like a tree, does not depend on the
    features' units: :math:`\phi(c x_j) = \phi(x_j)` for any
    :math:`c > 0`.

    Parameters
    ----------
    standardize : bool, default=True
        Standardise the transformed features (mean and standard deviation
        from ``fit``, dense or sparse alike; features with zero variance are
        only centred). Sparse input to ``transform`` is scaled, not centred,
        so that it stays sparse: subtract ``mean_ / scale_`` once it is
        dense.
    unit : {"median"} or None, default=None
        The unit :math:`u_j` of each feature: None for 1, ``"median"`` for
        the median of the feature's non-zero absolute values in ``fit`` (1
        for a feature that is always 0). ``NeuralRanker``'s
        ``input_transform="scaled_log1p"`` uses ``"median"``.

    Attributes
    ----------
    unit_ : ndarray of shape (n_features,) or None
        The unit of each feature (None with ``unit=None``).
    mean_ : ndarray of shape (n_features,) or None
        Mean of each transformed feature (None without standardisation).
    scale_ : ndarray of shape (n_features,) or None
        Standard deviation of each transformed feature (1 where it is 0).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names of a DataFrame given to ``fit``.

    See Also
    --------
    QueryNormalizer : Per-query normalisation.
    sklearn.preprocessing.QuantileTransformer : A rank-based alternative that
        is also insensitive to scale, but flattens the tails completely.

    References
    ----------
    .. [1] Z. Qin, L. Yan, H. Zhuang, Y. Tay, R. K. Pasumarthi, X. Wang,
       M. Bendersky and M. Najork, "Are Neural Rankers still Outperformed by
       Gradient Boosted Decision Trees?", ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.preprocessing import SymmetricLog1p
    >>> X = np.array([[-3.0], [0.0], [1e6]])
    >>> SymmetricLog1p(standardize=False).fit_transform(X).round(3)
    array([[-1.386],
           [ 0.   ],
           [13.816]])
    >>> scaled = SymmetricLog1p(unit="median").fit(X)
    >>> scaled.unit_  # the median of 3 and 1e6
    array([500001.5])
    >>> bool(np.allclose(scaled.transform(X), scaled.fit_transform(1e-3 * X)))
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "standardize": ["boolean"],
        "unit": [StrOptions({"median"}), None],
    }

    def __init__(self, standardize=True, unit=None):
        self.standardize = standardize
        self.unit = unit

    def fit(self, X, y=None):
        """Learn the mean and scale of the transformed features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Features.
        y : None
            Ignored.

        Returns
        -------
        self : SymmetricLog1p
            The fitted transformer.
        """
        self._validate_params()
        X = validate_data(
            self, X, reset=True, accept_sparse="csr", dtype=[np.float64, np.float32]
        )
        self.mean_ = self.scale_ = None
        self.unit_ = None if self.unit is None else _median_magnitudes(X)
        if not self.standardize:
            return self
        if sp.issparse(X):
            mean, var = _sparse_mean_var(X, self.unit_)
        else:
            mean, var = _chunked_mean_var(X, self.unit_)
        self.mean_ = mean
        scale = np.sqrt(var)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, X):
        """Apply ``sign(x) * log1p(|x| / unit_)`` and the standardisation.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Features.

        Returns
        -------
        X_new : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The transformed features (a new array; sparse stays sparse).
        """
        check_is_fitted(self, "scale_")
        X = validate_data(
            self, X, reset=False, accept_sparse="csr", dtype=[np.float64, np.float32]
        )
        # with units: computed in float64 (as fit), returned in X's dtype
        Z = _symlog(X if self.unit_ is None else _in_units(X, self.unit_))
        if self.scale_ is None:
            return Z.astype(X.dtype, copy=False)
        if sp.issparse(Z):
            return Z.multiply(1.0 / self.scale_).tocsr().astype(X.dtype)
        if self.mean_ is not None:
            Z -= self.mean_.astype(Z.dtype)
        Z /= self.scale_.astype(Z.dtype)
        return Z.astype(X.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _symlog(X):
    """``sign(X) * log1p(|X|)`` as one new array (sparse stays sparse)."""
    if sp.issparse(X):
        X = X.copy()
        X.data = _symlog(X.data)
        return X
    Z = np.abs(X)  # the only allocation: log1p and the sign work in place
    np.log1p(Z, out=Z)
    return np.copysign(Z, X, out=Z)


def _median_magnitudes(X):
    """Each column's median non-zero ``|x|`` in float64 (1 for an all-zero one)."""
    columns = sp.csc_array(X) if sp.issparse(X) else None
    units = np.ones(X.shape[1])
    for j in range(X.shape[1]):
        if columns is not None:
            values = columns.data[columns.indptr[j] : columns.indptr[j + 1]]
        else:
            values = X[:, j]
        magnitudes = np.abs(values.astype(np.float64))
        magnitudes = magnitudes[magnitudes > 0]
        if magnitudes.size:
            units[j] = np.quantile(magnitudes, 0.5)
    return units


def _in_units(X, unit):
    """``X / unit`` column by column, in float64 (sparse stays sparse)."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64, copy=True)
        X.data /= unit[X.indices]
        return X
    return X.astype(np.float64) / unit


#: Rows of symlog features held at once when fitting on dense input.
_FIT_CHUNK_BYTES = 32 * 2**20


def _sparse_mean_var(X, unit=None):
    """Column mean and variance of ``_symlog(X / unit)`` for CSR ``X``, in float64.

    The variance sums squared deviations from the mean, as the dense path
    does (the stored values' and, for the implicit zeros, ``mean**2`` per
    zero), so a sparse and a dense copy of the same data get the same
    statistics to rounding.
    """
    n, width = X.shape
    Z = _symlog(
        sp.csr_matrix(X, dtype=np.float64) if unit is None else _in_units(X, unit)
    )
    columns = Z.indices
    mean = np.bincount(columns, weights=Z.data, minlength=width) / n
    squares = np.bincount(
        columns, weights=(Z.data - mean[columns]) ** 2, minlength=width
    )
    zeros = n - np.bincount(columns, minlength=width)
    return mean, (squares + zeros * mean**2) / n


def _chunked_mean_var(X, unit=None):
    """Column mean and variance of ``_symlog(X / unit)``, two passes over blocks.

    Never holds the transformed matrix: memory stays at one block of about
    ``_FIT_CHUNK_BYTES`` whatever the number of rows.
    """
    n = X.shape[0]
    step = max(1, _FIT_CHUNK_BYTES // (8 * max(1, X.shape[1])))
    blocks = [slice(i, i + step) for i in range(0, n, step)]

    def block(b):
        rows = X[b].astype(np.float64)
        return _symlog(rows if unit is None else rows / unit)

    mean = sum(block(b).sum(axis=0) for b in blocks) / n
    return mean, sum(((block(b) - mean) ** 2).sum(axis=0) for b in blocks) / n
