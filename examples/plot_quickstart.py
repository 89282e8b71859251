"""
==========
Quickstart
==========

Train a :class:`~skrank.NeuralRanker` with a listwise loss on queries, score
it with NDCG@10 and compare it with a plain regressor on held-out queries, then
choose the loss by a cross-validated grid search over queries.
"""

# %%
# Data: one feature row, one graded label and one query id per document.
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, GroupShuffleSplit

from skrank import NeuralRanker
from skrank.datasets import make_ranking
from skrank.metrics import map_score, ndcg_score, ndcg_scorer

X, y, qid = make_ranking(n_queries=150, n_features=10, random_state=0)
print(X.shape, "labels:", np.bincount(y.astype(int)), "queries:", len(np.unique(qid)))

# %%
# Split by query (never by row: a query must not be cut in two).
train, test = next(GroupShuffleSplit(test_size=0.3, random_state=0).split(X, y, qid))

# The defaults train on all training queries; validation_fraction=0.2 holds
# out a fifth of them to record a validation NDCG per epoch (plotted below).
ranker = NeuralRanker(validation_fraction=0.2, random_state=0)
ranker.fit(X[train], y[train], groups=qid[train])
ridge = Ridge().fit(X[train], y[train])

for name, model in [("NeuralRanker (ListNet)", ranker), ("Ridge", ridge)]:
    scores = model.predict(X[test])
    print(
        f"{name:24s} NDCG@10 = {ndcg_score(y[test], scores, qid[test], k=10):.3f}"
        f"  MAP = {map_score(y[test], scores, qid[test]):.3f}"
    )

# %%
# Which loss? A grid search on the training queries only: ``GroupKFold`` splits
# them by query and :data:`~skrank.metrics.ndcg_scorer` scores each fold's
# held-out queries with NDCG@10. Metadata routing lets the one ``groups=``
# reach the splitter, ``fit`` and the scorer. The test queries stay unseen
# until the refitted best model is scored on them.
with sklearn.config_context(enable_metadata_routing=True):
    search = GridSearchCV(
        NeuralRanker(max_epochs=30, lr=3e-3, random_state=0),
        {"loss": ["listnet", "lambdarank", "mse"]},
        cv=GroupKFold(3),
        scoring=ndcg_scorer,
    )
    search.fit(X[train], y[train], groups=qid[train])
print("best parameters:", search.best_params_)
print(f"best cross-validated NDCG@10: {search.best_score_:.3f}")
best_ndcg = ndcg_score(
    y[test], search.best_estimator_.predict(X[test]), qid[test], k=10
)
print(f"held-out NDCG@10 of the best: {best_ndcg:.3f}")

# %%
# The training history: loss and validation NDCG per epoch (the internal
# validation split holds out whole queries; the best epoch's weights are
# restored at the end; the learning rate decays over the 15 epochs).
history = ranker.history_
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(history[:, "train_loss"], label="train loss")
ax2 = ax.twinx()
ax2.plot(history[:, "valid_ndcg"], color="C1", label="validation NDCG@10")
ax.set_xlabel("epoch")
ax.set_ylabel("train loss")
ax2.set_ylabel("validation NDCG@10")
fig.legend(loc="center right")
fig.tight_layout()
