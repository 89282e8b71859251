"""Tests of the scorer modules' quality features: input noise, latent cross."""

import numpy as np
import pytest
import torch

from skrank.estimators import AttentionScorer, MLPScorer


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLPScorer(n_features=3, hidden_sizes=(4,), input_noise=0.5),
        lambda: AttentionScorer(
            n_features=3, d_model=4, n_heads=1, n_layers=1, dropout=0.0, input_noise=0.5
        ),
    ],
)
def test_input_noise_only_in_training_mode(make):
    torch.manual_seed(0)
    net = make()
    X = torch.randn(2, 5, 3)
    mask = torch.ones(2, 5, dtype=torch.bool)
    args = (X, mask) if net.context_aware else (X,)
    net.eval()
    torch.testing.assert_close(net(*args), net(*args))
    net.train()
    assert not torch.allclose(net(*args), net(*args))


def test_input_noise_zero_is_deterministic_in_training():
    net = MLPScorer(n_features=3, hidden_sizes=(4,))
    X = torch.randn(6, 3)
    torch.testing.assert_close(net(X), net(X))


def test_latent_cross_without_context_is_the_document_mlp():
    torch.manual_seed(0)
    net = AttentionScorer(n_features=3, d_model=4, n_heads=1, n_layers=1, dropout=0.0)
    net.eval()
    # silence the list tower: its output a_i becomes 0, so f = head(MLP(x))
    for layer in net.encoder.layers:
        for p in layer.parameters():
            p.data.zero_()
    X = torch.randn(1, 4, 3)
    expected = net.head(net.document(X))
    torch.testing.assert_close(net(X), expected)


@pytest.mark.parametrize("latent_cross", [True, False])
def test_attention_scorer_ignores_padding(latent_cross):
    torch.manual_seed(0)
    net = AttentionScorer(
        n_features=3,
        d_model=4,
        n_heads=2,
        n_layers=1,
        dropout=0.0,
        latent_cross=latent_cross,
    ).eval()
    X = torch.randn(1, 5, 3)
    mask = torch.tensor([[True, True, True, False, False]])
    X_other = X.clone()
    X_other[0, 3:] = 1e3
    torch.testing.assert_close(net(X, mask)[mask], net(X_other, mask)[mask])
    assert (net.document is None) is (not latent_cross)


def test_attention_scorer_context_changes_scores():
    torch.manual_seed(0)
    net = AttentionScorer(n_features=2, d_model=4, n_heads=1, n_layers=1).eval()
    X = torch.randn(1, 3, 2)
    other = X.clone()
    other[0, 2] += 5.0
    out, out_other = net(X)[0, :2], net(other)[0, :2]
    assert not torch.allclose(out, out_other)


def test_neural_ranker_trains_the_latent_cross_scorer():
    from skrank.datasets import make_ranking
    from skrank.estimators import NeuralRanker

    X, y, groups = make_ranking(30, 4, list_length=(3, 8), random_state=0)
    ranker = NeuralRanker(
        AttentionScorer,
        module__d_model=8,
        module__n_heads=2,
        module__n_layers=1,
        module__hidden_sizes=(8,),
        module__input_noise=0.1,
        max_epochs=2,
        random_state=0,
    ).fit(X, y, groups)
    scores = ranker.predict(X, groups=groups)
    assert scores.shape == (X.shape[0],) and np.all(np.isfinite(scores))
