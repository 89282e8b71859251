"""Load ranking data from a table: a DataFrame, a mapping of columns, CSV or Parquet."""

import os
from pathlib import Path

import numpy as np

from ..utils import check_groups
from ..utils._validation import check_relevance, validate_params

__all__ = ["load_ranking_table"]

_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".tsv", ".tsv.gz")
_PARQUET = (".parquet", ".pq")


def _pandas(what):
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            f"{what} needs pandas (and pyarrow for Parquet): "
            "pip install pandas pyarrow (the skrank[table] extra)."
        ) from None
    return pd


def _read(source):
    """A DataFrame (or a mapping of columns) from ``source``."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = path.name.lower()
        if not path.is_file():
            raise FileNotFoundError(f"No such table file: '{os.fspath(source)}'.")
        pd = _pandas(f"Reading '{path.name}'")
        if name.endswith(_PARQUET):
            try:
                return pd.read_parquet(path)
            except ImportError as exc:
                raise ImportError(
                    f"Reading '{path.name}' needs pyarrow: pip install pyarrow. ({exc})"
                ) from None
        if name.endswith(_CSV):
            sep = "\t" if ".tsv" in name else ","
            return pd.read_csv(path, sep=sep)
        raise ValueError(
            f"Cannot tell the format of '{path.name}': expected a name ending in "
            f"{', '.join(_CSV + _PARQUET)}. For SVMlight/LETOR files use "
            "load_svmlight_ranking."
        )
    if hasattr(source, "columns") or isinstance(source, dict):
        return source
    raise TypeError(
        "data must be a DataFrame, a dict of columns, or the path of a CSV or "
        f"Parquet file. Got {type(source).__name__} instead."
    )


def _columns(table):
    return (
        [str(c) for c in table.columns]
        if hasattr(table, "columns")
        else [str(c) for c in table]
    )


def _column(table, name):
    values = table[name]
    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


@validate_params(
    {
        "data": [object],
        "label": [str],
        "qid": [str],
        "drop": [list, tuple, None],
        "as_frame": ["boolean"],
        "dtype": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def load_ranking_table(
    data, *, label="label", qid="qid", drop=None, as_frame=False, dtype=np.float64
):
    """Load ranking data from a table with a label and a query-id column.

    Every column other than ``label``, ``qid`` and those in ``drop`` is a
    feature and must be numeric; rows of a query need not be contiguous.

    Parameters
    ----------
    data : DataFrame, dict of array-like, str or path-like
        A pandas DataFrame (or any table with ``columns``), a dict mapping
        column names to equal-length columns, or the path of a CSV/TSV file
        (optionally compressed, e.g. ``.csv.gz``) or a Parquet file
        (``.parquet``, ``.pq``; needs pyarrow). Files need pandas
        (the ``table`` extra: pandas and pyarrow). Never modified.
    label : str, default="label"
        The column of graded relevance labels (finite, >= 0).
    qid : str, default="qid"
        The column of query ids (ints or strings).
    drop : list of str, default=None
        Columns that are neither label, query id nor feature (e.g. document
        ids, URLs).
    as_frame : bool, default=False
        Return ``X`` as a pandas DataFrame with the feature names, instead of
        an ndarray.
    dtype : numpy dtype, default=numpy.float64
        The dtype of ``X`` (``numpy.float32`` halves the memory).

    Returns
    -------
    X : ndarray or DataFrame of shape (n_samples, n_features)
        The feature columns, in table order.
    y : ndarray of shape (n_samples,)
        The labels, float64.
    groups : ndarray of shape (n_samples,)
        The query ids.

    Examples
    --------
    >>> from skrank.datasets import load_ranking_table
    >>> table = {"qid": [1, 1, 2], "label": [2, 0, 1],
    ...          "bm25": [3.1, 0.2, 1.5], "url": ["a", "b", "c"]}
    >>> X, y, groups = load_ranking_table(table, drop=["url"])
    >>> X
    array([[3.1],
           [0.2],
           [1.5]])
    >>> y, groups
    (array([2., 0., 1.]), array([1, 1, 2]))
    """
    table = _read(data)
    columns = _columns(table)
    for role, name in (("label", label), ("qid", qid)):
        if name not in columns:
            raise ValueError(
                f"The {role} column {name!r} is not in the table. Its columns are "
                f"{columns}; pass {role}=<column name>."
            )
    drop = [str(c) for c in (drop or [])]
    missing = [c for c in drop if c not in columns]
    if missing:
        raise ValueError(
            f"drop names columns that are not in the table: {missing}. Its "
            f"columns are {columns}."
        )
    if label == qid:
        raise ValueError(f"label and qid name the same column {label!r}.")
    features = [c for c in columns if c not in {label, qid, *drop}]
    if not features:
        raise ValueError(
            f"The table has no feature column: its columns are {columns}, with "
            f"label={label!r}, qid={qid!r} and drop={drop}."
        )
    raw_columns = {
        str(c): c for c in (table.columns if hasattr(table, "columns") else table)
    }
    n_rows = None
    blocks = []
    not_numeric = []
    for name in features:
        values = _column(table, raw_columns[name])
        if n_rows is None:
            n_rows = values.shape[0]
        elif values.shape[0] != n_rows:
            raise ValueError(
                f"Column {name!r} has {values.shape[0]} rows but the first "
                f"feature column has {n_rows}."
            )
        if values.dtype.kind not in "biuf":
            not_numeric.append(f"{name} ({values.dtype})")
            continue
        blocks.append(values)
    if not_numeric:
        raise ValueError(
            f"Feature columns must be numeric. Got {', '.join(not_numeric)}: "
            "convert them, or list them in drop=."
        )
    X = np.column_stack(blocks).astype(dtype, copy=False)
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"Feature column {features[col]!r} has a non-finite value "
            f"({X[row, col]}) in row {row} ({int(bad.sum())} such value(s) in "
            "all). Impute or drop them first."
        )
    y = check_relevance(_column(table, raw_columns[label]), input_name=label)
    groups = check_groups(_column(table, raw_columns[qid]), input_name=qid)
    if y.shape[0] != n_rows or groups.shape[0] != n_rows:
        raise ValueError(
            f"The label, qid and feature columns have different lengths: "
            f"{y.shape[0]}, {groups.shape[0]} and {n_rows}."
        )
    if as_frame:
        pd = _pandas("as_frame=True")
        X = pd.DataFrame(X, columns=features)
    return X, y, groups
