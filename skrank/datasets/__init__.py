"""Learning-to-rank data: LETOR/SVMlight loaders and a synthetic generator.

Every loader and generator returns ``X, y, groups``: one feature row, one
graded relevance label and one query id per document.
"""

from ._folds import load_letor_folds, load_ranking_data
from ._svmlight import (
    load_letor_fold,
    load_svmlight_ranking,
    load_svmlight_ranking_files,
)
from ._synthetic import make_ranking
from ._table import load_ranking_table

__all__ = [
    "load_letor_fold",
    "load_letor_folds",
    "load_ranking_data",
    "load_ranking_table",
    "load_svmlight_ranking",
    "load_svmlight_ranking_files",
    "make_ranking",
]
