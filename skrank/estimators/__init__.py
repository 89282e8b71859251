"""Neural ranking estimators and scorer modules.

:class:`NeuralRanker` trains a torch scorer module with a ranking loss on
queries; :class:`MLPScorer` (row-wise) and :class:`AttentionScorer`
(context-aware) are the scorer modules shipped with skrank.
:func:`save_ranker` and :func:`load_ranker` write and read model files that
load without running code (unlike pickle); :func:`export_onnx` writes the
scoring function as ONNX for serving. :class:`AcceleratedNeuralRanker` trains
through Hugging Face Accelerate (data-parallel on several processes, mixed
precision); it loads on first access.
"""

import importlib

from ._export import export_onnx
from ._modules import AttentionScorer, MLPScorer
from ._neural_ranker import NeuralRanker, NoGroupsWarning
from ._persistence import load_ranker, save_ranker


def __getattr__(name):
    if name == "AcceleratedNeuralRanker":
        return importlib.import_module(
            "._distributed", __name__
        ).AcceleratedNeuralRanker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AcceleratedNeuralRanker",
    "AttentionScorer",
    "MLPScorer",
    "NeuralRanker",
    "NoGroupsWarning",
    "export_onnx",
    "load_ranker",
    "save_ranker",
]
