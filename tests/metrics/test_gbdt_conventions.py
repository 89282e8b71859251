"""Which skrank call reproduces LightGBM's and XGBoost's ranking eval metrics.

The metric-conventions page (docs/user_guide/metrics.rst) gives, for each
tool, the skrank keywords that give the same number. These tests check each
claim against the library itself: the library reports its eval metric on its
own predictions, skrank scores the same predictions. The predictions are a
random ``base_margin`` / ``init_score`` plus trees that cannot change them
(XGBoost ``eta=0``) or barely can (LightGBM), so they carry no ties: with
ties the libraries' numbers depend on the row order and skrank's do not
(checked last).

The data hold lists longer than 32 (XGBoost's plain ``ndcg``/``map`` cut
there), lists shorter than the cut-offs, and one query without a relevant
document, so each convention is visible in the numbers.
"""

import numpy as np
import pytest

from skrank.metrics import map_score, ndcg_score

SIZES = [40, 50, 7, 3, 60, 45, 12]
NO_RELEVANT_QUERY = 2


def make_data(n_levels, seed=0):
    """Rows sorted by query (both libraries want that), tie-free margins."""
    rng = np.random.default_rng(seed)
    qid = np.repeat(np.arange(len(SIZES)), SIZES)
    y = rng.integers(0, n_levels, qid.shape[0]).astype(float)
    y[qid == NO_RELEVANT_QUERY] = 0.0
    X = rng.normal(size=(qid.shape[0], 2))
    margin = rng.normal(size=qid.shape[0])
    return X, y, qid, margin


def xgboost_eval(X, y, qid, margin, metrics, tie_free=True, **params):
    """XGBoost's eval metrics on its predictions, and those predictions."""
    xgb = pytest.importorskip("xgboost")
    data = xgb.DMatrix(X, label=y, qid=qid, base_margin=margin)
    result = {}
    params = {"objective": "rank:ndcg", "eta": 0.0, "nthread": 1, **params}
    booster = xgb.train(
        {**params, "eval_metric": metrics},
        data,
        num_boost_round=1,
        evals=[(data, "data")],
        evals_result=result,
        verbose_eval=False,
    )
    scores = booster.predict(data, output_margin=True)
    if tie_free:
        assert np.unique(scores).shape[0] == scores.shape[0]
    return {name: values[-1] for name, values in result["data"].items()}, scores


def lightgbm_eval(X, y, qid, margin, metrics, eval_at, tie_free=True, **params):
    """LightGBM's eval metrics on its predictions, and those predictions."""
    lgb = pytest.importorskip("lightgbm")
    sizes = np.unique(qid, return_counts=True)[1]
    data = lgb.Dataset(X, y, group=sizes, init_score=margin)
    result = {}
    params = {
        "objective": "lambdarank",
        "metric": metrics,
        "eval_at": eval_at,
        "num_leaves": 4,
        "min_data_in_leaf": 5,
        "verbose": -1,
        "num_threads": 1,
        **params,
    }
    booster = lgb.train(
        params,
        data,
        num_boost_round=1,
        valid_sets=[data],
        valid_names=["data"],
        callbacks=[lgb.record_evaluation(result)],
    )
    # The eval metric sees init_score + trees; predict returns the trees only.
    scores = booster.predict(X, raw_score=True) + margin
    if tie_free:
        assert np.unique(scores).shape[0] == scores.shape[0]
    return {name: values[-1] for name, values in result["data"].items()}, scores


def naive_ap_at_k(y, scores, qid, k, denominator):
    """Mean AP@k over queries with a relevant document, no_relevant counted as 1.

    ``denominator`` names the normalisation: ``"min(R,k)"``, ``"R"`` (all
    relevant documents of the query) or ``"hits"`` (relevant ones in the top k).
    """
    values = []
    for q in np.unique(qid):
        rel = (y[qid == q] >= 1)[np.argsort(-scores[qid == q])]
        n_rel = rel.sum()
        if n_rel == 0:
            values.append(1.0)
            continue
        top = rel[:k]
        precision_at_hits = np.cumsum(top)[top] / (np.flatnonzero(top) + 1)
        norm = {"min(R,k)": min(n_rel, k), "R": n_rel, "hits": max(top.sum(), 1)}
        values.append(precision_at_hits.sum() / norm[denominator])
    return float(np.mean(values))


