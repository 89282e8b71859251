"""Query-aware cross-validation splits: checked so that no query is cut in two."""

import numbers
import warnings

import numpy as np
from sklearn.model_selection import GroupKFold

from ..utils import QueryIndex

__all__ = ["QuerySplitError", "check_query_splits"]


class QuerySplitError(ValueError):
    """A cross-validation that cannot keep every query whole on one side.

    Raised by :func:`check_query_splits` (and so by
    :func:`compare_rankers`) when a split puts rows of one query on two sides,
    leaves a side empty, indexes rows that do not exist, or asks for more
    splits than there are queries. It is a :class:`ValueError`, so code that
    catches ``ValueError`` keeps working; catch this class to tell a bad
    split from other bad input.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import KFold
    >>> from skrank.model_selection import QuerySplitError, check_query_splits
    >>> X = np.zeros((6, 1)); y = np.zeros(6); qid = [1, 1, 1, 2, 2, 3]
    >>> try:
    ...     check_query_splits(KFold(3), X, y, qid)
    ... except QuerySplitError as exc:
    ...     print(type(exc).__name__, isinstance(exc, ValueError))
    QuerySplitError True
    """


def check_query_splits(cv, X, y, groups):
    """Materialise a cross-validation and check that it keeps queries whole.

    Every split must put all rows of a query on one side: a query split
    between training and test rows leaks its other documents into training
    and makes the per-query test metrics meaningless. A plain
    :class:`~sklearn.model_selection.KFold` usually does that; a
    :class:`~sklearn.model_selection.GroupKFold` given ``groups`` never does.

    Parameters
    ----------
    cv : int, cross-validation generator or iterable, default=None
        - None: ``GroupKFold(5)``;
        - int: ``GroupKFold(cv)``;
        - an object with a ``split(X, y, groups)`` method (any scikit-learn
          splitter); it receives the query ids as ``groups``;
        - an iterable of splits, each ``(train, test)`` or
          ``(train, validation, test)`` row indices (or boolean masks).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Feature rows (only their number is used here).
    y : array-like of shape (n_samples,)
        Relevance labels.
    groups : array-like of shape (n_samples,)
        One query id per row.

    Returns
    -------
    splits : list of tuple of ndarray
        One ``(train, validation, test)`` triple of row indices per split;
        ``validation`` is an empty array when the split had none.

    Raises
    ------
    QuerySplitError
        If a split puts rows of one query on two sides, if a side is empty,
        if an index is out of range, or if there are more splits than queries.
    ValueError
        If ``cv`` is not one of the accepted kinds.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import KFold
    >>> from skrank.model_selection import check_query_splits
    >>> X = np.zeros((6, 1)); y = np.zeros(6); qid = [1, 1, 2, 2, 3, 3]
    >>> [test.tolist() for _, _, test in check_query_splits(3, X, y, qid)]
    [[4, 5], [2, 3], [0, 1]]
    >>> check_query_splits(KFold(3), X, y, [1, 1, 1, 2, 2, 3])
    Traceback (most recent call last):
    ...
    skrank.model_selection._split.QuerySplitError: The cross-validation splits
    queries across train and test: ...
    """
    n_samples = _num_samples(X)
    index = QueryIndex(groups, n_samples)
    groups = np.asarray(groups)
    if cv is None:
        cv = GroupKFold(n_splits=5)
    elif isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(
                "The 'cv' parameter must be an int in the range [2, inf), a "
                f"splitter, an iterable of splits or None. Got {cv} instead."
            )
        cv = GroupKFold(n_splits=int(cv))
    if isinstance(cv, str | bytes | numbers.Number):
        raise ValueError(
            "The 'cv' parameter must be an int in the range [2, inf), a splitter, "
            f"an iterable of splits or None. Got {cv!r} instead."
        )
    if hasattr(cv, "split"):
        n_splits = cv.get_n_splits(X, y, groups) if hasattr(cv, "get_n_splits") else 0
        if n_splits and n_splits > index.n_queries:
            raise QuerySplitError(
                f"Cannot make {n_splits} splits of {index.n_queries} queries: "
                "every test fold needs at least one query."
            )
        with warnings.catch_warnings():
            # KFold & co. warn that they ignore groups; the check below says more.
            warnings.filterwarnings("ignore", message="The groups parameter is ignored")
            raw = list(cv.split(X, y, groups))
    elif not hasattr(cv, "__iter__"):
        raise ValueError(
            "The 'cv' parameter must be an int in the range [2, inf), a splitter, "
            f"an iterable of splits or None. Got {cv!r} instead."
        )
    else:
        raw = list(cv)
    if not raw:
        raise QuerySplitError("The cross-validation produced no split.")
    splits = []
    for i, split in enumerate(raw):
        if len(split) == 2:
            train, test = split
            val = np.array([], dtype=np.intp)
        elif len(split) == 3:
            train, val, test = split
        else:
            raise QuerySplitError(
                f"Split {i} has {len(split)} parts; expected (train, test) or "
                "(train, validation, test) indices."
            )
        train, val, test = (_as_indices(a, n_samples, i) for a in (train, val, test))
        for side, rows in (("train", train), ("test", test)):
            if rows.shape[0] == 0:
                raise QuerySplitError(f"Split {i} has no {side} rows.")
        _check_disjoint_queries(index, train, test, i, "train", "test")
        if val.shape[0]:
            _check_disjoint_queries(index, train, val, i, "train", "validation")
            _check_disjoint_queries(index, val, test, i, "validation", "test")
        splits.append((train, val, test))
    return splits


def _num_samples(X):
    if hasattr(X, "shape") and len(X.shape) >= 1:
        return int(X.shape[0])
    return len(X)


def _as_indices(rows, n_samples, i):
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.shape[0] != n_samples:
            raise QuerySplitError(
                f"Split {i} has a boolean mask of {rows.shape[0]} entries but X "
                f"has {n_samples} rows."
            )
        return np.flatnonzero(rows)
    rows = rows.astype(np.intp, copy=False).ravel()
    if rows.size and (rows.min() < -n_samples or rows.max() >= n_samples):
        raise QuerySplitError(
            f"Split {i} has row indices out of range for X with {n_samples} rows."
        )
    return rows


def _check_disjoint_queries(index, a, b, i, name_a, name_b):
    shared = np.intersect1d(index.codes[a], index.codes[b])
    if shared.size:
        examples = ", ".join(repr(q) for q in index.query_ids[shared[:3]].tolist())
        raise QuerySplitError(
            f"The cross-validation splits queries across {name_a} and {name_b}: "
            f"split {i} puts rows of {shared.size} queries (e.g. {examples}) on "
            "both sides. Use a group-aware splitter such as "
            "sklearn.model_selection.GroupKFold, which receives the query ids "
            "as groups."
        )
