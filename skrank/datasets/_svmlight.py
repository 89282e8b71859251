"""Load learning-to-rank data in the SVMlight / LETOR text format.

A line reads ``<label> qid:<id> <index>:<value> ... #<comment>``. The text is
read in blocks of whole lines; each block is parsed by
:func:`sklearn.datasets.load_svmlight_file` (compiled, fast) and its query ids
are read with one regular expression, so loading stays linear in the file
size (scikit-learn's own ``query_id=True`` grows its id array line by line, in
quadratic time). This module adds what ranking needs on top: mandatory,
checked query ids; graded labels; finite features; several files in one
feature space; gzip, bz2 and xz files recognised by their content; a UTF-8
byte-order mark and CR, LF or CRLF line endings; and errors that name the file
and the line.
"""

import bz2
import gzip
import io
import lzma
import os
import re
import zlib
from numbers import Integral
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_file
from sklearn.utils import Bunch

from ..utils._validation import HasMethods, Interval, StrOptions, validate_params

__all__ = [
    "load_letor_fold",
    "load_svmlight_ranking",
    "load_svmlight_ranking_files",
]

# Fold parts may end in these; any file is decompressed by its content anyway.
_COMPRESSED = (".gz", ".bz2", ".xz", ".lzma")
_MAGIC = (
    (b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f, mode="rb")),
    (b"BZh", bz2.BZ2File),
    (b"\xfd7zXZ\x00", lzma.LZMAFile),
)
_BOM = b"\xef\xbb\xbf"
_BLOCK = 1 << 23  # bytes of text parsed at a time
# A data line: a first token that is not a comment, then maybe "qid:<id>".
_DATA_LINE = re.compile(rb"^[^\S\n]*[^\s#]+(?:[^\S\n]+(qid:[^\s#]*))?", re.MULTILINE)
# dense=True is refused when X would take more than this many bytes while
# holding under 1% non-zero values: an absurd feature index, not a data set.
_DENSE_LIMIT = 1 << 30


def _describe(f):
    """A short name of a path or file object for error messages."""
    if isinstance(f, (str, os.PathLike)):
        return f"'{os.fspath(f)}'"
    name = getattr(f, "name", None)
    return f"'{name}'" if isinstance(name, str) else f"<{type(f).__name__} object>"


def _decompressed(f):
    """``f`` itself, or a reader decompressing it when its first bytes say so."""
    if not (hasattr(f, "seekable") and f.seekable()):
        return f
    start = f.tell()
    head = f.read(6)
    f.seek(start)
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return opener(f)  # closing it leaves f open
    return f


def _open(f):
    """A binary stream of the (decompressed) text of a path or file object.

    Returns ``(stream, owned)``: ``owned`` lists what was opened here and must
    be closed by the caller.
    """
    if isinstance(f, (str, os.PathLike)):
        path = Path(f)
        if path.is_dir():
            raise IsADirectoryError(
                f"{_describe(f)} is a folder, not an SVMlight file. Load a LETOR "
                "fold folder (train.txt, vali.txt, test.txt) with load_letor_fold."
            )
        if not path.exists():
            where = "" if path.is_absolute() else f" (resolved to '{path.resolve()}')"
            raise FileNotFoundError(f"No such SVMlight file: {_describe(f)}{where}.")
        if not path.is_file():
            raise ValueError(
                f"{_describe(f)} is not a regular file (a device, socket or "
                "pipe); pass the path of an SVMlight text file."
            )
        raw = open(path, "rb")  # closed by the caller
        try:
            stream = _decompressed(raw)
        except BaseException:
            raw.close()
            raise
        return stream, [stream, raw] if stream is not raw else [raw]
    if isinstance(f, io.TextIOBase):
        raise TypeError(
            f"The file object {_describe(f)} is open in text mode; SVMlight "
            "files must be opened in binary mode: open(path, 'rb')."
        )
    stream = _decompressed(f)
    return stream, [stream] if stream is not f else []


