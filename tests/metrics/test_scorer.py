import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skrank.metrics import (
    make_ranking_scorer,
    map_score,
    map_scorer,
    ndcg_score,
    ndcg_scorer,
)


def make_data(n_queries=30, seed=0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 12, n_queries)
    qid = np.repeat(np.arange(n_queries) * 5 + 1, sizes)
    n = qid.shape[0]
    X = rng.normal(size=(n, 4))
    latent = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(scale=0.5, size=n)
    y = np.digitize(latent, [0.0, 1.0, 2.0]).astype(float)
    perm = rng.permutation(n)
    return X[perm], y[perm], qid[perm]


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_scorer_values_and_repr():
    X, y, qid = make_data()
    model = Ridge().fit(X, y)
    pred = model.predict(X)
    assert ndcg_scorer(model, X, y, groups=qid) == ndcg_score(y, pred, qid, k=10)
    assert map_scorer(model, X, y, groups=qid) == map_score(y, pred, qid)
    scorer = make_ranking_scorer("ndcg", k=5, gain="linear")
    assert scorer(model, X, y, groups=qid) == ndcg_score(
        y, pred, qid, k=5, gain="linear"
    )
    same = make_ranking_scorer(ndcg_score, k=5, gain="linear")
    assert same(model, X, y, groups=qid) == scorer(model, X, y, groups=qid)
    assert make_ranking_scorer("map@3")(model, X, y, groups=qid) == map_score(
        y, pred, qid, k=3
    )
    assert repr(ndcg_scorer) == "ndcg_scorer"
    assert repr(map_scorer) == "map_scorer"
    assert repr(scorer) == "make_ranking_scorer(ndcg_score, k=5, gain='linear')"


def test_make_ranking_scorer_errors():
    with pytest.raises(ValueError, match="Unknown ranking metric 'dcg'"):
        make_ranking_scorer("dcg")
    with pytest.raises(ValueError, match="k is given twice"):
        make_ranking_scorer("ndcg@5", k=3)
    with pytest.raises(ValueError, match=r"unexpected keyword argument\(s\) \['kk'\]"):
        make_ranking_scorer(ndcg_score, kk=3)
    with pytest.raises(ValueError, match="metric must be a ranking metric name"):
        make_ranking_scorer(3)


def test_groups_requested_at_class_level(routing):
    for scorer in (ndcg_scorer, map_scorer, make_ranking_scorer("mrr@5")):
        request = scorer.get_metadata_routing()
        assert request.score.requests == {"groups": True, "sample_weight": True}
        assert request.fit.requests == {}


def test_fold_without_relevant_document_cannot_pick_the_winner(routing):
    X, y, qid = make_data()
    splits = list(GroupKFold(3).split(X, y, qid))
    y = y.copy()
    y[splits[0][1]] = 0.0  # no query tested in fold 0 has a relevant document
    pipe = Pipeline([("model", Ridge())])
    # the worse candidate first: a NaN fold used to make it best_params_
    grid = {"model": [DummyRegressor(), Ridge()]}
    with pytest.warns(
        UndefinedMetricWarning,
        match=r"ndcg_scorer: no query of the scored rows has a relevant document, "
        r"so ndcg_score is undefined on them; the scorer returns 0.0",
    ):
        search = GridSearchCV(pipe, grid, cv=splits, scoring=ndcg_scorer)
        search.fit(X, y, groups=qid)
    assert search.cv_results_["split0_test_score"].tolist() == [0.0, 0.0]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    others = GridSearchCV(pipe, grid, cv=splits[1:], scoring=ndcg_scorer)
    others.fit(X, y, groups=qid)
    assert search.best_index_ == others.best_index_ == 1
    # a numeric no_relevant is honoured as it is by the metric
    scorer = make_ranking_scorer("ndcg@10", no_relevant=1.0)
    test = splits[0][1]
    model = Ridge().fit(X, y)
    assert scorer(model, X[test], y[test], groups=qid[test]) == 1.0
    # the metric itself keeps its NaN outside a scorer
    with pytest.warns(UndefinedMetricWarning, match="No query has a relevant"):
        assert np.isnan(ndcg_score(y[test], model.predict(X[test]), qid[test]))


def test_routing_off_scores_nan_and_the_warning_carries_skrank_message():
    # documented in docs/user_guide/groups.rst: scikit-learn turns the scorer's
    # error into NaN scores and a "Scoring failed" warning holding the message
    X, y, qid = make_data()
    with pytest.warns(UserWarning) as record:
        search = GridSearchCV(
            Ridge(), {"alpha": [1.0, 2.0]}, cv=GroupKFold(3), scoring=ndcg_scorer
        ).fit(X, y, groups=qid)
    assert np.isnan(search.cv_results_["mean_test_score"]).all()
    failed = [str(w.message) for w in record if "Scoring failed" in str(w.message)]
    assert len(failed) == 6
    for message in failed:
        assert "sklearn.set_config(enable_metadata_routing=True)" in message
        assert "and pass groups=" in message


