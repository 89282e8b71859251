"""The query index: the one place that turns ``groups`` into query boundaries.

Every other module (metrics, batching, splitting, the comparison tool) asks a
:class:`QueryIndex` for sort order, offsets and sizes; nobody re-derives them.
"""

import numpy as np

__all__ = ["QueryIndex", "check_groups"]


def check_groups(groups, n_samples=None, *, input_name="groups"):
    """Validate query ids and return them as a 1-D numpy array.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        One query id per row: ints, floats without NaN, or strings. Rows of a
        query need not be contiguous or sorted.
    n_samples : int, default=None
        The number of rows the ids must match (the rows of ``X`` or ``y``).
    input_name : str, default="groups"
        The name used in error messages.

    Returns
    -------
    groups : ndarray of shape (n_samples,)
        The validated ids (a new array only when a conversion was needed).

    Raises
    ------
    ValueError
        If ``groups`` is None, not 1-D, empty, has NaN ids, or its length
        differs from ``n_samples``.

    Examples
    --------
    >>> from skrank.utils import check_groups
    >>> check_groups(["q1", "q1", "q2"])
    array(['q1', 'q1', 'q2'], dtype='<U2')
    """
    if groups is None:
        raise ValueError(
            f"{input_name} is required: pass one query id per row "
            f"(e.g. {input_name}=qid). Got None."
        )
    arr = np.asarray(groups)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(
            f"{input_name} must be 1-dimensional (one query id per row). "
            f"Got an array of shape {arr.shape} instead."
        )
    if arr.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={arr.shape}) while a minimum "
            f"of 1 is required by {input_name}."
        )
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(
            f"{input_name} has {arr.shape[0]} entries but X has {n_samples} rows."
        )
    if arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise ValueError(
                f"{input_name} contains NaN; every row needs a query id. "
                f"Got {int(np.isnan(arr).sum())} NaN id(s)."
            )
    elif arr.dtype.kind == "O":
        if any(g is None or (isinstance(g, float) and g != g) for g in arr):
            raise ValueError(
                f"{input_name} contains None or NaN; every row needs a query id."
            )
    elif arr.dtype.kind not in "iuUSb":
        raise ValueError(
            f"{input_name} must hold ints or strings. Got dtype {arr.dtype} instead."
        )
    return arr


def _stable_argsort_codes(codes, n_codes):
    """Stable argsort of small non-negative ints (numpy radix-sorts 16-bit ints)."""
    if n_codes <= np.iinfo(np.uint16).max:
        return np.argsort(codes.astype(np.uint16), kind="stable")
    # Two stable radix passes: low 16 bits, then high bits (LSD radix sort).
    low = np.argsort((codes & 0xFFFF).astype(np.uint16), kind="stable")
    high = np.argsort((codes[low] >> 16).astype(np.uint16), kind="stable")
    return low[high]


