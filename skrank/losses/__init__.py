"""Ranking losses as torch modules.

Every loss is called as ``loss(scores, labels, mask=None)`` on padded
``[n_queries, list_len]`` tensors (``mask`` True = a real document) and returns
a scalar. Losses combine: ``ListNet() + 0.5 * RankNet()``. String names for
estimators come from :func:`get_loss` and :func:`get_loss_names`; each
registered loss has a family (pointwise, pairwise or listwise), given by
:func:`get_loss_family`.
"""

from ._base import CombinedLoss, RankingLoss
from ._listwise import ApproxNDCG, ListMLE, ListNet, NeuralNDCG
from ._pairwise import (
    LambdaLoss,
    LambdaRank,
    PairwiseHinge,
    PairwiseLoss,
    PairwiseSoftZeroOne,
    RankNet,
)
from ._pointwise import AbsoluteError, HuberLoss, OrdinalLoss, SigmoidBCE, SquaredError
from ._registry import get_loss, get_loss_family, get_loss_names, register_loss

__all__ = [
    "AbsoluteError",
    "ApproxNDCG",
    "CombinedLoss",
    "HuberLoss",
    "LambdaLoss",
    "LambdaRank",
    "ListMLE",
    "ListNet",
    "NeuralNDCG",
    "OrdinalLoss",
    "PairwiseHinge",
    "PairwiseLoss",
    "PairwiseSoftZeroOne",
    "RankNet",
    "RankingLoss",
    "SigmoidBCE",
    "SquaredError",
    "get_loss",
    "get_loss_family",
    "get_loss_names",
    "register_loss",
]
