"""Load LETOR folders (with their splits) and files, with memory guards."""

import os
import re
from numbers import Integral
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from ..utils._validation import Interval, StrOptions, validate_params
from ._svmlight import _find_part, load_letor_fold, load_svmlight_ranking
from ._table import load_ranking_table

__all__ = ["load_letor_folds", "load_ranking_data"]

_FOLD_NAME = re.compile(r"Fold(\d+)")


@validate_params(
    {
        "path": [str, os.PathLike],
        "dtype": "no_validation",  # delegated to numpy
        "dense": ["boolean"],
        "zero_based": ["boolean", StrOptions({"auto"})],
    },
    prefer_skip_nested_validation=True,
)
def load_letor_folds(path, *, dtype=np.float64, dense=False, zero_based="auto"):
    """Load a LETOR folder: all its queries and the splits its folds define.

    LETOR 4.0 (MQ2007, MQ2008), MSLR-WEB10K/30K and Istella ship five folds
    ``Fold1`` ... ``Fold5``; each holds the same queries, split differently
    into ``train.txt``, ``vali.txt`` and ``test.txt`` (LETOR 3.0's OHSUMED:
    ``trainingset.txt``, ``validationset.txt``, ``testset.txt``, also read; see
    :func:`load_letor_fold`). This loads the rows once
    (from the first fold) and returns, for each fold, the row indices of its
    training, validation and test queries: ready for
    :func:`~skrank.model_selection.compare_rankers` or any scikit-learn
    ``cv=`` that takes an iterable of splits. A single fold folder (with
    ``train.txt``, optionally ``vali.txt``, and ``test.txt``) gives one split.
    Files may be compressed (``.gz``, ``.bz2``, ``.xz``, ``.lzma``); parsing
    is done by :func:`load_letor_fold`.

    Parameters
    ----------
    path : str or path-like
        A folder of fold folders ``Fold1`` ... ``FoldN``, or one fold folder.
    dtype : data-type, default=np.float64
        The data type of ``X`` (``np.float32`` halves the memory).
    dense : bool, default=False
        If True, ``X`` is a dense ndarray; otherwise a CSR sparse matrix.
    zero_based : bool or "auto", default="auto"
        Whether the feature indices start at 0 (True) or at 1 (False, as in
        LETOR files). "auto" guesses from the files of the first fold.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X`` (n_samples, n_features), ``y`` (graded labels), ``groups`` (the
        query id of each row), ``splits`` (a list with one ``(train,
        validation, test)`` triple of row indices per fold; validation is
        empty for a fold without ``vali.txt``) and ``folds`` (the fold folder
        of each split).

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a folder, or holds neither fold folders nor
        ``train.txt`` and ``test.txt``.
    ValueError
        If a fold's file cannot be parsed, or a fold tests queries that the
        first fold does not hold.

    See Also
    --------
    load_letor_fold : Load the files of one fold folder separately.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skrank.datasets import load_letor_folds
    >>> root = Path(tempfile.mkdtemp())
    >>> lines = {q: f"1 qid:{q} 1:0.5\\n0 qid:{q} 1:0.1\\n" for q in (1, 2, 3)}
    >>> for k, (train, vali, test) in enumerate([(1, 2, 3), (2, 3, 1)], 1):
    ...     (root / f"Fold{k}").mkdir()
    ...     for part, q in (("train", train), ("vali", vali), ("test", test)):
    ...         _ = (root / f"Fold{k}" / f"{part}.txt").write_text(lines[q])
    >>> data = load_letor_folds(root, dense=True)
    >>> data.X.shape, data.groups.tolist()
    ((6, 1), [1, 1, 2, 2, 3, 3])
    >>> [test.tolist() for _, _, test in data.splits]
    [[4, 5], [0, 1]]
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"No such LETOR folder: '{os.fspath(path)}'.")
    folds = sorted(
        (d for d in root.iterdir() if d.is_dir() and _FOLD_NAME.fullmatch(d.name)),
        key=lambda d: int(_FOLD_NAME.fullmatch(d.name).group(1)),
    )
    if not folds:
        if _find_part(root, "train") is None or _find_part(root, "test") is None:
            raise FileNotFoundError(
                f"'{os.fspath(path)}' holds neither fold folders Fold1..FoldN nor "
                "train.txt and test.txt (or LETOR 3.0's trainingset.txt and "
                "testset.txt); pass a LETOR folder or fold folder."
            )
        folds = [root]
    kw = {"dtype": dtype, "zero_based": zero_based}
    parts = _parts(folds[0])
    first = load_letor_fold(folds[0], parts=parts, dense=dense, **kw)
    stack = np.vstack if dense else sp.vstack
    X = stack([first[p][0] for p in parts])
    if not dense:
        X = sp.csr_matrix(X)
    y = np.concatenate([first[p][1] for p in parts])
    groups = np.concatenate([first[p][2] for p in parts])
    splits = [_split_of(folds[0], first, parts, groups)]
    for fold in folds[1:]:
        fold_parts = _parts(fold)[1:]  # train is what vali and test leave
        loaded = load_letor_fold(fold, parts=fold_parts, dense=False, **kw)
        splits.append(_split_of(fold, loaded, ["train", *fold_parts], groups))
    return Bunch(
        X=X,
        y=y,
        groups=groups,
        splits=splits,
        folds=[os.fspath(f) for f in folds],
    )


def _parts(fold):
    """The parts a fold folder holds: train, vali when present, test."""
    if _find_part(fold, "train") is None or _find_part(fold, "test") is None:
        raise FileNotFoundError(
            f"The fold folder '{os.fspath(fold)}' needs train.txt and test.txt "
            "(or LETOR 3.0's trainingset.txt and testset.txt)."
        )
    return ["train", "vali", "test"] if _find_part(fold, "vali") else ["train", "test"]


def _split_of(fold, loaded, parts, groups):
    """Row indices (train, vali, test) of ``groups`` by the fold's query ids."""
    in_part = {p: np.isin(groups, loaded[p][2]) for p in parts if p != "train"}
    test = in_part["test"]
    vali = in_part.get("vali", np.zeros_like(test)) & ~test
    if not test.any():
        raise ValueError(
            f"The test queries of '{os.fspath(fold)}' are not among the queries "
            "of the first fold; the folds of a LETOR folder must hold the same "
            "queries."
        )
    train = ~(test | vali)
    return np.flatnonzero(train), np.flatnonzero(vali), np.flatnonzero(test)


