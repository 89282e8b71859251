"""NeuralRanker's ``input_transform`` and the WeightAveraging callback."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler

from skrank.datasets import make_ranking
from skrank.estimators import NeuralRanker
from skrank.estimators._callbacks import WeightAveraging
from skrank.preprocessing import SymmetricLog1p

SMALL = {
    "max_epochs": 3,
    "module__hidden_sizes": (8,),
    "module__n_members": 1,
    "batch_size": 8,
}


@pytest.fixture(scope="module")
def data():
    return make_ranking(30, 4, list_length=(3, 10), random_state=0)


@pytest.mark.parametrize(
    "spec, cls",
    [
        ("scaled_log1p", SymmetricLog1p),
        ("log1p", SymmetricLog1p),
        ("standard", StandardScaler),
        (None, type(None)),
    ],
)
def test_input_transform_is_fitted_on_the_training_features(data, spec, cls):
    X, y, groups = data
    ranker = NeuralRanker(input_transform=spec, random_state=0, **SMALL)
    ranker.fit(X, y, groups)
    assert isinstance(ranker.input_transform_, cls)
    if spec in ("scaled_log1p", "log1p"):
        unit = "median" if spec == "scaled_log1p" else None
        expected = SymmetricLog1p(unit=unit).fit(X)
        np.testing.assert_allclose(ranker.input_transform_.mean_, expected.mean_)
        assert ranker.input_transform_.unit == unit


def test_scaled_log1p_measures_each_feature_in_its_median_magnitude(data):
    X, y, groups = data
    ranker = NeuralRanker(input_transform="scaled_log1p", random_state=0, **SMALL)
    ranker.fit(X, y, groups)
    expected = np.quantile(np.abs(X[:, 0][X[:, 0] != 0]), 0.5)
    np.testing.assert_allclose(ranker.input_transform_.unit_[0], expected)
    # the default stays the plain log1p
    plain = NeuralRanker(random_state=0, **SMALL).fit(X, y, groups)
    assert plain.input_transform_.unit_ is None


def test_scaled_log1p_fit_is_invariant_to_each_feature_unit(data):
    # scaled_log1p measures each feature in its own median magnitude, so a
    # positive rescaling of a feature changes nothing but rounding, as for a
    # tree; with plain log1p the unit decides where the log bends
    X, y, groups = data
    X = np.abs(X)  # raw, non-negative values, as counts or scores are
    scale = np.array([1e-3, 1.0, 1e3, 1e5])
    ranker = NeuralRanker(input_transform="scaled_log1p", random_state=0, **SMALL)
    pa = clone(ranker).fit(X, y, groups).predict(X)
    pb = clone(ranker).fit(X * scale, y, groups).predict(X * scale)
    np.testing.assert_allclose(pa, pb, rtol=1e-4, atol=1e-4)
    plain = NeuralRanker(input_transform="log1p", random_state=0, **SMALL)
    pc = clone(plain).fit(X * scale, y, groups).predict(X * scale)
    assert np.abs(pc - pa).max() > 1e-2


def test_input_transform_makes_fit_invariant_to_feature_scale(data):
    # a positive rescaling of each feature before a log is nearly a shift,
    # which standardisation removes; StandardScaler removes it exactly
    X, y, groups = data
    scale = np.array([1e-3, 1.0, 1e3, 1e5])
    a = NeuralRanker(input_transform="standard", random_state=0, **SMALL)
    b = clone(a)
    pa = a.fit(X, y, groups).predict(X)
    pb = b.fit(X * scale, y, groups).predict(X * scale)
    np.testing.assert_allclose(pa, pb, rtol=1e-4, atol=1e-5)


def test_input_transform_accepts_a_transformer_and_clones_it(data):
    X, y, groups = data
    scaler = StandardScaler()
    ranker = NeuralRanker(input_transform=scaler, random_state=0, **SMALL)
    ranker.fit(X, y, groups)
    assert ranker.input_transform_ is not scaler
    assert not hasattr(scaler, "mean_")


def test_input_transform_bad_value(data):
    X, y, groups = data
    with pytest.raises(ValueError, match="The 'input_transform' parameter of Neural"):
        NeuralRanker(input_transform="log", **SMALL).fit(X, y, groups)


def test_input_transform_applies_to_eval_set(data):
    X, y, groups = data
    ranker = NeuralRanker(input_transform="log1p", random_state=0, **SMALL)
    ranker.fit(X, y, groups, eval_set=(X * 1e4, y, groups))
    # the explicit validation set went through the transform fitted on X
    assert "valid_ndcg" in ranker.history[-1]


def test_weight_averaging_keeps_the_average(data):
    X, y, groups = data
    ranker = NeuralRanker(
        callbacks=[WeightAveraging(decay=0.5)],
        validation_fraction=None,
        random_state=0,
        **SMALL,
    ).fit(X, y, groups)
    cb = dict(ranker.callbacks_)["WeightAveraging"]
    state = [t for t in ranker.module_.state_dict().values()]
    for t, a in zip(state, cb.average_, strict=True):
        torch.testing.assert_close(t, a)
    # after training nothing is left swapped out
    assert cb.raw_ is None


def test_weight_averaging_decay_zero_is_plain_training(data):
    X, y, groups = data
    plain = NeuralRanker(random_state=0, **SMALL).fit(X, y, groups)
    averaged = NeuralRanker(
        callbacks=[WeightAveraging(decay=0.0)], random_state=0, **SMALL
    ).fit(X, y, groups)
    np.testing.assert_allclose(plain.predict(X), averaged.predict(X), rtol=1e-5)


class IdleSubnormal(torch.nn.Module):
    """A linear scorer beside a subnormal weight that no gradient reaches."""

    def __init__(self, n_features):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, 1)
        self.idle = torch.nn.Parameter(torch.tensor([1e-40, 0.5]))

    def forward(self, X):
        return self.linear(X)


def test_weight_averaging_keeps_subnormals_out_of_the_average(data):
    # training flushes the subnormal weight to 0 after the first step; the
    # average would decay geometrically through the (slow) subnormal range
    X, y, groups = data
    ranker = NeuralRanker(
        IdleSubnormal,
        module__n_features=X.shape[1],
        callbacks=[WeightAveraging(decay=0.9)],
        validation_fraction=None,
        random_state=0,
        max_epochs=3,
        batch_size=8,
    ).fit(X, y, groups)
    cb = dict(ranker.callbacks_)["WeightAveraging"]
    assert all(int(((a != 0) & (a.abs() < 1.2e-38)).sum()) == 0 for a in cb.average_)
    assert torch.equal(ranker.module_.idle, torch.tensor([0.0, 0.5]))


@pytest.mark.parametrize("spec", ["scaled_log1p", "log1p", "standard"])
def test_input_transform_keeps_sparse_input_sparse(data, spec):
    import scipy.sparse as sp

    X, y, groups = data
    Xs = sp.csr_matrix(np.where(X > 0.5, X, 0.0))
    ranker = NeuralRanker(input_transform=spec, random_state=0, **SMALL)
    scores = ranker.fit(Xs, y, groups).predict(Xs)
    assert np.all(np.isfinite(scores))
    # the training rows stay sparse; the transform (fitted on the sparse
    # matrix, centring included) applies to each batch once it is dense
    dataset = ranker._query_dataset(Xs, y, groups, "fit", reset=False)
    assert dataset.sparse and sp.issparse(dataset.X)
    dense = ranker.input_transform_.transform(Xs.toarray())
    np.testing.assert_allclose(dense.mean(axis=0), 0, atol=1e-9)


def test_a_transform_may_change_the_number_of_columns():
    # the module is built for the transform's output width
    from sklearn.preprocessing import PolynomialFeatures

    X, y, g = make_ranking(30, 4, random_state=0)
    ranker = NeuralRanker(
        input_transform=PolynomialFeatures(2), max_epochs=2, random_state=0
    ).fit(X, y, g)
    assert ranker.n_features_in_ == 4
    assert ranker.module_.encoding.lower.shape[0] == 15  # 1 + 4 + 10 columns
    assert ranker.predict(X).shape == (X.shape[0],)
