"""The query index: the one place that turns ``groups`` into query boundaries.

Every other module (metrics, batching, splitting, the comparison tool) asks a
:class:`QueryIndex` for sort order, offsets and sizes; nobody re-derives them.
"""

from functools import cached_property

import numpy as np

__all__ = ["QueryIndex", "check_groups"]


def check_groups(groups, n_samples=None, *, input_name="groups", other_name="X"):
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
    other_name : str, default="X"
        The name of the array that gives ``n_samples``, used in the length
        error ("groups has 3 entries but y_true has 4."). ``"X"`` counts rows.

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
        unit = "rows" if other_name == "X" else "entries"
        raise ValueError(
            f"{input_name} has {arr.shape[0]} entries but {other_name} has "
            f"{n_samples} {unit}."
        )
    if arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise ValueError(
                f"{input_name} contains NaN; every row needs a query id. "
                f"Got {int(np.isnan(arr).sum())} NaN id(s)."
            )
    elif arr.dtype.kind == "O":
        if any(_is_missing(g) for g in arr):
            raise ValueError(
                f"{input_name} contains None or NaN (or pandas' NA); every row "
                "needs a query id."
            )
    elif arr.dtype.kind not in "iuUSb":
        raise ValueError(
            f"{input_name} must hold ints or strings. Got dtype {arr.dtype} instead."
        )
    return arr


