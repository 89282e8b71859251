"""
=============================================================
Grid search over losses with GroupKFold and metadata routing
=============================================================

:class:`~sklearn.model_selection.GridSearchCV` tunes a
:class:`~skrank.NeuralRanker` like any estimator. With metadata routing on,
one ``groups=qid`` reaches the splitter (:class:`~sklearn.model_selection.GroupKFold`),
``fit`` and the ranking scorers.
"""

# %%
import pandas as pd
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold

from skrank import NeuralRanker
from skrank.datasets import make_ranking
from skrank.metrics import make_ranking_scorer, ndcg_scorer

sklearn.set_config(enable_metadata_routing=True)

X, y, qid = make_ranking(n_queries=90, n_features=10, random_state=0)

search = GridSearchCV(
    NeuralRanker(max_epochs=8, random_state=0),
    {"loss": ["mse", "lambdarank", "listnet"], "lr": [1e-3, 1e-2]},
    cv=GroupKFold(3),
    scoring={"ndcg@10": ndcg_scorer, "ndcg@5": make_ranking_scorer("ndcg", k=5)},
    refit="ndcg@10",
)
search.fit(X, y, groups=qid)
print("best:", search.best_params_, f"NDCG@10 = {search.best_score_:.3f}")

# %%
cols = ["param_loss", "param_lr", "mean_test_ndcg@10", "mean_test_ndcg@5"]
print(pd.DataFrame(search.cv_results_)[cols].sort_values("mean_test_ndcg@10"))

# %%
# Pitfall: with routing off, the scorer cannot know the queries and says so
# instead of scoring the whole fold as one query.
sklearn.set_config(enable_metadata_routing=False)
try:
    ndcg_scorer(search.best_estimator_, X, y)
except (ValueError, TypeError) as exc:
    print(type(exc).__name__, ":", str(exc)[:120], "...")
