import json
import math

import numpy as np
import pytest
import sklearn
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrank.metrics import ndcg_score, per_query_scores
from skrank.model_selection import (
    GroupSizeRanker,
    RankerComparison,
    check_query_splits,
    compare_rankers,
)
from skrank.model_selection._stats import adjust_pvalues as _adjust
from skrank.model_selection._stats import paired_tests as _paired_tests


def make_data(n_queries=40, size=8, seed=0, shuffle=True):
    rng = np.random.default_rng(seed)
    n = n_queries * size
    X = rng.normal(size=(n, 5))
    y = np.clip(np.round(X[:, 0] + 0.5 * rng.normal(size=n) + 0.5), 0, 3)
    groups = np.repeat(np.arange(100, 100 + n_queries), size)
    if shuffle:
        perm = rng.permutation(n)
        X, y, groups = X[perm], y[perm], groups[perm]
    return X, y, groups


class GroupSpy(RegressorMixin, BaseEstimator):
    """Records the query ids it is fitted and asked to predict on."""

    def fit(self, X, y, groups=None):
        if groups is None:
            raise ValueError("GroupSpy.fit got no groups")
        self.fit_groups_ = np.asarray(groups)
        self.coef_ = np.linalg.lstsq(X, y, rcond=None)[0]
        return self

    def predict(self, X, groups=None):
        if groups is None:
            raise ValueError("GroupSpy.predict got no groups")
        self.predict_groups_ = np.asarray(groups)
        return X @ self.coef_


class SizeRanker(BaseEstimator):
    """A stand-in for LGBMRanker: needs contiguous rows and group sizes."""

    def fit(self, X, y, group=None):
        sizes = np.asarray(group)
        if sizes.sum() != X.shape[0]:
            raise ValueError("group sizes do not add up")
        self.coef_ = np.linalg.lstsq(X, y, rcond=None)[0]
        self.sizes_ = sizes
        return self

    def predict(self, X):
        return X @ self.coef_


# ------------------------------------------------------------ splits
def test_check_query_splits_default_is_group_kfold():
    X, y, g = make_data()
    splits = check_query_splits(None, X, y, g)
    assert len(splits) == 5
    tested = np.concatenate([test for _, _, test in splits])
    assert np.array_equal(np.sort(tested), np.arange(len(y)))
    for train, val, test in splits:
        assert val.size == 0
        assert not np.isin(g[train], g[test]).any()


def test_check_query_splits_int_and_splitter():
    X, y, g = make_data()
    assert len(check_query_splits(3, X, y, g)) == 3
    assert len(check_query_splits(LeaveOneGroupOut(), X, y, g)) == 40


def test_kfold_that_splits_queries_is_refused():
    X, y, g = make_data(shuffle=True)
    with pytest.raises(ValueError, match="splits queries across train and test"):
        check_query_splits(KFold(5), X, y, g)
    with pytest.raises(ValueError, match="GroupKFold"):
        compare_rankers({"r": Ridge()}, X, y, g, cv=KFold(5))


def test_fixed_triples_checked():
    X, y, g = make_data(n_queries=6, size=2, shuffle=False)
    rows = np.arange(12)
    ok = (rows[:8], rows[8:10], rows[10:])
    assert len(check_query_splits([ok], X, y, g)) == 1
    bad = (rows[:9], rows[9:10], rows[10:])  # query of rows 8, 9 cut
    with pytest.raises(ValueError, match="across train and validation"):
        check_query_splits([bad], X, y, g)
    with pytest.raises(ValueError, match="Split 0 has 4 parts"):
        check_query_splits([(rows, rows, rows, rows)], X, y, g)
    with pytest.raises(ValueError, match="no test rows"):
        check_query_splits([(rows, rows[:0])], X, y, g)


@pytest.mark.parametrize("cv", [1, "five", 0])
def test_bad_cv(cv):
    X, y, g = make_data()
    with pytest.raises(ValueError, match="The 'cv' parameter"):
        check_query_splits(cv, X, y, g)


