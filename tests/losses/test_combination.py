"""Sums of losses: values, gradients, logged parts, custom callables."""

import pytest
import torch

from skrank.losses import (
    CombinedLoss,
    LambdaRank,
    OrdinalLoss,
    RankNet,
    SquaredError,
    get_loss,
    get_loss_names,
)


@pytest.fixture
def batch():
    gen = torch.Generator().manual_seed(0)
    scores = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 3, (3, 5), generator=gen).to(torch.float64)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]]).bool()
    return scores, labels, mask


def test_weighted_sum_value_and_gradient(batch):
    scores, labels, mask = batch
    combined = SquaredError() + 0.5 * RankNet()
    s1 = scores.clone().requires_grad_()
    combined(s1, labels, mask).backward()
    s2 = scores.clone().requires_grad_()
    (SquaredError()(s2, labels, mask) + 0.5 * RankNet()(s2, labels, mask)).backward()
    torch.testing.assert_close(s1.grad, s2.grad)
    assert isinstance(combined, CombinedLoss)
    assert combined.weights == [1.0, 0.5]


def test_parts_logged(batch):
    scores, labels, mask = batch
    combined = RankNet() + 0.5 * LambdaRank() + 2 * RankNet(sigma=2.0)
    total = combined(scores, labels, mask)
    parts = combined.last_parts_
    assert list(parts) == ["RankNet", "LambdaRank", "RankNet_2"]
    torch.testing.assert_close(parts["RankNet"], RankNet()(scores, labels, mask))
    expected = parts["RankNet"] + 0.5 * parts["LambdaRank"] + 2 * parts["RankNet_2"]
    torch.testing.assert_close(total, expected)
    assert all(not p.requires_grad for p in parts.values())


def test_listnet_plus_ranknet(batch):
    if "listnet" not in get_loss_names():
        pytest.skip("ListNet is not registered")
    scores, labels, mask = batch
    combined = get_loss("listnet") + 0.5 * RankNet()
    expected = get_loss("listnet")(scores, labels, mask) + 0.5 * RankNet()(
        scores, labels, mask
    )
    torch.testing.assert_close(combined(scores, labels, mask), expected)
    assert set(combined.last_parts_) == {type(get_loss("listnet")).__name__, "RankNet"}


def test_any_callable_is_a_term(batch):
    scores, labels, mask = batch

    def score_penalty(scores, labels, mask=None):
        return scores[mask].square().mean()

    combined = RankNet() + score_penalty
    value = combined(scores, labels, mask)
    expected = RankNet()(scores, labels, mask) + score_penalty(scores, labels, mask)
    torch.testing.assert_close(value, expected)
    assert "score_penalty" in combined.last_parts_


def test_sum_builtin_and_scaling(batch):
    scores, labels, mask = batch
    combined = sum([RankNet(), LambdaRank()])
    scaled = 3 * combined
    torch.testing.assert_close(
        scaled(scores, labels, mask), 3 * combined(scores, labels, mask)
    )


def test_modules_registered():
    combined = RankNet() + 0.5 * LambdaRank()
    assert len(combined.losses) == 2


def test_n_outputs_mismatch_error():
    with pytest.raises(ValueError, match="Cannot combine losses that need different"):
        OrdinalLoss(n_grades=3) + RankNet()


def test_ordinal_combines_with_itself():
    combined = OrdinalLoss(n_grades=3) + 0.5 * OrdinalLoss(n_grades=3)
    assert combined.n_outputs == 2
    value = combined(torch.zeros(1, 2, 2), torch.tensor([[2.0, 0.0]]))
    assert torch.isfinite(value)


def test_bad_term_error():
    with pytest.raises(TypeError, match="CombinedLoss terms must be"):
        CombinedLoss([(1.0, "ranknet")])
