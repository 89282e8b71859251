import bz2
import gzip
import io
import lzma

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file

from skrank.datasets import (
    load_letor_fold,
    load_svmlight_ranking,
    load_svmlight_ranking_files,
)
from skrank.utils._validation import InvalidParameterError

LETOR_LINES = [
    "2 qid:10002 1:0.5 2:0.25 3:1 #docid = GX008-86-4444840 inc = 1 prob = 0.08",
    "0 qid:10002 1:0.1 3:0.75 #docid = GX037-06-11625428 inc = 0.02 prob = 0.01",
    "1 qid:10032 2:1 4:0.5 #docid = GX000-00-0000000 inc = 1 prob = 0.3",
]
LETOR_X = np.array([[0.5, 0.25, 1.0, 0.0], [0.1, 0.0, 0.75, 0.0], [0.0, 1.0, 0.0, 0.5]])
LETOR_Y = np.array([2.0, 0.0, 1.0])
LETOR_GROUPS = np.array([10002, 10002, 10032])


def _letor_bytes(newline="\n"):
    return (newline.join(LETOR_LINES) + newline).encode()


def _check_letor(X, y, groups, dense=False):
    if dense:
        assert isinstance(X, np.ndarray)
        X_dense = X
    else:
        assert sp.issparse(X) and X.format == "csr"
        X_dense = X.toarray()
    np.testing.assert_array_equal(X_dense, LETOR_X)
    np.testing.assert_array_equal(y, LETOR_Y)
    np.testing.assert_array_equal(groups, LETOR_GROUPS)
    assert y.dtype == np.float64
    assert groups.dtype == np.int64


@pytest.mark.parametrize("dense", [False, True])
def test_round_trip_through_sklearn_dump(tmp_path, dense):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 7))
    X[rng.random(X.shape) < 0.3] = 0.0
    X[:, 0] = 1.0  # no all-zero first column: keeps zero_based="auto" honest
    y = rng.integers(0, 5, size=40).astype(float)
    qid = np.sort(rng.choice([3, 11, 42, 7, 100000], size=40))
    path = tmp_path / "data.txt"
    dump_svmlight_file(X, y, str(path), query_id=qid, zero_based=False)

    X_got, y_got, groups = load_svmlight_ranking(path, dense=dense)
    X_dense = X_got if dense else X_got.toarray()
    assert isinstance(X_got, np.ndarray) is dense
    np.testing.assert_allclose(X_dense, X)
    np.testing.assert_array_equal(y_got, y)
    np.testing.assert_array_equal(groups, qid)
    assert groups.dtype == np.int64


def test_round_trip_zero_based(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 3))
    y = rng.integers(0, 3, size=10).astype(float)
    qid = np.repeat([1, 2], 5)
    path = tmp_path / "data.txt"
    dump_svmlight_file(X, y, str(path), query_id=qid, zero_based=True)
    X_got, _, groups = load_svmlight_ranking(path, dense=True, zero_based=True)
    np.testing.assert_allclose(X_got, X)
    np.testing.assert_array_equal(groups, qid)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_letor_comments_and_line_endings(tmp_path, newline):
    path = tmp_path / "letor.txt"
    path.write_bytes(_letor_bytes(newline))
    _check_letor(*load_svmlight_ranking(path))
    _check_letor(*load_svmlight_ranking(str(path), dense=True), dense=True)


def test_comment_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "letor.txt"
    path.write_bytes(b"# a header comment\n\n" + _letor_bytes("\r\n") + b"\r\n")
    _check_letor(*load_svmlight_ranking(path))


