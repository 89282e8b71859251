"""Tests of save_ranker / load_ranker: safe model files."""

import itertools
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skrank.estimators import (
    AttentionScorer,
    NeuralRanker,
    load_ranker,
    save_ranker,
)
from skrank.losses import ListNet


def make_data(n_queries=12, size=8, n_features=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_queries * size, n_features))
    y = np.clip(np.floor(X[:, 0] + 0.5 * rng.normal(size=X.shape[0])), 0, 2)
    return X, y, np.repeat(np.arange(n_queries), size)


FAST = dict(max_epochs=2, module__hidden_sizes=(8,), random_state=0)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"loss": "ordinal", "loss__n_grades": 3},  # several outputs + offset
        {"loss": ListNet, "lr": 0.01, "module__activation": "tanh"},
        {"optimizer": torch.optim.SGD, "optimizer__momentum": 0.9},
    ],
)
def test_round_trip_predicts_the_same(tmp_path, params):
    X, y, g = make_data()
    ranker = NeuralRanker(**{**FAST, **params}).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    again = load_ranker(tmp_path / "m.pt")  # no n_features given by hand
    np.testing.assert_array_equal(again.predict(X), ranker.predict(X))
    assert again.n_features_in_ == 5
    kept = {k: v for k, v in ranker.get_params().items() if k != "callbacks"}
    got = {k: v for k, v in again.get_params().items() if k in kept}
    expected = dict(params)
    if expected.get("loss") is ListNet:
        expected["loss"] = "listnet"  # a registered class is saved by name
    assert {k: got[k] for k in params} == expected
    assert len(again.history) == len(ranker.history)
    # the loaded ranker can be trained further
    again.set_params(warm_start=True).fit(X, y, g)


