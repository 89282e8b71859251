"""Every bad parameter and input of NeuralRanker: exception type and wording."""

import re

import numpy as np
import pytest
import scipy.sparse as sp

from skrank.estimators import AttentionScorer, NeuralRanker

FAST = dict(max_epochs=1, module__hidden_sizes=(4,), random_state=0)
RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y = RNG.integers(0, 3, 40).astype(float)
G = np.repeat(np.arange(4), 10)


def _with(a, index, value):
    a = np.array(a, dtype=float)
    a[index] = value
    return a


def _param(name, value, expected):
    text = (
        f"The '{name}' parameter of NeuralRanker must be {expected}. "
        f"Got {value!r} instead."
    )
    return (
        f"param-{name}-{value!r}",
        lambda: NeuralRanker(**{**FAST, name: value}).fit(X, Y, G),
        ValueError,
        re.escape(text),
    )


PARAMETERS = [
    _param("lr", 0, "a float in the range (0.0, inf)"),
    _param("lr", -1.0, "a float in the range (0.0, inf)"),
    _param("max_epochs", -1, "an int in the range [0, inf) or a str among {'auto'}"),
    _param("max_epochs", "all", "an int in the range [0, inf) or a str among {'auto'}"),
    _param("batch_size", 0, "an int in the range [1, inf) or a str among {'auto'}"),
    _param("batch_size", "big", "an int in the range [1, inf) or a str among {'auto'}"),
    _param("validation_fraction", 1.5, "a float in the range [0.0, 1.0) or None"),
    _param("early_stopping", "yes", "an instance of 'bool' or an instance of"),
    _param("patience", 0, "an int in the range [1, inf)"),
    _param("ndcg_k", 0, "an int in the range [1, inf)"),
    _param("max_list_length", 0, "an int in the range [1, inf) or None"),
    _param("bucketing", "no", "an instance of 'bool' or an instance of"),
]
PARAMETERS = [
    (i, f, e, m.split(r"\ or\ an\ instance\ of")[0]) for i, f, e, m in PARAMETERS
]


def _frame(a):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(a, columns=["a", "b", "c"])


def _fitted(**params):
    return NeuralRanker(**{**FAST, **params}).fit(X, Y, G)


