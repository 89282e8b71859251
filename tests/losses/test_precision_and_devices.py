"""Every registered loss in half precision, under autocast, on the no-sync path.

Also: first-order-only losses refuse a second derivative, gain-based losses
refuse labels whose gain does not fit, and gains stay exact in a scaled domain.
"""

import warnings

import numpy as np
import pytest
import torch

from skrank.losses import (
    ApproxNDCG,
    LambdaLoss,
    LambdaRank,
    ListNet,
    NeuralNDCG,
    PairwiseLoss,
    RankNet,
    _chunked,
    get_loss,
    get_loss_names,
)

NAMES = get_loss_names()
#: losses whose gradient is computed in the forward pass (chunked engines)
FIRST_ORDER = {
    "approxndcg",
    "lambdaloss",
    "lambdarank",
    "neuralndcg",
    "pairwise_hinge",
    "pairwise_soft_zero_one",
    "ranknet",
}
GAIN_LOSSES = [
    LambdaRank(),
    LambdaLoss(),
    ApproxNDCG(),
    NeuralNDCG(),
    ListNet(target="exponential"),
]
# half precision rounds the scores (relative 2**-11 and 2**-8): the loss moves
# by about that much times its sensitivity
HALF_TOLS = {
    torch.float16: {"rtol": 1e-2, "atol": 1e-2},
    torch.bfloat16: {"rtol": 5e-2, "atol": 5e-2},
}