def test_feature_names_and_context_aware_scorer(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y, g = make_data()
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    ranker = NeuralRanker(
        AttentionScorer,
        max_epochs=1,
        random_state=0,
        module__d_model=8,
        module__n_heads=2,
        module__n_layers=1,
    ).fit(df, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    again = load_ranker(tmp_path / "m.pt")
    np.testing.assert_array_equal(again.feature_names_in_, df.columns)
    np.testing.assert_allclose(
        again.predict(df, groups=g), ranker.predict(df, groups=g), rtol=1e-6
    )


def test_file_is_loadable_with_weights_only(tmp_path):
    # the file holds tensors and plain values: torch's safe loader reads it
    X, y, g = make_data()
    save_ranker(NeuralRanker(**FAST).fit(X, y, g), tmp_path / "m.pt")
    content = torch.load(tmp_path / "m.pt", weights_only=True)
    assert content["format"] == "skrank.NeuralRanker"
    assert isinstance(content["config"], str)


class Evil:
    def __reduce__(self):
        return (print, ("this ran on load",))


def test_refuses_files_that_are_not_skrank_models(tmp_path, capsys):
    X, y, g = make_data()
    random_file = tmp_path / "random.pt"
    random_file.write_bytes(np.random.default_rng(0).bytes(1000))
    pickled = tmp_path / "evil.pkl"
    pickled.write_bytes(pickle.dumps(Evil()))
    other_torch = tmp_path / "other.pt"
    torch.save({"weight": torch.zeros(3)}, other_torch)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    for path in [random_file, pickled, other_torch, empty]:
        with pytest.raises(ValueError, match="is not a skrank model file"):
            load_ranker(path)
    assert "this ran on load" not in capsys.readouterr().out
    ranker_pickle = tmp_path / "ranker.pkl"
    ranker_pickle.write_bytes(pickle.dumps(NeuralRanker(**FAST).fit(X, y, g)))
    with pytest.raises(ValueError, match="is not a skrank model file"):
        load_ranker(ranker_pickle)
    with pytest.raises(FileNotFoundError):
        load_ranker(tmp_path / "missing.pt")


def test_foreign_scorer_or_loss_must_be_passed(tmp_path):
    X, y, g = make_data()

    def mean_mse(scores, labels, mask):
        return ((scores - labels) ** 2)[mask].mean()

    ranker = NeuralRanker(
        torch.nn.Linear(5, 1), loss=mean_mse, max_epochs=1, random_state=0
    ).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="not one of skrank's: pass it as"):
        load_ranker(tmp_path / "m.pt")
    with pytest.raises(ValueError, match="has no skrank registry name"):
        load_ranker(tmp_path / "m.pt", module=torch.nn.Linear(5, 1))
    again = load_ranker(tmp_path / "m.pt", module=torch.nn.Linear(5, 1), loss=mean_mse)
    np.testing.assert_array_equal(again.predict(X), ranker.predict(X))
    with pytest.raises(ValueError, match="do not fit the scorer Linear"):
        load_ranker(tmp_path / "m.pt", module=torch.nn.Linear(4, 1), loss=mean_mse)


def test_save_needs_a_fitted_ranker(tmp_path):
    with pytest.raises(Exception, match=r"not fitted"):
        save_ranker(NeuralRanker(), tmp_path / "m.pt")
    with pytest.raises(TypeError, match="save_ranker saves a NeuralRanker"):
        save_ranker(object(), tmp_path / "m.pt")
    assert not list(tmp_path.iterdir())  # nothing written


def test_newer_format_is_refused(tmp_path):
    X, y, g = make_data()
    save_ranker(NeuralRanker(**FAST).fit(X, y, g), tmp_path / "m.pt")
    content = torch.load(tmp_path / "m.pt", weights_only=True)
    content["version"] = 99
    torch.save(content, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="format version 99, newer than"):
        load_ranker(tmp_path / "m.pt")


def test_input_transform_round_trip_and_refusal(tmp_path):
    from sklearn.preprocessing import QuantileTransformer

    from skrank.estimators import NeuralRanker, load_ranker, save_ranker

    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(60, 3)) * [1, 100, 1e4]  # raw, heavy-tailed scales
    y = rng.integers(0, 3, 60).astype(float)
    g = np.repeat(np.arange(6), 10)
    X[X < 1] = 0  # a third of the values: also fitted as a sparse matrix
    specs = ("scaled_log1p", "log1p", "standard")
    for spec, rows in itertools.product(specs, (X, sp.csr_matrix(X))):
        ranker = NeuralRanker(input_transform=spec, max_epochs=2, random_state=0)
        ranker.fit(rows, y, g)
        save_ranker(ranker, tmp_path / f"{spec}.pt")
        again = load_ranker(tmp_path / f"{spec}.pt")
        np.testing.assert_allclose(again.predict(X), ranker.predict(X), rtol=1e-6)
        np.testing.assert_allclose(again.predict(rows), ranker.predict(X), rtol=1e-6)
    custom = NeuralRanker(
        input_transform=QuantileTransformer(n_quantiles=10), max_epochs=1
    ).fit(X, y, g)
    with pytest.raises(ValueError, match="cannot store the input transformation"):
        save_ranker(custom, tmp_path / "custom.pt")
    assert not (tmp_path / "custom.pt").exists()


def test_file_records_every_scorer_argument(tmp_path):
    # a file must not depend on the defaults of the skrank that loads it
    import json

    X, y, g = make_data()
    ranker = NeuralRanker(max_epochs=1, random_state=0).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    content = torch.load(tmp_path / "m.pt", weights_only=True)
    params = json.loads(content["config"])["params"]
    assert content["version"] == 3  # format 4 only for the units of scaled_log1p
    names = ("dropout", "hidden_sizes", "n_members", "activation", "norm", "n_bins")
    for name in names:
        assert f"module__{name}" in params
    assert params["batch_size"] == "auto"


