"""Tests of NeuralRanker(member_selection="auto"): the probe chooses members."""

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skrank.estimators import NeuralRanker, _neural_ranker, load_ranker, save_ranker

# five members, three of them binned (0, 2, 4); a probe (max_epochs="auto")
AUTO = dict(
    module__hidden_sizes=(8,),
    module__n_bins=4,
    batch_size=8,
    patience=2,
    lr=0.03,  # the probe bottoms out within a few epochs: a fast test
    random_state=0,
)


def make_data(n_queries=30, size=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_queries * size, 4))
    u = (X[:, 0] > 0.3) + X[:, 1] + 0.3 * rng.normal(size=X.shape[0])
    y = np.digitize(u, [0.5, 1.5]).astype(float)
    return X, y, np.repeat(np.arange(n_queries), size)


def member_score(ranker, X, m):
    """Member ``m``'s own score: ``predict`` with only its weight."""
    kept = ranker.member_weights_
    ranker.member_weights_ = np.eye(ranker.module_.n_members)[m]
    try:
        return ranker.predict(X)
    finally:
        ranker.member_weights_ = kept


@pytest.fixture
def margin(monkeypatch):
    def set_margin(value):
        monkeypatch.setattr(_neural_ranker, "_SELECTION_MARGIN", value)

    return set_margin


def test_binned_members_score_alone_when_they_lead(margin):
    # a margin of -1: the binned members lead by more than it whatever the
    # probe finds; they score with their mean, and every member trained
    margin(-1.0)
    X, y, g = make_data()
    ranker = NeuralRanker(**AUTO).fit(X, y, g)
    np.testing.assert_array_equal(ranker.member_weights_, [1 / 3, 0, 1 / 3, 0, 1 / 3])
    expected = sum(member_score(ranker, X, m) for m in (0, 2, 4)) / 3
    np.testing.assert_allclose(ranker.predict(X), expected, rtol=1e-6, atol=1e-6)
    assert not np.allclose(member_score(ranker, X, 1), member_score(ranker, X, 0))
    # the refit's history records no per-subset NDCG (only the probe's does)
    assert "valid_ndcg_binned" not in ranker.history[-1]


def test_every_member_scores_unless_the_binned_ones_lead(margin):
    # a margin of +1 is never beaten: the fit is exactly member_selection=None's
    margin(1.0)
    X, y, g = make_data()
    ranker = NeuralRanker(**AUTO).fit(X, y, g)
    assert ranker.member_weights_ is None
    plain = NeuralRanker(**AUTO, member_selection=None).fit(X, y, g)
    assert plain.member_weights_ is None
    np.testing.assert_array_equal(ranker.predict(X), plain.predict(X))
    mean = sum(member_score(ranker, X, m) for m in range(5)) / 5
    np.testing.assert_allclose(ranker.predict(X), mean, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        {"member_selection": None},
        {"max_epochs": 5},  # no probe
        {"module__alternate_bins": False},  # every member binned
        {"module__n_bins": 0},  # no member binned
        {"module__n_members": 1},
    ],
)
def test_no_selection_without_a_choice(margin, params):
    margin(-1.0)
    X, y, g = make_data()
    ranker = NeuralRanker(**{**AUTO, **params}).fit(X, y, g)
    assert ranker.member_weights_ is None


def test_selection_is_reset_by_the_next_fit(margin):
    margin(-1.0)
    X, y, g = make_data()
    ranker = NeuralRanker(**AUTO).fit(X, y, g)
    assert ranker.member_weights_ is not None
    ranker.set_params(max_epochs=3).fit(X, y, g)
    assert ranker.member_weights_ is None


def test_selection_is_kept_by_continued_training(margin):
    margin(-1.0)
    X, y, g = make_data()
    ranker = NeuralRanker(**AUTO).fit(X, y, g)
    weights = ranker.member_weights_.copy()
    ranker.partial_fit(X, y, g)
    np.testing.assert_array_equal(ranker.member_weights_, weights)


def test_member_selection_is_validated():
    X, y, g = make_data()
    with pytest.raises(InvalidParameterError, match="'member_selection' parameter"):
        NeuralRanker(member_selection="binned").fit(X, y, g)


def test_model_file_keeps_the_selection(tmp_path, margin):
    # a file whose ranker scores with some members is format 5 (older
    # skrank refuses it rather than score with every member)
    margin(-1.0)
    X, y, g = make_data()
    ranker = NeuralRanker(**AUTO).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    assert torch.load(tmp_path / "m.pt", weights_only=True)["version"] == 5
    again = load_ranker(tmp_path / "m.pt")
    np.testing.assert_array_equal(again.member_weights_, ranker.member_weights_)
    np.testing.assert_array_equal(again.predict(X), ranker.predict(X))


@pytest.mark.parametrize(("selection", "version"), [("auto", 3), (None, 5)])
def test_model_file_version_of_the_parameter(tmp_path, selection, version):
    # the default is left out of the file (older skrank does not know the
    # parameter); any other value needs format 5
    import json

    X, y, g = make_data()
    ranker = NeuralRanker(max_epochs=1, member_selection=selection).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    content = torch.load(tmp_path / "m.pt", weights_only=True)
    assert content["version"] == version
    params = json.loads(content["config"])["params"]
    assert ("member_selection" in params) == (selection is None)
    assert load_ranker(tmp_path / "m.pt").member_selection == selection


def test_onnx_export_scores_with_the_kept_members(tmp_path, margin):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import onnxruntime as ort

    from skrank.estimators import export_onnx

    margin(-1.0)
    X, y, g = make_data()
    ranker = NeuralRanker(**AUTO).fit(X, y, g)
    path = export_onnx(ranker, tmp_path / "r.onnx")
    session = ort.InferenceSession(str(path))
    scores = session.run(None, {"X": X.astype(np.float32)})[0]
    np.testing.assert_allclose(scores, ranker.predict(X), atol=1e-5)
