"""Every public function of skrank.metrics against bad inputs: type and message."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from skrank.metrics import (
    err_score,
    make_ranking_scorer,
    map_score,
    map_scorer,
    mrr_score,
    ndcg_score,
    ndcg_scorer,
    per_query_scores,
    precision_at_k_score,
    recall_at_k_score,
)

METRICS = [
    ndcg_score,
    map_score,
    mrr_score,
    err_score,
    precision_at_k_score,
    recall_at_k_score,
]
Y, S, G = [1, 0, 2], [0.1, 0.2, 0.3], [0, 0, 1]

# (case, y_true, y_score, groups, kwargs, exception, message with {name})
CASES = [
    ("y strings", ["a", "b", "c"], S, G, {}, ValueError, "y_true must hold real"),
    ("y complex", [1j, 0, 0], S, G, {}, ValueError, "y_true must hold real"),
    ("y 2-D", [[1, 0, 2]], S, G, {}, ValueError, r"y_true must be 1-dim.*\(1, 3\)"),
    ("y empty", [], [], [], {}, ValueError, "0 sample.* required by y_true"),
    ("y scalar", 1, 0.5, 0, {}, ValueError, "The 'y_true' parameter of {name}"),
    ("y sparse", sp.csr_matrix([[1, 0, 2]]), S, G, {}, ValueError, "'y_true'"),
    ("y negative", [1, -1, 0], S, G, {}, ValueError, "graded relevance labels >= 0"),
    ("y NaN", [1, np.nan, 0], S, G, {}, ValueError, "y_true contains NaN"),
    ("y inf", [np.inf, 0, 0], S, G, {}, ValueError, "y_true contains infinity"),
    ("y 2**1024", [1024, 0, 0], S, G, {}, ValueError, r"label of 1024.*overflows"),
    ("s strings", Y, ["a", "b", "c"], G, {}, ValueError, "y_score must hold real"),
    ("s 2-D", Y, [[0.1, 0.2, 0.3]], G, {}, ValueError, "y_score must be 1-dim"),
    ("s NaN", Y, [np.nan, 0, 0], G, {}, ValueError, "y_score contains NaN"),
    ("s short", Y, S[:2], G, {}, ValueError, "y_true has 3 entries but y_score has 2"),
    ("g None", Y, S, None, {}, ValueError, "The 'groups' parameter of {name}"),
    ("g scalar", Y, S, 5, {}, ValueError, "The 'groups' parameter of {name}"),
    ("g short", Y, S, [0, 0], {}, ValueError, "groups has 2 entries but y_true has 3"),
    ("g 2-D", Y, S, [[0, 0, 1]] * 2, {}, ValueError, "groups must be 1-dimensional"),
    ("g NaN", Y, S, [0.0, np.nan, 1.0], {}, ValueError, "groups contains NaN"),
    ("g mixed", Y, S, np.array([1, "a", 2], object), {}, ValueError, "mixed ids"),
    ("g complex", Y, S, [1j, 1j, 2j], {}, ValueError, "must hold ints or strings"),
    ("k 0", Y, S, G, {"k": 0}, ValueError, r"'k' parameter of {name} must be an int"),
    ("k float", Y, S, G, {"k": 2.0}, ValueError, r"'k' .* Got 2.0 instead"),
    ("k True", Y, S, G, {"k": True}, ValueError, r"'k' .* Got True instead"),
    ("k str", Y, S, G, {"k": "5"}, ValueError, r"'k' parameter of {name}"),
    ("no_relevant", Y, S, G, {"no_relevant": 0.5}, ValueError, "'no_relevant'"),
    ("no_relevant str", Y, S, G, {"no_relevant": "zero"}, ValueError, "Got 'zero'"),
    ("unknown kwarg", Y, S, G, {"kk": 1}, TypeError, "unexpected keyword"),
]


@pytest.mark.parametrize("func", METRICS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "case, y, s, g, kwargs, exc, match", CASES, ids=[c[0] for c in CASES]
)
def test_metric_bad_inputs(func, case, y, s, g, kwargs, exc, match):
    if case == "y 2**1024" and func is not ndcg_score:
        # only NDCG's gain grows with the label; ERR refuses it above max_grade
        exc, match = (ValueError, "above max_grade") if func is err_score else (None, 0)
    if exc is None:
        func(y, s, g, **kwargs)
        return
    with pytest.raises(exc, match=match.format(name=func.__name__)):
        func(y, s, g, **kwargs)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"gain": "square"}, ValueError, "The 'gain' parameter of ndcg_score"),
        ({"gain": None}, ValueError, "The 'gain' parameter of ndcg_score"),
    ],
)
def test_ndcg_specific(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ndcg_score(Y, S, G, **kwargs)


@pytest.mark.parametrize("func", METRICS[1:], ids=lambda f: f.__name__)
def test_threshold_and_max_grade(func):
    name = func.__name__
    if func is err_score:
        with pytest.raises(ValueError, match="The 'max_grade' parameter of err_score"):
            func(Y, S, G, max_grade=0)
        with pytest.raises(ValueError, match=r"label of 2 above max_grade=1"):
            func(Y, S, G, max_grade=1)
        return
    for bad in (0, -1, "1", None):
        with pytest.raises(
            ValueError, match=f"'relevance_threshold' parameter of {name}"
        ):
            func(Y, S, G, relevance_threshold=bad)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"metrics": []}, ValueError, "metrics must name at least one metric"),
        ({"metrics": 3}, ValueError, "The 'metrics' parameter of per_query_scores"),
        ({"metrics": ["ndcg", 3]}, ValueError, "Unknown ranking metric 3"),
        ({"metrics": ["ndcg@0"]}, ValueError, "Unknown ranking metric 'ndcg@0'"),
        ({"metrics": ["dcg"]}, ValueError, "Valid names are 'ndcg'"),
        ({"gain": "x"}, ValueError, "The 'gain' parameter of per_query_scores"),
        ({"no_relevant": 2}, ValueError, "The 'no_relevant' parameter of per_query"),
        ({"relevance_threshold": 0}, ValueError, "'relevance_threshold' parameter"),
        ({"max_grade": -1}, ValueError, "The 'max_grade' parameter of per_query"),
        ({"max_grade": 1, "metrics": "err"}, ValueError, "above max_grade=1"),
    ],
)
def test_per_query_scores_bad_inputs(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        per_query_scores(Y, S, G, **kwargs)


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        (("dcg",), {}, ValueError, "Unknown ranking metric 'dcg'"),
        ((3,), {}, ValueError, "metric must be a ranking metric name"),
        ((None,), {}, ValueError, "metric must be a ranking metric name"),
        (("ndcg@5",), {"k": 3}, ValueError, "k is given twice"),
        ((ndcg_score,), {"kk": 3}, ValueError, r"unexpected keyword argument\(s\)"),
        (("ndcg",), {"k": 0}, ValueError, "The 'k' parameter of ndcg_score"),
        (("ndcg",), {"k": True}, ValueError, "The 'k' parameter of ndcg_score"),
        (("ndcg",), {"gain": "x"}, ValueError, "The 'gain' parameter of ndcg_score"),
        (("map",), {"no_relevant": 3}, ValueError, "'no_relevant' parameter of map"),
        (("err",), {"max_grade": 0}, ValueError, "'max_grade' parameter of err_score"),
        (("mrr",), {"relevance_threshold": -2}, ValueError, "'relevance_threshold'"),
    ],
)
def test_make_ranking_scorer_bad_inputs(args, kwargs, exc, match):
    # refused when the scorer is made, not inside a search (where scikit-learn
    # would turn the error into NaN scores)
    with pytest.raises(exc, match=match):
        make_ranking_scorer(*args, **kwargs)


@pytest.mark.parametrize("scorer", [ndcg_scorer, map_scorer], ids=repr)
def test_scorer_call_bad_inputs(scorer):
    X = np.arange(6.0).reshape(3, 2)
    model = Ridge().fit(X, [1, 0, 2])
    with pytest.raises(ValueError, match="no groups were passed"):
        scorer(model, X, Y)
    with pytest.raises(ValueError, match="groups has 2 entries but y_true has 3"):
        scorer(model, X, Y, groups=[0, 0])
    with pytest.raises(ValueError, match="y_true must hold graded relevance"):
        scorer(model, X, [1, -1, 0], groups=G)
    with pytest.raises(ValueError, match="X has 3 features"):
        scorer(model, np.ones((3, 3)), Y, groups=G)
