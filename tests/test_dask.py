"""Scale-out on a real local Dask cluster (2 worker processes, loopback only)."""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrank.datasets import make_ranking
from skrank.metrics import map_scorer, ndcg_scorer
from skrank.utils import predict_partitions

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
joblib = pytest.importorskip("joblib")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture
def data():
    return make_ranking(n_queries=30, n_features=5, random_state=0)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _search(estimator, grid, X, y, qid, n_jobs):
    search = GridSearchCV(
        estimator,
        grid,
        cv=GroupKFold(2),
        scoring={"ndcg": ndcg_scorer, "map": map_scorer},
        refit="ndcg",
        n_jobs=n_jobs,
    )
    return search.fit(X, y, groups=qid)


@pytest.mark.parametrize("kind", ["neural", "pipeline"])
def test_grid_search_on_dask_equals_sequential(client, data, routing, kind):
    from skrank import NeuralRanker

    X, y, qid = data
    if kind == "neural":
        estimator = NeuralRanker(
            max_epochs=3, random_state=0, module__hidden_sizes=(8,)
        )
        grid = {"lr": [1e-3, 1e-2]}
    else:
        estimator = make_pipeline(StandardScaler(), Ridge())
        grid = {"ridge__alpha": [0.1, 10.0]}
    sequential = _search(estimator, grid, X, y, qid, n_jobs=None)
    with joblib.parallel_config(backend="dask"):
        on_dask = _search(estimator, grid, X, y, qid, n_jobs=-1)
    for key in ("split0_test_ndcg", "split1_test_ndcg", "mean_test_map"):
        np.testing.assert_allclose(
            on_dask.cv_results_[key], sequential.cv_results_[key]
        )
    assert on_dask.best_params_ == sequential.best_params_


def test_predict_partitions_array_and_frame(client, data):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from skrank import NeuralRanker
    from skrank.estimators import AttentionScorer

    X, y, qid = data
    ranker = NeuralRanker(
        AttentionScorer,
        max_epochs=2,
        random_state=0,
        module__d_model=8,
        module__n_heads=2,
        module__n_layers=1,
    ).fit(X, y, groups=qid)
    expected = ranker.predict(X, groups=qid)
    # Chunks at query boundaries (make_ranking writes queries contiguously).
    bounds = np.flatnonzero(np.r_[True, qid[1:] != qid[:-1]])
    cut = int(bounds[len(bounds) // 2])
    chunks = ((cut, X.shape[0] - cut),)
    scores = predict_partitions(
        ranker,
        da.from_array(X, chunks=(chunks[0], X.shape[1])),
        groups=da.from_array(qid, chunks=chunks),
    )
    np.testing.assert_allclose(scores.compute(), expected, rtol=1e-5, atol=1e-6)

    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["qid"] = qid
    ddf = dd.from_pandas(frame, npartitions=1).repartition(
        divisions=[0, cut, len(frame) - 1]
    )
    series = predict_partitions(ranker, ddf, groups="qid").compute()
    np.testing.assert_allclose(series.to_numpy(), expected, rtol=1e-5, atol=1e-6)

    with pytest.raises(ValueError, match="spans partitions 0 and 1"):
        predict_partitions(
            ranker,
            da.from_array(X, chunks=(cut + 1, X.shape[1])),
            groups=da.from_array(qid, chunks=cut + 1),
        )


def test_compare_rankers_on_dask_equals_sequential(client, data):
    from sklearn.dummy import DummyRegressor

    from skrank.model_selection import compare_rankers

    X, y, qid = data
    models = {"ridge": Ridge(), "const": DummyRegressor()}
    sequential = compare_rankers(models, X, y, qid, cv=GroupKFold(3))
    with joblib.parallel_config(backend="dask"):
        on_dask = compare_rankers(models, X, y, qid, cv=GroupKFold(3), n_jobs=2)
    for name in models:
        for metric in sequential.metrics:
            np.testing.assert_allclose(
                on_dask.scores[name][metric], sequential.scores[name][metric]
            )
