"""Ranking metrics over many queries at once, and scikit-learn scorers.

Every metric takes flat arrays ``(y_true, y_score, groups)`` with one query id
per row, sorts once for all queries, and returns the mean over queries;
:func:`per_query_scores` returns one value per query for several metrics
from that one sort. The scorers plug these metrics into ``GridSearchCV`` and
``cross_validate`` through metadata routing of ``groups``.
"""

from ._ranking import (
    err_score,
    map_score,
    mrr_score,
    ndcg_score,
    per_query_scores,
    precision_at_k_score,
    recall_at_k_score,
)
from ._scorer import make_ranking_scorer, map_scorer, ndcg_scorer

__all__ = [
    "err_score",
    "make_ranking_scorer",
    "map_score",
    "map_scorer",
    "mrr_score",
    "ndcg_score",
    "ndcg_scorer",
    "per_query_scores",
    "precision_at_k_score",
    "recall_at_k_score",
]
