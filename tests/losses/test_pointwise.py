"""Pointwise losses: hand values, a loop reference, gradients, errors."""

import math

import numpy as np
import pytest
import torch

from skrank.losses import (
    AbsoluteError,
    HuberLoss,
    OrdinalLoss,
    SigmoidBCE,
    SquaredError,
)


def _bce(p_logit, t):
    p = 1.0 / (1.0 + math.exp(-p_logit))
    return -(t * math.log(p) + (1 - t) * math.log(1 - p))


def _doc_ref(name, s, y, **kw):
    if name == "mse":
        return (s - y) ** 2
    if name == "mae":
        return abs(s - y)
    if name == "huber":
        delta = kw.get("delta", 1.0)
        a = abs(s - y)
        return 0.5 * a * a if a <= delta else delta * (a - 0.5 * delta)
    if name == "bce":
        if kw.get("max_grade") is not None:
            t = min(1.0, y / kw["max_grade"])
        else:
            t = float(y >= kw.get("threshold", 1.0))
        return _bce(s, t)
    raise ValueError(name)


def ref_pointwise(name, scores, labels, mask, **kw):
    """Mean over lists with a real document of the mean over its documents."""
    per_list = []
    for s_row, y_row, m_row in zip(scores, labels, mask, strict=True):
        values = [
            _doc_ref(name, float(s), float(y), **kw)
            for s, y, m in zip(s_row, y_row, m_row, strict=True)
            if m
        ]
        if values:
            per_list.append(sum(values) / len(values))
    return sum(per_list) / len(per_list) if per_list else 0.0


def ref_ordinal(scores, labels, mask, n_grades):
    per_list = []
    for s_row, y_row, m_row in zip(scores, labels, mask, strict=True):
        values = []
        for f, y, m in zip(s_row, y_row, m_row, strict=True):
            if m:
                values.append(
                    sum(_bce(float(f[t]), float(y > t)) for t in range(n_grades - 1))
                )
        if values:
            per_list.append(sum(values) / len(values))
    return sum(per_list) / len(per_list)


def _batch(rng, n_queries=4, list_len=6, dtype=torch.float64):
    scores = torch.tensor(rng.normal(size=(n_queries, list_len)) * 2, dtype=dtype)
    labels = torch.tensor(rng.integers(0, 4, (n_queries, list_len)), dtype=dtype)
    lengths = torch.tensor(rng.integers(0, list_len + 1, n_queries))
    lengths[0] = list_len
    mask = torch.arange(list_len)[None, :] < lengths[:, None]
    scores = torch.where(mask, scores, torch.tensor(-7e3, dtype=dtype))
    return scores, labels, mask


