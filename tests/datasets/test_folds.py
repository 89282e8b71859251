"""load_letor_folds: fold folders as one data set with its splits."""

import bz2
import gzip

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file

from skrank.datasets import load_letor_fold, load_letor_folds, load_ranking_data


def write_subset(path, qids, seed, compress=None):
    rng = np.random.default_rng(seed)
    n = 4 * len(qids)
    X = rng.normal(size=(n, 3))
    y = rng.integers(0, 3, n)
    dump_svmlight_file(X, y, str(path), zero_based=False, query_id=np.repeat(qids, 4))
    if compress is not None:
        data = path.read_bytes()
        path.unlink()
        opener = {"gz": gzip.compress, "bz2": bz2.compress}[compress]
        path.with_name(path.name + "." + compress).write_bytes(opener(data))


def make_folds(root, n_folds=3, compress=None, vali=True):
    subsets = [[10 * i + j for j in range(1, 4)] for i in range(3)]
    for k in range(n_folds):
        fold = root / f"Fold{k + 1}"
        fold.mkdir(parents=True)
        parts = ("train", "vali", "test") if vali else ("train", "test")
        for j, part in enumerate(parts):
            qids = subsets[(k + j) % 3]
            if not vali and part == "train":
                qids = subsets[k % 3] + subsets[(k + 2) % 3]
            write_subset(
                fold / f"{part}.txt", qids, seed=(k + j) % 3, compress=compress
            )
    return root, subsets


@pytest.mark.parametrize("compress", [None, "gz", "bz2"])
def test_folds_give_disjoint_whole_query_splits(tmp_path, compress):
    root, subsets = make_folds(tmp_path / "root", compress=compress)
    data = load_letor_folds(root, dense=True)
    assert data.X.shape == (36, 3) and data.y.shape == (36,)
    assert len(data.splits) == 3 and data.folds[0].endswith("Fold1")
    for k, (train, val, test) in enumerate(data.splits):
        assert sorted(set(data.groups[test])) == subsets[(k + 2) % 3]
        assert sorted(set(data.groups[val])) == subsets[(k + 1) % 3]
        assert sorted(set(data.groups[train])) == subsets[k]
        assert len(train) + len(val) + len(test) == 36


def test_rows_are_those_of_the_first_fold(tmp_path):
    root, _ = make_folds(tmp_path / "root")
    data = load_letor_folds(root, dtype=np.float32)
    fold = load_letor_fold(root / "Fold1", dtype=np.float32)
    assert sp.issparse(data.X) and data.X.dtype == np.float32
    stacked = sp.vstack([fold[p][0] for p in ("train", "vali", "test")]).toarray()
    np.testing.assert_array_equal(data.X.toarray(), stacked)


def test_fold_folders_without_vali(tmp_path):
    root, _ = make_folds(tmp_path / "root", vali=False)
    data = load_letor_folds(root)
    assert all(val.size == 0 for _, val, _ in data.splits)


def test_single_fold_folder_and_numeric_fold_order(tmp_path):
    for part, seed in (("train", 0), ("vali", 1), ("test", 2)):
        write_subset(tmp_path / f"{part}.txt", [seed * 10 + 1, seed * 10 + 2], seed)
    data = load_letor_folds(tmp_path)
    ((_, val, test),) = data.splits
    assert set(data.groups[test]) == {21, 22} and set(data.groups[val]) == {11, 12}
    root, _ = make_folds(tmp_path / "many", n_folds=10)
    names = [f.rsplit("/", 1)[-1] for f in load_letor_folds(root).folds]
    assert names == [f"Fold{k}" for k in range(1, 11)]


