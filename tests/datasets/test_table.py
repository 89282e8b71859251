import numpy as np
import pytest

from skrank.datasets import load_ranking_table

pd = pytest.importorskip("pandas")


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "doc": ["d1", "d2", "d3", "d4", "d5"],
            "qid": ["b", "a", "b", "a", "a"],
            "f1": [0.5, 1.0, -2.0, 3.0, 0.0],
            "label": [1, 0, 2, 0, 1],
            "f2": [1, 2, 3, 4, 5],
        }
    )


def _check(X, y, groups, frame):
    np.testing.assert_array_equal(X, frame[["f1", "f2"]].to_numpy(float))
    np.testing.assert_array_equal(y, frame["label"].to_numpy(float))
    np.testing.assert_array_equal(groups, frame["qid"].to_numpy())


def test_dataframe_dict_csv_parquet_agree(frame, tmp_path):
    before = frame.copy()
    _check(*load_ranking_table(frame, drop=["doc"]), frame)
    pd.testing.assert_frame_equal(frame, before)
    _check(*load_ranking_table(frame.to_dict("list"), drop=["doc"]), frame)
    frame.to_csv(tmp_path / "t.csv", index=False)
    _check(*load_ranking_table(tmp_path / "t.csv", drop=["doc"]), frame)
    frame.to_csv(tmp_path / "t.tsv.gz", index=False, sep="\t")
    _check(*load_ranking_table(str(tmp_path / "t.tsv.gz"), drop=["doc"]), frame)
    pytest.importorskip("pyarrow")
    frame.to_parquet(tmp_path / "t.parquet")
    _check(*load_ranking_table(tmp_path / "t.parquet", drop=["doc"]), frame)


def test_custom_columns_dtype_and_frame(frame):
    renamed = frame.rename(columns={"qid": "query", "label": "grade"})
    X, y, groups = load_ranking_table(
        renamed,
        label="grade",
        qid="query",
        drop=["doc"],
        dtype=np.float32,
        as_frame=True,
    )
    assert list(X.columns) == ["f1", "f2"]
    assert X.dtypes.unique().tolist() == [np.float32]
    assert y.dtype == np.float64
    np.testing.assert_array_equal(groups, frame["qid"].to_numpy())


@pytest.mark.parametrize(
    "kwargs, change, error, match",
    [
        ({}, None, ValueError, r"Feature columns must be numeric. Got doc"),
        (
            {"label": "grade", "drop": ["doc"]},
            None,
            ValueError,
            "label column 'grade' is not in the table",
        ),
        (
            {"qid": "q", "drop": ["doc"]},
            None,
            ValueError,
            "qid column 'q' is not in the table",
        ),
        ({"drop": ["nope"]}, None, ValueError, r"drop names columns .*'nope'"),
        ({"drop": ["doc", "f1", "f2"]}, None, ValueError, "no feature column"),
        ({"label": "qid", "drop": ["doc"]}, None, ValueError, "same column"),
        (
            {"drop": ["doc"]},
            ("f1", np.nan),
            ValueError,
            r"'f1' has a non-finite value \(nan\) in row 0",
        ),
        ({"drop": ["doc"]}, ("label", -1), ValueError, "label must hold graded"),
        ({"drop": ["doc"]}, ("qid", None), ValueError, "qid contains None"),
        ({"drop": "doc"}, None, ValueError, "'drop' parameter"),
    ],
)
def test_bad_tables(frame, kwargs, change, error, match):
    if change is not None:
        frame = frame.astype({change[0]: object})
        frame.loc[0, change[0]] = change[1]
        if change[0] == "f1":
            frame["f1"] = frame["f1"].astype(float)
    with pytest.raises(error, match=match):
        load_ranking_table(frame, **kwargs)


@pytest.mark.parametrize(
    "data, error, match",
    [
        ("missing.csv", FileNotFoundError, "No such table file"),
        ("table.json", ValueError, "Cannot tell the format"),
        (np.zeros((3, 3)), TypeError, "Got ndarray instead"),
    ],
)
def test_bad_sources(tmp_path, data, error, match):
    if isinstance(data, str):
        if data.endswith(".json"):
            (tmp_path / data).write_text("{}")
        data = tmp_path / data
    with pytest.raises(error, match=match):
        load_ranking_table(data)