# -- XGBoost ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"objective": "rank:pairwise"},
        {"lambdarank_pair_method": "mean", "lambdarank_num_pair_per_sample": 8},
    ],
)
def test_xgboost_plain_ndcg_is_ndcg_at_32(params):
    X, y, qid, margin = make_data(n_levels=5)
    reported, s = xgboost_eval(
        X, y, qid, margin, ["ndcg", "ndcg@5", "ndcg-", "ndcg@5-"], **params
    )
    at_32 = ndcg_score(y, s, qid, k=32, no_relevant=1.0)
    assert reported["ndcg"] == pytest.approx(at_32, rel=1e-6)
    # ... and not the whole list, whatever the objective's pair settings:
    assert abs(reported["ndcg"] - ndcg_score(y, s, qid, no_relevant=1.0)) > 1e-3
    assert reported["ndcg@5"] == pytest.approx(
        ndcg_score(y, s, qid, k=5, no_relevant=1.0), rel=1e-6
    )
    # a query without a relevant document scores 1, or 0 with the "-" suffix
    assert reported["ndcg-"] == pytest.approx(
        ndcg_score(y, s, qid, k=32, no_relevant=0.0), rel=1e-6
    )
    assert reported["ndcg@5-"] == pytest.approx(
        ndcg_score(y, s, qid, k=5, no_relevant=0.0), rel=1e-6
    )
    assert abs(reported["ndcg"] - ndcg_score(y, s, qid, k=32)) > 1e-3


def test_xgboost_ndcg_exp_gain_false_is_linear_gain():
    X, y, qid, margin = make_data(n_levels=5)
    reported, s = xgboost_eval(X, y, qid, margin, ["ndcg@10"], ndcg_exp_gain=False)
    linear = ndcg_score(y, s, qid, k=10, gain="linear", no_relevant=1.0)
    assert reported["ndcg@10"] == pytest.approx(linear, rel=1e-6)
    assert abs(linear - ndcg_score(y, s, qid, k=10, no_relevant=1.0)) > 1e-3


def test_xgboost_map_is_map_at_32_with_min_r_k_denominator():
    X, y, qid, margin = make_data(n_levels=2)
    reported, s = xgboost_eval(X, y, qid, margin, ["map", "map@5", "map-"])
    assert reported["map"] == pytest.approx(
        map_score(y, s, qid, k=32, no_relevant=1.0), rel=1e-6
    )
    assert abs(reported["map"] - map_score(y, s, qid, no_relevant=1.0)) > 1e-3
    assert reported["map-"] == pytest.approx(
        map_score(y, s, qid, k=32, no_relevant=0.0), rel=1e-6
    )
    at_5 = map_score(y, s, qid, k=5, no_relevant=1.0)
    assert reported["map@5"] == pytest.approx(at_5, rel=1e-6)
    # AP@k divides by min(R, k), not by R nor by the hits in the top k
    assert at_5 == pytest.approx(naive_ap_at_k(y, s, qid, 5, "min(R,k)"))
    for other in ("R", "hits"):
        assert abs(at_5 - naive_ap_at_k(y, s, qid, 5, other)) > 1e-3


def test_xgboost_map_refuses_graded_labels():
    xgb = pytest.importorskip("xgboost")
    X, y, qid, margin = make_data(n_levels=5)
    with pytest.raises(xgb.core.XGBoostError, match="binary labels"):
        xgboost_eval(X, y, qid, margin, ["map"])


# -- LightGBM -----------------------------------------------------------------


