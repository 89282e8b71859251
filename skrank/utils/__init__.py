"""Utilities shared by every part of skrank: the query index and validation.

:func:`predict_partitions` scores Dask collections partition by partition,
whole queries per partition.
"""

from ._groups import QueryIndex, check_groups
from ._partitions import predict_partitions

__all__ = ["QueryIndex", "check_groups", "predict_partitions"]
