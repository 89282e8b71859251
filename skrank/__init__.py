"""skrank: scikit-learn compatible learning-to-rank with neural networks.

Data are per-query: a feature row per document ``X``, a graded relevance label
``y`` and a query id ``groups`` per row. Subpackages:

- :mod:`skrank.metrics`: per-query ranking metrics and scorers.
- :mod:`skrank.losses`: ranking losses as torch modules.
- :mod:`skrank.estimators`: :class:`NeuralRanker` and scorer modules.
- :mod:`skrank.datasets`: LETOR/SVMlight loaders and a synthetic generator.
- :mod:`skrank.model_selection`: query-aware comparison of rankers.
- :mod:`skrank.utils`: the query index.
"""

from . import datasets, estimators, losses, metrics, model_selection, utils
from ._version import __version__
from .estimators import NeuralRanker

__all__ = [
    "NeuralRanker",
    "__version__",
    "datasets",
    "estimators",
    "losses",
    "metrics",
    "model_selection",
    "utils",
]
