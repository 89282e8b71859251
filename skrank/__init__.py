"""skrank: scikit-learn compatible learning-to-rank with neural networks.

Data are per-query: a feature row per document ``X``, a graded relevance label
``y`` and a query id ``groups`` per row. Subpackages:

- :mod:`skrank.metrics`: per-query ranking metrics and scorers.
- :mod:`skrank.losses`: ranking losses as torch modules.
- :mod:`skrank.estimators`: :class:`NeuralRanker` and scorer modules.
- :mod:`skrank.preprocessing`: per-query normalisation and the symmetric log
  transform, as scikit-learn transformers.
- :mod:`skrank.datasets`: LETOR/SVMlight loaders and a synthetic generator.
- :mod:`skrank.model_selection`: query-aware comparison of rankers.
- :mod:`skrank.ensemble`: blends of rankers' standardised scores.
- :mod:`skrank.inspection`: permutation importance scored per query.
- :mod:`skrank.utils`: the query index.

The numpy layers (metrics, preprocessing, datasets, model_selection,
ensemble, inspection, utils) never import torch: ``skrank.losses``,
``skrank.estimators`` and ``NeuralRanker`` load on first access (PEP 562),
so a LightGBM user pays nothing for torch.
"""

import importlib

from . import (
    datasets,
    ensemble,
    inspection,
    metrics,
    model_selection,
    preprocessing,
    utils,
)
from ._version import __version__

_LAZY_SUBMODULES = ("estimators", "losses")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "NeuralRanker":
        return importlib.import_module(".estimators", __name__).NeuralRanker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "NeuralRanker",
    "__version__",
    "datasets",
    "ensemble",
    "estimators",
    "inspection",
    "losses",
    "metrics",
    "model_selection",
    "preprocessing",
    "utils",
]
