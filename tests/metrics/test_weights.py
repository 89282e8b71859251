"""Query weights (``sample_weight``) in every metric and scorer."""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold

from skrank.metrics import (
    err_score,
    make_ranking_scorer,
    map_score,
    mrr_score,
    ndcg_score,
    ndcg_scorer,
    per_query_scores,
    precision_at_k_score,
    recall_at_k_score,
)

METRICS = {
    "ndcg": ndcg_score,
    "map": map_score,
    "mrr": mrr_score,
    "err": err_score,
    "precision@3": precision_at_k_score,
    "recall@3": recall_at_k_score,
}


def _data(seed=0, n_queries=12, size=6):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_queries) * 7, size)
    y = rng.integers(0, 3, groups.shape[0]).astype(float)
    y[groups == 14] = 0  # a query without a relevant document
    score = y + rng.normal(size=y.shape[0])
    weights = np.repeat(rng.integers(0, 4, n_queries).astype(float), size)
    return y, score, groups, weights


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize("no_relevant", ["skip", 0.0, 1.0])
def test_weighted_mean_of_the_per_query_values(name, no_relevant):
    y, score, groups, w = _data()
    metric = METRICS[name]
    kw = {"k": 3} if "@" in name else {}
    ids, values = per_query_scores(
        y, score, groups, metrics=[name.replace("@3", "@3")], no_relevant=no_relevant
    )
    values = next(iter(values.values()))
    qw = w[np.searchsorted(groups, ids)]
    keep = ~np.isnan(values) & (qw > 0)
    expected = np.average(values[keep], weights=qw[keep])
    got = metric(y, score, groups, no_relevant=no_relevant, sample_weight=w, **kw)
    assert got == pytest.approx(expected, rel=1e-12)
    # equal weights give the unweighted mean; weight 0 is dropping the query
    ones = metric(
        y,
        score,
        groups,
        no_relevant=no_relevant,
        sample_weight=3 * np.ones_like(w),
        **kw,
    )
    assert ones == pytest.approx(
        metric(y, score, groups, no_relevant=no_relevant, **kw)
    )
    kept = w > 0
    dropped = metric(
        y[kept],
        score[kept],
        groups[kept],
        no_relevant=no_relevant,
        sample_weight=w[kept],
        **kw,
    )
    assert got == pytest.approx(dropped, rel=1e-12)


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.ones(5), "sample_weight has 5 entries but y_true has 72"),
        (-np.ones(72), "sample_weight must be >= 0. Got a minimum of -1"),
        (
            np.arange(72.0),
            r"constant within each query; query 0 has values from 0 to 5",
        ),
        (np.full(72, np.nan), "sample_weight"),
    ],
)
def test_bad_weights(weights, match):
    y, score, groups, _ = _data()
    with pytest.raises(ValueError, match=match):
        ndcg_score(y, score, groups, sample_weight=weights)


def test_all_zero_weights_are_undefined():
    y, score, groups, _ = _data()
    with pytest.warns(sklearn.exceptions.UndefinedMetricWarning):
        assert np.isnan(ndcg_score(y, score, groups, sample_weight=np.zeros(72)))


def test_scorer_gets_weights_through_routing():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), 8)
    X = rng.normal(size=(groups.shape[0], 4))
    y = np.clip(np.round(X[:, 0] + rng.normal(size=X.shape[0])), 0, 2)
    w = np.repeat(rng.integers(1, 4, 30).astype(float), 8)
    ridge = Ridge().fit(X, y)
    assert ndcg_scorer(ridge, X, y, groups=groups, sample_weight=w) == pytest.approx(
        ndcg_score(y, ridge.predict(X), groups, k=10, sample_weight=w)
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            Ridge().set_fit_request(sample_weight=False),
            {"alpha": [0.1, 100.0]},
            cv=GroupKFold(3),
            scoring=make_ranking_scorer("ndcg@5"),
        ).fit(X, y, groups=groups, sample_weight=w)
    test = next(iter(GroupKFold(3).split(X, y, groups)))[1]
    model = Ridge(alpha=0.1).fit(np.delete(X, test, 0), np.delete(y, test))
    expected = ndcg_score(
        y[test], model.predict(X[test]), groups[test], k=5, sample_weight=w[test]
    )
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(expected)
