"""Tests of skrank.preprocessing: QueryNormalizer and SymmetricLog1p."""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skrank.datasets import make_ranking
from skrank.preprocessing import QueryNormalizer, SymmetricLog1p


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _naive_query_norm(X, groups, method):
    out = np.empty_like(X, dtype=float)
    for q in np.unique(groups):
        rows = groups == q
        block = X[rows]
        if method == "minmax":
            low, span = block.min(0), block.max(0) - block.min(0)
        else:
            low, span = block.mean(0), block.std(0)
        out[rows] = np.where(span > 0, (block - low) / np.where(span > 0, span, 1), 0)
    return out


@pytest.mark.parametrize("method", ["minmax", "standard"])
def test_query_normalizer_matches_a_per_query_loop(method):
    X, _, groups = make_ranking(20, 4, list_length=(1, 9), shuffle=True, random_state=0)
    X[:, 2] = 3.0  # constant in every query
    X_before = X.copy()
    out = QueryNormalizer(method=method).fit_transform(X, groups=groups)
    np.testing.assert_allclose(out, _naive_query_norm(X, groups, method), atol=1e-12)
    np.testing.assert_array_equal(X, X_before)  # input untouched
    assert np.all(out[:, 2] == 0)


def test_query_normalizer_hand_computed_and_string_ids():
    X = np.array([[2.0, 0.0], [4.0, 1.0], [0.0, 5.0], [6.0, 7.0]])
    groups = np.array(["b", "a", "b", "a"])
    out = QueryNormalizer("standard").fit_transform(X, groups=groups)
    np.testing.assert_allclose(out, [[1, -1], [-1, -1], [-1, 1], [1, 1]])


def test_query_normalizer_keeps_float32():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    out = QueryNormalizer().fit_transform(X, groups=[0, 0, 0, 1, 1, 1])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0], [0, 0.5, 1, 0, 0.5, 1])


@pytest.mark.parametrize("method", ["minmax", "standard"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_query_normalizer_is_scale_free_up_to_the_dtypes_limit(method, dtype):
    # max - min and the squares of the deviations used to overflow on finite
    # features: NaN (minmax) or all zeros (standard), with a RuntimeWarning
    # (an error under pytest's filterwarnings)
    X, _, groups = make_ranking(10, 3, list_length=(2, 6), random_state=0)
    X = X.astype(dtype)
    base = QueryNormalizer(method).fit_transform(X, groups=groups)
    top = np.finfo(dtype).max
    for factor in (2.0**-20, 2.0**40, top / 8 / np.abs(X).max()):
        out = QueryNormalizer(method).fit_transform(X * dtype(factor), groups=groups)
        np.testing.assert_allclose(
            out, base, rtol=1e-5 if dtype is np.float32 else 1e-12
        )
    wide = np.array([[-top / 2], [0.0], [top / 2], [1.0], [2.0], [3.0]], dtype=dtype)
    expected = {"minmax": [0, 0.5, 1] * 2, "standard": [-(1.5**0.5), 0, 1.5**0.5] * 2}
    out = QueryNormalizer(method).fit_transform(wide, groups=[0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(out.ravel(), expected[method], rtol=1e-6)


def test_query_normalizer_needs_groups():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"QueryNormalizer.fit needs groups=qid"):
        QueryNormalizer().fit(X)
    normalizer = QueryNormalizer().fit(X, groups=[0, 0, 1])
    with pytest.raises(ValueError, match=r"QueryNormalizer.transform needs groups"):
        normalizer.transform(X)


@pytest.mark.parametrize(
    "make_input, error, match",
    [
        (lambda: (np.ones((3, 2)), [0, 1]), ValueError, "groups has 2 entries"),
        (lambda: (np.array([[np.nan, 1.0]]), [0]), ValueError, "Input X contains NaN"),
        (lambda: (sp.csr_matrix(np.ones((2, 2))), [0, 0]), TypeError, "dense data"),
        (lambda: (np.ones(3), [0, 0, 0]), ValueError, "Expected 2D array"),
    ],
)
def test_query_normalizer_bad_inputs(make_input, error, match):
    X, groups = make_input()
    with pytest.raises(error, match=match):
        QueryNormalizer().fit(X, groups=groups)


def test_query_normalizer_bad_method_and_feature_count():
    with pytest.raises(ValueError, match="The 'method' parameter of QueryNormalizer"):
        QueryNormalizer(method="max").fit(np.ones((2, 2)), groups=[0, 0])
    normalizer = QueryNormalizer().fit(np.ones((2, 2)), groups=[0, 0])
    with pytest.raises(ValueError, match="X has 3 features, but QueryNormalizer"):
        normalizer.transform(np.ones((2, 3)), groups=[0, 0])


def test_query_normalizer_requests_groups_at_class_level():
    routing = QueryNormalizer().get_metadata_routing()
    assert routing.consumes("fit", ["groups"]) == {"groups"}
    assert routing.consumes("transform", ["groups"]) == {"groups"}


def test_query_normalizer_in_pipeline_under_grid_search(routing):
    from skrank.estimators import NeuralRanker

    X, y, groups = make_ranking(40, 5, list_length=(3, 8), random_state=0)
    X = X * 50.0 + 7.0
    pipe = make_pipeline(
        QueryNormalizer(),
        NeuralRanker(
            max_epochs=2, random_state=0, module__hidden_sizes=(4,), batch_size=8
        ),
    )
    search = GridSearchCV(
        pipe, {"querynormalizer__method": ["minmax", "standard"]}, cv=GroupKFold(2)
    )
    search.fit(X, y, groups=groups)
    assert set(search.cv_results_["param_querynormalizer__method"]) == {
        "minmax",
        "standard",
    }
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    scores = search.best_estimator_.predict(X, groups=groups)
    assert scores.shape == (X.shape[0],)


def test_symmetric_log1p_values_and_standardisation():
    X = np.array([[-3.0, 0.0], [0.0, 10.0], [1e6, 100.0]])
    raw = SymmetricLog1p(standardize=False).fit_transform(X)
    np.testing.assert_allclose(raw, np.sign(X) * np.log1p(np.abs(X)))
    t = SymmetricLog1p().fit(X)
    out = t.transform(X)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(0), 1)
    np.testing.assert_allclose(t.mean_, raw.mean(0))


def test_symmetric_log1p_constant_feature_and_float32():
    X = np.ones((4, 2), dtype=np.float32)
    X[:, 1] = [0, 1, 2, 3]
    out = SymmetricLog1p().fit_transform(X)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 0], 0)
    assert np.all(np.isfinite(out))


