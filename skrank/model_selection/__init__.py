"""Query-aware model selection and ranker comparison."""

__all__ = []