def test_too_many_folds():
    X, y, g = make_data(n_queries=3)
    with pytest.raises(ValueError, match="Cannot make 5 splits of 3 queries"):
        check_query_splits(5, X, y, g)


# ------------------------------------------------------------ compare
@pytest.fixture(scope="module")
def result():
    X, y, g = make_data(n_queries=60)
    models = {
        "constant": DummyRegressor(),
        "ridge": Ridge(),
        "spy": GroupSpy(),
        "pipe": make_pipeline(StandardScaler(), Ridge()),
    }
    return compare_rankers(
        models, X, y, g, cv=GroupKFold(4), metrics=("ndcg@5", "map"), baseline="ridge"
    )


def test_result_holds_per_query_scores_matching_metrics():
    X, y, g = make_data(n_queries=30)
    res = compare_rankers({"ridge": Ridge()}, X, y, g, cv=3, metrics=["ndcg@5"])
    assert isinstance(res, RankerComparison)
    # every query tested once; its score equals the metric on its test predictions
    assert np.array_equal(np.sort(res.query_ids), np.unique(g))
    for s, (train, _, test) in enumerate(check_query_splits(3, X, y, g)):
        model = Ridge().fit(X[train], y[train])
        qids, scores = per_query_scores(
            y[test], model.predict(X[test]), g[test], metrics=["ndcg@5"]
        )
        mine = res.scores["ridge"]["ndcg@5"][res.splits == s]
        assert np.array_equal(res.query_ids[res.splits == s], qids)
        np.testing.assert_allclose(mine, scores["ndcg@5"])
        mean = res.summary("ndcg@5")["ridge"]["split_means"][s]
        assert mean == pytest.approx(
            ndcg_score(y[test], model.predict(X[test]), g[test], k=5)
        )


def test_groups_reach_fit_and_predict(result):
    # the spy raises without groups, so a finished comparison means they arrived
    assert result.baseline == "ridge"
    assert result.model_names == ["constant", "ridge", "spy", "pipe"]
    assert result.n_splits == 4

    class KeywordsSpy(GroupSpy):  # swallows keywords, names no groups: gets none
        def fit(self, X, y, **kwargs):
            return super().fit(X, y, kwargs.get("groups"))

    with pytest.raises(ValueError, match=r"(?s)no groups.*'spy' on split 1 of 2"):
        compare_rankers({"spy": KeywordsSpy()}, *make_data(), cv=2)


def test_spy_gets_whole_queries():
    X, y, g = make_data(n_queries=20)
    seen = []

    class Spy(GroupSpy):
        def predict(self, X, groups=None):
            seen.append((self.fit_groups_, np.asarray(groups)))
            return super().predict(X, groups)

    compare_rankers({"spy": Spy()}, X, y, g, cv=4, metrics="map")
    assert len(seen) == 4
    for fit_groups, test_groups in seen:
        assert fit_groups.shape[0] + test_groups.shape[0] == len(y)
        assert not np.isin(fit_groups, test_groups).any()


def test_summary_fields(result):
    s = result.summary("map")
    for name in result.model_names:
        row = s[name]
        assert row["ci_low"] <= row["query_mean"] <= row["ci_high"]
        assert row["split_means"].shape == (4,)
        assert row["mean"] == pytest.approx(np.mean(row["split_means"]))
        assert row["std"] == pytest.approx(np.std(row["split_means"], ddof=1))
        assert row["fit_time"] >= 0 and row["predict_time"] >= 0
    assert s["ridge"]["mean"] > s["constant"]["mean"]


def test_ci_is_t_interval(result):
    v = result.scores["ridge"]["map"]
    v = v[~np.isnan(v)]
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    s = result.summary("map")["ridge"]
    assert s["ci_low"] == pytest.approx(lo)
    assert s["ci_high"] == pytest.approx(hi)


