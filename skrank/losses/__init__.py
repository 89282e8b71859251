"""Ranking losses as torch modules.

Every loss is called as ``loss(scores, labels, mask=None)`` on padded
``[n_queries, list_len]`` tensors (``mask`` True = a real document) and returns
a scalar. Losses combine: ``ListNet() + 0.5 * RankNet()``.
"""

from ._base import CombinedLoss, RankingLoss
from ._registry import get_loss, get_loss_names, register_loss

__all__ = [
    "CombinedLoss",
    "RankingLoss",
    "get_loss",
    "get_loss_names",
    "register_loss",
]
