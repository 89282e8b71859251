"""Ensembles of rankers.

:class:`BlendedRanker` ranks by a weighted mean of several rankers'
standardised scores: a neural ranker with a linear one, or with a
gradient-boosted one, as one scikit-learn estimator with
``fit(X, y, groups)`` and ``predict(X)``. It does not import torch.
"""

from ._blend import BlendedRanker

__all__ = ["BlendedRanker"]
