"""Neural ranking estimators and scorer modules."""

__all__ = []