def test_units_of_scaled_log1p_need_format_4(tmp_path):
    # a file whose transform has units is format 4, which older skrank
    # refuses ("newer than this skrank reads") instead of applying log1p
    # without the units; the units round-trip exactly
    X, y, g = make_data()
    ranker = NeuralRanker(
        input_transform="scaled_log1p", max_epochs=1, random_state=0
    ).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    content = torch.load(tmp_path / "m.pt", weights_only=True)
    assert content["version"] == 4
    assert content["input_transform"]["kind"] == "scaled_log1p"
    again = load_ranker(tmp_path / "m.pt")
    np.testing.assert_array_equal(
        again.input_transform_.unit_, ranker.input_transform_.unit_
    )
    assert again.input_transform_.unit == "median"


def test_damaged_file_is_refused_and_files_without_a_checksum_load(tmp_path):
    # torch.load does not check its archive's CRCs: one flipped byte in the
    # weights used to load and predict differently without a word
    X, y, g = make_data()
    ranker = NeuralRanker(**FAST).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    data = bytearray((tmp_path / "m.pt").read_bytes())
    weights = ranker.module_.state_dict()
    first = next(w for w in weights.values() if w.numel() >= 8)
    at = data.find(first.numpy().tobytes())
    assert at > 0  # torch stores tensors uncompressed
    data[at + 5] ^= 0x10
    (tmp_path / "bad.pt").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"'.*bad\.pt' is damaged: its weights or"):
        load_ranker(tmp_path / "bad.pt")
    content = torch.load(tmp_path / "m.pt", weights_only=True)
    del content["sha256"]  # as written before the checksum
    torch.save(content, tmp_path / "old.pt")
    np.testing.assert_array_equal(
        load_ranker(tmp_path / "old.pt").predict(X), ranker.predict(X)
    )


def test_version_1_file_loads_with_the_defaults_of_its_time(tmp_path):
    # version 1 left parameters at their defaults out; MLPScorer's dropout
    # default was 0.0 then (its layers' indices in the state_dict differ)
    import json

    X, y, g = make_data()
    ranker = NeuralRanker(
        max_epochs=1,
        random_state=0,
        module__dropout=0.0,
        module__n_bins=0,
        module__n_members=2,
    ).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    content = torch.load(tmp_path / "m.pt", weights_only=True)
    config = json.loads(content["config"])
    config["params"] = {
        k: v
        for k, v in config["params"].items()
        if k in ("max_epochs", "random_state", "module__n_members")
    }
    content["config"] = json.dumps(config)
    content["version"] = 1
    del content["sha256"]  # files of version 1 had no checksum
    torch.save(content, tmp_path / "v1.pt")
    loaded = load_ranker(tmp_path / "v1.pt")
    np.testing.assert_allclose(loaded.predict(X), ranker.predict(X), rtol=1e-6)


def test_version_2_file_loads_without_the_encoding(tmp_path):
    # version 2 recorded every scorer argument of its time: MLPScorer had no
    # n_bins then, and fed the features alone
    import json

    X, y, g = make_data()
    ranker = NeuralRanker(max_epochs=1, random_state=0, module__n_bins=0).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    content = torch.load(tmp_path / "m.pt", weights_only=True)
    config = json.loads(content["config"])
    del config["params"]["module__n_bins"]
    content["config"] = json.dumps(config)
    content["version"] = 2
    del content["sha256"]  # files of version 2 had no checksum
    torch.save(content, tmp_path / "v2.pt")
    loaded = load_ranker(tmp_path / "v2.pt")
    assert loaded.module_.encoding is None
    np.testing.assert_array_equal(loaded.predict(X), ranker.predict(X))


def test_loaded_encoding_is_kept_by_partial_fit(tmp_path):
    # the file's bin edges are the model's: continued training keeps them
    X, y, g = make_data()
    ranker = NeuralRanker(max_epochs=1, random_state=0).fit(X, y, g)
    save_ranker(ranker, tmp_path / "m.pt")
    loaded = load_ranker(tmp_path / "m.pt")
    edges = loaded.module_.encoding.lower.clone()
    torch.testing.assert_close(edges, ranker.module_.encoding.lower)
    loaded.partial_fit(X[:40] * 3.0, y[:40], g[:40])
    torch.testing.assert_close(loaded.module_.encoding.lower, edges)