def test_significance_matches_scipy_and_holm(result):
    tests = result.significance("ndcg@5")
    assert set(tests) == {"constant", "spy", "pipe"}
    base = result.scores["ridge"]["ndcg@5"]
    raw_t = {}
    for name in tests:
        v = result.scores[name]["ndcg@5"]
        ok = ~np.isnan(v) & ~np.isnan(base)
        d = v[ok] - base[ok]
        assert tests[name]["n"] == ok.sum()
        assert tests[name]["diff"] == pytest.approx(d.mean())
        raw_t[name] = tests[name]["t_pvalue"]
        if np.any(d != 0) and not np.all(d == d[0]):
            assert raw_t[name] == pytest.approx(stats.ttest_rel(v[ok], base[ok]).pvalue)
    # the constant model is much worse than ridge: significant
    assert tests["constant"]["significant"]
    assert tests["constant"]["diff"] < 0
    # spy is the same least-squares model on the same data: not significant
    assert not tests["pipe"]["significant"]


def test_holm_adjustment():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.005])
    adj = _adjust(p, "holm")
    # sorted: 0.005*4, 0.01*3, 0.03*2, 0.04*1, made monotone
    np.testing.assert_allclose(adj, [0.03, 0.06, 0.06, np.nan, 0.02])
    np.testing.assert_allclose(
        _adjust(p, "bonferroni"), [0.04, 0.16, 0.12, np.nan, 0.02]
    )
    np.testing.assert_allclose(_adjust(p, "none"), p)


def test_paired_tests_edge_cases():
    assert _paired_tests(np.zeros(5)) == (1.0, 1.0)
    t, w = _paired_tests(np.full(10, 0.1))
    assert t == 0.0 and w < 0.01
    # equal up to rounding (0.6 - 0.5 != 0.8 - 0.7): still a constant shift
    t, _ = _paired_tests(
        np.array([0.6, 0.8, 0.9, 0.7]) - np.array([0.5, 0.7, 0.8, 0.6])
    )
    assert t == 0.0
    assert all(math.isnan(v) for v in _paired_tests(np.array([0.3])))


def test_identical_models_are_not_different():
    X, y, g = make_data(n_queries=30)
    res = compare_rankers({"a": Ridge(), "b": Ridge()}, X, y, g, cv=3, metrics="map")
    t = res.significance()["b"]
    assert t["diff"] == 0 and t["ties"] == t["n"]
    assert t["t_pvalue"] == 1.0 and not t["significant"]


def test_skipped_queries_are_nan_and_left_out():
    X, y, g = make_data(n_queries=30)
    y = y.copy()
    y[g == 101] = 0  # one query without a relevant document
    res = compare_rankers({"r": Ridge(), "d": DummyRegressor()}, X, y, g, metrics="map")
    v = res.scores["r"]["map"]
    assert np.isnan(v[res.query_ids == 101]).all()
    assert res.summary("map")["r"]["n_queries"] == 29
    assert res.significance("map")["d"]["n"] == 29


def test_classifier_ranked_by_expected_label():
    X, y, g = make_data(n_queries=30)
    res = compare_rankers(
        {"ridge": Ridge(), "logreg": LogisticRegression(max_iter=500)},
        X,
        y,
        g,
        cv=3,
        metrics="ndcg@5",
    )
    assert res.summary()["logreg"]["mean"] > 0.6


def test_group_size_ranker_adapter():
    X, y, g = make_data(n_queries=20)
    ranker = GroupSizeRanker(SizeRanker()).fit(X, y, groups=g)
    assert ranker.estimator_.sizes_.tolist() == [8] * 20
    np.testing.assert_allclose(
        ranker.predict(X),
        LinearRegression(fit_intercept=False).fit(X, y).predict(X),
        atol=1e-8,
    )
    res = compare_rankers(
        {"ridge": Ridge(), "sized": GroupSizeRanker(SizeRanker())}, X, y, g, cv=4
    )
    assert res.summary()["sized"]["mean"] > 0.5


def test_lightgbm_adapter():
    lightgbm = pytest.importorskip("lightgbm")
    X, y, g = make_data(n_queries=30)
    model = GroupSizeRanker(
        lightgbm.LGBMRanker(n_estimators=10, verbose=-1, random_state=0)
    )
    res = compare_rankers({"ridge": Ridge(), "lgbm": model}, X, y, g, cv=3)
    assert res.summary()["lgbm"]["mean"] > 0.5


