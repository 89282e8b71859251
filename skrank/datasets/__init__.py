"""Loaders for LETOR/SVMlight ranking files and synthetic ranking data."""

__all__ = []
