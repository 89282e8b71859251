"""GroupSizeRanker: sorting, per-row parameters, qid forms, eval sets, real GBDTs."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import Ridge

from skrank.metrics import ndcg_score
from skrank.model_selection import GroupSizeRanker, compare_rankers


def make_data(n_queries=12, size=5, seed=0):
    rng = np.random.default_rng(seed)
    n = n_queries * size
    X = rng.normal(size=(n, 4))
    y = np.clip(np.round(X[:, 0] + 0.3 * rng.normal(size=n) + 0.5), 0, 3)
    groups = np.repeat(np.arange(n_queries) * 3 + 1, size)
    perm = rng.permutation(n)
    return X[perm], y[perm], groups[perm]


class Recorder(BaseEstimator):
    """Records what fit receives; any keyword."""

    def fit(self, X, y, group=None, qid=None, group_id=None, **params):
        self.X_, self.y_ = X, y
        self.structure_ = {"group": group, "qid": qid, "group_id": group_id}
        self.params_ = params
        return self

    def predict(self, X):
        return X[:, 0]


def test_per_row_fit_params_follow_the_rows():
    X, y, g = make_data()
    w = np.arange(len(y), dtype=float)  # weight i belongs to input row i
    ranker = GroupSizeRanker(Recorder()).fit(X, y, g, sample_weight=w, note="keep")
    est = ranker.estimator_
    # the weight of each sorted row is the weight of the same input row
    order = np.argsort(g, kind="stable")
    np.testing.assert_array_equal(est.params_["sample_weight"], w[order])
    np.testing.assert_array_equal(est.X_, X[order])
    np.testing.assert_array_equal(est.y_, y[order])
    assert est.params_["note"] == "keep"


@pytest.mark.parametrize("param", ["qid", "group_id"])
def test_per_row_sorted_query_ids(param):
    X, y, g = make_data()
    est = GroupSizeRanker(Recorder(), group_param=param).fit(X, y, g).estimator_
    ids = np.asarray(est.structure_[param])
    assert ids.shape == (len(y),)
    assert np.all(np.diff(ids) >= 0)  # sorted, as XGBoost requires
    # same ids mean same query
    order = np.argsort(g, kind="stable")
    assert np.array_equal(
        np.unique(ids, return_inverse=True)[1].ravel(),
        np.unique(g[order], return_inverse=True)[1].ravel(),
    )


def test_group_sizes_and_eval_group():
    X, y, g = make_data()
    Xv, yv, gv = make_data(n_queries=3, seed=1)
    est = GroupSizeRanker(Recorder()).fit(X, y, g, eval_set=(Xv, yv, gv)).estimator_
    assert est.structure_["group"].tolist() == [5] * 12
    ((Xe, ye),) = est.params_["eval_set"]
    assert est.params_["eval_group"][0].tolist() == [5, 5, 5]
    order = np.argsort(gv, kind="stable")
    np.testing.assert_array_equal(Xe, Xv[order])
    np.testing.assert_array_equal(ye, yv[order])


def test_eval_qid_for_qid_form():
    X, y, g = make_data()
    Xv, yv, gv = make_data(n_queries=3, seed=1)
    ranker = GroupSizeRanker(Recorder(), group_param="qid")
    est = ranker.fit(X, y, g, eval_set=(Xv, yv, gv)).estimator_
    assert est.params_["eval_qid"][0].shape == (15,)
    assert "eval_group" not in est.params_


@pytest.mark.parametrize(
    "ranker, fit_kwargs, fragment",
    [
        (
            GroupSizeRanker(Recorder(), group_param="size"),
            {},
            "'group_param' parameter of GroupSizeRanker must be a str among",
        ),
        (GroupSizeRanker(Recorder()), {"groups": None}, "GroupSizeRanker needs groups"),
        (
            GroupSizeRanker(Recorder()),
            {"eval_set": (1, 2)},
            "eval_set must be a tuple (X_val, y_val, groups_val)",
        ),
        (
            GroupSizeRanker(Recorder(), group_param="group_id"),
            {"eval_set": "x"},
            "cannot pass an eval_set with group_param='group_id'",
        ),
        (
            GroupSizeRanker(Recorder()),
            {"groups": [1, 2]},
            "groups has 2 entries but X has 60 rows",
        ),
    ],
)
def test_group_size_ranker_bad_inputs(ranker, fit_kwargs, fragment):
    X, y, g = make_data()
    kwargs = {"groups": g, **fit_kwargs}
    with pytest.raises(ValueError) as info:
        ranker.fit(X, y, **kwargs)
    assert fragment in str(info.value)


def test_lightgbm_early_stops_on_eval_set():
    lightgbm = pytest.importorskip("lightgbm")
    X, y, g = make_data(n_queries=30)
    Xv, yv, gv = make_data(n_queries=10, seed=2)
    model = lightgbm.LGBMRanker(
        n_estimators=200,
        early_stopping_round=3,
        verbose=-1,
        n_jobs=1,
        random_state=0,
        min_child_samples=2,
    )
    ranker = GroupSizeRanker(model).fit(X, y, g, eval_set=(Xv, yv, gv))
    assert 0 < ranker.estimator_.best_iteration_ < 200
    assert ndcg_score(yv, ranker.predict(Xv), gv) > 0.6


def test_xgboost_qid_and_eval_qid():
    xgboost = pytest.importorskip("xgboost")
    X, y, g = make_data(n_queries=30)
    Xv, yv, gv = make_data(n_queries=10, seed=2)
    model = xgboost.XGBRanker(
        n_estimators=200, early_stopping_rounds=3, random_state=0, n_jobs=1
    )
    ranker = GroupSizeRanker(model, group_param="qid")
    ranker.fit(X, y, g, eval_set=(Xv, yv, gv))
    assert 0 <= ranker.estimator_.best_iteration < 199
    assert ndcg_score(yv, ranker.predict(Xv), gv) > 0.6


def test_compare_gives_gbdt_the_validation_queries():
    lightgbm = pytest.importorskip("lightgbm")
    X, y, g = make_data(n_queries=30)
    queries = np.unique(g)
    rows = {q: np.flatnonzero(g == q) for q in queries}
    take = lambda qs: np.concatenate([rows[q] for q in qs])  # noqa: E731
    split = (take(queries[:18]), take(queries[18:24]), take(queries[24:]))
    model = GroupSizeRanker(
        lightgbm.LGBMRanker(
            n_estimators=300,
            early_stopping_round=3,
            verbose=-1,
            n_jobs=1,
            random_state=0,
            min_child_samples=2,
        )
    )
    seen = {}

    class Spy(GroupSizeRanker):
        def fit(self, X, y, groups=None, *, eval_set=None, **params):
            seen["eval"] = eval_set
            super().fit(X, y, groups, eval_set=eval_set, **params)
            seen["best"] = self.estimator_.best_iteration_
            return self

    res = compare_rankers(
        {"ridge": Ridge(), "lgbm": Spy(model.estimator)},
        X,
        y,
        g,
        cv=[split],
        metrics="ndcg@5",
    )
    assert np.array_equal(np.unique(seen["eval"][2]), queries[18:24])
    assert 0 < seen["best"] < 300
    assert res.n_splits == 1


def test_named_baselines():
    from skrank.model_selection._baselines import BASELINES, make_baseline

    for name in BASELINES:
        model = make_baseline(name, random_state=0, early_stopping_rounds=3)
        assert hasattr(model, "fit")
    lgbm = make_baseline("lgbm", early_stopping_rounds=3).estimator
    assert lgbm.get_params()["early_stopping_round"] == 3
    xgb = make_baseline("xgb", early_stopping_rounds=3).estimator
    assert xgb.get_params()["early_stopping_rounds"] == 3
    assert "early_stopping_round" not in make_baseline("lgbm").estimator.get_params()
    with pytest.raises(ValueError, match="Unknown baseline 'svm'"):
        make_baseline("svm")