@validate_params(
    {
        "path": [str, os.PathLike],
        "dtype": "no_validation",  # delegated to numpy
        "dense": ["boolean", StrOptions({"auto"})],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "max_dense_bytes": [Interval(Integral, 1, None, closed="left"), None],
        "label": [str],
        "qid": [str],
        "drop": [list, tuple, None],
    },
    prefer_skip_nested_validation=True,
)
def load_ranking_data(
    path,
    *,
    dtype=np.float32,
    dense="auto",
    max_features=100_000,
    max_dense_bytes=4 * 2**30,
    label="label",
    qid="qid",
    drop=None,
):
    """Load a ranking file or a LETOR folder, with memory guards.

    The one call behind ``skrank compare --data PATH``. A folder is loaded
    with :func:`load_letor_folds` (its folds' splits); a file (no splits:
    cross-validate over its queries) by its name:

    - ``.csv``, ``.tsv`` (optionally compressed), ``.parquet``, ``.pq``: a
      table with :func:`load_ranking_table` (columns ``label``, ``qid``,
      ``drop``);
    - a file ``F`` next to a ``F.query`` file: LightGBM's form, SVMlight
      lines without ``qid:`` and one query size per line in ``F.query``
      (queries are numbered 0, 1, ... in file order);
    - anything else: SVMlight/LETOR with ``qid:``
      (:func:`load_svmlight_ranking`).

    The data are read sparse, so a stray feature index costs no memory, and
    refused when wider than ``max_features``; they are then made dense when
    asked, or under ``dense="auto"`` when a dense array is no larger than the
    sparse one (at least half the entries set).

    Parameters
    ----------
    path : str or path-like
        An SVMlight/LETOR file (``qid:`` required), a LETOR fold folder or a
        folder of fold folders ``Fold1`` ... ``FoldN``.
    dtype : data-type, default=np.float32
        The data type of ``X``.
    dense : bool or "auto", default="auto"
        Whether ``X`` is a dense ndarray (True), a CSR matrix (False), or
        whichever takes less memory ("auto").
    max_features : int or None, default=100_000
        The most feature columns accepted (None: no limit). A file with a
        feature index such as ``999999999:1`` is nearly always broken.
    max_dense_bytes : int or None, default=4 * 2**30
        The most bytes a dense ``X`` may take when ``dense=True`` (None: no
        limit).
    label, qid : str, default="label", "qid"
        For a table: the label and query-id columns.
    drop : list of str, default=None
        For a table: columns that are not features (document ids, ...).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X``, ``y``, ``groups``, ``splits`` (None for a file, else as
        :func:`load_letor_folds`) and ``folds`` (the fold folders, empty for
        a file).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or a folder holds no LETOR files.
    ValueError
        If the data cannot be parsed, are wider than ``max_features``, or
        would need more than ``max_dense_bytes`` dense.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skrank.datasets import load_ranking_data
    >>> path = Path(tempfile.mkdtemp()) / "train.txt"
    >>> _ = path.write_text("1 qid:1 1:0.5 2:1\\n0 qid:1 1:0.1 2:2\\n")
    >>> data = load_ranking_data(path)
    >>> type(data.X).__name__, data.X.dtype.name, data.splits
    ('ndarray', 'float32', None)
    >>> load_ranking_data(path, max_features=1)
    Traceback (most recent call last):
    ...
    ValueError: '...train.txt' has 2 feature columns (its largest feature index);
    at most max_features=1 are accepted...
    """
    data = _load_any(path, dtype=dtype, label=label, qid=qid, drop=drop)
    n_rows, n_features = data.X.shape
    if max_features is not None and n_features > max_features:
        raise ValueError(
            f"'{os.fspath(path)}' has {n_features} feature columns (its largest "
            f"feature index); at most max_features={max_features} are accepted. "
            "Check the file for a stray index."
        )
    dense_bytes = n_rows * n_features * data.X.dtype.itemsize
    if dense is True and max_dense_bytes is not None and dense_bytes > max_dense_bytes:
        raise ValueError(
            f"'{os.fspath(path)}' would need {dense_bytes / 2**30:.1f} GiB dense, "
            f"more than max_dense_bytes={max_dense_bytes}."
        )
    if sp.issparse(data.X) and (
        dense is True or (dense == "auto" and 2 * data.X.nnz >= n_rows * n_features)
    ):
        data.X = data.X.toarray()
    return data


_TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def _is_table(path):
    suffixes = [s.lower() for s in Path(path).suffixes]
    return any(s in _TABLE_SUFFIXES for s in suffixes[-2:])


def _load_any(path, *, dtype, label, qid, drop):
    """``Bunch(X, y, groups, splits, folds)`` of a folder or a file of any form."""
    path = Path(path)
    if not path.is_file():
        return load_letor_folds(path, dtype=dtype)
    query_file = path.with_name(path.name + ".query")
    if _is_table(path):
        X, y, groups = load_ranking_table(
            path, label=label, qid=qid, drop=drop, dtype=dtype
        )
    elif query_file.is_file():
        X, y, groups = _load_lightgbm(path, query_file, dtype)
    else:
        X, y, groups = load_svmlight_ranking(path, dtype=dtype)
    return Bunch(X=X, y=y, groups=groups, splits=None, folds=[])


def _load_lightgbm(path, query_file, dtype):
    """LightGBM's form: SVMlight rows without qid, query sizes in ``.query``."""
    from sklearn.datasets import load_svmlight_file

    X, y = load_svmlight_file(os.fspath(path), dtype=dtype)
    try:
        sizes = np.loadtxt(query_file, dtype=np.int64, ndmin=1)
    except ValueError as exc:
        raise ValueError(
            f"'{os.fspath(query_file)}' must hold one query size (an int) per "
            f"line: {exc}"
        ) from None
    if (sizes < 1).any() or sizes.sum() != X.shape[0]:
        raise ValueError(
            f"The query sizes in '{os.fspath(query_file)}' must be >= 1 and add "
            f"up to the {X.shape[0]} rows of '{os.fspath(path)}'. Got "
            f"{sizes.shape[0]} sizes adding up to {int(sizes.sum())}."
        )
    # the checks of load_svmlight_ranking (sklearn's parser takes nan and inf);
    # without its line numbers: rows, which are lines when none is a comment
    bad = np.flatnonzero(~(np.isfinite(y) & (y >= 0)))
    if bad.size:
        raise ValueError(
            f"'{os.fspath(path)}', row {bad[0] + 1}: must hold graded relevance "
            f"labels that are finite and >= 0. Got {y[bad[0]]:g}."
        )
    bad = np.flatnonzero(~np.isfinite(X.data))
    if bad.size:
        row = np.searchsorted(X.indptr, bad[0], side="right")
        raise ValueError(
            f"'{os.fspath(path)}', row {row}: the value {X.data[bad[0]]:g} in "
            f"column {X.indices[bad[0]]} of X; features must be finite."
        )
    return X, y, np.repeat(np.arange(sizes.shape[0]), sizes)
