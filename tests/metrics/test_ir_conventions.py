"""The recipe in docs/user_guide/metrics.rst for trec_eval's P@k.

trec_eval (and ir_measures, which calls it), ranx and most IR tools divide
the relevant documents of the top k by k, also for a query with fewer than k
documents; skrank's ``precision_at_k_score`` divides by ``min(k, n)``. The
page shows how to get the former from ``per_query_scores``; this checks that
recipe against a plain per-query loop.
"""

import numpy as np
import pytest

from skrank.metrics import per_query_scores, precision_at_k_score


def test_precision_divided_by_k_recipe():
    rng = np.random.default_rng(0)
    sizes = [3, 12, 7, 20, 5, 1]
    qid = np.repeat(np.arange(len(sizes)) * 10, sizes)
    y = rng.integers(0, 3, qid.shape[0]).astype(float)
    y[qid == 20] = 0.0  # a query without a relevant document
    y_score = rng.normal(size=qid.shape[0])
    k = 10

    # the recipe, as written on the page
    ids, scores = per_query_scores(
        y, y_score, qid, metrics=f"precision@{k}", no_relevant=0.0
    )
    n_docs = np.unique(qid, return_counts=True)[1]  # in the order of ids
    p_at_k = np.mean(scores[f"precision@{k}"] * np.minimum(n_docs, k) / k)

    naive = []
    for q in ids:
        ranked = y[qid == q][np.argsort(-y_score[qid == q])]
        naive.append(np.sum(ranked[:k] >= 1) / k)
    assert p_at_k == pytest.approx(np.mean(naive))
    # the two conventions differ on this data (lists shorter than k)
    assert (
        abs(p_at_k - precision_at_k_score(y, y_score, qid, k=k, no_relevant=0.0)) > 0.05
    )