def test_letor3_file_names(tmp_path):
    # OHSUMED and the .Gov sets of LETOR 3.0 name the files of a fold
    # trainingset.txt, validationset.txt and testset.txt
    root, subsets = make_folds(tmp_path / "v4")
    renamed = tmp_path / "v3"
    names = {"train": "trainingset", "vali": "validationset", "test": "testset"}
    for fold in sorted(root.iterdir()):
        (renamed / fold.name).mkdir(parents=True)
        for part, name in names.items():
            text = (fold / f"{part}.txt").read_text()
            (renamed / fold.name / f"{name}.txt").write_text(text)
    v4, v3 = load_letor_folds(root, dense=True), load_letor_folds(renamed, dense=True)
    np.testing.assert_array_equal(v3.X, v4.X)
    for a, b in zip(v3.splits, v4.splits, strict=True):
        for rows_a, rows_b in zip(a, b, strict=True):
            np.testing.assert_array_equal(rows_a, rows_b)
    fold = load_letor_fold(renamed / "Fold1")
    assert fold.files["vali"].endswith("validationset.txt")
    # the LETOR 4.0 name wins where both are present
    write_subset(renamed / "Fold1" / "test.txt", subsets[1], seed=1)
    assert load_letor_fold(renamed / "Fold1").files["test"].endswith("/test.txt")


@pytest.mark.parametrize(
    "setup, error, fragment",
    [
        ("missing", FileNotFoundError, "No such LETOR folder"),
        ("empty", FileNotFoundError, "holds neither fold folders Fold1..FoldN nor"),
        ("file", FileNotFoundError, "No such LETOR folder"),
        ("no_test", FileNotFoundError, "needs train.txt and test.txt"),
        ("foreign", ValueError, "are not among the queries of the first fold"),
        ("noqid", ValueError, "has no 'qid:'"),
    ],
)
def test_bad_folders(tmp_path, setup, error, fragment):
    path = tmp_path / "root"
    if setup == "empty":
        path.mkdir()
    elif setup == "file":
        path.write_text("1 qid:1 1:0\n")
    elif setup in ("no_test", "foreign", "noqid"):
        make_folds(path)
        if setup == "no_test":
            (path / "Fold2" / "test.txt").unlink()
        elif setup == "foreign":
            write_subset(path / "Fold3" / "test.txt", [999], seed=0)
        else:
            (path / "Fold1" / "vali.txt").write_text("1 1:0.5\n")
    with pytest.raises(error, match=fragment):
        load_letor_folds(path)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"path": 3}, "'path' parameter"),
        ({"dense": "yes"}, "'dense' parameter"),
        ({"zero_based": "maybe"}, "'zero_based' parameter"),
    ],
)
def test_bad_parameters(tmp_path, kwargs, fragment):
    args = {"path": tmp_path, **kwargs}
    with pytest.raises(ValueError, match=fragment):
        load_letor_folds(**args)


# ------------------------------------------------------------ load_ranking_data
def test_load_ranking_data_file_and_folder(tmp_path):
    from skrank.datasets import load_ranking_data

    write_subset(tmp_path / "f.txt", [1, 2], seed=0)
    data = load_ranking_data(tmp_path / "f.txt")
    assert isinstance(data.X, np.ndarray) and data.X.dtype == np.float32
    assert data.splits is None and data.folds == []
    root, _ = make_folds(tmp_path / "root")
    data = load_ranking_data(root, dense=False)
    assert sp.issparse(data.X) and len(data.splits) == 3


def test_load_ranking_data_keeps_sparse_data_sparse(tmp_path):
    from skrank.datasets import load_ranking_data

    X = sp.random(40, 300, density=0.02, random_state=0, format="csr")
    path = tmp_path / "s.txt"
    dump_svmlight_file(
        X, np.arange(40) % 3, str(path), query_id=np.repeat(np.arange(8), 5)
    )
    assert sp.issparse(load_ranking_data(path).X)
    assert isinstance(load_ranking_data(path, dense=True).X, np.ndarray)


