"""Tests of BlendedRanker: the blend's arithmetic, parameters and routing."""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrank.datasets import make_ranking
from skrank.ensemble import BlendedRanker
from skrank.metrics import ndcg_score, ndcg_scorer
from skrank.utils import QueryIndex


@pytest.fixture(scope="module")
def data():
    return make_ranking(40, 6, list_length=(4, 12), random_state=0)


class RecordsGroups(RegressorMixin, BaseEstimator):
    """A ranker whose fit and predict take groups, and record them."""

    def fit(self, X, y, groups=None):
        self.fit_groups_ = groups
        self.coef_ = np.linalg.lstsq(X, y, rcond=None)[0]
        return self

    def predict(self, X, groups=None):
        self.predict_groups_ = groups
        return X @ self.coef_


def _within_query_std(scores, groups):
    index = QueryIndex(groups)
    mean = np.bincount(index.codes, scores) / index.sizes
    return np.sqrt(np.mean((scores - mean[index.codes]) ** 2))


def test_blend_is_the_weighted_mean_of_standardised_scores(data):
    X, y, g = data
    blend = BlendedRanker(
        [("a", Ridge(alpha=1.0)), ("b", Ridge(alpha=1e4))], weights=[3.0, 1.0]
    ).fit(X, y, g)
    a = Ridge(alpha=1.0).fit(X, y).predict(X)
    b = Ridge(alpha=1e4).fit(X, y).predict(X)
    expected = 0.75 * (a - a.mean()) / _within_query_std(a, g) + 0.25 * (
        b - b.mean()
    ) / _within_query_std(b, g)
    np.testing.assert_allclose(blend.predict(X), expected, rtol=1e-12)
    np.testing.assert_allclose(blend.weights_, [0.75, 0.25])
    assert list(blend.named_estimators_) == ["a", "b"]


def test_scale_does_not_decide_the_blend(data):
    # the same model with scores 1000 times larger gets the same share
    X, y, g = data
    small = Ridge().fit(X, y)
    big = make_pipeline(StandardScaler(), Ridge()).fit(X, 1000 * y)
    blend = BlendedRanker([("small", Ridge()), ("big", clone(big))])
    scores = blend.fit(X, 1.0 * y, g).predict(X)
    assert blend.scale_[1] != pytest.approx(blend.scale_[0])
    # a single model's blend ranks exactly like the model
    alone = BlendedRanker([("small", Ridge())]).fit(X, y, g).predict(X)
    order = small.predict(X)
    assert np.array_equal(np.argsort(alone), np.argsort(order))
    assert np.isfinite(scores).all()


def test_zero_weight_ranks_like_the_other_model(data):
    X, y, g = data
    blend = BlendedRanker(
        [("ridge", Ridge()), ("other", Ridge(alpha=1e3))], weights=[1, 0]
    ).fit(X, y, g)
    ridge = Ridge().fit(X, y).predict(X)
    assert ndcg_score(y, blend.predict(X), g, k=10) == pytest.approx(
        ndcg_score(y, ridge, g, k=10), abs=1e-12
    )


def test_groups_reach_the_estimators_that_name_them(data):
    X, y, g = data
    blend = BlendedRanker([("r", RecordsGroups()), ("ridge", Ridge())])
    blend.fit(X, y, g)
    fitted = blend.named_estimators_["r"]
    assert np.array_equal(fitted.fit_groups_, g)
    blend.predict(X, groups=g)
    assert np.array_equal(fitted.predict_groups_, g)


def test_classifier_members_score_by_expected_label(data):
    X, y, g = data
    blend = BlendedRanker([("clf", LogisticRegression(max_iter=500))]).fit(X, y, g)
    clf = LogisticRegression(max_iter=500).fit(X, y)
    expected = clf.predict_proba(X) @ clf.classes_
    assert np.array_equal(np.argsort(blend.predict(X)), np.argsort(expected))


def test_constant_model_gets_unit_scale(data):
    X, y, g = data
    from sklearn.dummy import DummyRegressor

    blend = BlendedRanker([("const", DummyRegressor()), ("ridge", Ridge())])
    blend.fit(X, y, g)
    assert blend.scale_[0] == 1.0 and np.isfinite(blend.predict(X)).all()


def test_originals_are_not_fitted_or_changed(data):
    X, y, g = data
    ridge = Ridge()
    BlendedRanker([("ridge", ridge)]).fit(X, y, g)
    assert not hasattr(ridge, "coef_")


def test_nested_params_clone_and_grid_search(data):
    X, y, g = data
    blend = BlendedRanker([("a", Ridge()), ("b", Ridge())])
    params = blend.get_params()
    assert params["a__alpha"] == 1.0 and "weights" in params
    blend.set_params(a__alpha=5.0, weights=[1, 2])
    assert blend.get_params()["a__alpha"] == 5.0
    copy = clone(blend)
    assert copy.get_params()["a__alpha"] == 5.0 and copy.weights == [1, 2]
    assert copy.estimators[0][1] is not blend.estimators[0][1]
    blend.set_params(b=Ridge(alpha=7.0))
    assert blend.get_params()["b__alpha"] == 7.0
    with pytest.raises(ValueError, match="Invalid parameter 'c__alpha'"):
        blend.set_params(c__alpha=1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            BlendedRanker([("a", Ridge()), ("b", Ridge(alpha=1e3))]),
            {"weights": [[1, 0], [1, 1]], "a__alpha": [0.1, 10.0]},
            cv=GroupKFold(3),
            scoring=ndcg_scorer,
        ).fit(X, y, groups=g)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_score_is_ndcg_at_10(data):
    X, y, g = data
    blend = BlendedRanker([("ridge", Ridge())]).fit(X, y, g)
    assert blend.score(X, y, g) == pytest.approx(
        ndcg_score(y, blend.predict(X), g, k=10)
    )


def test_missing_groups_without_routing_is_an_error(data):
    X, y, _ = data
    with pytest.raises(ValueError, match=r"BlendedRanker.fit was called without"):
        BlendedRanker([("ridge", Ridge())]).fit(X, y)


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        BlendedRanker([("ridge", Ridge())]).predict(np.zeros((2, 3)))


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"estimators": []}, ValueError, "must be a non-empty list"),
        ({"estimators": [Ridge()]}, ValueError, "Got the item Ridge()"),
        ({"estimators": [("a__b", Ridge())]}, ValueError, "must not contain '__'"),
        ({"estimators": [("a", Ridge()), ("a", Ridge())]}, ValueError, "unique"),
        ({"estimators": [("a", "ridge")]}, TypeError, "must have fit and predict"),
        ({"weights": [1.0, 2.0]}, ValueError, r"one weight per estimator \(1\)"),
        ({"weights": [-1.0]}, ValueError, "finite non-negative"),
        ({"weights": [np.nan]}, ValueError, "finite non-negative"),
        ({"weights": [0.0]}, ValueError, "must not be all zero"),
    ],
)
def test_bad_parameters(data, params, error, match):
    X, y, g = data
    blend = BlendedRanker([("ridge", Ridge())]).set_params(**params)
    with pytest.raises(error, match=match):
        blend.fit(X, y, g)
