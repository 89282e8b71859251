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
    net = MLPScorer(n_features=3, hidden_sizes=(4,), dropout=0.0)
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


def test_mlp_members_are_independent_networks():
    torch.manual_seed(0)
    net = MLPScorer(n_features=3, hidden_sizes=(4,), n_members=3).eval()
    X = torch.randn(5, 3)
    out = net(X)
    assert out.shape == (5, 3)
    for m, member in enumerate(net.members):
        torch.testing.assert_close(out[:, m : m + 1], member(X))
    # members start from different weights
    assert not torch.allclose(out[:, 0], out[:, 1])


def test_mlp_one_member_keeps_the_plain_layout():
    net = MLPScorer(n_features=3, hidden_sizes=(4,), n_members=1)
    assert all(name.startswith("layers.") for name in net.state_dict())


def test_mlp_bad_n_members():
    with pytest.raises(ValueError, match="The 'n_members' parameter of MLPScorer"):
        MLPScorer(n_features=3, n_members=0)


@pytest.mark.parametrize("loss", ["listnet", "ordinal"])
def test_neural_ranker_scores_with_the_members_mean(loss):
    from skrank.datasets import make_ranking
    from skrank.estimators import NeuralRanker

    X, y, groups = make_ranking(20, 4, list_length=(3, 8), n_grades=3, random_state=0)
    ranker = NeuralRanker(
        loss=loss,
        max_epochs=2,
        random_state=0,
        module__hidden_sizes=(4,),
        module__n_members=3,
    ).fit(X, y, groups)
    net = ranker.module_.eval()
    with torch.no_grad():
        out = net(
            torch.as_tensor(
                ranker.input_transform_.transform(X)
                if ranker.input_transform_ is not None
                else X,
                dtype=torch.float32,
            )
        )
        out = ranker._add_offset(out)  # the ordinal loss's starting thresholds
        parts = out.unflatten(-1, (3, -1)).unbind(-2)
        expected = sum(ranker._member_score(p) for p in parts) / 3
    np.testing.assert_allclose(ranker.predict(X), expected.numpy(), rtol=1e-5)


def test_each_member_gets_only_its_own_gradient():
    from skrank.datasets import make_ranking
    from skrank.estimators import NeuralRanker

    X, y, groups = make_ranking(10, 3, list_length=(3, 6), random_state=0)
    ranker = NeuralRanker(
        max_epochs=0, random_state=0, module__hidden_sizes=(), module__n_members=2
    ).fit(X, y, groups)
    batch = next(
        iter(
            ranker.get_iterator(
                ranker._query_dataset(X, y, groups, "fit", reset=False), training=False
            )
        )
    )
    x, labels = batch
    y_pred = ranker.infer(x)
    y_pred = y_pred.detach().requires_grad_(True)
    loss = ranker.get_loss(y_pred, labels, X=x)
    (grad,) = torch.autograd.grad(loss, y_pred)
    # the loss is the mean of the members' losses: a member's gradient is
    # half the gradient its own loss alone gives
    alone = ranker._member_loss(y_pred[..., :1], labels, x.mask, None)
    (grad0,) = torch.autograd.grad(alone, y_pred)
    torch.testing.assert_close(grad[..., 0], grad0[..., 0] / 2)
