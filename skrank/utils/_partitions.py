"""Score data larger than memory: predict over Dask partitions of whole queries."""

import numpy as np

from ._routing import predict_params

__all__ = ["predict_partitions"]


def _check_whole_queries(partition_ids):
    """Raise if a query id appears in more than one partition."""
    seen = {}
    for part, ids in enumerate(partition_ids):
        for qid in np.unique(ids):
            first = seen.setdefault(qid.item() if hasattr(qid, "item") else qid, part)
            if first != part:
                raise ValueError(
                    f"Query {qid!r} spans partitions {first} and {part}: every "
                    "query must sit in one partition (e.g. "
                    "ddf.shuffle(on=qid) or set_index(qid) for a DataFrame, "
                    "rechunk at query boundaries for an array)."
                )


def predict_partitions(estimator, data, *, groups=None, features=None):
    """Lazily predict one score per row of a Dask collection, partition by partition.

    Each partition is scored in memory by ``estimator.predict`` on the Dask
    workers; the result is a lazy Dask collection aligned with the rows of
    ``data``, equal to ``estimator.predict`` on the whole data in memory. A
    context-aware ranker scores each document against the other documents of
    its query, so every query must sit in one partition; this is checked
    (one pass over the query ids only) before any scoring.

    Parameters
    ----------
    estimator : object
        A fitted estimator with ``predict``, e.g. a
        :class:`~skrank.NeuralRanker` or a scikit-learn regressor. It is
        shipped to the workers, so it must pickle.
    data : dask.array.Array or dask.dataframe.DataFrame
        The rows: a 2-D Dask array of features, or a Dask DataFrame holding
        the feature columns (and the query-id column).
    groups : dask.array.Array or str, default=None
        The query ids: a 1-D Dask array chunked like the rows of ``data``, or
        the name of the query-id column of a DataFrame. Passed to ``predict``
        when it takes ``groups``; required for context-aware rankers.
    features : list of str, default=None
        For a DataFrame: the feature columns (default: every column but
        ``groups``).

    Returns
    -------
    scores : dask.array.Array or dask.dataframe.Series
        One float per row, lazy: call ``.compute()`` or write it out.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skrank.utils import predict_partitions
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> ridge = Ridge().fit(X, X[:, 0])
    >>> scores = predict_partitions(ridge, da.from_array(X, chunks=(3, 2)))
    >>> np.allclose(scores.compute(), ridge.predict(X))
    True
    """
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover
        raise ImportError(
            "predict_partitions needs dask: pip install 'dask[distributed]'."
        ) from None
    pass_groups = bool(predict_params(estimator, groups))
    if isinstance(data, da.Array):
        return _predict_array(estimator, data, groups, pass_groups)
    if hasattr(data, "map_partitions") and hasattr(data, "columns"):
        return _predict_frame(estimator, data, groups, features, pass_groups)
    raise TypeError(
        "data must be a dask.array.Array or a dask.dataframe.DataFrame. "
        f"Got {type(data).__name__} instead."
    )


def _predict_array(estimator, X, groups, pass_groups):
    import dask
    import dask.array as da

    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D Dask array of features. Got {X.ndim}-D.")
    if X.chunks[1] != (X.shape[1],):
        X = X.rechunk({1: -1})
    if groups is None:
        return X.map_blocks(
            lambda block: estimator.predict(block), drop_axis=1, dtype=np.float64
        )
    if not isinstance(groups, da.Array) or groups.ndim != 1:
        raise TypeError(
            "groups must be a 1-D Dask array chunked like the rows of X. "
            f"Got {type(groups).__name__} instead."
        )
    if groups.chunks[0] != X.chunks[0]:
        raise ValueError(
            f"groups is chunked {groups.chunks[0]} but the rows of X are chunked "
            f"{X.chunks[0]}: rechunk them alike (at query boundaries)."
        )
    _check_whole_queries(dask.compute(*groups.to_delayed().ravel()))

    def block_scores(block, ids):
        if pass_groups:
            return estimator.predict(block, groups=ids)
        return estimator.predict(block)

    return da.map_blocks(
        block_scores, X, groups[:, None], drop_axis=1, dtype=np.float64
    )


def _predict_frame(estimator, ddf, groups, features, pass_groups):
    import dask

    columns = list(ddf.columns)
    if groups is not None and groups not in columns:
        raise ValueError(
            f"groups={groups!r} is not a column of the DataFrame. Its columns are "
            f"{columns}."
        )
    if features is None:
        features = [c for c in columns if c != groups]
    missing = [c for c in features if c not in columns]
    if missing:
        raise ValueError(f"features names columns not in the DataFrame: {missing}.")
    if groups is not None:
        _check_whole_queries(
            dask.compute(*[p[groups].to_numpy() for p in ddf.to_delayed()])
        )

    def part_scores(part):
        import pandas as pd

        X = part[features]
        if pass_groups:
            scores = estimator.predict(X, groups=part[groups].to_numpy())
        else:
            scores = estimator.predict(X)
        return pd.Series(np.asarray(scores, dtype=np.float64), index=part.index)

    return ddf.map_partitions(part_scores, meta=(None, "f8"))
