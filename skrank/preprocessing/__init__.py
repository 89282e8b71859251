"""Feature transformers for ranking data, as scikit-learn estimators.

:class:`QueryNormalizer` rescales each feature within each query (LETOR's
QueryLevelNorm); it needs ``groups`` in ``fit`` and ``transform``, requested
through metadata routing, so it works inside ``Pipeline`` and
``GridSearchCV``. :class:`SymmetricLog1p` compresses heavy-tailed features
with ``sign(x) * log1p(|x|)`` and optionally standardises them, which makes
neural rankers far less sensitive to the scale of raw features.

Neither imports torch.
"""

from ._transformers import QueryNormalizer, SymmetricLog1p

__all__ = ["QueryNormalizer", "SymmetricLog1p"]
