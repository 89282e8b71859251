"""Neural ranking estimators and scorer modules.

:class:`NeuralRanker` trains a torch scorer module with a ranking loss on
queries; :class:`MLPScorer` (row-wise) and :class:`AttentionScorer`
(context-aware) are the scorer modules shipped with skrank.
"""

from ._modules import AttentionScorer, MLPScorer
from ._neural_ranker import NeuralRanker, NoGroupsWarning

__all__ = ["AttentionScorer", "MLPScorer", "NeuralRanker", "NoGroupsWarning"]
