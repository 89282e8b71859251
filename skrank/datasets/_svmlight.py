"""Load learning-to-rank data in the SVMlight / LETOR text format.

A line reads ``<label> qid:<id> <index>:<value> ... #<comment>``. Parsing is
done by :func:`sklearn.datasets.load_svmlight_files` (compiled, fast); this
module adds what ranking needs on top: the query ids are required and checked,
labels are checked to be graded relevance, several files share one feature
space, and a LETOR fold folder loads in one call.
"""

import io
import lzma
import os
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.datasets import load_svmlight_files
from sklearn.utils import Bunch

from ..utils._validation import HasMethods, Interval, StrOptions, validate_params

__all__ = [
    "load_letor_fold",
    "load_svmlight_ranking",
    "load_svmlight_ranking_files",
]

# Extensions decompressed on the fly: ".gz" and ".bz2" by scikit-learn, ".xz"
# and ".lzma" here.
_COMPRESSED = (".gz", ".bz2", ".xz", ".lzma")


def _describe(f):
    """A short name of a path or file object for error messages."""
    if isinstance(f, (str, os.PathLike)):
        return f"'{os.fspath(f)}'"
    name = getattr(f, "name", None)
    return f"'{name}'" if isinstance(name, str) else f"<{type(f).__name__} object>"


def _check_source(f):
    """Check one path or file object before handing it to scikit-learn."""
    if isinstance(f, (str, os.PathLike)):
        path = Path(f)
        if path.is_dir():
            raise IsADirectoryError(
                f"{_describe(f)} is a folder, not an SVMlight file. Load a LETOR "
                "fold folder (train.txt, vali.txt, test.txt) with load_letor_fold."
            )
        if not path.is_file():
            where = "" if path.is_absolute() else f" (resolved to '{path.resolve()}')"
            raise FileNotFoundError(f"No such SVMlight file: {_describe(f)}{where}.")
        if path.suffix in (".xz", ".lzma"):
            return lzma.open(path, "rb")
        return os.fspath(path)
    if isinstance(f, io.TextIOBase):
        raise TypeError(
            f"The file object {_describe(f)} is open in text mode; SVMlight "
            "files must be opened in binary mode: open(path, 'rb')."
        )
    return f


def _load(sources, *, n_features, dtype, dense, zero_based):
    """Load paths or file objects into a list of ``(X, y, groups)`` tuples."""
    opened = []  # what scikit-learn reads: paths, or files opened here
    try:
        for f in sources:
            opened.append(_check_source(f))
        flat = load_svmlight_files(
            opened,
            n_features=n_features,
            dtype=dtype,
            zero_based=zero_based,
            query_id=True,
        )
    finally:
        for f, handle in zip(sources, opened, strict=False):
            if handle is not f and hasattr(handle, "close"):
                handle.close()
    datasets = []
    for i, f in enumerate(sources):
        X, y, qid = flat[3 * i : 3 * i + 3]
        n_rows = X.shape[0]
        if n_rows == 0:
            raise ValueError(
                f"{_describe(f)} holds no data lines; expected lines like "
                "'<label> qid:<id> <index>:<value> ...'."
            )
        if qid.shape[0] != n_rows:
            raise ValueError(
                f"{_describe(f)} has no 'qid:' on {n_rows - qid.shape[0]} of its "
                f"{n_rows} data lines; a ranking file needs a query id on every "
                "line: '<label> qid:<id> <index>:<value> ...'."
            )
        y = np.asarray(y, dtype=np.float64)
        if not np.isfinite(y).all() or (y < 0).any():
            bad = y[~np.isfinite(y) | (y < 0)]
            raise ValueError(
                f"{_describe(f)} must hold graded relevance labels that are "
                f"finite and >= 0. Got {bad.size} other label(s), e.g. {bad[0]:g}."
            )
        if dense:
            X = X.toarray()
        datasets.append((X, y, np.asarray(qid, dtype=np.int64)))
    return datasets


_COMMON_CONSTRAINTS = {
    "n_features": [Interval(Integral, 1, None, closed="left"), None],
    "dtype": "no_validation",  # delegated to numpy
    "dense": ["boolean"],
    "zero_based": ["boolean", StrOptions({"auto"})],
}