def _is_missing(value):
    """None, a NaN of any float type, or pandas' NA / NaT (without pandas)."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return type(value).__name__ in ("NAType", "NaTType")


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
    other_name : str, default="X"
        The array that gives ``n_samples``, named in the length error.

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

    def __init__(self, groups, n_samples=None, *, other_name="X"):
        groups = check_groups(groups, n_samples, other_name=other_name)
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

    @cached_property
    def sorted_codes(self):
        """The query number of each row in sorted order (``codes[order]``)."""
        return np.repeat(np.arange(self.n_queries), self.sizes)

    @cached_property
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

    def argsort_within(self, values, *, descending=False, stable=False):
        """Row order by query, then by ``values`` inside each query.

        The one within-query sort of skrank: metrics rank documents by score
        with it.

        Parameters
        ----------
        values : array-like of shape (n_samples,)
            One real number per row, in input row order; NaN is refused.
        descending : bool, default=False
            Sort each query by decreasing ``values``.
        stable : bool, default=False
            Keep rows with equal values in input order (a stable sort, about
            three times slower); otherwise their order is unspecified.

        Returns
        -------
        order : ndarray of shape (n_samples,)
            Input row indices: ``values[order]`` lists query 0's rows first,
            each query sorted. Position ``i`` of ``order`` belongs to the query
            ``sorted_codes[i]`` at ``positions[i]``, as for :attr:`order`.

        Notes
        -----
        A segmented sort: queries are bucketed by length (widths in steps of
        a quarter octave, so padding wastes under a fifth of a row), each
        bucket is padded into a ``[n_queries_in_bucket, width]`` matrix and
        sorted along its rows. Many short rows sort several times faster than
        one global sort. The Python loop runs over the buckets (four per
        doubling of the longest list), never over queries.

        Examples
        --------
        >>> from skrank.utils import QueryIndex
        >>> index = QueryIndex(["b", "a", "b", "a"])
        >>> index.argsort_within([5.0, 1.0, 7.0, 3.0], descending=True)
        array([3, 1, 2, 0])
        """
        key = np.asarray(values, dtype=np.float64)
        if key.shape != (self.n_samples,):
            raise ValueError(
                f"values must have shape ({self.n_samples},), one per row. "
                f"Got shape {key.shape} instead."
            )
        if np.isnan(key).any():
            raise ValueError("values contains NaN; they cannot be sorted.")
        key = -key[self.order] if descending else key[self.order]
        if np.isinf(key).any():
            # dense ranks: same order, all finite, so +inf padding sorts last
            key = np.unique(key, return_inverse=True)[1].astype(np.float64)
        n = key.shape[0]
        sizes = self.sizes
        starts = self.offsets[:-1]
        out = np.empty(n, dtype=np.intp)
        width = np.ceil(2.0 ** (np.ceil(4.0 * np.log2(sizes)) / 4.0)).astype(np.int64)
        np.maximum(width, sizes, out=width)
        for w in np.unique(width):
            in_bucket = np.flatnonzero(width == w)
            first = starts[in_bucket]
            if w == 1:
                out[first] = first
                continue
            cols = np.arange(w)
            rows = first[:, None] + cols
            valid = cols < sizes[in_bucket][:, None]
            np.minimum(rows, n - 1, out=rows)
            # finite keys sort before the +inf padding
            padded = np.where(valid, key[rows], np.inf)
            ranked = np.argsort(padded, axis=1, kind="stable" if stable else None)
            ranked += first[:, None]
            out[rows[valid]] = ranked[valid]
        return self.order[out]

    def rows(self, queries):
        """Sorted-order positions of the rows of ``queries``, list after list.

        Parameters
        ----------
        queries : array-like of int
            Query numbers (indices into :attr:`query_ids`), in any order.

        Returns
        -------
        rows : ndarray of shape (sizes[queries].sum(),)
            Positions into the query-sorted rows (into :meth:`sort`'s output;
            ``order[rows]`` are the input row indices): the rows of
            ``queries[0]`` first, then those of ``queries[1]``, and so on,
            each query's rows in sorted order. ``sizes[queries]`` cuts it into
            lists.

        Examples
        --------
        >>> from skrank.utils import QueryIndex
        >>> index = QueryIndex([7, 7, 8, 9, 9, 9])
        >>> index.rows([2, 0])
        array([3, 4, 5, 0, 1])
        """
        queries = np.asarray(queries).reshape(-1)
        if queries.size and queries.dtype.kind not in "iu":
            raise ValueError(
                "queries must hold query numbers (ints indexing query_ids). "
                f"Got dtype {queries.dtype} instead."
            )
        queries = queries.astype(np.intp, copy=False)
        sizes = self.sizes[queries]
        first = np.cumsum(sizes) - sizes
        return np.repeat(self.offsets[queries] - first, sizes) + np.arange(
            int(sizes.sum())
        )

    def query_values(self, values, name="values"):
        """One value per query from per-row ``values`` constant within each query.

        Parameters
        ----------
        values : array-like of shape (n_samples,)
            One value per row, in input row order (e.g. query weights given
            per row, as scikit-learn's ``sample_weight``).
        name : str, default="values"
            The name used in error messages.

        Returns
        -------
        per_query : ndarray of shape (n_queries,)
            The value of each query (in the order of :attr:`query_ids`).

        Raises
        ------
        ValueError
            If ``values`` does not have one entry per row, or varies inside a
            query.
        """
        values = np.asarray(values)
        if values.shape != (self.n_samples,):
            raise ValueError(
                f"{name} must have one entry per row: {self.n_samples} rows. "
                f"Got shape {values.shape} instead."
            )
        ordered = self.sort(values)
        low = self.reduce(ordered, np.minimum)
        high = self.reduce(ordered, np.maximum)
        varying = np.flatnonzero(low != high)
        if varying.size:
            q = varying[0]
            raise ValueError(
                f"{name} must be constant within each query; query "
                f"{self.query_ids[q].item()!r} has values from {low[q]:g} to "
                f"{high[q]:g} ({varying.size} such queries)."
            )
        return high

    def __repr__(self):
        return f"QueryIndex(n_samples={self.n_samples}, n_queries={self.n_queries})"


def check_query_weights(sample_weight, index, *, other_name="X"):
    """Per-query weights from per-row ``sample_weight``, one check for all of skrank.

    Ranking metrics and losses compare the documents of a query, so a weight
    is a query weight: finite, >= 0 and the same for every row of a query.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,)
        One weight per row.
    index : QueryIndex
        The query index of the rows.
    other_name : str, default="X"
        The array whose rows the weights must match, for error messages.

    Returns
    -------
    weights : ndarray of shape (n_queries,)
        The weight of each query, in the order of ``index.query_ids``.
    """
    from ._validation import check_array, column_or_1d

    w = column_or_1d(
        check_array(
            sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
        ),
        input_name="sample_weight",
    )
    if w.shape[0] != index.n_samples:
        raise ValueError(
            f"sample_weight has {w.shape[0]} entries but {other_name} has "
            f"{index.n_samples} rows."
        )
    if (w < 0).any():
        raise ValueError(
            f"sample_weight must be >= 0. Got a minimum of {w.min():g} instead."
        )
    return index.query_values(
        w,
        "sample_weight (a query weight: metrics and losses compare the documents "
        "of a query)",
    )
