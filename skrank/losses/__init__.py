"""Ranking losses as torch modules."""

__all__ = []
