"""
=======================================
Ranking versus regression, with tests
=======================================

Is a ranking loss better than "just a regressor"? On data where each query
has its own difficulty (a shift of all its labels that the features reveal),
a regressor spends capacity predicting that shift, which a ranking loss
ignores. This example compares them on the same queries and reads the paired
tests: the paired t-test and the Wilcoxon signed-rank test over held-out
queries, Holm-corrected for the number of models compared with the baseline.
"""

# %%
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

from skrank import NeuralRanker
from skrank.datasets import make_ranking
from skrank.model_selection import compare_rankers

X, y, qid = make_ranking(n_queries=150, n_features=10, query_effect=2.0, random_state=1)
models = {
    "ridge": Ridge(),
    "gradient boosting": HistGradientBoostingRegressor(max_iter=50, random_state=0),
    "lambdarank": NeuralRanker(
        loss="lambdarank", max_epochs=20, lr=3e-3, random_state=0
    ),
}
result = compare_rankers(models, X, y, qid, cv=3, metrics=("ndcg@10", "map"))
print(result.to_text())

# %%
# The tests as a table (pandas): mean difference to the baseline, wins and
# losses over queries, raw and corrected p-values.
tests = result.to_frame("tests")
print(tests[tests.metric == "ndcg@10"].drop(columns="metric").round(4).T)

# %%
# Each held-out query is one pair in the tests: with ``cv=3`` (GroupKFold)
# every query is tested once, so the paired queries are the distinct queries
# that have a relevant document. With overlapping test sets (e.g.
# ``GroupShuffleSplit``) a query's scores would first be averaged over the
# splits that test it, so repeating a split never adds evidence.
n_paired = result.significance("ndcg@10")["lambdarank"]["n"]
print(f"{n_paired} paired queries of {result.n_unique_queries} held out")

# %%
fig = result.plot("ndcg@10")
