"""
================================================
A custom torch module and a context-aware scorer
================================================

:class:`~skrank.NeuralRanker` trains any :class:`torch.nn.Module` that maps
``[..., n_features]`` to ``[..., n_outputs]`` (a row-wise scorer). It fills
in ``n_features`` (from ``X``) and ``n_outputs`` (from the loss) when the
module class takes them. A module that needs data-dependent initial values
(as :class:`~skrank.estimators.MLPScorer`'s quantile bins do) defines
``initialize_from_data(X)``: the ranker calls it once per initialisation with
a sample of the transformed training rows.

A *context-aware* scorer looks at the other documents of the query: it
declares ``context_aware = True`` and takes ``(X [Q, L, F], mask [Q, L])``.
:class:`~skrank.estimators.AttentionScorer` is such a module (self-attention
over the documents of a query); it needs the query ids at prediction time
too: ``predict(X, groups=qid)``.
"""

# %%
from sklearn.model_selection import GroupShuffleSplit
from torch import nn

from skrank import NeuralRanker
from skrank.datasets import make_ranking
from skrank.estimators import AttentionScorer
from skrank.metrics import ndcg_score


class ResidualScorer(nn.Module):
    """A small residual MLP, applied to each document independently."""

    def __init__(self, n_features, n_outputs=1, width=32):
        super().__init__()
        self.inp = nn.Linear(n_features, width)
        self.block = nn.Sequential(nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.out = nn.Linear(width, n_outputs)

    def forward(self, X):
        h = self.inp(X)
        return self.out(h + self.block(h))


X, y, qid = make_ranking(n_queries=150, n_features=10, random_state=0)
train, test = next(GroupShuffleSplit(test_size=0.3, random_state=0).split(X, y, qid))

# %%
custom = NeuralRanker(
    module=ResidualScorer,
    module__width=16,
    loss="listnet",
    max_epochs=15,
    lr=3e-3,
    random_state=0,
)
custom.fit(X[train], y[train], groups=qid[train])
print(
    "residual MLP NDCG@10:",
    round(ndcg_score(y[test], custom.predict(X[test]), qid[test], k=10), 3),
)

# %%
# The context-aware scorer: predictions need the query ids.
attention = NeuralRanker(
    module=AttentionScorer,
    module__d_model=16,
    module__n_heads=2,
    module__n_layers=1,
    module__dim_feedforward=32,
    loss="listnet",
    max_epochs=15,
    lr=3e-3,
    random_state=0,
)
attention.fit(X[train], y[train], groups=qid[train])
scores = attention.predict(X[test], groups=qid[test])
print("attention NDCG@10:", round(ndcg_score(y[test], scores, qid[test], k=10), 3))

try:
    attention.predict(X[test])
except ValueError as exc:
    print("without groups:", str(exc)[:100], "...")
