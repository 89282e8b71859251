"""Constant pair weights for the generic pairwise loss (lambda weights).

A weight object has two methods used by the chunked pairwise engine of
:mod:`skrank.losses._chunked`:

- ``prepare(pc)`` computes a tuple of per-document ``[Q, L]`` tensors once
  per call from a :class:`~skrank.losses._chunked.PairContext` (lists sorted by
  label); the engine hands ``block`` that tuple restricted to a group of lists;
- ``block(state, rows, cols, pairs)`` returns the ``[Q, rows, cols]`` weights
  of one block, zero outside ``pairs`` (the boolean "y_i > y_j, both real").

Weights are constants: no gradient flows through them (as in LambdaMART).
Ranks are those of the current scores, ties broken by position (see
:func:`~skrank.losses._base.current_ranks`).
"""

import math

import torch

from ..metrics._gains import discount
from ._base import ideal_dcg, list_gains

__all__ = ["LabelDiffWeights", "LambdaLossWeights", "LambdaRankWeights"]


class LabelDiffWeights:
    r"""Label-difference weights :math:`w_{ij} = |y_i - y_j|`."""

    def prepare(self, pc):
        return pc.row_labels, pc.col_labels

    def block(self, state, rows, cols, pairs):
        row_labels, col_labels = state
        # padding is -inf in rows and +inf in columns: clamped to 0
        diff = row_labels[:, rows, None] - col_labels[:, None, cols]
        return diff.clamp_(min=0.0)


def _normalised_gains(pc, gain, k):
    """Gains divided by the ideal DCG@k: rows pad 0, columns pad +inf."""
    gains = list_gains(pc.labels, pc.mask, gain)
    idcg = ideal_dcg(gains, pc.mask, k)
    tiny = torch.finfo(idcg.dtype).tiny
    inv = torch.where(idcg > 0, 1.0 / idcg.clamp(min=tiny), torch.zeros_like(idcg))
    rows = gains * inv[:, None]
    cols = rows.masked_fill(~pc.mask, math.inf)
    return rows, cols


def _truncated_discounts(pc, k):
    """Discount of each document's current rank, 0 beyond ``k`` and for padding."""
    disc = discount(pc.ranks)
    keep = pc.mask if k is None else pc.mask & (pc.ranks < k)
    return torch.where(keep, disc, torch.zeros_like(disc))


def _gain_diff(rows_gain, cols_gain, rows, cols):
    # G_i - G_j for y_i > y_j, else <= 0 (or -inf against padding): clamp to 0
    return (rows_gain[:, rows, None] - cols_gain[:, None, cols]).clamp_(min=0.0)


class LambdaRankWeights:
    r"""LambdaRank weights: :math:`|\Delta \mathrm{NDCG}_{ij}|` of swapping i and j.

    .. math::
        w_{ij} = \frac{|G_i - G_j| \, |D(r_i) - D(r_j)|}{\mathrm{IDCG@k}}

    with :math:`D(r) = 1 / \log_2(r + 2)` for a 0-based current rank
    :math:`r < k` and 0 beyond, so only pairs with at least one document in
    the top ``k`` count.
    """

    def __init__(self, k=None, gain="exponential"):
        self.k = k
        self.gain = gain

    def prepare(self, pc):
        rows_gain, cols_gain = _normalised_gains(pc, self.gain, self.k)
        return rows_gain, cols_gain, _truncated_discounts(pc, self.k)

    def block(self, state, rows, cols, pairs):
        rows_gain, cols_gain, disc = state
        weights = _gain_diff(rows_gain, cols_gain, rows, cols)
        return weights.mul_((disc[:, rows, None] - disc[:, None, cols]).abs_())


class LambdaLossWeights:
    r"""LambdaLoss weights NDCG-Loss2 and NDCG-Loss2++ (Wang et al., 2018).

    .. math::
        \delta_{ij} = \frac{1}{\log_2(|r_i - r_j| + 1)}
            - \frac{1}{\log_2(|r_i - r_j| + 2)}, \qquad
        \rho_{ij} = |D(r_i) - D(r_j)|

    with 1-based rank differences. NDCG-Loss2:
    :math:`w_{ij} = \delta_{ij} |G_i - G_j| / \mathrm{IDCG@k}`; NDCG-Loss2++:
    :math:`w_{ij} = (\rho_{ij} + \mu \delta_{ij}) |G_i - G_j| / \mathrm{IDCG@k}`.
    With ``k``, only pairs with at least one document ranked in the top ``k``
    count (and :math:`\rho` uses discounts truncated at ``k``).
    """

    def __init__(self, weighting="ndcg_loss2", mu=10.0, k=None, gain="exponential"):
        self.weighting = weighting
        self.mu = mu
        self.k = k
        self.gain = gain

    def prepare(self, pc):
        rows_gain, cols_gain = _normalised_gains(pc, self.gain, self.k)
        disc = _truncated_discounts(pc, self.k)
        return rows_gain, cols_gain, pc.ranks, disc

    def block(self, state, rows, cols, pairs):
        rows_gain, cols_gain, ranks, disc = state
        weights = _gain_diff(rows_gain, cols_gain, rows, cols)
        ri, rj = ranks[:, rows, None], ranks[:, None, cols]
        gap = (ri - rj).abs_().clamp_(min=1.0)
        delta = (gap + 1.0).log2_().reciprocal_()
        delta -= gap.add_(2.0).log2_().reciprocal_()
        if self.k is not None:
            delta.masked_fill_(torch.minimum(ri, rj) >= self.k, 0.0)
        if self.weighting == "ndcg_loss2pp":
            delta.mul_(self.mu)
            delta += (disc[:, rows, None] - disc[:, None, cols]).abs_()
        return weights.mul_(delta)
