"""Per-query ranking metrics and scikit-learn scorers."""

__all__ = []
