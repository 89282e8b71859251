"""Neural ranking estimators and scorer modules.

:class:`NeuralRanker` trains a torch scorer module with a ranking loss on
queries; :class:`MLPScorer` (row-wise) and :class:`AttentionScorer`
(context-aware) are the scorer modules shipped with skrank.
:func:`save_ranker` and :func:`load_ranker` write and read model files that
load without running code (unlike pickle); :func:`export_onnx` writes the
scoring function as ONNX for serving.
"""

from ._export import export_onnx
from ._modules import AttentionScorer, MLPScorer
from ._neural_ranker import NeuralRanker, NoGroupsWarning
from ._persistence import load_ranker, save_ranker

__all__ = [
    "AttentionScorer",
    "MLPScorer",
    "NeuralRanker",
    "NoGroupsWarning",
    "export_onnx",
    "load_ranker",
    "save_ranker",
]
