"""Query-aware model selection and the comparison of rankers.

- :func:`compare_rankers` fits several rankers and regressors on the same
  query splits and returns a :class:`RankerComparison` with per-query scores,
  a summary table, paired significance tests, timings and a plot.
- :func:`check_query_splits` refuses cross-validation splits that cut a query
  (with a :class:`QuerySplitError`, a ``ValueError``).
- :class:`GroupSizeRanker` lets rankers that want group sizes or sorted query
  ids (LightGBM, XGBoost, CatBoost) take skrank's query ids.

Splitting itself is scikit-learn's :class:`~sklearn.model_selection.GroupKFold`
(or any group-aware splitter) given the query ids as ``groups``.
"""

from ._adapters import GroupSizeRanker
from ._result import RankerComparison
from ._run import compare_rankers
from ._split import QuerySplitError, check_query_splits

__all__ = [
    "GroupSizeRanker",
    "QuerySplitError",
    "RankerComparison",
    "check_query_splits",
    "compare_rankers",
]