CASES = [
    *PARAMETERS,
    (
        "param-random_state",
        lambda: NeuralRanker(**{**FAST, "random_state": "x"}).fit(X, Y, G),
        ValueError,
        r"The 'random_state' parameter of NeuralRanker must be",
    ),
    (
        "param-loss-name",
        lambda: NeuralRanker(**{**FAST, "loss": "nope"}).fit(X, Y, G),
        ValueError,
        "not a valid loss name",
    ),
    (
        "param-loss-type",
        lambda: NeuralRanker(**{**FAST, "loss": 3}).fit(X, Y, G),
        ValueError,
        r"The 'loss' parameter of NeuralRanker must be a str among",
    ),
    # fit: data
    (
        "fit-DataFrame-nan-names-the-feature",
        lambda: _fitted().fit(_frame(_with(X, (3, 1), np.nan)), Y, G),
        ValueError,
        r"in column\(s\) 1 \('b'\);",
    ),
    ("fit-X-1d", lambda: _fitted().fit(X[:, 0], Y, G), ValueError, "Expected 2D"),
    (
        "fit-X-strings",
        lambda: _fitted().fit(np.full((40, 3), "a"), Y, G),
        ValueError,
        "could not convert string to float",
    ),
    (
        "fit-X-nan",
        lambda: _fitted().fit(_with(X, (3, 1), np.nan), Y, G),
        ValueError,
        r"Input X contains NaN, infinity or values beyond the float32 range .* "
        r"in column\(s\) 1;.*Got nan in column 1",
    ),
    (
        "fit-X-inf",
        lambda: _fitted().fit(_with(X, (3, 2), -np.inf), Y, G),
        ValueError,
        r"in column\(s\) 2;.*Got -inf",
    ),
    (
        "fit-X-1e39",
        lambda: _fitted().fit(_with(X, (0, 0), 1e39), Y, G),
        ValueError,
        r"beyond the float32 range \(absolute value above 3.402823e\+38\) in "
        r"column\(s\) 0;.*Got 1e\+39",
    ),
    (
        "fit-X-sparse-1e39",
        lambda: _fitted().fit(sp.csr_matrix(_with(X, (5, 2), -1e39)), Y, G),
        ValueError,
        r"in column\(s\) 2;.*Got -1e\+39",
    ),
    (
        "fit-X-empty",
        lambda: _fitted().fit(X[:0], Y[:0], G[:0]),
        ValueError,
        "Found array with 0 sample",
    ),
    (
        "fit-y-None",
        lambda: NeuralRanker(**FAST).fit(X, None, G),
        ValueError,
        "requires y to be passed, but the target y is None",
    ),
    (
        "fit-y-length",
        lambda: _fitted().fit(X, Y[:-1], G),
        ValueError,
        r"y has 39 entries but X has 40 rows\.",
    ),
    (
        "fit-y-negative",
        lambda: _fitted().fit(X, _with(Y, 0, -1), G),
        ValueError,
        "y must hold graded relevance labels >= 0. Got a minimum of -1",
    ),
    (
        "fit-y-nan",
        lambda: _fitted().fit(X, _with(Y, 0, np.nan), G),
        ValueError,
        "Input y contains NaN",
    ),
    (
        "fit-groups-length",
        lambda: _fitted().fit(X, Y, G[:-1]),
        ValueError,
        r"groups has 39 entries but X has 40 rows\.",
    ),
    (
        "fit-groups-missing",
        lambda: NeuralRanker(**FAST).fit(X, Y),
        ValueError,
        r"NeuralRanker.fit was called without groups: pass groups=qid.*"
        r"enable_metadata_routing=True",
    ),
    (
        "fit-qid-keyword",
        lambda: NeuralRanker(**FAST).fit(X, Y, qid=G),
        TypeError,
        r"NeuralRanker.fit got an unexpected keyword argument 'qid'",
    ),
    (
        "fit-sample_weight-varies-in-query",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, sample_weight=np.arange(40.0)),
        ValueError,
        r"sample_weight \(a query weight: .*\) must be constant within each "
        r"query; query 0 has values from 0 to 9",
    ),
    (
        "fit-sample_weight-negative",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, sample_weight=-np.ones(40)),
        ValueError,
        "sample_weight must be >= 0. Got a minimum of -1 instead.",
    ),
    (
        "fit-sample_weight-length",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, sample_weight=np.ones(39)),
        ValueError,
        r"sample_weight has 39 entries but X has 40 rows\.",
    ),
    (
        "fit-sample_weight-nan",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, sample_weight=_with(Y, 0, np.nan)),
        ValueError,
        "Input sample_weight contains NaN",
    ),
    (
        "fit-sample_weight-all-zero",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, sample_weight=np.zeros(40)),
        ValueError,
        "sample_weight is zero for every query: nothing to train on",
    ),
    (
        "fit-sample_weight-2d",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, sample_weight=np.ones((40, 2))),
        ValueError,
        "y should be a 1d array|sample_weight",
    ),
    (
        "fit-eval_set-not-tuple",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, eval_set=X),
        ValueError,
        r"eval_set must be a tuple \(X_val, y_val, groups_val\). Got ndarray",
    ),
    (
        "fit-eval_set-two-items",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, eval_set=(X, Y)),
        ValueError,
        r"eval_set must be a tuple \(X_val, y_val, groups_val\). Got a tuple of 2",
    ),
    (
        # max_epochs="auto" counts the queries before the probe's fit: the
        # ids are validated there too, not handed to np.unique
        "fit-auto-groups-mixed-types",
        lambda: NeuralRanker(**{**FAST, "max_epochs": "auto"}).fit(
            X, Y, np.array([1, "a"] * 20, dtype=object)
        ),
        ValueError,
        "groups must hold ids of one comparable type",
    ),
    (
        "fit-eval_set-no-groups",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, eval_set=(X, Y, None)),
        ValueError,
        "eval_set needs groups_val",
    ),
    (
        "fit-eval_set-width",
        lambda: NeuralRanker(**FAST).fit(X, Y, G, eval_set=(X[:, :2], Y, G)),
        ValueError,
        "X has 2 features, but NeuralRanker is expecting 3 features",
    ),
    (
        "partial_fit-groups-missing",
        lambda: NeuralRanker(**FAST).partial_fit(X, Y),
        ValueError,
        r"NeuralRanker.partial_fit was called without groups",
    ),
    # predict
    (
        "predict-unfitted",
        lambda: NeuralRanker(**FAST).predict(X),
        Exception,
        "is not fitted yet",
    ),
    (
        "predict-width",
        lambda: _fitted().predict(X[:, :2]),
        ValueError,
        "X has 2 features, but NeuralRanker is expecting 3 features",
    ),
    (
        "predict-X-nan",
        lambda: _fitted().predict(_with(X, (0, 2), np.nan)),
        ValueError,
        r"in column\(s\) 2;",
    ),
    (
        "predict-X-1e39",
        lambda: _fitted().predict(_with(X, (0, 1), 1e39)),
        ValueError,
        r"beyond the float32 range .* in column\(s\) 1;",
    ),
    (
        "predict-context-aware-without-groups",
        lambda: (
            NeuralRanker(
                AttentionScorer,
                max_epochs=1,
                module__d_model=4,
                module__n_heads=1,
                module__n_layers=1,
            )
            .fit(X, Y, G)
            .predict(X)
        ),
        ValueError,
        "AttentionScorer is context-aware .* predict needs groups=qid",
    ),
    # score
    (
        "score-sample_weight",
        lambda: _fitted().score(X, Y, G, sample_weight=-np.ones(40)),
        ValueError,
        "sample_weight must be >= 0",
    ),
    (
        "score-groups-missing",
        lambda: _fitted().score(X, Y),
        ValueError,
        r"NeuralRanker.score was called without groups",
    ),
]


@pytest.mark.parametrize(
    "call, error, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
