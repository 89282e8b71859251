"""
=============================================
Losses compared on MQ2008-like synthetic data
=============================================

MQ2008 (LETOR 4.0) has 784 queries of about 19 documents, 46 features,
labels 0/1/2, and 28% of its queries without any relevant document. Here a
:func:`~skrank.datasets.make_ranking` data set of the same shape (smaller, so
that the example runs in seconds) compares a pointwise, a pairwise and a
listwise loss with a ridge regression, on the same query folds, with paired
significance tests.

On the real data: ``skrank compare --data MQ2008`` (a folder of LETOR folds).
"""

# %%
from sklearn.linear_model import Ridge

from skrank import NeuralRanker
from skrank.datasets import make_ranking
from skrank.model_selection import compare_rankers

X, y, qid = make_ranking(
    n_queries=120,
    n_features=46,
    n_informative=8,
    list_length=(6, 30),
    n_grades=3,
    no_relevant_fraction=0.28,
    random_state=0,
)


def neural(loss):
    return NeuralRanker(loss=loss, max_epochs=15, lr=3e-3, random_state=0)


result = compare_rankers(
    {
        "ridge": Ridge(alpha=10.0),
        "mse (pointwise)": neural("mse"),
        "lambdarank (pairwise)": neural("lambdarank"),
        "listnet (listwise)": neural("listnet"),
    },
    X,
    y,
    qid,
    cv=3,
    metrics=("ndcg@10", "map"),
    baseline="ridge",
)
print(result.to_text())

# %%
# Per-query view: the distribution of NDCG@10 over the held-out queries and
# the per-query differences to the ridge baseline. Queries without a
# relevant document are left out (they have no NDCG).
fig = result.plot("ndcg@10")
