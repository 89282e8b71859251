"""compare_rankers hardening: interrupts, overlapping splits, failures, backends."""

import os
import signal

import numpy as np
import pytest
from joblib import parallel_config
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold, KFold

from skrank.model_selection import (
    QuerySplitError,
    check_query_splits,
    compare_rankers,
)


def make_data(n_queries=20, size=6, seed=0):
    rng = np.random.default_rng(seed)
    n = n_queries * size
    X = rng.normal(size=(n, 4))
    y = np.clip(np.round(X[:, 0] + 0.5 * rng.normal(size=n) + 0.5), 0, 3)
    return X, y, np.repeat(np.arange(n_queries), size)


class SwallowsInterrupt(RegressorMixin, BaseEstimator):
    """Sends itself SIGINT in fit and, like skorch, treats it as 'stop training'."""

    def fit(self, X, y):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # give the signal time to arrive
                np.zeros(1000).sum()
        except KeyboardInterrupt:
            pass  # training ends "normally"
        self.coef_ = np.zeros(X.shape[1])
        return self

    def predict(self, X):
        return X @ self.coef_


class Fails(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        raise ArithmeticError("boom in fit")

    def predict(self, X):  # pragma: no cover
        return np.zeros(X.shape[0])


# ------------------------------------------------------------ interrupts
@pytest.fixture(autouse=True)
def terminal_sigint():
    """Python's own SIGINT handler, as in a terminal.

    A test run started as a background job inherits SIGINT ignored, and then
    neither Python nor compare_rankers handles it.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_interrupt_swallowed_by_the_model_still_stops_the_comparison():
    X, y, g = make_data()
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        compare_rankers({"r": Ridge(), "sig": SwallowsInterrupt()}, X, y, g, cv=2)
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_interrupt_with_parallel_backends(backend):
    # threading: the signal reaches the main thread; loky: the worker that
    # got it raises, and joblib carries the KeyboardInterrupt back
    if backend == "loky":
        # loky reuses its workers across tests: ones spawned by an earlier
        # test of a background run inherited SIGINT ignored; fresh ones get
        # the terminal's handler set by the fixture
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor(kill_workers=True).shutdown(wait=True)
    X, y, g = make_data()
    with parallel_config(backend=backend), pytest.raises(KeyboardInterrupt):
        compare_rankers({"sig": SwallowsInterrupt()}, X, y, g, cv=2, n_jobs=2)


def test_interrupt_in_neural_ranker_fit_stops_the_comparison():
    from skorch.callbacks import Callback

    from skrank.estimators import NeuralRanker

    class SendSigint(Callback):
        def on_epoch_end(self, net, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)

    X, y, g = make_data()
    # alone, the estimator ends training and returns (its documented behaviour)
    alone = NeuralRanker(max_epochs=3, callbacks=[SendSigint()], random_state=0)
    alone.fit(X, y, g)
    assert len(alone.history) == 1
    with pytest.raises(KeyboardInterrupt):
        compare_rankers({"nn": alone}, X, y, g, cv=2)


# ------------------------------------------------------------ overlapping tests
def test_repeated_splits_do_not_inflate_significance():
    X, y, g = make_data(n_queries=30)
    rng = np.random.default_rng(1)
    Xn = X + rng.normal(scale=2.0, size=X.shape)
    split = check_query_splits(3, X, y, g)[0][::2]  # (train, test)
    models = {"ridge": Ridge(), "dummy": DummyRegressor()}
    once = compare_rankers(models, Xn, y, g, cv=[split], metrics="ndcg@5")
    four = compare_rankers(models, Xn, y, g, cv=[split] * 4, metrics="ndcg@5")
    a, b = once.significance()["dummy"], four.significance()["dummy"]
    assert b["n"] == a["n"] <= four.n_unique_queries == once.n_unique_queries
    assert b["t_pvalue"] == pytest.approx(a["t_pvalue"])
    assert b["wilcoxon_pvalue"] == pytest.approx(a["wilcoxon_pvalue"])
    assert four.query_ids.shape[0] == 4 * once.query_ids.shape[0]
    s1, s4 = once.summary()["ridge"], four.summary()["ridge"]
    assert s4["n_queries"] == s1["n_queries"]
    assert s4["ci_high"] == pytest.approx(s1["ci_high"])
    text = four.to_text()
    assert f"of {four.n_unique_queries} distinct held-out queries" in text
    assert "averaged per query first" in text


def test_overlapping_queries_averaged_before_the_test():
    # two splits test query 0 with different scores: one pair, the mean
    from skrank.model_selection import RankerComparison

    res = RankerComparison(
        scores={
            "a": {"map": np.array([0.2, 0.4, 0.5, 0.1])},
            "b": {"map": np.array([0.6, 0.4, 0.9, 0.3])},
        },
        query_ids=np.array([0, 1, 0, 2]),
        splits=np.array([0, 0, 1, 1]),
        fit_time={"a": np.ones(2), "b": np.ones(2)},
        predict_time={"a": np.ones(2), "b": np.ones(2)},
        metrics=("map",),
        baseline="a",
    )
    diff = res.differences()["b"]
    np.testing.assert_allclose(diff, [0.4, 0.0, 0.2])  # queries 0, 1, 2
    t = res.significance()["b"]
    assert t["n"] == 3
    assert t["t_pvalue"] == pytest.approx(stats.ttest_1samp(diff, 0).pvalue)


# ------------------------------------------------------------ failures
def test_fit_failure_names_model_and_split():
    X, y, g = make_data()
    # The user's exception type is kept; a note names the model and the split.
    with pytest.raises(ArithmeticError) as info:
        compare_rankers({"r": Ridge(), "bad": Fails()}, X, y, g, cv=2)
    assert "Could not fit model 'bad' on split 1 of 2." in info.value.__notes__


# ------------------------------------------------------------ backends
@pytest.mark.parametrize("backend", ["loky", "threading", "multiprocessing"])
def test_every_joblib_backend(backend):
    X, y, g = make_data()
    models = {"ridge": Ridge(), "dummy": DummyRegressor()}
    ref = compare_rankers(models, X, y, g, cv=2)
    infos = []
    with parallel_config(backend=backend):
        res = compare_rankers(models, X, y, g, cv=2, n_jobs=2, callback=infos.append)
    assert [i["done"] for i in infos] == [1, 2, 3, 4]
    for name in models:
        np.testing.assert_array_equal(
            res.scores[name]["ndcg@5"], ref.scores[name]["ndcg@5"]
        )


# ------------------------------------------------------------ bad inputs
X0, Y0, G0 = make_data()


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        (
            {"estimators": [Ridge()]},
            ValueError,
            "'estimators' parameter of compare_rankers must be an instance of 'dict'",
        ),
        ({"estimators": {}}, ValueError, "must be a non-empty dict"),
        (
            {"estimators": {"x": "ridge"}},
            ValueError,
            "'x' of compare_rankers must have fit and predict",
        ),
        ({"estimators": {1: Ridge(), "1": Ridge()}}, ValueError, "distinct as str"),
        ({"X": "abc"}, ValueError, "'X' parameter of compare_rankers"),
        ({"groups": None}, ValueError, "'groups' parameter of compare_rankers"),
        ({"groups": G0[:3]}, ValueError, "groups has 3 entries but X has 120 rows"),
        ({"cv": 1}, ValueError, "'cv' parameter of compare_rankers"),
        ({"cv": "five"}, ValueError, "'cv' parameter of compare_rankers"),
        ({"cv": KFold(3)}, QuerySplitError, "splits queries across train and test"),
        ({"cv": 50}, QuerySplitError, "Cannot make 50 splits of 20 queries"),
        ({"metrics": ["ndcg@x"]}, ValueError, "Unknown ranking metric 'ndcg@x'"),
        ({"metrics": []}, ValueError, "names no metric"),
        ({"metrics": 5}, ValueError, "'metrics' parameter of compare_rankers"),
        (
            {"baseline": "x"},
            ValueError,
            "'baseline' parameter of compare_rankers must be one of",
        ),
        ({"gain": "cubic"}, ValueError, "'gain' parameter of compare_rankers"),
        (
            {"no_relevant": 0.5},
            ValueError,
            "'no_relevant' parameter of compare_rankers",
        ),
        ({"relevance_threshold": 0}, ValueError, "'relevance_threshold' parameter"),
        (
            {"correction": "fdr"},
            ValueError,
            "'correction' parameter of compare_rankers",
        ),
        ({"alpha": 2}, ValueError, "'alpha' parameter of compare_rankers"),
        ({"alpha": 0.0}, ValueError, "'alpha' parameter of compare_rankers"),
        ({"n_jobs": 0}, ValueError, "'n_jobs' parameter of compare_rankers"),
        ({"n_jobs": 1.5}, ValueError, "'n_jobs' parameter of compare_rankers"),
        ({"verbose": "loud"}, ValueError, "'verbose' parameter of compare_rankers"),
        ({"callback": 3}, ValueError, "'callback' parameter of compare_rankers"),
    ],
)
def test_compare_rankers_bad_inputs(kwargs, error, fragment):
    args = {"estimators": {"r": Ridge()}, "X": X0, "y": Y0, "groups": G0, "cv": 2}
    args.update(kwargs)
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        compare_rankers(**args)


@pytest.mark.parametrize(
    "cv, error, fragment",
    [
        (1, ValueError, "The 'cv' parameter must be an int in the range [2, inf)"),
        ("five", ValueError, "The 'cv' parameter"),
        (3.5, ValueError, "The 'cv' parameter"),
        (object(), ValueError, "The 'cv' parameter"),
        (KFold(3), QuerySplitError, "splits queries across train and test"),
        (50, QuerySplitError, "Cannot make 50 splits of 20 queries"),
        ([], QuerySplitError, "produced no split"),
        (
            [(np.arange(6), np.arange(6, 12), np.arange(12, 18), np.arange(3))],
            QuerySplitError,
            "has 4 parts",
        ),
        ([(np.arange(6), np.arange(0))], QuerySplitError, "Split 0 has no test rows"),
        ([(np.arange(6), np.array([500]))], QuerySplitError, "out of range"),
        (
            [(np.ones(5, bool), np.ones(5, bool))],
            QuerySplitError,
            "boolean mask of 5 entries",
        ),
        (
            [(np.arange(6), np.arange(6, 12), np.arange(9, 18))],
            QuerySplitError,
            "across validation and test",
        ),
    ],
)
def test_check_query_splits_bad_inputs(cv, error, fragment):
    with pytest.raises(error) as info:
        check_query_splits(cv, X0, Y0, G0)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_group_kfold_splits_are_not_query_split_errors():
    assert len(check_query_splits(GroupKFold(2), X0, Y0, G0)) == 2


# ------------------------------------------------------------ weights
class WeightSpy(RegressorMixin, BaseEstimator):
    """Records the weights its fit gets, paired with the rows' first feature."""

    def fit(self, X, y, sample_weight=None):
        self.pairs_ = None if sample_weight is None else (X[:, 0], sample_weight)
        self.coef_ = np.linalg.lstsq(X, y, rcond=None)[0]
        return self

    def predict(self, X):
        return X @ self.coef_


def test_sample_weight_reaches_fit_aligned_with_its_rows():
    X, y, g = make_data()
    X = X.copy()
    # every row's weight is derivable from its query id, so alignment is checked
    w = (g % 3 + 1).astype(float)
    X[:, 0] = w
    seen = []

    class Recording(WeightSpy):
        def fit(self, X, y, sample_weight=None):
            super().fit(X, y, sample_weight)
            seen.append(self.pairs_)
            return self

    res = compare_rankers(
        {"spy": Recording(), "ridge": Ridge()}, X, y, g, cv=2, sample_weight=w
    )
    assert len(seen) == 2 and all(p is not None for p in seen)
    for first_feature, weights in seen:
        np.testing.assert_array_equal(first_feature, weights)
    assert res.n_splits == 2
    varying = np.arange(len(y), dtype=float)
    with pytest.raises(ValueError, match="constant within each query"):
        compare_rankers({"r": Ridge()}, X, y, g, cv=2, sample_weight=varying)