class QueryIndex:
    """Rows grouped by query: sort order, offsets and sizes, and back.

    Queries are numbered in the sorted order of their ids (the order of
    ``numpy.unique``). Within a query, rows keep their input order.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        One query id per row (see :func:`check_groups`).
    n_samples : int, default=None
        If given, the number of rows ``groups`` must have.

    Attributes
    ----------
    query_ids : ndarray of shape (n_queries,)
        The distinct query ids, sorted.
    codes : ndarray of shape (n_samples,)
        The query number (index into ``query_ids``) of each row, in row order.
    order : ndarray of shape (n_samples,)
        Row indices sorted by query: ``X[order]`` lists query 0's rows first.
    offsets : ndarray of shape (n_queries + 1,)
        Query ``q`` occupies ``order[offsets[q]:offsets[q + 1]]``.
    sizes : ndarray of shape (n_queries,)
        The number of rows of each query.

    Examples
    --------
    >>> from skrank.utils import QueryIndex
    >>> index = QueryIndex(["b", "a", "b", "a", "a"])
    >>> index.query_ids
    array(['a', 'b'], dtype='<U1')
    >>> index.sizes
    array([3, 2])
    >>> index.sort([10, 11, 12, 13, 14])
    array([11, 13, 14, 10, 12])
    """

    def __init__(self, groups, n_samples=None):
        groups = check_groups(groups, n_samples)
        n = groups.shape[0]
        self.n_samples = n
        # Fast path: rows of each query are contiguous (LETOR files, most
        # data sets). Then only the ids at run starts need sorting.
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        try:
            run_ids, run_code = np.unique(groups[starts], return_inverse=True)
        except TypeError as exc:
            raise ValueError(
                f"groups must hold ids of one comparable type (ints or strings). "
                f"Got mixed ids: {exc}"
            ) from None
        if run_ids.shape[0] == starts.shape[0]:
            run_sizes = np.diff(np.r_[starts, n])
            self.query_ids = run_ids
            self.codes = np.repeat(run_code, run_sizes)
            perm = np.argsort(run_code)
            self.sizes = run_sizes[perm]
            self.offsets = np.r_[0, np.cumsum(self.sizes)]
            if np.array_equal(perm, np.arange(perm.shape[0])):
                self.order = np.arange(n)
            else:
                shift = starts[perm] - self.offsets[:-1]
                self.order = np.repeat(shift, self.sizes) + np.arange(n)
        else:
            self.query_ids, self.codes = np.unique(groups, return_inverse=True)
            self.codes = self.codes.ravel()
            self.order = _stable_argsort_codes(self.codes, self.query_ids.shape[0])
            self.sizes = np.bincount(self.codes, minlength=self.query_ids.shape[0])
            self.offsets = np.r_[0, np.cumsum(self.sizes)]

    @property
    def n_queries(self):
        """The number of distinct queries."""
        return self.query_ids.shape[0]

    @property
    def sorted_codes(self):
        """The query number of each row in sorted order (``codes[order]``)."""
        return np.repeat(np.arange(self.n_queries), self.sizes)

    @property
    def positions(self):
        """Each sorted row's position inside its query (0 for its first row)."""
        return np.arange(self.n_samples) - np.repeat(self.offsets[:-1], self.sizes)

    def sort(self, values):
        """Reorder per-row ``values`` so that the rows of each query are contiguous.

        Parameters
        ----------
        values : array-like of shape (n_samples, ...)
            One entry per row, in input row order.

        Returns
        -------
        sorted_values : ndarray of shape (n_samples, ...)
            ``values[order]``: query 0's rows first.
        """
        return np.asarray(values)[self.order]

    def unsort(self, values):
        """Inverse of :meth:`sort`: put sorted rows back in input row order.

        Parameters
        ----------
        values : array-like of shape (n_samples, ...)
            One entry per row, in query-sorted order.

        Returns
        -------
        unsorted_values : ndarray of shape (n_samples, ...)
            The entries in input row order.
        """
        values = np.asarray(values)
        out = np.empty_like(values)
        out[self.order] = values
        return out

    def reduce(self, values, ufunc=np.add):
        """Reduce sorted per-row ``values`` to one value per query.

        Parameters
        ----------
        values : array-like of shape (n_samples, ...)
            One entry per row, in query-sorted order (see :meth:`sort`).
        ufunc : numpy ufunc, default=numpy.add
            The reduction (``np.add``, ``np.maximum``, ...).

        Returns
        -------
        reduced : ndarray of shape (n_queries, ...)
            ``ufunc.reduceat`` over each query's rows.
        """
        return ufunc.reduceat(np.asarray(values), self.offsets[:-1], axis=0)

    def rows_of(self, query_codes):
        """Row indices (input order) of the given queries.

        Parameters
        ----------
        query_codes : array-like of int
            Query numbers (indices into :attr:`query_ids`).

        Returns
        -------
        rows : ndarray of int
            The rows of those queries, in increasing row order.
        """
        return np.flatnonzero(np.isin(self.codes, query_codes))

    def __repr__(self):
        return f"QueryIndex(n_samples={self.n_samples}, n_queries={self.n_queries})"