def test_lightgbm_ndcg_and_map_at_k():
    X, y, qid, margin = make_data(n_levels=5)
    eval_at = [3, 5, 32, 1000]
    reported, s = lightgbm_eval(X, y, qid, margin, ["ndcg", "map"], eval_at)
    for k in eval_at:
        cut = None if k >= max(SIZES) else k
        assert reported[f"ndcg@{k}"] == pytest.approx(
            ndcg_score(y, s, qid, k=cut, no_relevant=1.0), rel=1e-6
        )
        # MAP: relevant means label > 0 (graded labels accepted), AP@k
        # divides by min(R, k), a query without a relevant document scores 1
        assert reported[f"map@{k}"] == pytest.approx(
            map_score(y, s, qid, k=cut, no_relevant=1.0), rel=1e-6
        )
    assert reported["map@5"] == pytest.approx(naive_ap_at_k(y, s, qid, 5, "min(R,k)"))
    for other in ("R", "hits"):
        assert abs(reported["map@5"] - naive_ap_at_k(y, s, qid, 5, other)) > 1e-3
    assert abs(reported["ndcg@5"] - ndcg_score(y, s, qid, k=5)) > 1e-3


def test_lightgbm_default_eval_at_is_1_to_5():
    X, y, qid, margin = make_data(n_levels=5)
    lgb = pytest.importorskip("lightgbm")
    sizes = np.unique(qid, return_counts=True)[1]
    ranker = lgb.LGBMRanker(n_estimators=1, num_leaves=4, verbose=-1, n_jobs=1)
    ranker.fit(
        X,
        y,
        group=sizes,
        init_score=margin,
        eval_X=(X,),
        eval_y=(y,),
        eval_group=[sizes],
        eval_init_score=[margin],
    )
    (reported,) = ranker.evals_result_.values()
    assert sorted(reported) == [f"ndcg@{k}" for k in range(1, 6)]


def test_lightgbm_linear_label_gain_is_linear_gain():
    X, y, qid, margin = make_data(n_levels=5)
    reported, s = lightgbm_eval(
        X, y, qid, margin, ["ndcg"], [10], label_gain=list(range(5))
    )
    linear = ndcg_score(y, s, qid, k=10, gain="linear", no_relevant=1.0)
    assert reported["ndcg@10"] == pytest.approx(linear, rel=1e-6)
    assert abs(linear - ndcg_score(y, s, qid, k=10, no_relevant=1.0)) > 1e-3


# -- ties ---------------------------------------------------------------------


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_with_ties_the_libraries_follow_row_order_skrank_does_not(library):
    pytest.importorskip(library)
    X = np.zeros((4, 1))
    qid = np.zeros(4, dtype=int)
    constant = np.zeros(4)
    reported = []
    for y in ([3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 3.0]):
        y = np.array(y)
        if library == "xgboost":
            value, _ = xgboost_eval(X, y, qid, constant, ["ndcg"], tie_free=False)
        else:
            value, _ = lightgbm_eval(X, y, qid, constant, ["ndcg"], [4], tie_free=False)
        reported.append(value["ndcg" if library == "xgboost" else "ndcg@4"])
    # the relevant document first in the file: perfect; last: the worst order
    assert reported[0] == pytest.approx(1.0)
    assert reported[1] == pytest.approx(1 / np.log2(5))
    expected = ndcg_score([3, 0, 0, 0], constant, qid)
    assert ndcg_score([0, 0, 0, 3], constant, qid) == expected
    assert reported[1] < expected < reported[0]


def test_xgbranker_default_eval_metric_is_ndcg_at_32():
    X, y, qid, margin = make_data(n_levels=5)
    xgb = pytest.importorskip("xgboost")
    ranker = xgb.XGBRanker(n_estimators=1, learning_rate=0.0, n_jobs=1)
    ranker.fit(
        X,
        y,
        qid=qid,
        base_margin=margin,
        eval_set=[(X, y)],
        eval_qid=[qid],
        base_margin_eval_set=[margin],
    )
    reported = ranker.evals_result()["validation_0"]
    assert list(reported) == ["ndcg@32"]
    s = ranker.predict(X, output_margin=True, base_margin=margin)
    assert reported["ndcg@32"][-1] == pytest.approx(
        ndcg_score(y, s, qid, k=32, no_relevant=1.0), rel=1e-6
    )
