"""Plain vectorised reference implementations of skrank's listwise losses.

Straightforward PyTorch in the style of allRank: whole ``[Q, L]`` and
``[Q, L, L]`` tensors, autograd for the gradient, no chunking. They compute
the same formulas as the skrank defaults (same masking, same lists left out)
so that ``benchmarks/bench_losses.py`` can compare values, gradients, speed
and memory. Each is ``ref_<name>(scores, labels, mask) -> scalar``.
"""

import math

import torch

__all__ = ["ref_approxndcg", "ref_listmle", "ref_listnet", "ref_neuralndcg"]


def _mean_over(values, valid):
    values = torch.where(valid, values, torch.zeros_like(values))
    return values.sum() / valid.sum().clamp(min=1)


def _ideal_dcg(gains, mask):
    ideal = torch.sort(gains.masked_fill(~mask, 0.0), dim=-1, descending=True).values
    pos = torch.arange(gains.shape[-1], dtype=gains.dtype, device=gains.device)
    return (ideal / torch.log2(pos + 2.0)).sum(dim=-1)


def _safe(denominator):
    # padded rows and columns sum to 0: divide them by 1
    return torch.where(denominator > 0, denominator, torch.ones_like(denominator))


def ref_listnet(scores, labels, mask):
    """ListNet, softmax target, cross-entropy."""
    pad = torch.full_like(scores, -math.inf)
    s = torch.where(mask, scores, pad)
    y = torch.where(mask, labels, pad)
    p = torch.softmax(y, dim=-1).nan_to_num(0.0)
    log_q = torch.log_softmax(s, dim=-1)
    values = -(p * log_q.masked_fill(~mask, 0.0)).sum(dim=-1)
    return _mean_over(values, mask.sum(dim=-1) >= 2)


def ref_listmle(scores, labels, mask):
    """ListMLE, label ties broken by score (lowest first)."""
    first = torch.argsort(scores.detach(), dim=-1, stable=True)
    key = labels.masked_fill(~mask, math.inf).gather(-1, first)
    order = first.gather(-1, torch.argsort(key, dim=-1, descending=True, stable=True))
    real = mask.gather(-1, order)
    s = scores.gather(-1, order).masked_fill(~real, 0.0)
    tail = torch.logcumsumexp(s.flip(-1), dim=-1).flip(-1)
    values = ((tail - s) * real).sum(dim=-1)
    return _mean_over(values, mask.sum(dim=-1) >= 2)


def ref_approxndcg(scores, labels, mask, temperature=1.0):
    """ApproxNDCG with exponential gain, no truncation."""
    gains = (2.0**labels - 1.0).masked_fill(~mask, 0.0)
    ideal = _ideal_dcg(gains, mask)
    pairs = mask[:, :, None] & mask[:, None, :]
    diff = (scores[:, None, :] - scores[:, :, None]) / temperature  # s_j - s_i
    sig = torch.sigmoid(diff) * pairs
    ranks = 0.5 + sig.sum(dim=-1)  # the j = i term adds 1/2
    dcg = (gains / torch.log2(1.0 + ranks)).sum(dim=-1)
    valid = (ideal > 0) & (mask.sum(dim=-1) >= 2)
    return _mean_over(-dcg / ideal.clamp(min=1e-30), valid)


def ref_neuralndcg(scores, labels, mask, temperature=1.0, n_iter=50):
    """NeuralNDCG with exponential gain, no truncation, fixed Sinkhorn steps."""
    dtype = scores.dtype
    n = mask.sum(dim=-1).to(dtype)
    pairs = mask[:, :, None] & mask[:, None, :]
    s = scores.masked_fill(~mask, 0.0)
    big_b = ((s[:, :, None] - s[:, None, :]).abs() * pairs).sum(dim=-1)
    pos = torch.arange(scores.shape[-1], dtype=dtype, device=scores.device)
    rows = pos[None, :] < n[:, None]  # rank positions 0 .. n - 1
    coef = n[:, None] - 1.0 - 2.0 * pos
    z = (coef[:, :, None] * s[:, None, :] - big_b[:, None, :]) / temperature
    z = z.masked_fill(~mask[:, None, :], -math.inf)
    p = torch.softmax(z, dim=-1).nan_to_num(0.0) * rows[:, :, None]
    for _ in range(n_iter):
        p = p / _safe(p.sum(dim=1, keepdim=True))
        p = p / _safe(p.sum(dim=2, keepdim=True))
    gains = (2.0**labels - 1.0).masked_fill(~mask, 0.0)
    expected = (p @ gains[:, :, None]).squeeze(-1)
    disc = (1.0 / torch.log2(pos + 2.0)) * rows
    ideal = _ideal_dcg(gains, mask)
    valid = (ideal > 0) & (mask.sum(dim=-1) >= 2)
    return _mean_over(-(expected * disc).sum(dim=-1) / ideal.clamp(min=1e-30), valid)