def test_xgboost_adapter():
    xgboost = pytest.importorskip("xgboost")
    X, y, g = make_data(n_queries=30)
    model = GroupSizeRanker(xgboost.XGBRanker(n_estimators=10, random_state=0))
    res = compare_rankers({"ridge": Ridge(), "xgb": model}, X, y, g, cv=3)
    assert res.summary()["xgb"]["mean"] > 0.5


def test_pipeline_with_groups_routing_on_and_off():
    X, y, g = make_data(n_queries=20)
    pipe = make_pipeline(StandardScaler(), GroupSizeRanker(SizeRanker()))
    res = compare_rankers({"pipe": pipe}, X, y, g, cv=4)
    assert res.summary()["pipe"]["mean"] > 0.5
    with sklearn.config_context(enable_metadata_routing=True):
        res = compare_rankers({"pipe": pipe}, X, y, g, cv=4)
    assert res.summary()["pipe"]["mean"] > 0.5


def test_n_jobs_gives_same_scores():
    X, y, g = make_data(n_queries=30)
    models = {"ridge": Ridge(), "spy": GroupSpy()}
    a = compare_rankers(models, X, y, g, cv=3, n_jobs=1)
    b = compare_rankers(models, X, y, g, cv=3, n_jobs=2)
    for name in models:
        np.testing.assert_array_equal(
            a.scores[name]["ndcg@5"], b.scores[name]["ndcg@5"]
        )


def test_callback_and_verbose(capsys):
    X, y, g = make_data(n_queries=20)
    infos = []
    compare_rankers(
        {"a": Ridge(), "b": Ridge()}, X, y, g, cv=2, callback=infos.append, verbose=1
    )
    assert [i["done"] for i in infos] == [1, 2, 3, 4]
    assert infos[-1]["total"] == 4 and infos[0]["model"] == "a"
    assert "[4/4] b split 2/2" in capsys.readouterr().out


def test_inputs_not_modified():
    X, y, g = make_data(n_queries=20)
    X0, y0, g0 = X.copy(), y.copy(), g.copy()
    compare_rankers({"r": Ridge()}, X, y, g, cv=2)
    assert np.array_equal(X, X0) and np.array_equal(y, y0) and np.array_equal(g, g0)


def test_bad_arguments():
    X, y, g = make_data(n_queries=20)
    with pytest.raises(
        ValueError, match=r"'estimators' parameter .* instance of 'dict'"
    ):
        compare_rankers([Ridge()], X, y, g)
    with pytest.raises(ValueError, match=r"'baseline' parameter .* one of the model"):
        compare_rankers({"r": Ridge()}, X, y, g, baseline="x")
    with pytest.raises(ValueError, match="The 'correction' parameter"):
        compare_rankers({"r": Ridge()}, X, y, g, correction="fdr")
    with pytest.raises(ValueError, match="The 'alpha' parameter"):
        compare_rankers({"r": Ridge()}, X, y, g, alpha=2)
    with pytest.raises(ValueError, match="Unknown ranking metric 'ndcg@x'"):
        compare_rankers({"r": Ridge()}, X, y, g, metrics=["ndcg@x"])
    with pytest.raises(ValueError, match="groups has 3 entries but X has 160 rows"):
        compare_rankers({"r": Ridge()}, X, y, g[:3])


def test_non_finite_predictions_raise():
    class NaNModel(DummyRegressor):
        def predict(self, X):
            return np.full(X.shape[0], np.nan)

    X, y, g = make_data(n_queries=20)
    with pytest.raises(ValueError, match="non-finite scores"):
        compare_rankers({"nan": NaNModel()}, X, y, g, cv=2)


