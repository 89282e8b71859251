import itertools
import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score
from sklearn.metrics import ndcg_score as sk_ndcg_score

import skrank.metrics
from skrank.metrics import (
    err_score,
    map_score,
    mrr_score,
    ndcg_score,
    per_query_scores,
    precision_at_k_score,
    recall_at_k_score,
)

ALL_METRICS = [
    ndcg_score,
    map_score,
    mrr_score,
    err_score,
    precision_at_k_score,
    recall_at_k_score,
]
NAME_OF = {
    ndcg_score: "ndcg",
    map_score: "map",
    mrr_score: "mrr",
    err_score: "err",
    precision_at_k_score: "precision",
    recall_at_k_score: "recall",
}


def make_data(n_queries=40, max_len=7, n_levels=5, n_scores=4, seed=0):
    """Small random lists with many ties (few distinct scores)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_len + 1, n_queries)
    groups = np.repeat(rng.permutation(n_queries) * 3 + 7, sizes)
    n = groups.shape[0]
    y = rng.integers(0, n_levels, n).astype(float)
    s = rng.integers(0, n_scores, n).astype(float)
    perm = rng.permutation(n)
    return y[perm], s[perm], groups[perm]


# -- naive per-query references (plain loops) ---------------------------------


def tie_orders(y, s):
    """All rankings of labels consistent with decreasing scores (ties permuted)."""
    levels = sorted(set(s.tolist()), reverse=True)
    blocks = [list(itertools.permutations(y[s == v].tolist())) for v in levels]
    for combo in itertools.product(*blocks):
        yield [label for block in combo for label in block]


def ref_dcg(ranked, k, kind):
    total = 0.0
    for i, label in enumerate(ranked):
        if k is not None and i >= k:
            break
        g = 2.0**label - 1 if kind == "exponential" else label
        total += g / math.log2(i + 2)
    return total


def ref_query(metric, y, s, k, thr=1, gain="exponential", max_grade=4):
    """Per-query value from explicit rankings; None if undefined."""
    rel = (y >= thr).astype(float)
    if metric == "ndcg":
        ideal = ref_dcg(sorted(y.tolist(), reverse=True), k, gain)
        if ideal == 0:
            return None
        vals = [ref_dcg(r, k, gain) / ideal for r in tie_orders(y, s)]
        return float(np.mean(vals))
    if rel.sum() == 0 and metric != "err":
        return None
    if metric == "mrr":
        vals = []
        for r in tie_orders(rel, s):
            first = next(i for i, v in enumerate(r) if v)
            vals.append(1.0 / (first + 1) if k is None or first < k else 0.0)
        return float(np.mean(vals))
    if metric in ("precision", "recall"):
        vals = []
        for r in tie_orders(rel, s):
            top = r if k is None else r[:k]
            vals.append(sum(top) / (len(top) if metric == "precision" else rel.sum()))
        return float(np.mean(vals))
    if metric == "map":
        # threshold convention: a tie group is passed as a whole; with k a cut
        # group counts its share of positions inside the top k.
        total, seen, pos = 0.0, 0.0, 0
        for v in sorted(set(s.tolist()), reverse=True):
            members = rel[s == v]
            inside = len(members) if k is None else max(0, min(len(members), k - pos))
            if inside > 0:
                expected = members.sum() * inside / len(members)
                seen += expected
                total += expected * seen / (pos + inside)
            pos += len(members)
        return total / (rel.sum() if k is None else min(rel.sum(), k))
    if metric == "err":
        if y.sum() == 0:
            return None
        order = np.lexsort((y, -s))  # pessimistic: least relevant first in ties
        total, go = 0.0, 1.0
        for i, label in enumerate(y[order]):
            if k is not None and i >= k:
                break
            stop = (2.0**label - 1) / 2.0**max_grade
            total += go * stop / (i + 1)
            go *= 1 - stop
        return total
    raise AssertionError(metric)


def ref_mean(metric, y, s, groups, k, no_relevant="skip", **kw):
    vals = []
    for q in np.unique(groups):
        m = groups == q
        v = ref_query(metric, y[m], s[m], k, **kw)
        if v is None:
            if no_relevant == "skip":
                continue
            v = no_relevant
        vals.append(v)
    return float(np.mean(vals))


# -- hand-computed values -----------------------------------------------------


def test_hand_computed_values():
    y = [3, 0, 1, 0, 2, 0]
    s = [0.9, 0.8, 0.1, 0.7, 0.2, 0.4]
    g = [1, 1, 1, 2, 2, 2]
    # q1 ranked labels 3, 0, 1; q2 ranked 0, 0, 2
    q1 = (7 + 1 / 2) / (7 + 1 / math.log2(3))
    q2 = (3 / 2) / 3
    assert ndcg_score(y, s, g) == pytest.approx((q1 + q2) / 2)
    assert ndcg_score(y, s, g, k=1) == pytest.approx((1 + 0) / 2)
    lin1 = (3 + 0.5) / (3 + 1 / math.log2(3))
    assert ndcg_score(y, s, g, gain="linear") == pytest.approx((lin1 + 0.5) / 2)
    # relevant (>= 1): q1 ranks 1, 0, 1; q2 ranks 0, 0, 1
    assert map_score(y, s, g) == pytest.approx(((1 + 2 / 3) / 2 + 1 / 3) / 2)
    assert map_score(y, s, g, k=2) == pytest.approx((1 / 2 + 0) / 2)
    assert mrr_score(y, s, g) == pytest.approx((1 + 1 / 3) / 2)
    assert mrr_score(y, s, g, k=2) == pytest.approx((1 + 0) / 2)
    assert precision_at_k_score(y, s, g, k=2) == pytest.approx((1 / 2 + 0) / 2)
    assert precision_at_k_score(y, s, g) == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert recall_at_k_score(y, s, g, k=2) == pytest.approx((1 / 2 + 0) / 2)
    assert recall_at_k_score(y, s, g) == 1.0
    assert map_score(y, s, g, relevance_threshold=2) == pytest.approx((1 + 1 / 3) / 2)
    e1 = 7 / 16 + (1 - 7 / 16) * (1 / 16) / 3
    e2 = (3 / 16) / 3
    assert err_score(y, s, g) == pytest.approx((e1 + e2) / 2)
    assert err_score(y, s, g, k=1) == pytest.approx((7 / 16 + 0) / 2)
    assert err_score(y, s, g, max_grade=3) == pytest.approx(
        (7 / 8 + (1 / 8) * (1 / 8) / 3 + (3 / 8) / 3) / 2
    )


def test_hand_computed_ties():
    # one query, scores tied in pairs: labels (2, 0) tied at top, (1, 0) below
    y = [0, 2, 0, 1]
    s = [5, 5, 1, 1]
    g = [0, 0, 0, 0]
    d = [1 / math.log2(i + 2) for i in range(4)]
    dcg = 3 / 2 * (d[0] + d[1]) + 1 / 2 * (d[2] + d[3])
    idcg = 3 * d[0] + 1 * d[1]
    assert ndcg_score(y, s, g) == pytest.approx(dcg / idcg)
    # k=3 cuts the second tie group: only d[2] counts, with its mean gain
    dcg3 = 3 / 2 * (d[0] + d[1]) + 1 / 2 * d[2]
    assert ndcg_score(y, s, g, k=3) == pytest.approx(dcg3 / (3 * d[0] + d[1]))
    # MRR: first group has 1 relevant of 2 -> (1 + 1/2) / 2
    assert mrr_score(y, s, g) == pytest.approx(0.75)
    # AP (threshold convention): group 1 -> 1 relevant at precision 1/2;
    # group 2 -> 1 relevant at precision 2/4
    assert map_score(y, s, g) == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert map_score(y, s, g) == pytest.approx(average_precision_score([0, 1, 0, 1], s))
    # P@1: expected 1/2; P@3: (1 + 1/2) / 3
    assert precision_at_k_score(y, s, g, k=1) == pytest.approx(0.5)
    assert precision_at_k_score(y, s, g, k=3) == pytest.approx(1.5 / 3)
    assert recall_at_k_score(y, s, g, k=3) == pytest.approx(1.5 / 2)
    # ERR pessimistic: ranked labels 0, 2, 0, 1
    r2, r1 = 3 / 16, 1 / 16
    assert err_score(y, s, g) == pytest.approx(r2 / 2 + (1 - r2) * r1 / 4)


def test_mrr_ties_expected_value():
    # a tie group of 5 with 2 relevant after one non-relevant document
    y = [0, 1, 0, 1, 0, 0]
    s = [9, 1, 1, 1, 1, 1]
    g = [0] * 6
    # ranks 2..6; P(first relevant at 2 + j) = C(4 - j, 1) / C(5, 2)
    expected = sum((4 - j) / 10 / (2 + j) for j in range(4))
    assert mrr_score(y, s, g) == pytest.approx(expected)
    assert mrr_score(y, s, g, k=3) == pytest.approx(4 / 10 / 2 + 3 / 10 / 3)


# -- agreement with naive references on random data with many ties -----------


@pytest.mark.parametrize("metric", ["ndcg", "map", "mrr", "err", "precision", "recall"])
@pytest.mark.parametrize("k", [None, 1, 3])
@pytest.mark.parametrize("n_scores", [3, 1000])
def test_agrees_with_naive_reference(metric, k, n_scores):
    y, s, g = make_data(seed=1 if k is None else k + 1, n_scores=n_scores)
    if metric == "err":
        y = np.minimum(y, 4)
    func = {NAME_OF[f]: f for f in ALL_METRICS}[metric]
    got = func(y, s, g, k=k)
    assert got == pytest.approx(ref_mean(metric, y, s, g, k), rel=1e-9)
    ids, per = per_query_scores(y, s, g, metrics=[f"{metric}@{k}" if k else metric])
    values = next(iter(per.values()))
    assert np.nanmean(values) == pytest.approx(got, rel=1e-12)
    for q, v in zip(ids, values, strict=True):
        m = g == q
        ref = ref_query(metric, y[m], s[m], k)
        if ref is None:
            assert np.isnan(v)
        else:
            assert v == pytest.approx(ref, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("k", [None, 1, 2, 5])
def test_ndcg_linear_equals_sklearn_per_query(k):
    y, s, g = make_data(seed=3, n_scores=3)
    ids, per = per_query_scores(
        y, s, g, metrics=[f"ndcg@{k}" if k else "ndcg"], gain="linear"
    )
    values = next(iter(per.values()))
    for q, v in zip(ids, values, strict=True):
        m = g == q
        if y[m].sum() == 0 or m.sum() < 2:
            continue  # sklearn: undefined / needs 2 documents
        expected = sk_ndcg_score([y[m]], [s[m]], k=k)
        assert v == pytest.approx(expected, rel=1e-12)


def test_long_lists_agree_with_sklearn():
    rng = np.random.default_rng(9)
    sizes = [1, 2, 3, 17, 64, 65, 300, 1000]
    g = np.repeat(np.arange(len(sizes)), sizes)
    y = rng.integers(0, 5, g.shape[0]).astype(float)
    s = np.round(rng.normal(size=g.shape[0]), 1)  # many ties
    perm = rng.permutation(g.shape[0])
    y, s, g = y[perm], s[perm], g[perm]
    for k in (None, 10):
        _, per = per_query_scores(
            y, s, g, metrics=["ndcg@10" if k else "ndcg", "map"], gain="linear"
        )
        for q in range(3, len(sizes)):
            m = g == q
            assert per["ndcg@10" if k else "ndcg"][q] == pytest.approx(
                sk_ndcg_score([y[m]], [s[m]], k=k), rel=1e-12
            )
            assert per["map"][q] == pytest.approx(
                average_precision_score(y[m] >= 1, s[m]), rel=1e-12
            )


def test_map_equals_sklearn_average_precision_per_query():
    y, s, g = make_data(seed=4, n_scores=3, max_len=12)
    ids, per = per_query_scores(y, s, g, metrics=["map"])
    for q, v in zip(ids, per["map"], strict=True):
        m = g == q
        if (y[m] >= 1).sum() == 0:
            assert np.isnan(v)
            continue
        expected = average_precision_score(y[m] >= 1, s[m])
        assert v == pytest.approx(expected, rel=1e-12)


def test_one_document_queries():
    assert ndcg_score([2], [0.3], ["a"]) == 1.0
    assert ndcg_score([2, 1], [0.3, 0.1], ["a", "b"]) == 1.0
    assert mrr_score([1], [0.0], [5]) == 1.0
    assert map_score([1], [0.0], [5]) == 1.0


# -- invariances --------------------------------------------------------------


@pytest.mark.parametrize("func", ALL_METRICS)
@pytest.mark.parametrize("k", [None, 2])
def test_invariances(func, k):
    y, s, g = make_data(seed=5)
    base = func(y, s, g, k=k)
    rng = np.random.default_rng(0)
    perm = rng.permutation(y.shape[0])
    assert func(y[perm], s[perm], g[perm], k=k) == pytest.approx(base, rel=1e-12)
    # query ids relabelled (new order of queries) and as strings
    relabel = np.array([f"q{(int(v) * 7919) % 1000:04d}" for v in g])
    assert func(y, s, relabel, k=k) == pytest.approx(base, rel=1e-12)
    # strictly monotone transform of the scores keeps ties and order
    assert func(y, np.exp(s) * 3 - 1, g, k=k) == pytest.approx(base, rel=1e-12)
    # tied rows reordered: sort by (score, label) then by (score, -label)
    a = np.lexsort((y, s))
    b = np.lexsort((-y, s))
    assert func(y[a], s[a], g[a], k=k) == pytest.approx(
        func(y[b], s[b], g[b], k=k), rel=1e-12
    )


@pytest.mark.parametrize("func", ALL_METRICS)
def test_constant_model_does_not_profit_from_sorted_file(func):
    y = np.array([4, 3, 2, 1, 0, 0, 2, 1, 0, 0], dtype=float)
    g = np.repeat([0, 1], 5)
    s = np.zeros(10)
    forward = func(y, s, g, k=3)
    backward = func(y[::-1], s, g[::-1], k=3)
    assert forward == pytest.approx(backward, rel=1e-12)
    assert func(y, y, g, k=3) > forward


@pytest.mark.parametrize(
    "func, k",
    [
        *[(f, k) for f in (ndcg_score, map_score, mrr_score) for k in (None, 1, 3)],
        (recall_at_k_score, None),  # recall@k < 1 when a query has > k relevant
    ],
)
def test_perfect_ranking_is_one(func, k):
    y, _, g = make_data(seed=6)
    s = y + np.random.default_rng(1).random(y.shape[0]) * 0.1
    assert func(y, s, g, k=k) == pytest.approx(1.0)


def test_perfect_precision_with_enough_relevant():
    y = np.array([2, 1, 1, 0, 1, 1, 1])
    g = np.array([0, 0, 0, 0, 1, 1, 1])
    assert precision_at_k_score(y, y * 1.0, g, k=3) == 1.0


# -- queries without a relevant document --------------------------------------


@pytest.mark.parametrize("func", ALL_METRICS)
def test_no_relevant_options(func):
    y = [0, 1, 0, 0, 0, 0]
    s = [0.2, 0.9, 0.3, 0.5, 0.1, 0.0]
    g = [0, 0, 1, 1, 2, 2]
    one = func([0, 1], [0.2, 0.9], [0, 0])
    assert func(y, s, g) == pytest.approx(one)
    assert func(y, s, g, no_relevant=0.0) == pytest.approx(one / 3)
    assert func(y, s, g, no_relevant=1) == pytest.approx((one + 2) / 3)
    _, per = per_query_scores(y, s, g, metrics=[NAME_OF[func] + "@2"])
    assert np.isnan(next(iter(per.values()))[1:]).all()


@pytest.mark.parametrize("func", ALL_METRICS)
def test_all_queries_without_relevant_is_nan_with_warning(func):
    with pytest.warns(UndefinedMetricWarning, match="No query has a relevant"):
        value = func([0, 0, 0], [0.1, 0.2, 0.3], [1, 1, 2])
    assert np.isnan(value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert func([0, 0, 0], [0.1, 0.2, 0.3], [1, 1, 2], no_relevant=0.0) == 0.0


# -- per_query_scores ---------------------------------------------------------


def test_per_query_scores_matches_separate_calls():
    y, s, g = make_data(seed=7)
    names = [
        "ndcg",
        "ndcg@3",
        "map",
        "map@2",
        "mrr",
        "mrr@2",
        "err",
        "err@3",
        "precision@2",
        "recall@3",
    ]
    ids, per = per_query_scores(y, s, g, metrics=names, no_relevant=0.0)
    np.testing.assert_array_equal(ids, np.unique(g))
    assert list(per) == names
    for name in names:
        kind, _, k = name.partition("@")
        func = {NAME_OF[f]: f for f in ALL_METRICS}[kind]
        expected = func(y, s, g, k=int(k) if k else None, no_relevant=0.0)
        assert per[name].shape == (ids.shape[0],)
        assert per[name].mean() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["ndcg@0", "dcg", "ndcg@", "map@x", "precision@-1"])
def test_per_query_scores_bad_name(name):
    with pytest.raises(ValueError, match=r"Unknown ranking metric .* Valid names are"):
        per_query_scores([1, 0], [0.1, 0.2], [0, 0], metrics=[name])


# -- validation ---------------------------------------------------------------


@pytest.mark.parametrize("func", ALL_METRICS)
def test_validation_errors(func):
    name = func.__name__
    y, s, g = [1, 0, 2], [0.1, 0.2, 0.3], [0, 0, 1]
    with pytest.raises(
        ValueError,
        match=rf"The 'k' parameter of {name} must be an int in the range \[1, inf\) "
        r"or None. Got 0 instead.",
    ):
        func(y, s, g, k=0)
    with pytest.raises(ValueError, match=r"y_true has 3 entries but y_score has 2"):
        func(y, s[:2], g)
    with pytest.raises(ValueError, match=r"groups has 2 entries but y_true has 3"):
        func(y, s, g[:2])
    with pytest.raises(ValueError, match=r"y_true must hold graded relevance labels"):
        func([1, -1, 0], s, g)
    with pytest.raises(ValueError, match=r"Input y_true contains NaN"):
        func([1, np.nan, 0], s, g)
    with pytest.raises(ValueError, match=r"Input y_score contains infinity"):
        func(y, [0.1, np.inf, 0.0], g)
    with pytest.raises(ValueError, match=r"groups contains NaN"):
        func(y, s, [0.0, np.nan, 1.0])
    with pytest.raises(
        ValueError,
        match=rf"The 'no_relevant' parameter of {name} must be a str among "
        r"\{'skip'\} or a float among \{0.0, 1.0\}. Got 0.5 instead.",
    ):
        func(y, s, g, no_relevant=0.5)
    for bad in ("zero", True, None):
        with pytest.raises(ValueError, match="The 'no_relevant' parameter"):
            func(y, s, g, no_relevant=bad)
    with pytest.raises(ValueError, match=r"The 'groups' parameter of .* Got None"):
        func(y, s, None)


def test_validation_specific_parameters():
    y, s, g = [1, 0, 2], [0.1, 0.2, 0.3], [0, 0, 1]
    with pytest.raises(ValueError, match=r"The 'gain' parameter of ndcg_score must"):
        ndcg_score(y, s, g, gain="square")
    with pytest.raises(
        ValueError, match=r"The 'relevance_threshold' parameter of map_score must"
    ):
        map_score(y, s, g, relevance_threshold=0)
    with pytest.raises(ValueError, match=r"y_true has a label of 5 above max_grade=4"):
        err_score([5, 0, 1], s, g)
    assert err_score([5, 0, 1], s, g, max_grade=5) > 0


def test_inputs_not_modified():
    y = np.array([2.0, 0.0, 1.0])
    s = np.array([0.1, 0.2, 0.1])
    g = np.array([3, 1, 3])
    for func in ALL_METRICS:
        func(y, s, g, k=2)
    np.testing.assert_array_equal(y, [2.0, 0.0, 1.0])
    np.testing.assert_array_equal(s, [0.1, 0.2, 0.1])
    np.testing.assert_array_equal(g, [3, 1, 3])


def test_float_labels_use_general_ideal_path():
    y, s, g = make_data(seed=8)
    y = y * 0.7
    assert ndcg_score(y, s, g, k=3) == pytest.approx(ref_mean("ndcg", y, s, g, 3))


def test_all():
    assert sorted(skrank.metrics.__all__) == [
        "err_score",
        "make_ranking_scorer",
        "map_score",
        "map_scorer",
        "mrr_score",
        "ndcg_score",
        "ndcg_scorer",
        "per_query_scores",
        "precision_at_k_score",
        "recall_at_k_score",
    ]


# -- large labels (issue 8) ------------------------------------------------------


def test_exponential_gain_exact_for_large_labels():
    d = [1 / math.log2(i + 2) for i in range(4)]
    expected = (d[1] + d[2] + d[3]) / (d[0] + d[1] + d[2])
    got = ndcg_score([1023, 1023, 1023, 0], [0, 1, 2, 3], [1, 1, 1, 1])
    assert got == pytest.approx(expected, rel=1e-15)
    assert round(got, 3) == 0.733
    # a float label just below 1024, and a query far below it in the same call
    y = [1023.9, 1.0, 0.0, 3.0, 0.0]
    s = [0.0, 1.0, 2.0, 1.0, 2.0]
    g = [0, 0, 0, 1, 1]
    ref = ref_mean("ndcg", np.array(y[3:]), np.array(s[3:]), np.array(g[3:]), None)
    q0 = (2**1023.9 - 1) * d[2] + 1 * d[1]
    q0 /= (2**1023.9 - 1) * d[0] + 1 * d[1]
    assert ndcg_score(y, s, g) == pytest.approx((q0 + ref) / 2, rel=1e-14)


@pytest.mark.parametrize("no_relevant", ["skip", 0.0])
def test_gain_overflow_is_a_clear_error(no_relevant):
    msg = (
        r"y_true has a label of 1024, whose exponential gain 2\*\*1024 - 1 "
        r"overflows float64 in ndcg_score \(float64 holds the gains of labels "
        r"below 1024\). Use gain='linear'"
    )
    with pytest.raises(ValueError, match=msg):
        ndcg_score([1024, 0], [0, 1], [1, 1], no_relevant=no_relevant)
    with pytest.raises(ValueError, match="overflows float64 in per_query_scores"):
        per_query_scores([0, 2000.5], [0, 1], [1, 1], metrics=["ndcg@3"])
    assert ndcg_score([1024, 0], [1, 0], [1, 1], gain="linear") == 1.0


def test_linear_gain_does_not_overflow_sums():
    y = [1e308, 1e308, 0.0]
    assert ndcg_score(y, [3, 2, 1], [0, 0, 0], gain="linear") == 1.0
    value = ndcg_score(y, [1, 2, 3], [0, 0, 0], gain="linear")
    d = [1 / math.log2(i + 2) for i in range(3)]
    assert value == pytest.approx((d[1] + d[2]) / (d[0] + d[1]), rel=1e-14)


def test_err_exact_for_any_max_grade():
    assert err_score([60, 0], [1, 0], [0, 0], max_grade=60) == 1.0
    # a certain stop hides every later document
    assert err_score([0, 60, 60], [3, 2, 1], [0, 0, 0], max_grade=60) == 0.5
    assert err_score([1500, 0], [0, 1], [0, 0], max_grade=2000) == pytest.approx(
        2.0**-500 / 2, rel=1e-14
    )
    assert err_score([1023], [0], [0], max_grade=1023) == pytest.approx(1 - 2.0**-1023)


def test_check_gain_overflow_for_the_losses():
    from skrank.metrics._gains import check_gain_overflow

    check_gain_overflow(np.array([0.0, 1023.0]))
    check_gain_overflow(np.array([0.0, 127.0]), dtype=np.float32)
    check_gain_overflow(np.zeros(0), dtype=np.float32)
    with pytest.raises(
        ValueError,
        match=r"^y has a label of 128, whose exponential gain 2\*\*128 - 1 overflows "
        r"float32 in LambdaRank \(float32 holds the gains of labels below 128\)\. "
        r"Use gain='linear'",
    ):
        check_gain_overflow(
            np.array([3.0, 128.0]),
            dtype=np.float32,
            input_name="y",
            caller="LambdaRank",
        )
    with pytest.raises(ValueError, match=r"overflows float16 .* labels below 16"):
        check_gain_overflow(np.array([16.0]), dtype=np.float16)
    with pytest.raises(ValueError, match=r"linear gain 1e\+39 overflows float32"):
        check_gain_overflow(np.array([1e39]), "linear", np.float32)
    torch = pytest.importorskip("torch")
    check_gain_overflow(torch.tensor([0.0, 127.0]), dtype=torch.float32)
    with pytest.raises(ValueError, match="overflows bfloat16"):
        check_gain_overflow(torch.tensor([[0.0, 130.0]]), dtype=torch.bfloat16)
