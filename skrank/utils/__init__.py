"""Utilities shared by every part of skrank: the query index and validation."""

from ._groups import QueryIndex, check_groups

__all__ = ["QueryIndex", "check_groups"]
