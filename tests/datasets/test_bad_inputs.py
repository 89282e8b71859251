"""Every public loader and generator of skrank.datasets against bad inputs."""

import gzip
import io

import numpy as np
import pytest

from skrank.datasets import (
    load_letor_fold,
    load_svmlight_ranking,
    load_svmlight_ranking_files,
    make_ranking,
)

GOOD = b"1 qid:1 1:0.5 2:1\n0 qid:1 2:0.25\n"

# (case, file content, kwargs, exception, message)
CONTENT_CASES = [
    ("empty", b"", {}, ValueError, "holds no data lines"),
    ("comments only", b"# a\n\n  # b\n", {}, ValueError, "holds no data lines"),
    ("no qid", b"1 1:0.5\n", {}, ValueError, r"no 'qid:' on 1 of its 1 data lines"),
    ("qid text", b"1 qid:q1 1:0.5\n", {}, ValueError, "line 1: the query id must"),
    ("qid float", b"1 qid:1 1:1\n0 qid:2.0 1:1\n", {}, ValueError, "line 2: the query"),
    ("label text", b"one qid:1 1:1\n", {}, ValueError, "line 1: the label 'one'"),
    ("label negative", b"-1 qid:1 1:1\n", {}, ValueError, "Got -1 on line 1"),
    ("label NaN", b"nan qid:1 1:1\n", {}, ValueError, "Got nan on line 1"),
    ("feature NaN", b"1 qid:1 1:nan\n", {}, ValueError, "line 1: feature 1 has"),
    ("feature inf", b"1 qid:1 4:inf\n", {}, ValueError, "line 1: feature 4 has"),
    (
        "feature 1e39 f32",
        b"1 qid:1 1:1e39\n",
        {"dtype": np.float32},
        ValueError,
        "feature 1 has the value inf",
    ),
    ("pair", b"1 qid:1 1\n", {}, ValueError, "'1' is not an '<index>:<value>' pair"),
    ("index text", b"1 qid:1 x:1\n", {}, ValueError, "not an integer"),
    ("index order", b"1 qid:1 2:1 1:1\n", {}, ValueError, "must be increasing"),
    ("index 0", b"1 qid:1 0:1\n", {"zero_based": False}, ValueError, "feature index 0"),
    ("value text", b"1 qid:1 1:x\n", {}, ValueError, "feature 1 is not a number"),
    ("UTF-16", GOOD.decode().encode("utf-16"), {}, ValueError, "UTF-16 encoded"),
    ("n_features", GOOD, {"n_features": 1}, ValueError, "n_features was set to 1"),
    (
        "absurd dense",
        b"1 qid:1 2000000000:1\n" * 2,
        {"dense": True},
        ValueError,
        "dense=True would make X",
    ),
    (
        "dtype int",
        GOOD,
        {"dtype": np.int64},
        ValueError,
        "'dtype' parameter of load_.* must be a floating",
    ),
    ("dtype junk", GOOD, {"dtype": "junk"}, ValueError, "must be a floating dtype"),
    ("dense str", GOOD, {"dense": "yes"}, ValueError, "The 'dense' parameter"),
    ("n_features 0", GOOD, {"n_features": 0}, ValueError, "The 'n_features' parameter"),
    ("zero_based", GOOD, {"zero_based": "maybe"}, ValueError, "'zero_based' parameter"),
    ("finite", GOOD, {"ensure_all_finite": "x"}, ValueError, "'ensure_all_finite'"),
]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    "case, content, kwargs, exc, match",
    CONTENT_CASES,
    ids=[c[0] for c in CONTENT_CASES],
)
def test_loader_bad_content(tmp_path, compress, case, content, kwargs, exc, match):
    path = tmp_path / "data.txt"
    path.write_bytes(gzip.compress(content) if compress else content)
    with pytest.raises(exc, match=match):
        load_svmlight_ranking(path, **kwargs)
    with pytest.raises(exc, match=match):
        load_svmlight_ranking_files([tmp_path / "data.txt"], **kwargs)
    fold = tmp_path / "fold"
    fold.mkdir()
    (fold / "train.txt").write_bytes(path.read_bytes())
    with pytest.raises(exc, match=match):
        load_letor_fold(fold, parts=("train",), **kwargs)


@pytest.mark.parametrize(
    "source, exc, match",
    [
        (12.5, ValueError, "The 'path_or_file' parameter"),
        (None, ValueError, "The 'path_or_file' parameter"),
        ("no/such/file.txt", FileNotFoundError, "No such SVMlight file"),
        ("/dev/null", ValueError, "is not a regular file"),
        (".", IsADirectoryError, "is a folder"),
        (io.StringIO("1 qid:1 1:1\n"), TypeError, "open in text mode"),
    ],
)
def test_loader_bad_sources(source, exc, match):
    with pytest.raises(exc, match=match):
        load_svmlight_ranking(source)


@pytest.mark.parametrize(
    "files, exc, match",
    [
        ([], ValueError, "files is empty"),
        ("a.txt", ValueError, "The 'files' parameter"),
        (io.BytesIO(GOOD), ValueError, "The 'files' parameter"),
        ([io.BytesIO(GOOD), "no/such.txt"], FileNotFoundError, "No such SVMlight"),
    ],
)
def test_load_files_bad_inputs(files, exc, match):
    with pytest.raises(exc, match=match):
        load_svmlight_ranking_files(files)


@pytest.mark.parametrize(
    "folder, parts, exc, match",
    [
        (None, ("train",), ValueError, "The 'folder' parameter"),
        ("no/such/fold", ("train",), FileNotFoundError, "No such LETOR fold folder"),
        (".", (), ValueError, "parts must be a non-empty sequence"),
        (".", ("train", "train"), ValueError, "must not repeat"),
        (".", ("files",), ValueError, "cannot be named"),
        (".", ("nonexistent",), FileNotFoundError, "has no 'nonexistent.txt'"),
        (".", 3, ValueError, "The 'parts' parameter"),
    ],
)
def test_load_letor_fold_bad_inputs(tmp_path, monkeypatch, folder, parts, exc, match):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc, match=match):
        load_letor_fold(folder, parts=parts)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_queries": 0}, "The 'n_queries' parameter of make_ranking"),
        ({"n_queries": 1.5}, "The 'n_queries' parameter of make_ranking"),
        ({"n_features": 0}, "The 'n_features' parameter"),
        ({"n_informative": 0}, "The 'n_informative' parameter"),
        ({"n_grades": 1}, "The 'n_grades' parameter"),
        ({"noise": -1}, "The 'noise' parameter"),
        ({"noise": np.nan}, "The 'noise' parameter"),
        ({"query_effect": -1}, "The 'query_effect' parameter"),
        ({"no_relevant_fraction": 2}, "The 'no_relevant_fraction' parameter"),
        ({"list_length": 0}, "The 'list_length' parameter"),
        ({"list_length": (5, 2)}, r"list_length must be an int >= 1 or a tuple"),
        ({"list_length": (0, 2)}, r"list_length must be an int >= 1 or a tuple"),
        ({"heavy_tailed": 2}, "The 'heavy_tailed' parameter"),
        ({"shuffle": "no"}, "The 'shuffle' parameter"),
        ({"random_state": "x"}, "The 'random_state' parameter"),
    ],
)
def test_make_ranking_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_ranking(**kwargs)