def test_symmetric_log1p_sparse_stays_sparse_and_is_scaled_only():
    X = sp.random(30, 4, density=0.3, random_state=0, format="csr") * 100
    X_before = X.copy()
    t = SymmetricLog1p().fit(X)
    out = t.transform(X)
    assert sp.issparse(out) and out.nnz == X.nnz
    dense = SymmetricLog1p().fit(X.toarray())
    np.testing.assert_allclose(t.scale_, dense.scale_)
    np.testing.assert_allclose(out.toarray(), np.log1p(X.toarray()) / t.scale_)
    # the statistics do not depend on the format: dense rows are centred
    np.testing.assert_allclose(t.mean_, dense.mean_)
    np.testing.assert_allclose(t.transform(X.toarray()), dense.transform(X.toarray()))
    assert (X != X_before).nnz == 0


def test_symmetric_log1p_median_unit():
    X = np.array([[-3.0, 0.0, 0.0], [0.0, 0.02, 0.0], [6.0, 0.05, 0.0], [9.0, 0.01, 0]])
    t = SymmetricLog1p(standardize=False, unit="median").fit(X)
    # the median of each feature's non-zero magnitudes; 1 for an all-zero one
    np.testing.assert_array_equal(t.unit_, [6.0, 0.02, 1.0])
    expected = np.sign(X) * np.log1p(np.abs(X) / t.unit_)
    np.testing.assert_allclose(t.transform(X), expected)
    assert SymmetricLog1p().fit(X).unit_ is None


@pytest.mark.parametrize("standardize", [True, False])
def test_symmetric_log1p_median_unit_is_free_of_the_features_units(standardize):
    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(50, 3)) * (rng.random((50, 3)) < 0.6)
    X[:, 2] *= -1
    units = np.array([1e-4, 1.0, 1e5])
    t = SymmetricLog1p(standardize=standardize, unit="median")
    np.testing.assert_allclose(
        t.fit_transform(X), clone(t).fit_transform(X * units), rtol=1e-10, atol=1e-12
    )
    # without a unit, the rescaled features are logged differently
    plain = SymmetricLog1p(standardize=standardize)
    assert not np.allclose(plain.fit_transform(X), plain.fit_transform(X * units))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_symmetric_log1p_median_unit_sparse_equals_dense(dtype):
    X = (sp.random(40, 5, density=0.3, random_state=1, format="csr") * 50).astype(dtype)
    X_before = X.copy()
    sparse = SymmetricLog1p(unit="median").fit(X)
    dense = SymmetricLog1p(unit="median").fit(X.toarray())
    np.testing.assert_array_equal(sparse.unit_, dense.unit_)
    np.testing.assert_allclose(sparse.mean_, dense.mean_, rtol=1e-12)
    np.testing.assert_allclose(sparse.scale_, dense.scale_, rtol=1e-12)
    out = sparse.transform(X)
    assert sp.issparse(out) and out.dtype == dtype
    np.testing.assert_allclose(
        out.toarray(), np.log1p(X.toarray() / dense.unit_) / dense.scale_, rtol=1e-6
    )
    centred = dense.transform(X.toarray())
    assert centred.dtype == dtype
    np.testing.assert_allclose(centred.mean(axis=0), 0, atol=1e-6)
    assert (X != X_before).nnz == 0


def test_symmetric_log1p_bad_inputs():
    with pytest.raises(ValueError, match="The 'standardize' parameter of Symmetric"):
        SymmetricLog1p(standardize="yes").fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match="The 'unit' parameter of SymmetricLog1p"):
        SymmetricLog1p(unit="mean").fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match="Input X contains infinity"):
        SymmetricLog1p().fit(np.array([[np.inf]]))
    t = SymmetricLog1p().fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match="X has 1 features, but SymmetricLog1p"):
        t.transform(np.ones((2, 1)))
    with pytest.raises(sklearn.exceptions.NotFittedError):
        SymmetricLog1p().transform(np.ones((2, 2)))


def test_transformers_clone_and_feature_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 5.0, 1.0]})
    for est, kw in [(SymmetricLog1p(), {}), (QueryNormalizer(), {"groups": [0, 0, 1]})]:
        fitted = clone(est).fit(df, **kw)
        assert list(fitted.get_feature_names_out()) == ["a", "b"]


@parametrize_with_checks(
    [SymmetricLog1p(), SymmetricLog1p(standardize=False), SymmetricLog1p(unit="median")]
)
def test_symmetric_log1p_passes_sklearn_checks(estimator, check):
    # QueryNormalizer is left out: every generic check calls fit(X, y) with
    # no groups, which it rejects on purpose (a silent one-query fallback
    # would hide a missing metadata-routing setup).
    check(estimator)
