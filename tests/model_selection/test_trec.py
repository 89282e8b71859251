import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold

from skrank.metrics import ndcg_score
from skrank.model_selection import compare_rankers


@pytest.fixture
def result():
    rng = np.random.default_rng(0)
    qid = np.repeat(np.arange(8) * 10 + 3, 5)
    X = rng.normal(size=(qid.shape[0], 3))
    y = np.clip(np.round(X[:, 0] + 1), 0, 3)
    res = compare_rankers(
        {"ridge": Ridge(), "const": DummyRegressor()}, X, y, qid, cv=GroupKFold(2)
    )
    return res, X, y, qid


def _parse_run(text):
    return [line.split() for line in text.splitlines()]


def test_run_and_qrels_hold_every_held_out_document(result):
    res, X, y, qid = result
    run = _parse_run(res.to_trec_run("ridge"))
    qrels = [line.split() for line in res.to_trec_qrels().splitlines()]
    assert len(run) == len(qrels) == X.shape[0]
    rows = np.array([int(r[2][1:]) for r in run])
    np.testing.assert_array_equal(np.sort(rows), np.arange(X.shape[0]))
    for q, zero, doc, label in qrels:
        row = int(doc[1:])
        assert zero == "0" and int(q) == qid[row] and int(label) == y[row]
    # ranks are 1..n inside each query, by decreasing score
    for q in np.unique(qid):
        lines = [r for r in run if int(r[0]) == q]
        assert [int(r[3]) for r in lines] == list(range(1, len(lines) + 1))
        scores = [float(r[4]) for r in lines]
        assert scores == sorted(scores, reverse=True)
        assert {r[1] for r in lines} == {"Q0"} and {r[5] for r in lines} == {"ridge"}


def test_run_scores_reproduce_the_comparison(result):
    res, X, y, qid = result
    run = _parse_run(res.to_trec_run("ridge", run_name="my run"))
    assert {r[5] for r in run} == {"my_run"}
    rows = np.array([int(r[2][1:]) for r in run])
    scores = np.empty(X.shape[0])
    scores[rows] = [float(r[4]) for r in run]
    # the run's scores give the comparison's per-query NDCG@10 (mean over queries)
    assert ndcg_score(y, scores, qid, k=10) == pytest.approx(
        res.scores["ridge"]["ndcg@10"].mean()
    )


def test_repeated_splits_need_a_split(result):
    _, X, y, qid = result
    rows = np.arange(X.shape[0])
    split = (rows[qid < 40], rows[qid >= 40])
    res = compare_rankers({"ridge": Ridge()}, X, y, qid, cv=[split, split])
    with pytest.raises(ValueError, match="pass split=i"):
        res.to_trec_run("ridge")
    assert len(res.to_trec_run("ridge", split=1).splitlines()) == split[1].shape[0]
    with pytest.raises(ValueError, match=r"split must be in \[0, 1\]. Got 2"):
        res.to_trec_qrels(split=2)
    with pytest.raises(ValueError, match="Unknown model 'lasso'"):
        res.to_trec_run("lasso")


def test_fractional_labels_and_ranx(result):
    res = result[0]
    res.predictions["y"] = res.predictions["y"] + 0.5
    with pytest.raises(ValueError, match="integer labels"):
        res.to_trec_qrels()
    res.predictions["y"] = res.predictions["y"] - 0.5
    ranx = pytest.importorskip("ranx")
    qrels, run = res.to_ranx("ridge")
    assert isinstance(qrels, ranx.Qrels) and isinstance(run, ranx.Run)