@pytest.mark.parametrize(
    "text, kwargs, fragment",
    [
        ("1 qid:1 999999999:1\n0 qid:1 1:1\n", {}, "999999999 feature columns"),
        ("1 qid:1 3:1\n0 qid:1 1:1\n", {"max_features": 2}, "max_features=2"),
        (
            "1 qid:1 3:1\n0 qid:1 1:1\n",
            {"dense": True, "max_dense_bytes": 4},
            "max_dense_bytes=4",
        ),
        ("1 qid:1 1:1\n", {"max_features": 0}, "'max_features' parameter"),
        ("1 qid:1 1:1\n", {"dense": "yes"}, "'dense' parameter"),
        ("1 1:1\n", {}, "has no 'qid:'"),
    ],
)
def test_load_ranking_data_bad_inputs(tmp_path, text, kwargs, fragment):
    from skrank.datasets import load_ranking_data

    path = tmp_path / "d.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=fragment):
        load_ranking_data(path, **kwargs)
    with pytest.raises(FileNotFoundError):
        load_ranking_data(tmp_path / "missing.txt")


def _table_data(n_queries=5, size=4, seed=0):
    rng = np.random.default_rng(seed)
    n = n_queries * size
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = rng.integers(0, 3, n).astype(float)
    qid = np.repeat(np.arange(n_queries) * 3 + 1, size)
    return X, y, qid


@pytest.mark.parametrize("name", ["d.csv", "d.tsv.gz", "d.parquet"])
def test_load_ranking_data_tables(tmp_path, name):
    pd = pytest.importorskip("pandas")
    if name.endswith("parquet"):
        pytest.importorskip("pyarrow")
    X, y, qid = _table_data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame.insert(0, "query", qid)
    frame["grade"] = y
    frame["doc"] = [f"d{i}" for i in range(len(y))]
    path = tmp_path / name
    if name.endswith("parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, sep="\t" if ".tsv" in name else ",")
    data = load_ranking_data(path, label="grade", qid="query", drop=["doc"])
    np.testing.assert_allclose(data.X, X, rtol=1e-6)
    assert data.X.dtype == np.float32
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.groups, qid)
    assert data.splits is None
    with pytest.raises(ValueError, match="label column 'label' is not in the table"):
        load_ranking_data(path, qid="query", drop=["doc"])


def test_load_ranking_data_lightgbm_query_file(tmp_path):
    X, y, _ = _table_data()
    path = tmp_path / "train.txt"
    dump_svmlight_file(X, y, str(path), zero_based=False)
    (tmp_path / "train.txt.query").write_text("4\n4\n4\n4\n4\n")
    data = load_ranking_data(path, dense=True)
    np.testing.assert_allclose(data.X, X, rtol=1e-6)
    np.testing.assert_array_equal(data.groups, np.repeat(np.arange(5), 4))
    (tmp_path / "train.txt.query").write_text("4\n4\n")
    with pytest.raises(ValueError, match=r"add up to the 20 rows .* Got 2 sizes"):
        load_ranking_data(path)
    (tmp_path / "train.txt.query").write_text("4\nfour\n")
    with pytest.raises(ValueError, match="one query size"):
        load_ranking_data(path)


@pytest.mark.parametrize(
    "lines, match",
    [
        ("1 1:0.5\n0 1:1\nnan 1:2\n", r"row 3: must hold .* finite and >= 0\. Got nan"),
        ("1 1:0.5\n-1 1:1\n0 1:2\n", r"row 2: must hold .* finite and >= 0\. Got -1"),
        ("1 1:0.5\n0 1:1 2:inf\n0 1:2\n", r"row 2: the value inf in column 1 of X"),
        ("1 1:nan\n0 1:1\n0 1:2\n", r"row 1: the value nan in column 0 of X"),
    ],
)
def test_load_ranking_data_lightgbm_refuses_what_svmlight_refuses(
    tmp_path, lines, match
):
    # sklearn's parser takes nan and inf: they used to load without a word
    path = tmp_path / "train.txt"
    path.write_text(lines)
    (tmp_path / "train.txt.query").write_text("3\n")
    with pytest.raises(ValueError, match=match):
        load_ranking_data(path)