@validate_params(
    {
        "path_or_file": [str, os.PathLike, HasMethods("read")],
        **_COMMON_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def load_svmlight_ranking(
    path_or_file, *, n_features=None, dtype=np.float64, dense=False, zero_based="auto"
):
    """Load a ranking file in the SVMlight / LETOR format.

    Each line holds one document of one query::

        <label> qid:<query id> <index>:<value> <index>:<value> ... #<comment>

    The comment (LETOR's ``#docid = ... inc = ... prob = ...``) is ignored, LF
    and CRLF line endings are both accepted, and a path ending in ``.gz``,
    ``.bz2``, ``.xz`` or ``.lzma`` is decompressed on the fly. Parsing is done
    by :func:`sklearn.datasets.load_svmlight_file`; this function makes the
    query ids mandatory and returns them as ``groups``.

    Parameters
    ----------
    path_or_file : str, path-like or file-like
        The file to load. A file-like object must be opened in binary mode
        and is not closed.
    n_features : int, default=None
        The number of feature columns. If None, the largest feature index
        found in the file. Set it when a file may omit the last features.
    dtype : data-type, default=np.float64
        The data type of ``X``.
    dense : bool, default=False
        If True, return ``X`` as a dense ndarray; otherwise as a CSR sparse
        matrix.
    zero_based : bool or "auto", default="auto"
        Whether the feature indices in the file start at 0 (True) or at 1
        (False, as in LETOR files). "auto" guesses from the file, as in
        :func:`sklearn.datasets.load_svmlight_file`.

    Returns
    -------
    X : {sparse matrix, ndarray} of shape (n_samples, n_features)
        The features, one row per line of the file.
    y : ndarray of shape (n_samples,)
        The graded relevance labels as float64.
    groups : ndarray of shape (n_samples,)
        The query id of each row as int64, in file order.

    Raises
    ------
    FileNotFoundError
        If the path does not exist.
    ValueError
        If the file has no data lines, a line has no ``qid:``, or a label is
        negative or not finite.

    See Also
    --------
    load_svmlight_ranking_files : Load several files into one feature space.
    load_letor_fold : Load a LETOR fold folder.

    Examples
    --------
    >>> import io
    >>> from skrank.datasets import load_svmlight_ranking
    >>> f = io.BytesIO(b"2 qid:7 1:0.5 3:1 #docid = d1\\n0 qid:7 2:0.1\\n"
    ...                b"1 qid:9 1:1\\n")
    >>> X, y, groups = load_svmlight_ranking(f, dense=True, zero_based=False)
    >>> X
    array([[0.5, 0. , 1. ],
           [0. , 0.1, 0. ],
           [1. , 0. , 0. ]])
    >>> y
    array([2., 0., 1.])
    >>> groups
    array([7, 7, 9])
    """
    return _load(
        [path_or_file],
        n_features=n_features,
        dtype=dtype,
        dense=dense,
        zero_based=zero_based,
    )[0]


@validate_params(
    {"files": ["array-like"], **_COMMON_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def load_svmlight_ranking_files(
    files, *, n_features=None, dtype=np.float64, dense=False, zero_based="auto"
):
    """Load several SVMlight / LETOR ranking files into one feature space.

    Every file is read as by :func:`load_svmlight_ranking`; all results have
    the same number of feature columns (the largest index found in any file,
    or ``n_features``), so that, for example, a model fitted on a training
    file can predict on a test file whose last features happen to be zero.

    Parameters
    ----------
    files : list of {str, path-like, file-like}
        The files to load. File-like objects must be opened in binary mode
        and are not closed.
    n_features : int, default=None
        The number of feature columns. If None, the largest feature index
        found in any of the files.
    dtype : data-type, default=np.float64
        The data type of every ``X``.
    dense : bool, default=False
        If True, return every ``X`` as a dense ndarray; otherwise as a CSR
        sparse matrix.
    zero_based : bool or "auto", default="auto"
        Whether the feature indices start at 0 (True) or at 1 (False, as in
        LETOR files). "auto" guesses from all files together.

    Returns
    -------
    datasets : list of tuple (X, y, groups)
        One ``(X, y, groups)`` tuple per file, in the order given, as returned
        by :func:`load_svmlight_ranking`.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        If ``files`` is empty, or a file has no data lines, a line without
        ``qid:``, or a negative or non-finite label.

    See Also
    --------
    load_svmlight_ranking : Load one file.
    load_letor_fold : Load a LETOR fold folder.

    Examples
    --------
    >>> import io
    >>> from skrank.datasets import load_svmlight_ranking_files
    >>> train = io.BytesIO(b"1 qid:1 1:0.2 4:0.9\\n0 qid:1 2:0.4\\n")
    >>> test = io.BytesIO(b"0 qid:2 1:0.3\\n2 qid:2 2:0.8\\n")
    >>> (X_train, y_train, g_train), (X_test, y_test, g_test) = (
    ...     load_svmlight_ranking_files([train, test], zero_based=False)
    ... )
    >>> X_train.shape, X_test.shape
    ((2, 4), (2, 4))
    >>> g_test
    array([2, 2])
    """
    files = list(files)
    if not files:
        raise ValueError("files is empty; pass at least one path or file object.")
    return _load(
        files, n_features=n_features, dtype=dtype, dense=dense, zero_based=zero_based
    )


def _find_part(folder, part):
    """The file of one fold part (``train.txt``, possibly compressed)."""
    for suffix in ("", *_COMPRESSED):
        path = folder / f"{part}.txt{suffix}"
        if path.is_file():
            return path
    return None


@validate_params(
    {
        "folder": [str, os.PathLike],
        "parts": ["array-like"],
        **_COMMON_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def load_letor_fold(
    folder,
    *,
    parts=("train", "vali", "test"),
    n_features=None,
    dtype=np.float64,
    dense=False,
    zero_based="auto",
):
    """Load one fold folder of a LETOR-style dataset.

    LETOR 4.0 (MQ2007, MQ2008), MSLR-WEB10K/30K and Istella ship each fold as
    a folder with ``train.txt``, ``vali.txt`` and ``test.txt``. This loads the
    files named by ``parts`` (``<part>.txt``, or the same name ending in
    ``.gz``, ``.bz2``, ``.xz`` or ``.lzma``) into one feature space with
    :func:`load_svmlight_ranking_files`.

    Parameters
    ----------
    folder : str or path-like
        The fold folder, e.g. ``"MQ2008/Fold1"``.
    parts : sequence of str, default=("train", "vali", "test")
        The files to load, by name without ``.txt``; e.g. ``("train", "test")``
        for a dataset without a validation file.
    n_features : int, default=None
        The number of feature columns. If None, the largest feature index
        found in any of the files.
    dtype : data-type, default=np.float64
        The data type of every ``X``.
    dense : bool, default=False
        If True, return every ``X`` as a dense ndarray; otherwise as a CSR
        sparse matrix.
    zero_based : bool or "auto", default="auto"
        Whether the feature indices start at 0 (True) or at 1 (False, as in
        LETOR files). "auto" guesses from all files together.

    Returns
    -------
    fold : :class:`~sklearn.utils.Bunch`
        One key per part (``fold.train``, ``fold.vali``, ``fold.test`` by
        default), each an ``(X, y, groups)`` tuple as returned by
        :func:`load_svmlight_ranking`, plus ``n_features`` (int, shared by
        all parts) and ``files`` (dict, the path loaded for each part).

    Raises
    ------
    FileNotFoundError
        If the folder or one of the part files does not exist.

    See Also
    --------
    load_svmlight_ranking : Load one file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skrank.datasets import load_letor_fold
    >>> folder = Path(tempfile.mkdtemp())
    >>> for part in ("train", "vali", "test"):
    ...     _ = (folder / f"{part}.txt").write_text(
    ...         "1 qid:1 1:0.5 2:0.1 #docid = a\\n0 qid:1 1:0.2 2:0.3 #docid = b\\n"
    ...     )
    >>> fold = load_letor_fold(folder)
    >>> X_train, y_train, groups_train = fold.train
    >>> X_train.shape, fold.n_features
    ((2, 2), 2)
    >>> sorted(fold.files)
    ['test', 'train', 'vali']
    """
    folder_path = Path(folder)
    if not folder_path.is_dir():
        where = (
            ""
            if folder_path.is_absolute()
            else f" (resolved to '{folder_path.resolve()}')"
        )
        raise FileNotFoundError(
            f"No such LETOR fold folder: '{os.fspath(folder)}'{where}."
        )
    if isinstance(parts, str):
        parts = (parts,)
    parts = list(parts)
    if not parts or not all(isinstance(p, str) and p for p in parts):
        raise ValueError(
            "parts must be a non-empty sequence of file names without '.txt', "
            f"e.g. ('train', 'vali', 'test'). Got {parts!r} instead."
        )
    if {"n_features", "files"} & set(parts):
        raise ValueError(
            "parts cannot be named 'n_features' or 'files' (keys of the result). "
            f"Got {parts!r} instead."
        )
    if len(set(parts)) != len(parts):
        raise ValueError(f"parts must not repeat a name. Got {parts!r} instead.")
    files = {part: _find_part(folder_path, part) for part in parts}
    missing = [part for part, path in files.items() if path is None]
    if missing:
        found = sorted(p.name for p in folder_path.iterdir() if p.is_file())
        raise FileNotFoundError(
            f"The LETOR fold folder '{os.fspath(folder)}' has no "
            + ", ".join(f"'{part}.txt'" for part in missing)
            + f"; it holds {found}. Expected one file per part of {parts}."
        )
    datasets = _load(
        list(files.values()),
        n_features=n_features,
        dtype=dtype,
        dense=dense,
        zero_based=zero_based,
    )
    return Bunch(
        **dict(zip(parts, datasets, strict=True)),
        n_features=datasets[0][0].shape[1],
        files={part: str(path) for part, path in files.items()},
    )
