import numpy as np
import pytest

from skrank import NeuralRanker
from skrank.datasets import make_ranking
from skrank.estimators import AttentionScorer, export_onnx

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


@pytest.fixture(scope="module")
def data():
    X, y, qid = make_ranking(n_queries=12, n_features=4, random_state=0)
    return X, y, qid


def _run(path, feeds):
    session = ort.InferenceSession(str(path))
    return session.run(None, feeds)[0]


@pytest.mark.parametrize("loss", ["listnet", "ordinal"])
def test_row_wise_scores_match_predict(tmp_path, data, loss):
    X, y, qid = data
    ranker = NeuralRanker(
        loss=loss, max_epochs=2, random_state=0, module__hidden_sizes=(8,)
    ).fit(X, y, groups=qid)
    path = export_onnx(ranker, tmp_path / "r.onnx")
    scores = _run(path, {"X": X.astype(np.float32)})
    assert scores.shape == (X.shape[0],)
    np.testing.assert_allclose(scores, ranker.predict(X), atol=1e-5)
    # another number of documents: the axis is dynamic
    np.testing.assert_allclose(
        _run(path, {"X": X[:7].astype(np.float32)}), ranker.predict(X[:7]), atol=1e-5
    )


@pytest.mark.parametrize("spec", ["scaled_log1p", "log1p", "standard"])
def test_model_fitted_on_sparse_rows_exports_its_centring(tmp_path, data, spec):
    import scipy.sparse as sp

    X, y, qid = data
    X = np.where(X > 0, X, 0.0)
    ranker = NeuralRanker(
        input_transform=spec, max_epochs=2, random_state=0, module__hidden_sizes=(8,)
    ).fit(sp.csr_matrix(X), y, groups=qid)
    path = export_onnx(ranker, tmp_path / "r.onnx")
    scores = _run(path, {"X": X.astype(np.float32)})
    np.testing.assert_allclose(scores, ranker.predict(X), atol=1e-5)


def test_context_aware_scores_match_predict(tmp_path, data):
    X, y, qid = data
    ranker = NeuralRanker(
        AttentionScorer,
        max_epochs=2,
        random_state=0,
        module__d_model=8,
        module__n_heads=2,
        module__n_layers=1,
    ).fit(X, y, groups=qid)
    path = export_onnx(ranker, tmp_path / "a.onnx")
    expected = ranker.predict(X, groups=qid)
    # pad the queries into [n_queries, list_len, n_features] with a mask
    ids, sizes = np.unique(qid, return_counts=True)
    width = sizes.max()
    X_pad = np.zeros((ids.shape[0], width, X.shape[1]), np.float32)
    mask = np.zeros((ids.shape[0], width), bool)
    for i, q in enumerate(ids):
        rows = np.flatnonzero(qid == q)
        X_pad[i, : rows.shape[0]] = X[rows]
        mask[i, : rows.shape[0]] = True
    scores = _run(path, {"X": X_pad, "mask": mask})
    for i, q in enumerate(ids):
        rows = np.flatnonzero(qid == q)
        np.testing.assert_allclose(
            scores[i, : rows.shape[0]], expected[rows], atol=1e-5
        )


def test_unfitted_and_file_left_intact(tmp_path, data):
    from sklearn.exceptions import NotFittedError

    path = tmp_path / "r.onnx"
    path.write_bytes(b"old")
    with pytest.raises(NotFittedError):
        export_onnx(NeuralRanker(), path)
    assert path.read_bytes() == b"old"
