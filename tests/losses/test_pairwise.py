"""Pairwise losses: hand values, a loop reference, gradients, chunking, errors."""

import math

import numpy as np
import pytest
import torch

from skrank.losses import (
    LambdaLoss,
    LambdaRank,
    PairwiseHinge,
    PairwiseLoss,
    PairwiseSoftZeroOne,
    RankNet,
    _chunked,
)

# --------------------------------------------------------------------------
# An independent reference: plain Python loops over lists and pairs, float64.
# --------------------------------------------------------------------------


def _ref_ranks(scores):
    """0-based ranks by decreasing score, ties broken by position."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    ranks = [0] * len(scores)
    for r, i in enumerate(order):
        ranks[i] = r
    return ranks


def _ref_gain(y, kind):
    return 2.0**y - 1.0 if kind == "exponential" else float(y)


def _ref_disc(r, k=None):
    if k is not None and r >= k:
        return 0.0
    return 1.0 / math.log2(r + 2)


def _ref_idcg(labels, kind, k):
    gains = sorted((_ref_gain(y, kind) for y in labels), reverse=True)
    return sum(g * _ref_disc(r) for r, g in enumerate(gains) if k is None or r < k)


def _ref_pair_value(name, d, sigma=1.0, margin=1.0):
    if name == "logistic":
        return math.log1p(math.exp(-sigma * d))
    if name == "log2":
        return math.log1p(math.exp(-sigma * d)) / math.log(2)
    if name == "hinge":
        return max(0.0, margin - d)
    if name == "soft_zero_one":
        return 1.0 / (1.0 + math.exp(sigma * d))
    raise ValueError(name)


def _ref_weight(kind, s, y, i, j, k=None, gain="exponential", mu=10.0):
    if kind is None:
        return 1.0
    if kind == "label_diff":
        return abs(y[i] - y[j])
    ranks = _ref_ranks(s)
    idcg = _ref_idcg(y, gain, k)
    gdiff = abs(_ref_gain(y[i], gain) - _ref_gain(y[j], gain)) / idcg
    rho = abs(_ref_disc(ranks[i], k) - _ref_disc(ranks[j], k))
    if kind == "lambdarank":
        return gdiff * rho
    gap = abs(ranks[i] - ranks[j])
    delta = 1.0 / math.log2(gap + 1) - 1.0 / math.log2(gap + 2)
    if k is not None and min(ranks[i], ranks[j]) >= k:
        delta = 0.0
    if kind == "ndcg_loss2":
        return gdiff * delta
    return gdiff * (rho + mu * delta)


def ref_pairwise(scores, labels, mask, pair, weight=None, normalize=True, **kw):
    """Mean over lists with a pair of the per-list (normalised) pair sum."""
    per_list = []
    for s_row, y_row, m_row in zip(scores, labels, mask, strict=True):
        s = [float(v) for v, m in zip(s_row, m_row, strict=True) if m]
        y = [float(v) for v, m in zip(y_row, m_row, strict=True) if m]
        pair_kw = {key: v for key, v in kw.items() if key in ("sigma", "margin")}
        weight_kw = {key: v for key, v in kw.items() if key not in pair_kw}
        total, count = 0.0, 0
        for i in range(len(s)):
            for j in range(len(s)):
                if y[i] > y[j]:
                    w = _ref_weight(weight, s, y, i, j, **weight_kw)
                    total += w * _ref_pair_value(pair, s[i] - s[j], **pair_kw)
                    count += 1
        if count:
            per_list.append(total / count if normalize else total)
    return sum(per_list) / len(per_list) if per_list else 0.0


def _random_batch(rng, n_queries=4, list_len=7, n_grades=4, dtype=torch.float64):
    scores = torch.tensor(rng.normal(size=(n_queries, list_len)), dtype=dtype)
    labels = torch.tensor(rng.integers(0, n_grades, (n_queries, list_len)), dtype=dtype)
    lengths = rng.integers(1, list_len + 1, n_queries)
    lengths[0] = list_len
    mask = torch.arange(list_len)[None, :] < torch.tensor(lengths)[:, None]
    # padding gets junk values
    scores = torch.where(mask, scores, torch.tensor(1e3, dtype=dtype))
    labels = torch.where(mask, labels, torch.tensor(9.0, dtype=dtype))
    return scores, labels, mask


CASES = [
    (RankNet(), "logistic", None, {}),
    (RankNet(sigma=2.5), "logistic", None, {"sigma": 2.5}),
    (RankNet(label_diff=True), "logistic", "label_diff", {}),
    (PairwiseHinge(), "hinge", None, {}),
    (
        PairwiseHinge(margin=0.3, label_diff=True),
        "hinge",
        "label_diff",
        {"margin": 0.3},
    ),
    (PairwiseSoftZeroOne(sigma=0.7), "soft_zero_one", None, {"sigma": 0.7}),
    (
        PairwiseLoss("soft_zero_one", weights="label_diff"),
        "soft_zero_one",
        "label_diff",
        {},
    ),
]
LAMBDA_CASES = [
    (LambdaRank(), "logistic", "lambdarank", {}),
    (LambdaRank(k=3, sigma=2.0), "logistic", "lambdarank", {"k": 3, "sigma": 2.0}),
    (LambdaRank(gain="linear"), "logistic", "lambdarank", {"gain": "linear"}),
    (LambdaLoss(), "log2", "ndcg_loss2", {}),
    (LambdaLoss(k=2), "log2", "ndcg_loss2", {"k": 2}),
    (LambdaLoss("ndcg_loss2pp", mu=3.0), "log2", "ndcg_loss2pp", {"mu": 3.0}),
    (LambdaLoss("ndcg_loss2pp", k=3), "log2", "ndcg_loss2pp", {"k": 3}),
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "loss, pair, weight, kw", CASES, ids=lambda c: c.__class__.__name__
)
def test_matches_loop_reference(seed, loss, pair, weight, kw):
    rng = np.random.default_rng(seed)
    scores, labels, mask = _random_batch(rng)
    expected = ref_pairwise(scores, labels, mask, pair, weight, **kw)
    assert loss(scores, labels, mask).item() == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("loss, pair, weight, kw", LAMBDA_CASES)
def test_lambda_losses_match_loop_reference(seed, loss, pair, weight, kw):
    rng = np.random.default_rng(seed)
    scores, labels, mask = _random_batch(rng, n_grades=3)
    kw = dict(kw)
    sigma = kw.pop("sigma", 1.0)
    expected = ref_pairwise(
        scores * sigma, labels, mask, pair, weight, normalize=False, **kw
    )
    assert loss(scores, labels, mask).item() == pytest.approx(expected, rel=1e-10)


def test_hand_computed_values():
    scores = torch.tensor([[0.0, 0.0, 1.0]])
    labels = torch.tensor([[1.0, 0.0, 0.0]])
    # pairs (0, 1): d = 0 and (0, 2): d = -1
    expected = (math.log(2.0) + math.log1p(math.e)) / 2
    assert RankNet()(scores, labels).item() == pytest.approx(expected, rel=1e-6)
    # hinge: max(0, 1 - 0) and max(0, 1 + 1)
    assert PairwiseHinge()(scores, labels).item() == pytest.approx(1.5)
    # soft zero-one: sigmoid(0) and sigmoid(1)
    expected = (0.5 + 1 / (1 + math.exp(-1.0))) / 2
    assert PairwiseSoftZeroOne()(scores, labels).item() == pytest.approx(expected)
    # LambdaRank: labels [0, 1], doc 0 ranked first: |dNDCG| = 1 - 1/log2(3)
    scores = torch.tensor([[1.0, 0.0]])
    labels = torch.tensor([[0.0, 1.0]])
    weight = 1.0 - 1.0 / math.log2(3)
    expected = weight * math.log1p(math.e)
    assert LambdaRank()(scores, labels).item() == pytest.approx(expected, rel=1e-6)
    # k=1: the swap brings the relevant document to the top: |dNDCG@1| = 1
    expected_k1 = math.log1p(math.e)
    assert LambdaRank(k=1)(scores, labels).item() == pytest.approx(expected_k1)
    # LambdaLoss NDCG-Loss2: delta for adjacent ranks = 1 - 1/log2(3), base-2 log
    expected = weight * math.log1p(math.e) / math.log(2)
    assert LambdaLoss()(scores, labels).item() == pytest.approx(expected, rel=1e-6)


def test_lambdarank_truncation_ignores_pairs_below_k():
    # current ranking: docs 0, 1, 2, 3; with k=2 the pair (2, 3) is ignored
    scores = torch.tensor([[4.0, 3.0, 2.0, 1.0]], dtype=torch.float64)
    labels = torch.tensor([[0.0, 0.0, 0.0, 1.0]], dtype=torch.float64)
    scores.requires_grad_()
    LambdaRank(k=2)(scores, labels).backward()
    # the relevant doc 3 pairs with docs 0 and 1 (inside top 2) but not doc 2
    assert scores.grad[0, 2] == 0
    assert scores.grad[0, 0] > 0 and scores.grad[0, 1] > 0 and scores.grad[0, 3] < 0


def test_ties_in_scores_broken_by_position():
    scores = torch.zeros(1, 3, dtype=torch.float64)
    labels = torch.tensor([[0.0, 2.0, 1.0]], dtype=torch.float64)
    expected = ref_pairwise(
        scores,
        labels,
        torch.ones(1, 3, dtype=bool),
        "logistic",
        "lambdarank",
        normalize=False,
    )
    assert LambdaRank()(scores, labels).item() == pytest.approx(expected)


@pytest.mark.parametrize("loss", [c[0] for c in CASES + LAMBDA_CASES])
def test_gradcheck(loss):
    rng = np.random.default_rng(3)
    scores, labels, mask = _random_batch(rng, n_queries=3, list_len=5)
    scores = scores.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda s: loss(s, labels, mask), (scores,))


@pytest.mark.parametrize("loss", [c[0] for c in CASES + LAMBDA_CASES])
def test_chunked_equals_single_block(loss, monkeypatch):
    rng = np.random.default_rng(4)
    scores, labels, mask = _random_batch(rng, n_queries=5, list_len=40, n_grades=5)
    scores.requires_grad_()
    value = loss(scores, labels, mask)
    (grad,) = torch.autograd.grad(value, scores)
    monkeypatch.setattr(_chunked, "BLOCK_BYTES", 1)  # one row per block
    value_small = loss(scores, labels, mask)
    (grad_small,) = torch.autograd.grad(value_small, scores)
    torch.testing.assert_close(value_small, value)
    torch.testing.assert_close(grad_small, grad)


def test_reduction_none_and_sum():
    rng = np.random.default_rng(5)
    scores, labels, mask = _random_batch(rng)
    per_list = RankNet(reduction="none")(scores, labels, mask)
    assert per_list.shape == (4,)
    total = RankNet(reduction="sum")(scores, labels, mask)
    torch.testing.assert_close(total, per_list.sum())


def test_list_without_pairs_contributes_nothing():
    scores = torch.tensor([[1.0, 0.0], [0.3, 0.2]])
    labels = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    both = RankNet()(scores, labels)
    first = RankNet()(scores[:1], labels[:1])
    torch.testing.assert_close(both, first)


def test_custom_pair_function_and_weights():
    class Square:
        value_scale = 1.0
        derivative_scale = -2.0

        def value_and_derivative(self, diff):
            value = (1.0 - diff).clamp(min=0)
            return value.square(), value

    scores = torch.tensor([[0.5, 0.0, 2.0]], requires_grad=True)
    labels = torch.tensor([[1.0, 0.0, 0.0]])
    value = PairwiseLoss(Square())(scores, labels)
    assert value.item() == pytest.approx((0.25 + 6.25) / 2)
    value.backward()
    reference = scores.detach().clone().requires_grad_()
    d = reference[0, 0] - reference[0, 1:]
    ((1 - d).clamp(min=0).square().mean()).backward()
    torch.testing.assert_close(scores.grad, reference.grad)


def test_not_twice_differentiable_but_first_order_ok():
    scores = torch.tensor([[0.5, 0.0]], requires_grad=True)
    value = RankNet()(scores, torch.tensor([[1.0, 0.0]]))
    (grad,) = torch.autograd.grad(value, scores)
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize(
    "factory, message",
    [
        (
            lambda: RankNet(sigma=-1),
            r"The 'sigma' parameter of RankNet must be a float in the range "
            r"\(0.0, inf\). Got -1 instead.",
        ),
        (
            lambda: RankNet(label_diff="yes"),
            r"The 'label_diff' parameter of RankNet must be an instance of 'bool'",
        ),
        (
            lambda: PairwiseHinge(margin=-0.5),
            r"The 'margin' parameter of PairwiseHinge must be a float in the range "
            r"\[0.0, inf\). Got -0.5 instead.",
        ),
        (
            lambda: PairwiseSoftZeroOne(sigma=0),
            r"The 'sigma' parameter of PairwiseSoftZeroOne must be a float",
        ),
        (
            lambda: LambdaRank(k=0),
            r"The 'k' parameter of LambdaRank must be an int in the range \[1, inf\) "
            r"or None. Got 0 instead.",
        ),
        (
            lambda: LambdaRank(gain="log"),
            r"The 'gain' parameter of LambdaRank must be a str among",
        ),
        (
            lambda: LambdaLoss("ndcg"),
            r"The 'weighting' parameter of LambdaLoss must be a str among",
        ),
        (
            lambda: LambdaLoss(mu=-1.0),
            r"The 'mu' parameter of LambdaLoss must be a float in the range",
        ),
        (
            lambda: PairwiseLoss("cubic"),
            r"The 'pair_fn' parameter of PairwiseLoss must be a str among",
        ),
        (
            lambda: PairwiseLoss(weights="ndcg"),
            r"The 'weights' parameter of PairwiseLoss must be",
        ),
    ],
)
def test_hyperparameter_errors(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_reduction_error():
    with pytest.raises(ValueError, match="The 'reduction' parameter of RankNet"):
        RankNet(reduction="max")(torch.zeros(1, 2), torch.zeros(1, 2))


@pytest.mark.parametrize(
    "scores, labels, mask, message",
    [
        (
            torch.zeros(3),
            torch.zeros(3),
            None,
            r"RankNet expects scores of shape \[n_queries, list_len\]. "
            r"Got a tensor of shape \(3,\) instead.",
        ),
        (
            torch.zeros(2, 3),
            torch.zeros(2, 4),
            None,
            r"RankNet: labels must have the shape of scores \(2, 3\). "
            r"Got \(2, 4\) instead.",
        ),
        (
            torch.zeros(2, 3),
            torch.zeros(2, 3),
            torch.ones(2, 2, dtype=bool),
            r"RankNet: mask must have the shape of labels \(2, 3\). "
            r"Got \(2, 2\) instead.",
        ),
    ],
)
def test_bad_shapes(scores, labels, mask, message):
    with pytest.raises(ValueError, match=message):
        RankNet()(scores, labels, mask)


def test_inputs_not_modified():
    rng = np.random.default_rng(6)
    scores, labels, mask = _random_batch(rng, dtype=torch.float32)
    copies = scores.clone(), labels.clone(), mask.clone()
    for loss in [c[0] for c in CASES + LAMBDA_CASES]:
        loss(scores, labels, mask)
    for before, after in zip(copies, (scores, labels, mask), strict=True):
        assert torch.equal(before, after)
