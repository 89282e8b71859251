import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from skrank.inspection import permutation_importance
from skrank.metrics import map_scorer, ndcg_score


@pytest.fixture
def signal_data():
    # Feature 0 carries all the signal, feature 1 is noise, feature 2 is
    # constant within each query (a query-level feature).
    rng = np.random.default_rng(0)
    n_queries, size = 40, 12
    qid = np.repeat(np.arange(n_queries), size)
    x0 = rng.normal(size=qid.shape[0])
    x1 = rng.normal(size=qid.shape[0])
    x2 = np.repeat(rng.normal(size=n_queries), size)
    X = np.column_stack([x0, x1, x2])
    y = np.digitize(x0, [0.3, 1.0]).astype(float)
    return X, y, qid


def test_signal_feature_dominates(signal_data):
    X, y, qid = signal_data
    ridge = Ridge().fit(X, y)
    result = permutation_importance(ridge, X, y, qid, n_repeats=4, random_state=0)
    assert result.importances.shape == (3, 4)
    assert result.baseline_score == pytest.approx(
        ndcg_score(y, ridge.predict(X), qid, k=10)
    )
    assert result.importances_mean[0] > 0.2
    assert abs(result.importances_mean[1]) < 0.02
    np.testing.assert_allclose(result.importances_mean, result.importances.mean(axis=1))


def test_within_queries_ignores_query_level_features(signal_data):
    X, y, qid = signal_data
    X = X.copy()
    X[:, 0] += 3 * X[:, 2]  # the model now uses the query-level feature too
    ridge = Ridge().fit(X, y)
    across = permutation_importance(ridge, X, y, qid, n_repeats=3, random_state=0)
    within = permutation_importance(
        ridge, X, y, qid, n_repeats=3, random_state=0, within_queries=True
    )
    # Shuffling a query-level feature inside its queries changes nothing.
    np.testing.assert_allclose(within.importances[2], 0.0, atol=1e-12)
    assert abs(across.importances_mean[2]) > 1e-3
    assert within.importances_mean[0] > 0.2


def test_within_query_shuffle_keeps_each_query_values(signal_data, monkeypatch):
    X, y, qid = signal_data
    seen = []

    def spy(estimator, X_perm, y_true, groups=None):
        seen.append(X_perm.copy())
        return 0.0

    permutation_importance(
        Ridge().fit(X, y),
        X,
        y,
        qid,
        scoring=spy,
        n_repeats=2,
        within_queries=True,
        random_state=1,
    )
    for X_perm in seen[1:]:
        for q in np.unique(qid)[:5]:
            rows = qid == q
            for j in range(X.shape[1]):
                np.testing.assert_array_equal(
                    np.sort(X_perm[rows, j]), np.sort(X[rows, j])
                )
    assert any(not np.array_equal(p, X) for p in seen[1:])


def test_input_untouched_and_deterministic_across_n_jobs(signal_data):
    X, y, qid = signal_data
    X_before = X.copy()
    ridge = Ridge().fit(X, y)
    a = permutation_importance(ridge, X, y, qid, n_repeats=2, random_state=3)
    b = permutation_importance(ridge, X, y, qid, n_repeats=2, random_state=3, n_jobs=2)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_allclose(a.importances, b.importances)


def test_several_metrics_sparse_and_dataframe(signal_data):
    pd = pytest.importorskip("pandas")
    X, y, qid = signal_data
    ridge = Ridge().fit(X, y)
    dense = permutation_importance(
        ridge, X, y, qid, scoring=["ndcg@5", "map"], n_repeats=2, random_state=0
    )
    assert set(dense) == {"ndcg@5", "map"}
    sparse = permutation_importance(
        ridge,
        sp.csr_matrix(X),
        y,
        qid,
        scoring={"ndcg@5": "ndcg@5", "map": map_scorer},
        n_repeats=2,
        random_state=0,
    )
    frame_X = pd.DataFrame(X, columns=["a", "b", "c"])
    frame = permutation_importance(
        Ridge().fit(frame_X, y),
        frame_X,
        y,
        qid,
        scoring=["ndcg@5", "map"],
        n_repeats=2,
        random_state=0,
    )
    for name in ("ndcg@5", "map"):
        np.testing.assert_allclose(sparse[name].importances, dense[name].importances)
        np.testing.assert_allclose(frame[name].importances, dense[name].importances)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_repeats": 0}, ValueError, "'n_repeats' parameter"),
        ({"within_queries": "yes"}, ValueError, "'within_queries' parameter"),
        ({"scoring": 3}, ValueError, "'scoring' parameter"),
        ({"scoring": []}, ValueError, "empty collection"),
        ({"scoring": {"a": 3}}, ValueError, "Got 3 for 'a'"),
        ({"scoring": "ndgc@3"}, ValueError, "ndgc"),
        ({"groups": None}, ValueError, "'groups' parameter"),
        ({"groups": np.zeros(5)}, ValueError, "groups has 5 entries"),
        ({"y": np.zeros(5)}, ValueError, "y has 5 entries"),
        ({"estimator": object()}, ValueError, "'estimator' parameter"),
        ({"X": np.zeros(480)}, ValueError, "2D"),
    ],
)
def test_bad_inputs(signal_data, kwargs, error, match):
    X, y, qid = signal_data
    params = {"estimator": Ridge().fit(X, y), "X": X, "y": y, "groups": qid}
    params.update(kwargs)
    with pytest.raises(error, match=match):
        permutation_importance(**params)