def _blocks(stream, name):
    """Yield ``(text, first_line)``: whole lines with LF endings, numbered from 1.

    Strips a UTF-8 byte-order mark and turns CR and CRLF line endings into LF;
    a block never splits a line or a CRLF pair.
    """
    rest = b""
    first_line = 1
    start = True
    while True:
        chunk = stream.read(_BLOCK)
        eof = not chunk
        text = rest + chunk
        if start and len(text) < 3 and not eof:
            rest = text  # too short to tell whether it starts with a BOM
            continue
        if start:
            start = False
            if text.startswith(_BOM):
                text = text[3:]
            elif text.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise ValueError(
                    f"{name} is UTF-16 encoded; SVMlight files are ASCII or "
                    "UTF-8 text. Convert it, e.g. with iconv -f UTF-16 -t UTF-8."
                )
        if not eof:
            end = len(text) - 1 if text.endswith(b"\r") else len(text)
            cut = max(text.rfind(b"\n", 0, end), text.rfind(b"\r", 0, end)) + 1
            text, rest = text[:cut], text[cut:]
        if b"\r" in text:
            text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if text:
            yield text, first_line
            first_line += text.count(b"\n")
        if eof:
            return


def _line_of_row(text, first_line, row):
    """The file line number of data line ``row`` (0-based) of a block."""
    for i, match in enumerate(_DATA_LINE.finditer(text)):
        if i == row:
            return first_line + text.count(b"\n", 0, match.start())
    return first_line  # pragma: no cover (row is always a data line)


def _show(token):
    return token.decode("utf-8", "replace")


def _diagnose(text, first_line):
    """``(line, reason)`` of the first line of a block that cannot be parsed."""
    for i, raw in enumerate(text.split(b"\n")):
        parts = raw.split(b"#", 1)[0].split()
        if not parts:
            continue
        line = first_line + i
        try:
            float(parts[0])
        except ValueError:
            return line, f"the label '{_show(parts[0])}' is not a number"
        features = parts[1:]
        if features and features[0].startswith(b"qid"):
            qid = features.pop(0)
            try:
                np.int64(qid.split(b":", 1)[1])
            except (IndexError, ValueError, OverflowError):
                return line, (
                    f"the query id must be an integer (int64). Got '{_show(qid)}'"
                )
        previous = -1
        for token in features:
            index, colon, value = token.partition(b":")
            if not colon:
                return line, f"'{_show(token)}' is not an '<index>:<value>' pair"
            try:
                index = int(index)
            except ValueError:
                return line, f"the feature index in '{_show(token)}' is not an integer"
            if not 0 <= index < 2**31:
                return line, f"the feature index {index} is not in [0, 2**31)"
            if index <= previous:
                return line, (
                    f"feature indices must be increasing; {index} follows {previous}"
                )
            try:
                float(value)
            except ValueError:
                return line, f"the value of feature {index} is not a number"
            previous = index
    return None