CASES = [
    (SquaredError(), "mse", {}),
    (AbsoluteError(), "mae", {}),
    (HuberLoss(), "huber", {}),
    (HuberLoss(delta=0.5), "huber", {"delta": 0.5}),
    (SigmoidBCE(), "bce", {}),
    (SigmoidBCE(threshold=2), "bce", {"threshold": 2}),
    (SigmoidBCE(max_grade=3), "bce", {"max_grade": 3}),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("loss, name, kw", CASES)
def test_matches_loop_reference(seed, loss, name, kw):
    scores, labels, mask = _batch(np.random.default_rng(seed))
    expected = ref_pointwise(name, scores, labels, mask, **kw)
    assert loss(scores, labels, mask).item() == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_ordinal_matches_loop_reference(seed):
    rng = np.random.default_rng(seed)
    _, labels, mask = _batch(rng)
    scores = torch.tensor(rng.normal(size=(*labels.shape, 3)))
    expected = ref_ordinal(scores, labels, mask, 4)
    value = OrdinalLoss(n_grades=4)(scores, labels, mask)
    assert value.item() == pytest.approx(expected, rel=1e-10)


def test_hand_computed_values():
    scores = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
    labels = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    mask = torch.tensor([[True, True], [True, False]])
    # list means: mse (1 + 0) / 2 and 9 -> (0.5 + 9) / 2
    assert SquaredError()(scores, labels, mask).item() == pytest.approx(4.75)
    assert AbsoluteError()(scores, labels, mask).item() == pytest.approx(1.75)
    # huber: (0.5 + 0) / 2 and 3 - 0.5 -> (0.25 + 2.5) / 2
    assert HuberLoss()(scores, labels, mask).item() == pytest.approx(1.375)
    # bce: logit 0 against target 1 is log 2
    value = SigmoidBCE()(torch.zeros(1, 1), torch.ones(1, 1))
    assert value.item() == pytest.approx(math.log(2))
    # ordinal, 3 grades, outputs 0: two BCE terms of log 2 per document
    value = OrdinalLoss(n_grades=3)(torch.zeros(1, 2, 2), labels[:1])
    assert value.item() == pytest.approx(2 * math.log(2))


def test_mean_over_lists_then_documents():
    scores = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    labels = torch.zeros(2, 3)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    # list 1 mean 1, list 2 mean 0: 0.5 (not 3/4 over all documents)
    assert SquaredError()(scores, labels, mask).item() == pytest.approx(0.5)


def test_ordinal_score_from_output_is_expected_grade():
    loss = OrdinalLoss(n_grades=3)
    output = torch.tensor([[[10.0, 10.0], [10.0, -10.0], [-10.0, -10.0]]])
    ranking_scores = loss.score_from_output(output)
    torch.testing.assert_close(
        ranking_scores, torch.tensor([[2.0, 1.0, 0.0]]), atol=1e-3, rtol=0
    )
    assert loss.n_outputs == 2


def test_ordinal_bad_output_shape():
    with pytest.raises(
        ValueError,
        match=r"OrdinalLoss expects scores of shape \[n_queries, list_len, 2\]. "
        r"Got a tensor of shape \(1, 3\) instead.",
    ):
        OrdinalLoss(n_grades=3)(torch.zeros(1, 3), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="OrdinalLoss expects 2 outputs per document"):
        OrdinalLoss(n_grades=3)(torch.zeros(1, 3, 4), torch.zeros(1, 3))


@pytest.mark.parametrize("loss", [c[0] for c in CASES])
def test_gradcheck(loss):
    scores, labels, mask = _batch(np.random.default_rng(2), n_queries=3, list_len=4)
    scores = scores.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda s: loss(s, labels, mask), (scores,))


def test_gradcheck_ordinal():
    rng = np.random.default_rng(3)
    _, labels, mask = _batch(rng, n_queries=3, list_len=4)
    scores = torch.tensor(rng.normal(size=(3, 4, 2)), requires_grad=True)
    loss = OrdinalLoss(n_grades=3)
    assert torch.autograd.gradcheck(lambda s: loss(s, labels, mask), (scores,))


@pytest.mark.parametrize(
    "factory, message",
    [
        (
            lambda: HuberLoss(delta=0),
            r"The 'delta' parameter of HuberLoss must be a float in the range "
            r"\(0.0, inf\). Got 0 instead.",
        ),
        (
            lambda: SigmoidBCE(max_grade=-2),
            r"The 'max_grade' parameter of SigmoidBCE must be a float in the range "
            r"\(0.0, inf\) or None. Got -2 instead.",
        ),
        (
            lambda: SigmoidBCE(threshold="high"),
            r"The 'threshold' parameter of SigmoidBCE must be a float",
        ),
        (
            lambda: OrdinalLoss(n_grades=1),
            r"The 'n_grades' parameter of OrdinalLoss must be an int in the range "
            r"\[2, inf\). Got 1 instead.",
        ),
    ],
)
def test_hyperparameter_errors(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_scores_type_errors():
    with pytest.raises(TypeError, match="SquaredError expects torch tensors"):
        SquaredError()(np.zeros((1, 2)), torch.zeros(1, 2))
    with pytest.raises(TypeError, match="SquaredError expects floating-point scores"):
        SquaredError()(torch.zeros(1, 2, dtype=torch.long), torch.zeros(1, 2))