def test_grid_search_group_kfold(routing):
    X, y, qid = make_data()
    search = GridSearchCV(
        Ridge(), {"alpha": [0.1, 10.0]}, cv=GroupKFold(5), scoring=ndcg_scorer
    ).fit(X, y, groups=qid)
    scores = search.cv_results_["mean_test_score"]
    assert np.all((scores > 0) & (scores <= 1))
    # the reported score is the metric on each test fold's queries
    train, test = next(GroupKFold(5).split(X, y, qid))
    model = Ridge(alpha=0.1).fit(X[train], y[train])
    expected = ndcg_score(y[test], model.predict(X[test]), qid[test], k=10)
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(expected)


def test_grid_search_multimetric_refit(routing):
    X, y, qid = make_data()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), Ridge()),
        {"ridge__alpha": [0.1, 100.0]},
        cv=GroupKFold(3),
        scoring={"ndcg": ndcg_scorer, "map": map_scorer},
        refit="ndcg",
        n_jobs=2,
    ).fit(X, y, groups=qid)
    assert "mean_test_map" in search.cv_results_
    best = np.argmax(search.cv_results_["mean_test_ndcg"])
    assert search.best_index_ == best
    assert search.score(X, y, groups=qid) == pytest.approx(
        ndcg_score(y, search.predict(X), qid, k=10)
    )


def test_cross_validate_params_and_n_jobs(routing):
    X, y, qid = make_data()
    result = cross_validate(
        make_pipeline(StandardScaler(), Ridge()),
        X,
        y,
        cv=GroupKFold(4),
        scoring={"ndcg5": make_ranking_scorer("ndcg@5"), "map": map_scorer},
        params={"groups": qid},
        n_jobs=2,
    )
    assert result["test_ndcg5"].shape == (4,)
    assert np.all(result["test_map"] > 0)


def test_every_scorer_call_sees_whole_queries(routing):
    X, y, qid = make_data()
    calls = []

    def spy_metric(y_true, y_score, groups):
        groups = np.asarray(groups)
        calls.append(groups)
        return ndcg_score(y_true, y_score, groups)

    scorer = make_ranking_scorer(spy_metric)
    GridSearchCV(Ridge(), {"alpha": [1.0, 2.0]}, cv=GroupKFold(5), scoring=scorer).fit(
        X, y, groups=qid
    )
    assert len(calls) == 2 * 5
    sizes = dict(zip(*np.unique(qid, return_counts=True), strict=True))
    for groups in calls:
        ids, counts = np.unique(groups, return_counts=True)
        for q, c in zip(ids, counts, strict=True):
            assert sizes[q] == c  # every query of the fold is complete


def test_routing_off_gives_clear_error():
    X, y, qid = make_data()
    msg = (
        r"needs the query id of each scored row, but no groups were passed. Call "
        r"sklearn.set_config\(enable_metadata_routing=True\) and pass groups="
    )
    with pytest.raises(ValueError, match=msg):
        GridSearchCV(
            Ridge(),
            {"alpha": [1.0]},
            cv=GroupKFold(3),
            scoring=ndcg_scorer,
            error_score="raise",
        ).fit(X, y, groups=qid)
    with pytest.raises(ValueError, match=msg):
        ndcg_scorer(Ridge().fit(X, y), X, y)


def test_pickle():
    X, y, qid = make_data()
    model = Ridge().fit(X, y)
    for scorer in (ndcg_scorer, map_scorer, make_ranking_scorer("err@5", max_grade=3)):
        clone = pickle.loads(pickle.dumps(scorer))
        assert repr(clone) == repr(scorer)
        assert clone(model, X, y, groups=qid) == scorer(model, X, y, groups=qid)


class _ContextStub(RegressorMixin, BaseEstimator):
    """Predicts each row's score minus the mean score of its query."""

    def fit(self, X, y, groups=None):
        self.coef_ = np.linalg.lstsq(X, y, rcond=None)[0]
        return self

    def predict(self, X, groups=None):
        raw = X @ self.coef_
        if groups is None:
            raise ValueError("this stub needs groups")
        groups = np.asarray(groups)
        means = {q: raw[groups == q].mean() for q in np.unique(groups)}
        self.seen_groups_ = groups
        return raw - np.array([means[q] for q in groups])


def test_context_aware_predict_receives_groups():
    X, y, qid = make_data()
    stub = _ContextStub().fit(X, y)
    value = ndcg_scorer(stub, X, y, groups=qid)
    np.testing.assert_array_equal(stub.seen_groups_, qid)
    assert value == pytest.approx(ndcg_score(y, stub.predict(X, qid), qid, k=10))
    # a pipeline's **params does not count: it is called with X only
    pipe = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    assert ndcg_scorer(pipe, X, y, groups=qid) == ndcg_score(
        y, pipe.predict(X), qid, k=10
    )