class _File:
    """The parsed blocks of one file, concatenated at the end."""

    def __init__(self, name):
        self.name = name
        self.data, self.indices, self.indptr = [], [], [np.zeros(1, np.int64)]
        self.labels, self.qids = [], []
        self.nnz = 0
        self.n_missing = 0
        self.first_missing = None
        self.min_index = None
        self.max_index = -1
        self.max_index_line = None

    def add(self, text, first_line, *, dtype, ensure_all_finite, zero_based):
        name = self.name
        try:
            X, y = load_svmlight_file(
                io.BytesIO(text), dtype=dtype, zero_based=True, query_id=False
            )
        except (ValueError, OverflowError) as exc:
            found = _diagnose(text, first_line)
            if found is None:
                last = first_line + text.count(b"\n")
                raise ValueError(f"{name}, lines {first_line}-{last}: {exc}") from None
            raise ValueError(f"{name}, line {found[0]}: {found[1]}.") from None
        tokens = _DATA_LINE.findall(text)
        if len(tokens) != X.shape[0]:  # pragma: no cover (same rule as sklearn)
            raise ValueError(
                f"{name}, from line {first_line}: found {len(tokens)} data lines "
                f"but scikit-learn parsed {X.shape[0]}."
            )
        X = sp.csr_matrix(X)
        data, indices = X.data, X.indices
        self._check_labels(y, text, first_line)
        if ensure_all_finite is not False:
            bad = ~np.isfinite(data) if ensure_all_finite is True else np.isinf(data)
            if bad.any():
                pos = int(np.argmax(bad))
                row = int(np.searchsorted(X.indptr, pos, side="right")) - 1
                allow = (
                    "pass ensure_all_finite=False to load NaN and infinite values, "
                    "or 'allow-nan' for NaN only"
                    if ensure_all_finite is True
                    else "pass ensure_all_finite=False to load infinite values"
                )
                raise ValueError(
                    f"{name}, line {_line_of_row(text, first_line, row)}: feature "
                    f"{indices[pos]} has the value {data[pos]}; features must be "
                    f"finite ({allow})."
                )
        if indices.size:
            low = int(indices.min())
            if zero_based is False and low == 0:
                row = int(np.searchsorted(X.indptr, np.argmin(indices), "right")) - 1
                raise ValueError(
                    f"{name}, line {_line_of_row(text, first_line, row)}: feature "
                    "index 0, but zero_based=False (indices start at 1). Pass "
                    "zero_based=True or 'auto'."
                )
            self.min_index = low if self.min_index is None else min(low, self.min_index)
            high = int(indices.max())
            if high > self.max_index:
                row = int(np.searchsorted(X.indptr, np.argmax(indices), "right")) - 1
                self.max_index = high
                self.max_index_line = _line_of_row(text, first_line, row)
        self._add_qids(tokens, text, first_line)
        self.data.append(data)
        self.indices.append(indices.astype(np.int64, copy=False))
        self.indptr.append(X.indptr[1:].astype(np.int64) + self.nnz)
        self.nnz += data.shape[0]
        self.labels.append(y)

    def _check_labels(self, y, text, first_line):
        bad = ~np.isfinite(y) | (y < 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(
                f"{self.name} must hold graded relevance labels that are finite "
                f"and >= 0. Got {y[row]:g} on line "
                f"{_line_of_row(text, first_line, row)}."
            )

    def _add_qids(self, tokens, text, first_line):
        values = [t[4:] if t else b"0" for t in tokens]
        missing = [i for i, t in enumerate(tokens) if not t]
        if missing:
            if self.first_missing is None:
                self.first_missing = _line_of_row(text, first_line, missing[0])
            self.n_missing += len(missing)
        try:
            qids = np.array(values, dtype=np.bytes_).astype(np.int64)
        except (ValueError, OverflowError):
            for row, value in enumerate(values):
                try:
                    np.int64(value)
                except (ValueError, OverflowError):
                    raise ValueError(
                        f"{self.name}, line {_line_of_row(text, first_line, row)}: "
                        "the query id must be an integer (int64). Got "
                        f"'qid:{_show(value)}'."
                    ) from None
            raise  # pragma: no cover
        self.qids.append(qids)

    def finish(self):
        """``(data, indices, indptr, labels, qids)`` of the whole file."""
        n_rows = sum(y.shape[0] for y in self.labels)
        if n_rows == 0:
            raise ValueError(
                f"{self.name} holds no data lines; expected lines like "
                "'<label> qid:<id> <index>:<value> ...'."
            )
        if self.n_missing:
            raise ValueError(
                f"{self.name} has no 'qid:' on {self.n_missing} of its {n_rows} "
                f"data lines (the first is line {self.first_missing}); a ranking "
                "file needs a query id on every line: "
                "'<label> qid:<id> <index>:<value> ...'."
            )
        return (
            np.concatenate(self.data),
            np.concatenate(self.indices),
            np.concatenate(self.indptr),
            np.concatenate(self.labels).astype(np.float64, copy=False),
            np.concatenate(self.qids),
        )


def _read(f, *, dtype, ensure_all_finite, zero_based):
    """Parse one path or file object into a :class:`_File`."""
    parsed = _File(_describe(f))
    stream, owned = _open(f)
    try:
        for text, first_line in _blocks(stream, parsed.name):
            parsed.add(
                text,
                first_line,
                dtype=dtype,
                ensure_all_finite=ensure_all_finite,
                zero_based=zero_based,
            )
    except (EOFError, OSError, lzma.LZMAError, zlib.error) as exc:
        # a truncated or corrupt archive: the decompressor's error names
        # neither the file nor the cause a user can act on
        if not isinstance(stream, (gzip.GzipFile, bz2.BZ2File, lzma.LZMAFile)):
            raise
        raise ValueError(
            f"{parsed.name} could not be decompressed: {exc}. The file may be "
            "truncated (an interrupted download or copy) or corrupt."
        ) from exc
    finally:
        for handle in owned:
            handle.close()
    return parsed


def _check_dtype(dtype, caller):
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        kind = None
    if kind != "f":
        raise ValueError(
            f"The 'dtype' parameter of {caller} must be a floating dtype such as "
            f"np.float32 or np.float64. Got {dtype!r} instead."
        )


def _load(sources, *, n_features, dtype, dense, zero_based, ensure_all_finite=True):
    """Load paths or file objects into a list of ``(X, y, groups)`` tuples."""
    files = [
        _read(
            f, dtype=dtype, ensure_all_finite=ensure_all_finite, zero_based=zero_based
        )
        for f in sources
    ]
    arrays = [parsed.finish() for parsed in files]
    shift = zero_based is False or (
        zero_based == "auto"
        and all(
            parsed.min_index is not None and parsed.min_index > 0 for parsed in files
        )
    )
    widest = max(files, key=lambda parsed: parsed.max_index)
    n_found = widest.max_index + 1 - shift
    if n_features is None:
        n_features = max(n_found, 1)
    elif n_features < n_found:
        raise ValueError(
            f"n_features was set to {n_features}, but {widest.name} has the "
            f"feature index {widest.max_index} on line {widest.max_index_line}, "
            f"that is {n_found} features."
        )
    itemsize = np.dtype(dtype).itemsize
    datasets = []
    for parsed, (data, indices, indptr, y, qids) in zip(files, arrays, strict=True):
        if shift:
            indices -= 1
        n_rows = y.shape[0]
        if dense:
            size = n_rows * n_features * itemsize
            if size > _DENSE_LIMIT and data.shape[0] < 0.01 * n_rows * n_features:
                raise ValueError(
                    f"dense=True would make X of {parsed.name} a {n_rows} x "
                    f"{n_features} array ({size / 2**30:.1f} GiB) holding "
                    f"{data.shape[0]} non-zero values: the largest feature index is "
                    f"{widest.max_index} (line {widest.max_index_line} of "
                    f"{widest.name}). Load it with dense=False (sparse), or fix "
                    "the index."
                )
        X = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_features))
        datasets.append((X.toarray() if dense else X, y, qids))
    return datasets


