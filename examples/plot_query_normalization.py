"""
=========================================================
Scale-free inputs and per-query normalisation of features
=========================================================

Two kinds of feature trouble a neural ranker meets on tabular ranking data,
and the two transformers of :mod:`skrank.preprocessing` that fix them:

- **raw, heavy-tailed features** (counts, lengths, scores spanning orders of
  magnitude): :class:`~skrank.preprocessing.SymmetricLog1p`, which
  :class:`~skrank.NeuralRanker` applies by default
  (``input_transform="log1p"``);
- **query-level offsets** (a feature shifted by a per-query amount that says
  nothing about which document of the query is better):
  :class:`~skrank.preprocessing.QueryNormalizer`, which needs the query ids,
  routed through a :class:`~sklearn.pipeline.Pipeline`.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline

from skrank import NeuralRanker
from skrank.datasets import make_ranking
from skrank.metrics import ndcg_score
from skrank.preprocessing import QueryNormalizer, SymmetricLog1p

sklearn.set_config(enable_metadata_routing=True)

# make_ranking adds a per-query offset to every feature (query_effect=1); the
# exponential makes the features positive and heavy-tailed, as raw web
# features are (the order of values within each feature is unchanged).
X, y, qid = make_ranking(n_queries=300, n_features=10, random_state=0)
X_raw = np.exp(2 * X)
train, test = next(GroupShuffleSplit(test_size=0.3, random_state=0).split(X, y, qid))

models = {
    "no transform": NeuralRanker(input_transform=None, random_state=0),
    "log1p (default)": NeuralRanker(random_state=0),
    "QueryNormalizer": make_pipeline(
        QueryNormalizer(method="standard"), NeuralRanker(random_state=0)
    ),
    "log1p, then QueryNormalizer": make_pipeline(
        SymmetricLog1p(standardize=False),
        QueryNormalizer(method="standard"),
        NeuralRanker(random_state=0),
    ),
}
results = {}
for name, model in models.items():
    model.fit(X_raw[train], y[train], groups=qid[train])
    scores = model.predict(X_raw[test], groups=qid[test])
    results[name] = ndcg_score(y[test], scores, qid[test], k=10)
    print(f"{name:28s} test NDCG@10 = {results[name]:.3f}")

# %%
# Per-query standardisation of the raw values inherits their heavy tails (one
# huge value per query dominates its mean and standard deviation); taking the
# log first and normalising within each query afterwards removes both the
# tails and the query offsets.

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(results), list(results.values()), color=["C7", "C0", "C1", "C2"])
ax.set_xlabel("test NDCG@10")
ax.set_xlim(min(results.values()) - 0.05, max(results.values()) + 0.02)
fig.tight_layout()
plt.show()