def _batch(loss, seed=0, n_queries=4, list_len=8, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    n_outputs = loss.n_outputs
    shape = (n_queries, list_len) if n_outputs == 1 else (n_queries, list_len, 4)
    scores = torch.randn(shape, generator=g).to(dtype)
    labels = torch.randint(0, 5, (n_queries, list_len), generator=g).to(dtype)
    lengths = torch.tensor([list_len, 5, 2, 7][:n_queries])
    mask = torch.arange(list_len)[None, :] < lengths[:, None]
    return scores, labels, mask


def _loss(name):
    """A loss by name in its deterministic form (ListMLE: ties by score).

    These tests compare two evaluations of the same batch (precisions,
    devices); a random tie order would differ between them.
    """
    loss = get_loss(name)
    if "ties" in loss._parameter_constraints:
        loss = get_loss(name, ties="score")
    return loss


def _value_and_grad(loss, scores, labels, mask):
    scores = scores.detach().clone().requires_grad_()
    value = loss(scores, labels, mask)
    (grad,) = torch.autograd.grad(value, scores)
    return value.detach(), grad


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", NAMES)
def test_half_precision_close_to_float32(name, dtype):
    loss = _loss(name)
    scores, labels, mask = _batch(loss)
    value, grad = _value_and_grad(loss, scores, labels, mask)
    half_value, half_grad = _value_and_grad(
        loss, scores.to(dtype), labels.to(dtype), mask
    )
    assert torch.isfinite(half_value) and torch.isfinite(half_grad).all()
    assert half_value.dtype == torch.float32  # computed in float32
    assert half_grad.dtype == dtype  # the gradient reaches the scores' dtype
    torch.testing.assert_close(half_value, value, **HALF_TOLS[dtype])
    torch.testing.assert_close(half_grad.float(), grad, **HALF_TOLS[dtype])


@pytest.mark.parametrize("name", ["approxndcg", "neuralndcg", "lambdarank"])
def test_half_precision_extreme_scores_finite(name):
    # float16 overflows at 65504: padding constants and eps must follow dtype
    loss = _loss(name)
    scores, labels, mask = _batch(loss)
    scores = torch.sign(scores) * 6e4
    value, grad = _value_and_grad(loss, scores.half(), labels.half(), mask)
    assert torch.isfinite(value) and torch.isfinite(grad).all()


@pytest.mark.parametrize("name", NAMES)
def test_autocast_bfloat16_forward_backward(name):
    loss = _loss(name)
    _, labels, mask = _batch(loss)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(*mask.shape, 3, generator=g)
    model = torch.nn.Linear(3, loss.n_outputs)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = model(x)
        assert output.dtype == torch.bfloat16
        value = loss(output if loss.n_outputs > 1 else output[..., 0], labels, mask)
    value.backward()
    assert torch.isfinite(value)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
    # the same loss outside autocast, on the same (rounded) output
    with torch.no_grad():
        plain = loss(output.detach().float().squeeze(-1), labels, mask)
    torch.testing.assert_close(value.detach(), plain, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_device_path_without_host_lengths_matches(name, monkeypatch):
    # On accelerators the engines cut chunks from shapes (no device sync);
    # run that path on the CPU and compare with the length-grouped one.
    loss = _loss(name)
    scores, labels, mask = _batch(loss, n_queries=4, list_len=40, dtype=torch.float64)
    value, grad = _value_and_grad(loss, scores, labels, mask)
    monkeypatch.setattr(_chunked, "lengths_on_host", lambda tensor: False)
    monkeypatch.setattr(_chunked, "BLOCK_BYTES", 4000)  # several chunks, blocks
    value2, grad2 = _value_and_grad(loss, scores, labels, mask)
    torch.testing.assert_close(value2, value, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad2, grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_no_value_read_back_to_the_host(name):
    # A meta tensor has no data: any .tolist(), .item() or bool() on it
    # raises, exactly where a GPU would synchronise with the host. Every loss
    # must run forward and backward on it (the path every accelerator takes).
    loss = _loss(name)
    shape = (4, 16) if loss.n_outputs == 1 else (4, 16, loss.n_outputs)
    scores = torch.empty(shape, device="meta", requires_grad=True)
    labels = torch.empty(4, 16, device="meta")
    mask = torch.empty(4, 16, dtype=torch.bool, device="meta")
    value = loss(scores, labels, mask)
    value.backward()
    assert value.shape == () and scores.grad.shape == scores.shape


def test_block_bytes_larger_on_accelerators():
    assert _chunked.block_bytes("cpu") == _chunked.BLOCK_BYTES
    assert _chunked.block_bytes("cuda") == 16 * _chunked.BLOCK_BYTES


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", NAMES)
def test_cuda_no_host_synchronisation(name):  # pragma: no cover - GPU only
    loss = _loss(name).cuda()
    scores, labels, mask = (t.cuda() for t in _batch(loss, list_len=64))
    cpu_value, cpu_grad = _value_and_grad(
        _loss(name), scores.cpu(), labels.cpu(), mask.cpu()
    )
    scores.requires_grad_()
    torch.cuda.synchronize()
    try:
        with warnings.catch_warnings():  # "a prototype feature" UserWarning
            warnings.simplefilter("ignore", UserWarning)
            torch.cuda.set_sync_debug_mode("error")
        value = loss(scores, labels, mask)
        (grad,) = torch.autograd.grad(value, scores)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.testing.assert_close(value.cpu(), cpu_value, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(grad.cpu(), cpu_grad, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# Second derivatives
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_gradient_penalty_raises_for_first_order_losses(name):
    loss = _loss(name)
    _, labels, mask = _batch(loss)
    x = torch.randn(*mask.shape, 3, generator=torch.Generator().manual_seed(2))
    model = torch.nn.Linear(3, loss.n_outputs)
    output = model(x)
    value = loss(output if loss.n_outputs > 1 else output[..., 0], labels, mask)
    if name in FIRST_ORDER:
        with pytest.raises(RuntimeError, match="is first-order only: a second"):
            torch.autograd.grad(value, model.weight, create_graph=True)
        # first order stays fine
        (grad,) = torch.autograd.grad(value, model.weight)
        assert torch.isfinite(grad).all()
    else:
        (grad,) = torch.autograd.grad(value, model.weight, create_graph=True)
        grad.square().sum().backward()
        assert torch.isfinite(model.weight.grad).all()


def test_ranknet_gradient_penalty_message_names_the_loss():
    scores = torch.tensor([[0.5, 0.0]], requires_grad=True)
    value = RankNet()(scores * 2.0, torch.tensor([[1.0, 0.0]]))
    with pytest.raises(RuntimeError, match=r"^RankNet computes its gradient"):
        torch.autograd.grad(value, scores, create_graph=True)


# ---------------------------------------------------------------------------
# Labels and gains
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("loss", GAIN_LOSSES, ids=repr)
def test_check_labels_refuses_gain_overflow(loss):
    name = type(loss).__name__
    loss.check_labels(np.array([0.0, 1.0, 127.0]))  # 2**127 - 1 fits float32
    loss.check_labels(torch.tensor([[0.0, 3.0]]))
    message = (
        rf"{name}: the label 128 has the exponential gain 2\*\*128 - 1, which "
        r"does not fit in float32 \(labels up to 127 do\)"
    )
    with pytest.raises(ValueError, match=message):
        loss.check_labels(np.array([0.0, 128.0, 2.0]))
    with pytest.raises(ValueError, match=message):  # half trains in float32
        loss.check_labels(np.array([128.0]), torch.float16)
    loss.check_labels(np.array([1023.0]), torch.float64)
    with pytest.raises(ValueError, match=r"label 1024 .* not fit in float64"):
        loss.check_labels(np.array([1024.0]), torch.float64)
    with pytest.raises(ValueError, match=f"{name} needs finite labels. Got a label"):
        loss.check_labels(np.array([1.0, np.nan]))


@pytest.mark.parametrize("loss", GAIN_LOSSES, ids=repr)
def test_forward_on_cpu_refuses_gain_overflow(loss):
    scores = torch.zeros(1, 3)
    with pytest.raises(ValueError, match="label 128 has the exponential gain"):
        loss(scores, torch.tensor([[128.0, 0.0, 1.0]]))
    # padding labels are not checked
    loss(scores, torch.tensor([[300.0, 0.0, 1.0]]), torch.tensor([[0, 1, 1]]).bool())


def test_check_labels_is_a_no_op_elsewhere_and_combined_delegates():
    for name in ("mse", "ranknet", "listmle", "ordinal"):
        assert _loss(name).check_labels(np.array([500.0])) is None
    assert LambdaRank(gain="linear").check_labels(np.array([500.0])) is None
    combined = RankNet() + 0.5 * ApproxNDCG()
    with pytest.raises(ValueError, match="ApproxNDCG: the label 200"):
        combined.check_labels(np.array([200.0]))


@pytest.mark.parametrize(
    "loss", [LambdaRank(), LambdaLoss(), ApproxNDCG(), NeuralNDCG()], ids=repr
)
@pytest.mark.parametrize("dtype, top", [(torch.float32, 127), (torch.float64, 1023)])
def test_gains_exact_near_the_top_of_the_dtype(loss, dtype, top):
    # [top, top, top, 0] and [3, 3, 3, 0] have proportional gains: NDCG-type
    # losses see the same ratios (computed unscaled, the ideal DCG overflowed)
    scores = torch.tensor([[0.3, -1.0, 2.0, 0.5]], dtype=dtype)
    big = torch.tensor([[top, top, top, 0.0]], dtype=dtype)
    small = torch.tensor([[3.0, 3.0, 3.0, 0.0]], dtype=dtype)
    value, grad = _value_and_grad(loss, scores, big, None)
    expected, expected_grad = _value_and_grad(loss, scores, small, None)
    assert torch.isfinite(value) and value != 0
    torch.testing.assert_close(value, expected)
    torch.testing.assert_close(grad, expected_grad)


def test_named_pairwise_losses_are_pairwise_loss_configurations():
    scores, labels, mask = _batch(RankNet(), dtype=torch.float64)
    for named, generic in [
        (RankNet(sigma=2.0), PairwiseLoss("logistic", sigma=2.0)),
        (
            RankNet(label_diff=True),
            PairwiseLoss("logistic", weights="label_diff"),
        ),
        (get_loss("pairwise_hinge", margin=0.5), PairwiseLoss("hinge", margin=0.5)),
        (get_loss("pairwise_soft_zero_one"), PairwiseLoss("soft_zero_one")),
    ]:
        assert isinstance(named, PairwiseLoss)
        assert named.pair_fn == generic.pair_fn
        assert named.normalize is True
        torch.testing.assert_close(
            named(scores, labels, mask), generic(scores, labels, mask)
        )
    assert LambdaRank().normalize is False and LambdaRank().pair_fn == "logistic"