_COMMON_CONSTRAINTS = {
    "n_features": [Interval(Integral, 1, None, closed="left"), None],
    "dtype": "no_validation",  # delegated to numpy
    "dense": ["boolean"],
    "zero_based": ["boolean", StrOptions({"auto"})],
    "ensure_all_finite": ["boolean", StrOptions({"allow-nan"})],
}


@validate_params(
    {
        "path_or_file": [str, os.PathLike, HasMethods("read")],
        **_COMMON_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def load_svmlight_ranking(
    path_or_file,
    *,
    n_features=None,
    dtype=np.float64,
    dense=False,
    zero_based="auto",
    ensure_all_finite=True,
):
    """Load a ranking file in the SVMlight / LETOR format.

    Each line holds one document of one query::

        <label> qid:<query id> <index>:<value> <index>:<value> ... #<comment>

    The comment (LETOR's ``#docid = ... inc = ... prob = ...``) is ignored;
    LF, CRLF and CR line endings and a UTF-8 byte-order mark are accepted; a
    gzip, bz2 or xz file (or seekable file object) is recognised by its first
    bytes and decompressed on the fly, whatever its name. Parsing is done by
    :func:`sklearn.datasets.load_svmlight_file`, block by block, in time
    linear in the file size; this function makes the query ids mandatory and
    returns them as ``groups``. Every error about the content names the file
    and the line. With ``dense=False`` (and ``dtype=np.float32``) no dense or
    float64 copy of ``X`` is ever made.

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
    ensure_all_finite : bool or "allow-nan", default=True
        True refuses a NaN or infinite feature value with an error naming the
        file and the line; "allow-nan" accepts NaN but not infinity; False
        accepts both.

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
        If the file has no data lines, a line has no ``qid:`` or a query id
        that is not an integer, a line cannot be parsed, a label is negative
        or not finite, a feature value is not finite (see
        ``ensure_all_finite``), the file is not a regular file or is UTF-16
        encoded, or ``dense=True`` would build an array of over 1 GiB that is
        less than 1% non-zero (an absurd feature index such as
        ``999999999:1``).

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
    _check_dtype(dtype, "load_svmlight_ranking")
    return _load(
        [path_or_file],
        n_features=n_features,
        dtype=dtype,
        dense=dense,
        zero_based=zero_based,
        ensure_all_finite=ensure_all_finite,
    )[0]


@validate_params(
    {"files": ["array-like"], **_COMMON_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def load_svmlight_ranking_files(
    files,
    *,
    n_features=None,
    dtype=np.float64,
    dense=False,
    zero_based="auto",
    ensure_all_finite=True,
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
    ensure_all_finite : bool or "allow-nan", default=True
        True refuses a NaN or infinite feature value with an error naming the
        file and the line; "allow-nan" accepts NaN but not infinity; False
        accepts both.

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
    _check_dtype(dtype, "load_svmlight_ranking_files")
    files = list(files)
    if not files:
        raise ValueError("files is empty; pass at least one path or file object.")
    return _load(
        files,
        n_features=n_features,
        dtype=dtype,
        dense=dense,
        zero_based=zero_based,
        ensure_all_finite=ensure_all_finite,
    )


#: LETOR 3.0 (OHSUMED, the .Gov sets) names its fold files trainingset.txt,
#: validationset.txt and testset.txt; some releases use valid.txt.
_PART_ALIASES = {
    "train": ("trainingset",),
    "vali": ("validationset", "valid"),
    "test": ("testset",),
}


def _find_part(folder, part):
    """The file of one fold part: ``<part>.txt``, else a LETOR 3.0 name.

    ``train`` is ``train.txt``, else ``trainingset.txt``; ``vali`` is
    ``vali.txt``, else ``validationset.txt`` or ``valid.txt``; ``test`` is
    ``test.txt``, else ``testset.txt``; each possibly compressed. The first
    name found wins.
    """
    for name in (part, *_PART_ALIASES.get(part, ())):
        for suffix in ("", *_COMPRESSED):
            path = folder / f"{name}.txt{suffix}"
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
    ensure_all_finite=True,
):
    """Load one fold folder of a LETOR-style dataset.

    LETOR 4.0 (MQ2007, MQ2008), MSLR-WEB10K/30K and Istella ship each fold as
    a folder with ``train.txt``, ``vali.txt`` and ``test.txt``; LETOR 3.0
    (OHSUMED, TD2003, ...) names them ``trainingset.txt``,
    ``validationset.txt`` and ``testset.txt``. This loads the files named by
    ``parts`` (``<part>.txt``, or the same name ending in ``.gz``, ``.bz2``,
    ``.xz`` or ``.lzma``; for ``train``, ``vali`` and ``test`` also the LETOR
    3.0 names, and ``valid.txt``, when ``<part>.txt`` is absent) into one
    feature space with :func:`load_svmlight_ranking_files`.

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
    ensure_all_finite : bool or "allow-nan", default=True
        True refuses a NaN or infinite feature value with an error naming the
        file and the line; "allow-nan" accepts NaN but not infinity; False
        accepts both.

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
    _check_dtype(dtype, "load_letor_fold")
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
        ensure_all_finite=ensure_all_finite,
    )
    return Bunch(
        **dict(zip(parts, datasets, strict=True)),
        n_features=datasets[0][0].shape[1],
        files={part: str(path) for part, path in files.items()},
    )
