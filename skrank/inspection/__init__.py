"""Model inspection with query-aware scores.

- :func:`permutation_importance`: the drop of a ranking metric when one
  feature's values are shuffled, across all rows or within each query.
"""

from ._permutation import permutation_importance

__all__ = ["permutation_importance"]