# ------------------------------------------------------------ rendering
def test_text_and_markdown(result):
    text = result.to_text()
    assert "ridge" in text and "(baseline)" in text and "Holm-corrected" in text
    assert str(result) == text
    md = result.to_markdown(digits=2)
    lines = md.splitlines()
    assert lines[0].startswith("| model | ndcg@5 | ndcg@5 95% CI | map")
    assert lines[1].startswith("|---|---:")
    assert len([ln for ln in lines if ln.startswith("| ")]) == 5
    assert "RankerComparison(models=" in repr(result)


def test_to_frame(result):
    pytest.importorskip("pandas")
    summary = result.to_frame()
    assert set(summary["model"]) == set(result.model_names)
    assert {"mean", "std", "ci_low", "ci_high", "fit_time"} <= set(summary.columns)
    per_query = result.to_frame("per_query")
    assert len(per_query) == 4 * result.query_ids.shape[0]
    assert {"query_id", "split", "ndcg@5", "map"} <= set(per_query.columns)
    tests = result.to_frame("tests")
    assert len(tests) == 3 * 2
    with pytest.raises(ValueError, match="kind must be"):
        result.to_frame("nope")


def test_json_round_trip(result):
    data = json.loads(result.to_json())
    assert data["baseline"] == "ridge"
    assert data["tests"]["map"]["constant"]["significant"] is True
    assert len(data["per_query"]["query_id"]) == result.query_ids.shape[0]


def test_metric_argument_checked(result):
    with pytest.raises(ValueError, match="metric must be one of"):
        result.summary("mrr")


def test_plot(result, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = result.plot("map")
    assert len(fig.axes) == 2
    forest, curves = fig.axes
    tests = result.significance("map")
    # the forest lists every model but the baseline, sorted by mean difference
    labels = [t.get_text().rstrip(" *") for t in forest.get_yticklabels()]
    assert sorted(labels) == sorted(tests)
    diffs = [tests[name]["diff"] for name in labels]
    assert diffs == sorted(diffs, reverse=True)
    # the legend sits outside the curves' axes
    legend = curves.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert legend.x0 >= curves.get_window_extent().x1
    fig.savefig(tmp_path / "fig.png")
    plt.close(fig)


def test_plot_colours_stay_distinct_with_many_models(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skrank.model_selection import RankerComparison

    rng = np.random.default_rng(0)
    names = [f"m{i}" for i in range(25)]
    scores = {n: {"map": rng.uniform(size=40)} for n in names}
    res = RankerComparison(
        scores=scores,
        query_ids=np.arange(40),
        splits=np.repeat([0, 1], 20),
        fit_time={n: np.ones(2) for n in names},
        predict_time={n: np.ones(2) for n in names},
        metrics=("map",),
        baseline="m0",
    )
    fig = res.plot()
    colours = {tuple(line.get_color()) for line in fig.axes[1].get_lines()[:-1]}
    assert len(colours) == 24
    plt.close(fig)


# ------------------------------------------------------------ NeuralRanker
def test_neural_ranker_with_validation_triple():
    skrank = pytest.importorskip("skrank")
    NeuralRanker = skrank.estimators.NeuralRanker
    X, y, g = make_data(n_queries=12, shuffle=False)
    rows = np.arange(len(y))
    split = (rows[:64], rows[64:80], rows[80:])
    seen = {}

    class Ranker(NeuralRanker):
        def fit(self, X, y, groups=None, *, eval_set=None, **fit_params):
            seen["eval_set"] = eval_set
            return super().fit(X, y, groups, eval_set=eval_set, **fit_params)

    res = compare_rankers(
        {"ridge": Ridge(), "nn": Ranker(max_epochs=2, random_state=0)},
        X,
        y,
        g,
        cv=[split],
        metrics="ndcg@5",
    )
    assert np.array_equal(seen["eval_set"][2], g[64:80])
    assert res.n_splits == 1


def test_plain_neural_ranker_is_offered_eval_set():
    from skrank.estimators import NeuralRanker
    from skrank.utils._routing import fit_params

    X, y, g = make_data(n_queries=4)
    params = fit_params(NeuralRanker(), g, (X, y, g))
    assert "eval_set" in params
