"""NeuralRanker on a CUDA GPU: the same model as on the CPU, saved and loaded.

Skipped without a GPU (CI has none); run on a machine with one.
"""

import numpy as np
import pytest
import torch

from skrank.datasets import make_ranking
from skrank.estimators import (
    AttentionScorer,
    NeuralRanker,
    load_ranker,
    save_ranker,
)
from skrank.metrics import ndcg_score

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU"
)


@pytest.fixture(scope="module")
def data():
    X, y, groups = make_ranking(60, 8, list_length=(5, 20), random_state=0)
    return X.astype(np.float32), y, groups


@pytest.mark.parametrize("loss", ["listnet", "lambdarank", "ordinal"])
def test_cuda_fit_matches_cpu(data, loss):  # pragma: no cover - GPU only
    X, y, groups = data
    # no dropout: CPU and CUDA draw their dropout masks from different
    # generators, so with it the two fits differ by more than rounding
    params = dict(
        loss=loss,
        max_epochs=3,
        random_state=0,
        module__n_members=2,
        module__dropout=0.0,
    )
    cpu = NeuralRanker(**params).fit(X, y, groups)
    gpu = NeuralRanker(device="cuda", **params).fit(X, y, groups)
    assert next(gpu.module_.parameters()).device.type == "cuda"
    scores = gpu.predict(X)
    assert isinstance(scores, np.ndarray) and scores.shape == y.shape
    # same initial weights and batches: only floating-point order differs.
    # Up to one constant: a shift-invariant loss gives the output bias a zero
    # gradient plus rounding noise, which Adam scales to steps of size lr
    reference = cpu.predict(X)
    np.testing.assert_allclose(
        scores - scores.mean(), reference - reference.mean(), rtol=1e-3, atol=1e-3
    )
    assert ndcg_score(y, scores, groups, k=10) > 0.5


def test_cuda_context_aware_scorer(data):  # pragma: no cover - GPU only
    X, y, groups = data
    ranker = NeuralRanker(
        AttentionScorer,
        module__d_model=16,
        module__n_heads=2,
        module__n_layers=1,
        max_epochs=2,
        random_state=0,
        device="cuda",
    ).fit(X, y, groups)
    scores = ranker.predict(X, groups=groups)
    assert scores.shape == y.shape and np.isfinite(scores).all()


def test_cuda_model_saves_and_loads_on_cpu(data, tmp_path):  # pragma: no cover
    X, y, groups = data
    ranker = NeuralRanker(max_epochs=2, random_state=0, device="cuda")
    ranker.fit(X, y, groups)
    save_ranker(ranker, tmp_path / "model.pt")
    loaded = load_ranker(tmp_path / "model.pt")
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(
        loaded.predict(X), ranker.predict(X), rtol=1e-5, atol=1e-5
    )
