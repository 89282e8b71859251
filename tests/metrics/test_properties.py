"""Property-based tests of the metrics (hypothesis, derandomized)."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score

from skrank.metrics import (
    err_score,
    map_score,
    mrr_score,
    ndcg_score,
    per_query_scores,
    precision_at_k_score,
    recall_at_k_score,
)

FAST = settings(max_examples=40, derandomize=True, deadline=None)
METRICS = [
    ndcg_score,
    map_score,
    mrr_score,
    err_score,
    precision_at_k_score,
    recall_at_k_score,
]

# rows of (label, score, query): few scores, so many ties
rows = st.lists(
    st.tuples(
        st.integers(0, 4), st.integers(0, 3), st.sampled_from(["a", "b", "c", 7])
    ),
    min_size=1,
    max_size=10,
)
ks = st.one_of(st.none(), st.integers(1, 6))


def arrays(data):
    y = np.array([r[0] for r in data], dtype=float)
    s = np.array([r[1] for r in data], dtype=float)
    g = np.array([str(r[2]) for r in data])
    return y, s, g


@FAST
@given(rows, ks, st.permutations(range(10)))
def test_bounds_and_order_independence(data, k, perm):
    y, s, g = arrays(data)
    perm = np.array([i for i in perm if i < y.shape[0]])
    _, per = per_query_scores(
        y, s, g, metrics=["ndcg", "map", "mrr", "err", "precision@3", "recall@3"]
    )
    for values in per.values():
        finite = values[~np.isnan(values)]
        assert np.all((finite >= 0) & (finite <= 1 + 1e-12))
    for func in METRICS:
        base = func(y, s, g, k=k, no_relevant=0.0)
        assert 0.0 <= base <= 1.0 + 1e-12
        assert func(y[perm], s[perm], g[perm], k=k, no_relevant=0.0) == pytest.approx(
            base, rel=1e-12, abs=1e-15
        )
        # a strictly increasing transform of the scores changes nothing
        assert func(y, 3 * s - 7, g, k=k, no_relevant=0.0) == pytest.approx(
            base, rel=1e-12, abs=1e-15
        )


@FAST
@given(rows, ks)
def test_perfect_ranking_is_one(data, k):
    y, _, g = arrays(data)
    for func in (ndcg_score, map_score, mrr_score):
        assert func(y, y, g, k=k, no_relevant=1.0) == pytest.approx(1.0, rel=1e-12)


def _orders(labels, scores):
    """Every ranking of labels consistent with decreasing scores."""
    levels = sorted(set(scores.tolist()), reverse=True)
    blocks = [list(itertools.permutations(labels[scores == v])) for v in levels]
    for combo in itertools.product(*blocks):
        yield [label for block in combo for label in block]


def _naive(metric, y, s, k):
    """Per-query value by enumerating tied orders; None when undefined."""
    rel = (y >= 1).astype(float)
    if metric == "ndcg":

        def dcg(ranked):
            return sum(
                (2.0**v - 1) / math.log2(i + 2)
                for i, v in enumerate(ranked)
                if k is None or i < k
            )

        ideal = dcg(sorted(y, reverse=True))
        return None if ideal == 0 else np.mean([dcg(r) / ideal for r in _orders(y, s)])
    if rel.sum() == 0:
        return None
    if metric == "map" and k is None:
        if len(y) == 1:
            return 1.0
        return average_precision_score(rel, s)
    if metric == "mrr":
        values = []
        for r in _orders(rel, s):
            first = r.index(1.0)
            values.append(1 / (first + 1) if k is None or first < k else 0.0)
        return np.mean(values)
    depth = len(y) if k is None else min(k, len(y))
    hits = np.mean([sum(r[:depth]) for r in _orders(rel, s)])
    return hits / depth if metric == "precision" else hits / rel.sum()


@FAST
@given(rows, ks)
def test_agrees_with_naive_reference(data, k):
    y, s, g = arrays(data)
    names = {"ndcg": "ndcg", "mrr": "mrr", "precision": "precision", "recall": "recall"}
    if k is None:
        names["map"] = "map"
    suffix = "" if k is None else f"@{k}"
    metrics = [
        n + suffix if n in ("ndcg", "mrr", "map") else f"{n}@{k or 100}" for n in names
    ]
    ids, per = per_query_scores(y, s, g, metrics=metrics)
    for name, metric in zip(metrics, names, strict=True):
        kk = k if metric in ("ndcg", "mrr", "map") else (k or 100)
        for q, value in zip(ids, per[name], strict=True):
            m = g == q
            expected = _naive(metric, y[m], s[m], kk)
            if expected is None:
                assert np.isnan(value)
            else:
                assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)


@FAST
@given(
    st.lists(st.integers(0, 1023), min_size=1, max_size=6),
    st.lists(st.integers(0, 3), min_size=6, max_size=6),
)
def test_large_labels_are_finite_and_scale_free(labels, scores):
    y = np.array(labels, dtype=float)
    s = np.array(scores[: y.shape[0]], dtype=float)
    g = np.zeros(y.shape[0])
    value = ndcg_score(y, s, g, no_relevant=1.0)
    assert 0.0 <= value <= 1.0 + 1e-12
    # exact where float64 holds 2**rel - 1: the naive sum of float gains is
    # exact too while the labels stay small enough for its sums
    if 0 < y.max() <= 50:
        assert value == pytest.approx(_naive("ndcg", y, s, None), rel=1e-9)
    assert 0.0 <= err_score(y, s, g, max_grade=1023, no_relevant=1.0) <= 1.0