@pytest.mark.parametrize(
    "suffix, compress",
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
def test_compressed_files(tmp_path, suffix, compress):
    path = tmp_path / f"letor.txt{suffix}"
    path.write_bytes(compress(_letor_bytes("\r\n")))
    _check_letor(*load_svmlight_ranking(path))


@pytest.mark.parametrize(
    "suffix, compress",
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_compressed_files_name_the_file(tmp_path, suffix, compress, damage):
    # the decompressor's own EOFError / OSError named neither file nor cause
    packed = compress(_letor_bytes() * 50)
    if damage == "truncated":
        packed = packed[: len(packed) // 2]
    else:  # the magic bytes, then garbage
        packed = packed[:6] + bytes(range(256)) * 4
    path = tmp_path / f"letor.txt{suffix}"
    path.write_bytes(packed)
    with pytest.raises(ValueError, match=r"letor\.txt\S*' could not be decompressed"):
        load_svmlight_ranking(path)


def test_binary_file_object_is_read_and_left_open(tmp_path):
    f = io.BytesIO(_letor_bytes())
    _check_letor(*load_svmlight_ranking(f))
    assert not f.closed
    path = tmp_path / "letor.txt"
    path.write_bytes(_letor_bytes())
    with open(path, "rb") as f:
        _check_letor(*load_svmlight_ranking(f))


def test_text_mode_file_object_is_refused(tmp_path):
    path = tmp_path / "letor.txt"
    path.write_bytes(_letor_bytes())
    with open(path) as f, pytest.raises(TypeError, match="binary mode"):
        load_svmlight_ranking(f)


def test_dtype_and_n_features():
    X, y, _ = load_svmlight_ranking(
        io.BytesIO(_letor_bytes()), dtype=np.float32, n_features=6
    )
    assert X.dtype == np.float32
    assert y.dtype == np.float64
    assert X.shape == (3, 6)
    with pytest.raises(ValueError, match="n_features was set to 2"):
        load_svmlight_ranking(io.BytesIO(_letor_bytes()), n_features=2)


def test_inputs_are_not_modified_nor_closed(tmp_path):
    path = tmp_path / "letor.txt"
    path.write_bytes(_letor_bytes())
    before = path.read_bytes()
    load_svmlight_ranking(path)
    assert path.read_bytes() == before


def test_several_files_share_one_feature_space(tmp_path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt.gz"
    a.write_bytes(b"1 qid:1 1:0.5 2:1\n0 qid:1 2:0.5\n")
    b.write_bytes(gzip.compress(b"0 qid:2 1:1 5:0.5\r\n2 qid:3 3:1\r\n"))
    (Xa, ya, _), (Xb, _, gb) = load_svmlight_ranking_files([a, b], dense=True)
    assert Xa.shape == (2, 5) and Xb.shape == (2, 5)
    np.testing.assert_array_equal(Xa, [[0.5, 1, 0, 0, 0], [0, 0.5, 0, 0, 0]])
    np.testing.assert_array_equal(Xb, [[1, 0, 0, 0, 0.5], [0, 0, 1, 0, 0]])
    np.testing.assert_array_equal(ya, [1, 0])
    np.testing.assert_array_equal(gb, [2, 3])
    # the same result file by file needs n_features
    Xa_alone, _, _ = load_svmlight_ranking(a)
    assert Xa_alone.shape == (2, 2)
    Xa_wide, _, _ = load_svmlight_ranking(a, n_features=5)
    assert Xa_wide.shape == (2, 5)


def test_several_files_validation(tmp_path):
    with pytest.raises(ValueError, match="files is empty"):
        load_svmlight_ranking_files([])
    with pytest.raises(InvalidParameterError, match="The 'files' parameter"):
        load_svmlight_ranking_files(io.BytesIO(_letor_bytes()))
    with pytest.raises(InvalidParameterError, match="must be an array-like"):
        load_svmlight_ranking_files(str(tmp_path / "a.txt"))
    path = tmp_path / "a.txt"
    path.write_bytes(_letor_bytes())
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        load_svmlight_ranking_files([path, tmp_path / "missing.txt"])


def test_file_without_qid(tmp_path):
    path = tmp_path / "classification.txt"
    path.write_bytes(b"1 1:0.5 2:1\n0 1:0.1\n")
    with pytest.raises(
        ValueError,
        match=r"classification.txt' has no 'qid:' on 2 of its 2 data lines",
    ):
        load_svmlight_ranking(path)


def test_file_with_some_lines_without_qid(tmp_path):
    path = tmp_path / "partial.txt"
    path.write_bytes(b"1 qid:1 1:0.5\n0 1:0.1\n0 qid:1 1:0.3\n")
    with pytest.raises(
        ValueError,
        match=r"has no 'qid:' on 1 of its 3 data lines \(the first is line 2\)",
    ):
        load_svmlight_ranking(path)
    with pytest.raises(ValueError, match=r"partial.txt' has no 'qid:'"):
        load_svmlight_ranking_files([io.BytesIO(_letor_bytes()), path])


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"# nothing here\n")
    with pytest.raises(ValueError, match=r"empty\.txt' holds no data lines"):
        load_svmlight_ranking(path)


@pytest.mark.parametrize("label", [b"-1", b"nan", b"inf"])
def test_bad_labels(label):
    f = io.BytesIO(b"# header\n1 qid:1 1:0.5\n" + label + b" qid:1 1:0.1\n")
    with pytest.raises(
        ValueError, match=rf"finite and >= 0\. Got {label.decode()} on line 3\."
    ):
        load_svmlight_ranking(f)


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"No such SVMlight file: '.*nope\.txt'"
    ):
        load_svmlight_ranking(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match=r"resolved to"):
        load_svmlight_ranking("surely/not/here.txt")
    with pytest.raises(IsADirectoryError, match="load_letor_fold"):
        load_svmlight_ranking(tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dense": "yes"}, "The 'dense' parameter of load_svmlight_ranking must be"),
        ({"n_features": 0}, "The 'n_features' parameter of load_svmlight_ranking"),
        ({"zero_based": "maybe"}, "The 'zero_based' parameter"),
    ],
)
def test_parameter_validation(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        load_svmlight_ranking(io.BytesIO(_letor_bytes()), **kwargs)


def test_path_or_file_validation():
    with pytest.raises(
        InvalidParameterError, match="The 'path_or_file' parameter of load_svmlight"
    ):
        load_svmlight_ranking(12.5)


def _write_fold(folder, parts=("train", "vali", "test")):
    folder.mkdir(exist_ok=True)
    for i, part in enumerate(parts):
        # the test part has a larger feature index than the others
        extra = " 6:0.5" if part == "test" else ""
        (folder / f"{part}.txt").write_text(
            f"1 qid:{i} 1:0.5 2:0.1{extra} #docid = a\n0 qid:{i} 1:0.2 2:0.3\n"
        )
    return folder


def test_load_letor_fold(tmp_path):
    folder = _write_fold(tmp_path / "Fold1")
    fold = load_letor_fold(folder)
    assert set(fold) == {"train", "vali", "test", "n_features", "files"}
    assert fold.n_features == 6
    for i, part in enumerate(("train", "vali", "test")):
        X, y, groups = fold[part]
        assert X.shape == (2, 6) and sp.issparse(X)
        np.testing.assert_array_equal(y, [1, 0])
        np.testing.assert_array_equal(groups, [i, i])
        assert fold.files[part].endswith(f"{part}.txt")
    X_test, _, _ = load_letor_fold(str(folder), dense=True).test
    np.testing.assert_array_equal(X_test[0], [0.5, 0.1, 0, 0, 0, 0.5])


def test_load_letor_fold_parts_and_compressed(tmp_path):
    folder = _write_fold(tmp_path / "fold", parts=("train",))
    (folder / "test.txt.gz").write_bytes(gzip.compress(b"2 qid:5 3:1\r\n"))
    fold = load_letor_fold(folder, parts=("train", "test"), dense=True)
    assert set(fold) == {"train", "test", "n_features", "files"}
    np.testing.assert_array_equal(fold.test[0], [[0, 0, 1]])
    assert fold.files["test"].endswith("test.txt.gz")


def test_load_letor_fold_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such LETOR fold folder"):
        load_letor_fold(tmp_path / "Fold9")
    folder = _write_fold(tmp_path / "fold", parts=("train", "test"))
    with pytest.raises(
        FileNotFoundError,
        match=r"folder '.*fold' has no 'vali\.txt'; "
        r"it holds \['test\.txt', 'train\.txt'\]",
    ):
        load_letor_fold(folder)
    with pytest.raises(ValueError, match="parts must be a non-empty sequence"):
        load_letor_fold(folder, parts=())
    with pytest.raises(ValueError, match="parts must not repeat a name"):
        load_letor_fold(folder, parts=("train", "train"))
    with pytest.raises(ValueError, match="cannot be named 'n_features'"):
        load_letor_fold(folder, parts=("n_features",))
    with pytest.raises(InvalidParameterError, match="The 'folder' parameter"):
        load_letor_fold(None)


# -- MQ2008 (LETOR 4.0), skipped when the data are absent -----------------------


def _check_mq2008(X, y, groups):
    assert X.shape == (15211, 46)
    assert np.unique(groups).size == 784
    labels, counts = np.unique(y, return_counts=True)
    np.testing.assert_array_equal(labels, [0, 1, 2])
    np.testing.assert_array_equal(counts, [12279, 2001, 931])


def test_mq2008_all_queries(mq2008):
    X, y, groups = load_svmlight_ranking(mq2008 / "Querylevelnorm.txt")
    _check_mq2008(X, y, groups)
    # features are normalised per query into [0, 1]
    assert X.min() >= 0 and X.max() <= 1
    # rows of a query are contiguous
    assert np.count_nonzero(np.diff(groups)) == 783


def test_mq2008_subsets_share_one_feature_space(mq2008):
    files = [mq2008 / f"S{i}.txt" for i in range(1, 6)]
    parts = load_svmlight_ranking_files(files, dense=True)
    assert all(X.shape[1] == 46 for X, _, _ in parts)
    X = np.vstack([X for X, _, _ in parts])
    y = np.concatenate([y for _, y, _ in parts])
    groups = np.concatenate([g for _, _, g in parts])
    _check_mq2008(X, y, groups)


def test_mq2008_fold1(mq2008):
    fold = load_letor_fold(mq2008 / "Fold1")
    assert fold.n_features == 46
    sizes = {part: fold[part][0].shape[0] for part in ("train", "vali", "test")}
    assert sizes == {"train": 9630, "vali": 2707, "test": 2874}
    query_sets = [set(fold[part][2]) for part in ("train", "vali", "test")]
    assert sum(len(q) for q in query_sets) == 784
    assert not (query_sets[0] & query_sets[1] or query_sets[0] & query_sets[2])


# -- encodings, line endings, compression and bad lines (issue 8) ---------------


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("compress", [None, gzip.compress])
def test_bom_and_every_line_ending(tmp_path, newline, compress):
    content = b"\xef\xbb\xbf" + _letor_bytes(newline)
    path = tmp_path / "letor.txt"  # gzip is recognised by content, not name
    path.write_bytes(compress(content) if compress else content)
    _check_letor(*load_svmlight_ranking(path))
    _check_letor(*load_svmlight_ranking(io.BytesIO(path.read_bytes())))


def test_cr_only_errors_count_lines(tmp_path):
    path = tmp_path / "mac.txt"
    path.write_bytes(b"1 qid:1 1:0.5\r0 qid:1 1:0.1\r2 qid:x 1:1\r")
    with pytest.raises(ValueError, match=r"mac\.txt', line 3: the query id must be"):
        load_svmlight_ranking(path)


def test_gzip_file_object_and_long_lines(tmp_path):
    path = tmp_path / "letor.txt.gz"
    path.write_bytes(gzip.compress(_letor_bytes()))
    with gzip.open(path, "rb") as f:
        _check_letor(*load_svmlight_ranking(f))
    # lines cut across read blocks, CRLF pairs cut between blocks
    import skrank.datasets._svmlight as svm

    lines = [f"{i % 3} qid:{i // 4} 1:{i} 2:0.5" for i in range(50)]
    content = ("\r\n".join(lines) + "\r\n").encode()
    old = svm._BLOCK
    try:
        for block in (7, 16, 17, 64):
            svm._BLOCK = block
            X, y, groups = load_svmlight_ranking(io.BytesIO(content), dense=True)
            np.testing.assert_array_equal(X[:, 0], np.arange(50))
            np.testing.assert_array_equal(groups, np.arange(50) // 4)
            np.testing.assert_array_equal(y, np.arange(50) % 3)
    finally:
        svm._BLOCK = old


@pytest.mark.parametrize("value", [b"nan", b"inf", b"-inf", b"NaN"])
def test_non_finite_features(tmp_path, value):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"1 qid:1 1:0.5\n\n0 qid:1 1:0.1 7:" + value + b"\n")
    with pytest.raises(
        ValueError,
        match=r"bad\.txt', line 3: feature 7 has the value .*; features must be "
        r"finite \(pass ensure_all_finite=False",
    ):
        load_svmlight_ranking(path)
    X, _, _ = load_svmlight_ranking(path, ensure_all_finite=False, dense=True)
    assert not np.isfinite(X[1, 6])
    if value.lower() == b"nan":
        X, _, _ = load_svmlight_ranking(path, ensure_all_finite="allow-nan")
        assert np.isnan(X.toarray()[1, 6])
    else:
        with pytest.raises(ValueError, match="pass ensure_all_finite=False to load"):
            load_svmlight_ranking(path, ensure_all_finite="allow-nan")


@pytest.mark.parametrize(
    "line, reason",
    [
        (
            b"2 qid:abc 1:0.5",
            r"the query id must be an integer \(int64\). Got 'qid:abc'",
        ),
        (b"2 qid:1.5 1:0.5", r"the query id must be an integer"),
        (b"2 qid: 1:0.5", r"the query id must be an integer"),
        (b"2 qid:99999999999999999999 1:1", r"the query id must be an integer"),
        (b"x2 qid:1 1:0.5", r"the label 'x2' is not a number"),
        (b"2 qid:1 1:0.5 zz", r"'zz' is not an '<index>:<value>' pair"),
        (b"2 qid:1 a:0.5", r"the feature index in 'a:0.5' is not an integer"),
        (b"2 qid:1 3:0.5 2:1", r"feature indices must be increasing; 2 follows 3"),
        (b"2 qid:1 1:zero", r"the value of feature 1 is not a number"),
        (b"2 qid:1 -1:1", r"the feature index -1 is not in \[0, 2\*\*31\)"),
        (b"2 qid:1 3000000000:1", r"the feature index 3000000000 is not in"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"# comment\n1 qid:1 1:0.5\n" + line + b"\n0 qid:2 1:1\n")
    with pytest.raises(ValueError, match=rf"bad\.txt', line 3: {reason}"):
        load_svmlight_ranking(path)
    # the same in a gzip file
    gz = tmp_path / "bad.txt.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(ValueError, match=rf"bad\.txt\.gz', line 3: {reason}"):
        load_svmlight_ranking(gz)


def test_utf16_and_special_files(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes(_letor_bytes().decode().encode("utf-16"))
    with pytest.raises(ValueError, match=r"utf16\.txt' is UTF-16 encoded"):
        load_svmlight_ranking(path)
    with pytest.raises(ValueError, match=r"'/dev/null' is not a regular file"):
        load_svmlight_ranking("/dev/null")


def test_zero_based_false_refuses_index_zero():
    f = io.BytesIO(b"1 qid:1 1:0.5\n0 qid:1 0:0.1\n")
    with pytest.raises(ValueError, match=r"line 2: feature index 0, but zero_based"):
        load_svmlight_ranking(f, zero_based=False)


def test_absurd_feature_index():
    content = b"1 qid:1 1:0.5\n0 qid:1 999999999:1\n2 qid:2 3:1\n"
    # sparse: fine, the width is what the file says
    X, _, _ = load_svmlight_ranking(io.BytesIO(content), dtype=np.float32)
    assert X.shape == (3, 999999999) and X.nnz == 3
    with pytest.raises(
        ValueError,
        match=r"dense=True would make X of <BytesIO object> a 3 x 999999999 array "
        r"\(11\.2 GiB\) holding 3 non-zero values: the largest feature index is "
        r"999999999 \(line 2 of <BytesIO object>\)",
    ):
        load_svmlight_ranking(io.BytesIO(content), dtype=np.float32, dense=True)
    with pytest.raises(
        ValueError,
        match=r"n_features was set to 10, but <BytesIO object> has the feature "
        r"index 999999999 on line 2",
    ):
        load_svmlight_ranking(io.BytesIO(content), n_features=10)


def test_float32_sparse_never_builds_a_dense_copy():
    import tracemalloc

    rows = b"".join(
        b"%d qid:%d 1:0.5 %d:0.25\n" % (i % 3, i // 10, 1_000_000 + i)
        for i in range(2000)
    )
    tracemalloc.start()
    try:
        X, _, groups = load_svmlight_ranking(io.BytesIO(rows), dtype=np.float32)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sp.issparse(X) and X.dtype == np.float32 and X.shape == (2000, 1_001_999)
    # a dense float64 copy would be 16 GB; the sparse data are a few hundred kB
    assert peak < 50 * 2**20
    np.testing.assert_array_equal(groups, np.arange(2000) // 10)


def test_bom_split_across_tiny_reads():
    class Trickle(io.RawIOBase):
        """A stream that returns one byte per read, as a pipe may."""

        def __init__(self, data):
            self.data = data

        def readable(self):
            return True

        def read(self, size=-1):
            chunk, self.data = self.data[:1], self.data[1:]
            return chunk

    _check_letor(*load_svmlight_ranking(Trickle(b"\xef\xbb\xbf" + _letor_bytes("\r"))))
