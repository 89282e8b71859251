"""The feature screen and NeuralRanker's feature penalty (a group lasso)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy import stats
from sklearn.preprocessing import PolynomialFeatures

from skrank.estimators import (
    AttentionScorer,
    MLPScorer,
    NeuralRanker,
    load_ranker,
    save_ranker,
)
from skrank.estimators._screen import (
    _bin_tests,
    benjamini_hochberg,
    marginal_effect_pvalues,
    screen_features,
)
from skrank.utils import QueryIndex

FAST = dict(max_epochs=4, module__hidden_sizes=(16,), random_state=0)


def noisy_data(n_informative=2, n_noise=30, n_queries=60, size=20, seed=0):
    """Labels from the first ``n_informative`` columns, the rest noise."""
    rng = np.random.default_rng(seed)
    n = n_queries * size
    X = rng.normal(size=(n, n_informative + n_noise))
    u = X[:, :n_informative].sum(1) + 0.5 * rng.normal(size=n)
    y = np.digitize(u, np.quantile(u, [0.5, 0.8, 0.95])).astype(float)
    return X, y, np.repeat(np.arange(n_queries), size)


def test_pvalues_see_monotone_and_non_monotone_effects():
    rng = np.random.default_rng(0)
    n_queries, size = 80, 15
    X = rng.normal(size=(n_queries * size, 13))
    g = np.repeat(np.arange(n_queries), size)
    # linear, U-shaped and a step; the other ten columns are noise
    u = X[:, 0] + (X[:, 1] ** 2 - 1) + 1.5 * (X[:, 2] > 0.5)
    y = np.digitize(u + 0.5 * rng.normal(size=u.shape), [0.5, 1.5, 2.5]).astype(float)
    p = marginal_effect_pvalues(X, y, QueryIndex(g))
    assert (p[:3] < 1e-8).all()
    assert not benjamini_hochberg(p[3:]).any()
    assert (p[3:] > 1e-3).all()


def test_pvalues_are_rank_based_and_sparse_agrees():
    X, y, g = noisy_data(n_noise=4)
    X[np.abs(X) < 0.5] = 0.0
    index = QueryIndex(g)
    p = marginal_effect_pvalues(X, y, index)
    # a monotone transformation moves no row from its bin
    np.testing.assert_allclose(
        marginal_effect_pvalues(np.exp(2 * X) * 1e3 - 7, y, index), p, rtol=1e-10
    )
    np.testing.assert_allclose(
        marginal_effect_pvalues(sp.csr_matrix(X), y, index), p, rtol=1e-12
    )


def test_a_query_level_feature_has_no_effect_within_queries():
    # constant within each query and correlated with the queries' labels: a
    # regressor would use it, a ranking loss cannot
    rng = np.random.default_rng(1)
    n_queries, size = 50, 10
    g = np.repeat(np.arange(n_queries), size)
    level = rng.normal(size=n_queries)
    y = np.clip(np.round(level[g] + 0.3 * rng.normal(size=g.shape) + 1), 0, 3)
    X = level[g][:, None]
    assert marginal_effect_pvalues(X, y, QueryIndex(g))[0] == 1.0


def test_the_pvalue_combines_the_anova_and_the_trend_test_of_the_bins():
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(30), 10)
    x = rng.integers(0, 4, size=g.shape[0]).astype(float)  # 4 bins, ties
    y = np.clip(x + rng.normal(size=x.shape), 0, 4).round()
    r = y - (np.bincount(g, y) / np.bincount(g))[g]
    anova, trend, _ = _bin_tests(x[:, None], y, QueryIndex(g), 16)
    expected = stats.f_oneway(*(r[x == v] for v in np.unique(x))).pvalue
    np.testing.assert_allclose(anova[0], expected, rtol=1e-9)
    # the trend: least squares of y on the bin number and one dummy per query
    design = np.column_stack([x, g[:, None] == np.arange(30)])
    coef, residual, *_ = np.linalg.lstsq(design, y, rcond=None)
    df = y.shape[0] - 31
    covariance = residual[0] / df * np.linalg.inv(design.T @ design)
    t = coef[0] / np.sqrt(covariance[0, 0])
    np.testing.assert_allclose(trend[0], 2 * stats.t.sf(abs(t), df), rtol=1e-9)
    p = marginal_effect_pvalues(x[:, None], y, QueryIndex(g))[0]
    assert p == min(1.0, 2 * min(anova[0], trend[0]))


def test_the_trend_test_sees_weak_monotone_effects_the_anova_misses():
    # a weak linear effect: 15 degrees of freedom dilute it, one does not
    rng = np.random.default_rng(4)
    n_queries, size = 40, 20
    x = rng.normal(size=n_queries * size)
    g = np.repeat(np.arange(n_queries), size)
    y = np.digitize(0.2 * x + rng.normal(size=x.shape), [0.0, 1.0]).astype(float)
    anova = _bin_tests(x[:, None], y, QueryIndex(g), 16)[0]
    assert anova[0] > 0.05
    assert marginal_effect_pvalues(x[:, None], y, QueryIndex(g))[0] < 0.01


def test_benjamini_hochberg_is_step_up():
    # 0.04 > 0.05 * 3 / 4 alone, but the largest p-value passes: all four
    found = benjamini_hochberg(np.array([0.04, 0.01, 0.045, 0.02]))
    assert found.all()
    found = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]))
    np.testing.assert_array_equal(found, [True, False, False, False])
    p = np.random.default_rng(3).uniform(size=200) ** 4
    adjusted = stats.false_discovery_control(p, method="bh")
    np.testing.assert_array_equal(benjamini_hochberg(p), adjusted <= 0.05)


def test_screen_marks_constant_columns_dense_and_sparse():
    X, y, g = noisy_data(n_noise=4)
    X[:, 3] = 0.0
    X[:, 4] = 2.5
    X[:, 5] = np.sqrt(g)  # one value per query: a query-level feature
    index = QueryIndex(g)
    effect, constant = screen_features(X, y, index)
    np.testing.assert_array_equal(constant, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(effect, [1, 1, 0, 0, 0, 0])
    effect_s, constant_s = screen_features(sp.csr_matrix(X), y, index)
    np.testing.assert_array_equal(constant_s, constant)
    np.testing.assert_array_equal(effect_s, effect)


@pytest.mark.parametrize("kwargs", [{}, {"n_bins": 0}, {"linear_skip": True}])
def test_mlp_feature_norms_group_each_feature_with_its_bins(kwargs):
    torch.manual_seed(0)
    mlp = MLPScorer(n_features=3, hidden_sizes=(4,), n_members=2, **kwargs)
    norms = mlp.feature_norms()
    assert norms.shape == (2, 3)
    X = torch.randn(5, 3)
    for m, net in enumerate(mlp.members):
        first = net.deep[0] if hasattr(net, "deep") else net[0]
        bins = (first.in_features - 3) // 3
        cols = [[j, *range(3 + j * bins, 3 + (j + 1) * bins)] for j in range(3)]
        weight = first.weight
        if hasattr(net, "wide"):
            weight = torch.cat([weight, net.wide.weight])
        expected = [weight[:, c].norm() for c in cols]
        torch.testing.assert_close(norms[m], torch.stack(expected))
    # a feature whose groups are all zero does not move the scores
    with torch.no_grad():
        for net in mlp.members:
            for layer in [net.deep[0], net.wide] if hasattr(net, "wide") else [net[0]]:
                bins = (layer.in_features - 3) // 3
                layer.weight[:, [1, *range(3 + bins, 3 + 2 * bins)]] = 0.0
    assert (mlp.feature_norms()[:, 1] < 1e-5).all()
    moved = X.clone()
    moved[:, 1] += 3.0
    mlp.eval()
    torch.testing.assert_close(mlp(moved), mlp(X))


def test_attention_feature_norms_cover_both_towers():
    net = AttentionScorer(n_features=4, d_model=8, n_heads=2, n_layers=1)
    norms = net.feature_norms()
    assert norms.shape == (1, 4)
    weight = torch.cat([net.project.weight, net.document[0].weight])
    torch.testing.assert_close(norms[0], weight.norm(dim=0))


def test_auto_penalises_the_features_without_effect_when_most_have_none():
    X, y, g = noisy_data()
    params = {**FAST, "max_epochs": 15, "lr": 1e-2}
    model = NeuralRanker(**params).fit(X, y, g)
    np.testing.assert_array_equal(model.feature_penalty_[:2], 0.0)
    np.testing.assert_array_equal(model.feature_penalty_[2:], 0.01)
    plain = NeuralRanker(**params, feature_penalty=None).fit(X, y, g)
    assert plain.feature_penalty_ is None
    # the penalty shrinks the noise features' weights, not the others'
    with torch.no_grad():
        ratio = model.module_.feature_norms() / plain.module_.feature_norms()
    ratio = ratio.mean(0)
    assert ratio[2:].max() < 0.7 < 0.9 < ratio[:2].min()
    assert X.sum() == noisy_data()[0].sum()  # the user's X is left alone


def test_auto_adds_nothing_when_most_features_have_an_effect():
    X, y, g = noisy_data(n_informative=4, n_noise=2)
    X[:, 5] = 1.0  # a constant column does not count
    model = NeuralRanker(**FAST).fit(X, y, g)
    assert model.feature_penalty_ is None
    plain = NeuralRanker(**FAST, feature_penalty=None).fit(X, y, g)
    np.testing.assert_array_equal(model.predict(X), plain.predict(X))


def test_query_level_features_do_not_count_in_the_share():
    # 2 features with an effect, 1 without, and 8 with one value per query
    # (a raw LETOR file's query-level features): 2 of 3 have an effect
    X, y, g = noisy_data(n_noise=1)
    levels = np.random.default_rng(4).normal(size=(g.max() + 1, 8))
    X = np.hstack([X, levels[g]])
    assert NeuralRanker(**FAST).fit(X, y, g).feature_penalty_ is None


def test_auto_adds_nothing_when_no_feature_has_an_effect():
    # pure noise (or too few rows to see anything): no feature to tell the
    # others from, and a penalty on all of them would be a blind one
    X, y, g = noisy_data()
    y = np.random.default_rng(5).permutation(y)
    assert not screen_features(X, y, QueryIndex(g))[0].any()
    assert NeuralRanker(**FAST).fit(X, y, g).feature_penalty_ is None


def test_a_float_penalises_every_feature_in_training_only():
    X, y, g = noisy_data(n_noise=3)
    model = NeuralRanker(**FAST, feature_penalty=0.05).fit(X, y, g)
    np.testing.assert_array_equal(model.feature_penalty_, np.full(5, 0.05))
    # the penalty is part of the training loss only: valid_loss stays the
    # ranking loss that max_epochs="auto" chooses the budget by
    dataset = model.get_dataset(model._query_dataset(X, y, g, "fit", reset=False))
    batch = next(iter(model.get_iterator(dataset)))
    Xb, yb = batch
    with torch.no_grad():
        out = model.infer(Xb)
        plain = model.get_loss(out, yb, X=Xb, training=False)
        trained = model.get_loss(out, yb, X=Xb, training=True)
        penalty = 0.05 * model.module_.feature_norms().sum(-1).mean()
    torch.testing.assert_close(trained - plain, penalty)


class Bare(torch.nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, 1)

    def forward(self, X):
        return self.linear(X)


def test_modules_without_feature_norms():
    X, y, g = noisy_data(n_noise=20)
    model = NeuralRanker(Bare, max_epochs=2, random_state=0).fit(X, y, g)
    assert model.feature_penalty_ is None  # "auto": nothing to penalise
    with pytest.raises(ValueError, match=r"feature_penalty=0\.1 needs a module"):
        NeuralRanker(Bare, max_epochs=2, feature_penalty=0.1).fit(X, y, g)


def test_auto_adds_nothing_when_the_transform_changes_the_columns():
    X, y, g = noisy_data()
    model = NeuralRanker(
        **FAST, input_transform=PolynomialFeatures(1, include_bias=True)
    ).fit(X, y, g)
    assert model.feature_penalty_ is None


@pytest.mark.parametrize("value", [-0.1, "lasso", np.nan])
def test_invalid_feature_penalty(value):
    X, y, g = noisy_data(n_noise=1)
    with pytest.raises(ValueError, match="'feature_penalty' parameter of NeuralRanker"):
        NeuralRanker(feature_penalty=value).fit(X, y, g)


def test_penalty_survives_the_model_file(tmp_path):
    X, y, g = noisy_data()
    model = NeuralRanker(**FAST).fit(X, y, g)
    save_ranker(model, tmp_path / "m.skrank")
    loaded = load_ranker(tmp_path / "m.skrank")
    np.testing.assert_array_equal(loaded.feature_penalty_, model.feature_penalty_)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
