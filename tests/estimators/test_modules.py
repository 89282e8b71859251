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


@pytest.mark.parametrize("n_bins", [0, 4])
def test_mlp_members_are_independent_networks(n_bins):
    torch.manual_seed(0)
    net = MLPScorer(n_features=3, hidden_sizes=(4,), n_bins=n_bins, n_members=3)
    net.eval()
    X = torch.randn(5, 3)
    out = net(X)
    assert out.shape == (5, 3)
    # every member sees the features and, with bins, the 1st and 3rd their
    # encoding too (alternate_bins)
    encoded = X if n_bins == 0 else torch.cat([X, net.encoding(X)], dim=-1)
    for m, member in enumerate(net.members):
        inputs = encoded if m % 2 == 0 else X
        torch.testing.assert_close(out[:, m : m + 1], member(inputs))
    # members start from different weights
    assert not torch.allclose(out[:, 0], out[:, 2])


@pytest.mark.parametrize(
    ("alternate", "n_members", "binned"),
    [
        (True, 5, (True, False, True, False, True)),
        (True, 1, (True,)),
        (False, 3, (True, True, True)),
    ],
)
def test_mlp_alternate_bins(alternate, n_members, binned):
    net = MLPScorer(
        n_features=3,
        hidden_sizes=(4,),
        n_bins=2,
        alternate_bins=alternate,
        n_members=n_members,
    )
    assert net.binned == binned
    nets = net.members if n_members > 1 else [net.layers]
    assert [m[0].in_features for m in nets] == [9 if b else 3 for b in binned]
    # without bins nobody is binned, whatever alternate_bins says
    plain = MLPScorer(n_features=3, n_bins=0, alternate_bins=alternate)
    assert not any(plain.binned)


def test_mlp_one_member_keeps_the_plain_layout():
    net = MLPScorer(n_features=3, hidden_sizes=(4,), n_members=1)
    assert {name.split(".")[0] for name in net.state_dict()} == {"layers", "encoding"}
    net = MLPScorer(n_features=3, hidden_sizes=(4,), n_bins=0, n_members=1)
    assert all(name.startswith("layers.") for name in net.state_dict())
    assert net.layers[0].in_features == 3


# ---------------------------------------------------------------------------
# The piecewise-linear encoding
# ---------------------------------------------------------------------------
def test_piecewise_linear_encoding_by_hand():
    # edges 0 < 1 < 3: a value below the bins, inside each, and above
    net = MLPScorer(n_features=1, hidden_sizes=(), n_bins=2, n_members=1)
    net.encoding.set_edges(torch.tensor([[0.0, 1.0, 3.0]]))
    X = torch.tensor([[-1.0], [0.5], [2.0], [3.0], [7.0]])
    expected = torch.tensor([[0, 0], [0.5, 0], [1, 0.5], [1, 1], [1, 1]])
    torch.testing.assert_close(net.encoding(X), expected)
    assert net.layers[0].in_features == 3  # the feature and its two bins


def test_piecewise_linear_edges_are_training_quantiles():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 3))
    X[:, 1] = np.where(X[:, 1] > 0.3, X[:, 1], 0.0)  # a point mass at 0
    X[:, 2] = 5.0  # constant
    net = MLPScorer(n_features=3, hidden_sizes=(4,), n_bins=8, n_members=2)
    net.initialize_from_data(torch.as_tensor(X, dtype=torch.float32))
    levels = np.linspace(0, 1, 9)
    edges0 = np.quantile(X[:, 0].astype(np.float32), levels)
    lower = net.encoding.lower.numpy()
    np.testing.assert_allclose(lower[0], edges0[:-1], rtol=1e-6)
    np.testing.assert_allclose(1 / net.encoding.inv_width[0].numpy(), np.diff(edges0))
    # repeated quantiles merged: the freed bins have zero width and output 0
    n_real = np.unique(np.quantile(X[:, 1].astype(np.float32), levels)).size - 1
    assert n_real < 8
    assert (net.encoding.inv_width[1, :n_real] > 0).all()
    assert (net.encoding.inv_width[1, n_real:] == 0).all()
    assert (net.encoding.inv_width[2] == 0).all()
    encoded = net.encoding(torch.as_tensor(X, dtype=torch.float32)).view(-1, 3, 8)
    assert (encoded[:, 1, n_real:] == 0).all() and (encoded[:, 2] == 0).all()
    # every component is non-decreasing in its feature, within [0, 1]
    grid = torch.linspace(-4, 4, 101)[:, None].expand(-1, 3)
    codes = net.encoding(grid).view(101, 3, 8)
    assert (codes.diff(dim=0) >= 0).all()
    assert codes.min() >= 0 and codes.max() <= 1


def test_piecewise_linear_default_edges_fit_standardised_inputs():
    net = MLPScorer(n_features=2, hidden_sizes=(), n_bins=4, n_members=1)
    lower = net.encoding.lower
    torch.testing.assert_close(lower[0], lower[1])
    assert -2.4 < lower[0, 0] < -2.3 and (net.encoding.inv_width > 0).all()


def test_mlp_bad_n_bins():
    with pytest.raises(ValueError, match="The 'n_bins' parameter of MLPScorer"):
        MLPScorer(n_features=3, n_bins=-1)
    with pytest.raises(ValueError, match=r"or 'auto'\. Got 'x'"):
        MLPScorer(n_features=3, n_bins="x")


def test_mlp_bad_n_members():
    with pytest.raises(ValueError, match="The 'n_members' parameter of MLPScorer"):
        MLPScorer(n_features=3, n_members=0)


@pytest.mark.parametrize("scorer", [MLPScorer, AttentionScorer])
@pytest.mark.parametrize(
    "name, value, interval",
    [
        # a negative standard deviation used to switch the noise off silently
        ("input_noise", -0.1, r"\[0.0, inf\)"),
        ("input_noise", float("nan"), r"\[0.0, inf\)"),
        ("dropout", 1.0, r"\[0.0, 1.0\)"),
        ("dropout", "0.2", r"\[0.0, 1.0\)"),
    ],
)
def test_scorers_bad_rates(scorer, name, value, interval):
    message = (
        f"The '{name}' parameter of {scorer.__name__} must be a float in the range "
        f"{interval}. Got {value!r} instead."
    )
    with pytest.raises(ValueError, match=message):
        scorer(n_features=3, **{name: value})


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


@pytest.mark.parametrize(
    ("n_features", "n_bins"),
    [(5, 16), (64, 16), (65, 15), (136, 7), (512, 2), (513, 0)],
)
def test_mlp_auto_bins_bound_the_encoded_width(n_features, n_bins):
    net = MLPScorer(n_features=n_features, hidden_sizes=(2,), n_members=1)
    got = 0 if net.encoding is None else net.encoding.lower.shape[1]
    assert got == n_bins
    assert net.layers[0].in_features == n_features * (1 + n_bins)
