"""Tests of NeuralRanker: behaviour, scikit-learn integration, robustness."""

import pickle
import re

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import Callback, Checkpoint, LRScheduler

from skrank.estimators import AttentionScorer, MLPScorer, NeuralRanker, NoGroupsWarning
from skrank.estimators._data import QueryDataset, subsample_lists
from skrank.metrics import ndcg_score, ndcg_scorer
from skrank.utils import QueryIndex

# The mechanics tested here (early stopping, checkpoints, weights of
# ``module_.layers``) need an internal validation split and a single network,
# which the defaults of issue 10 no longer give: pinned explicitly.
FAST = dict(
    max_epochs=3,
    batch_size=8,
    module__hidden_sizes=(8,),
    module__n_members=1,
    validation_fraction=0.1,
    random_state=0,
)


def make_data(n_queries=20, size=12, n_features=5, seed=0, shuffle=True):
    """Graded labels from a noisy linear model; shuffled query ids."""
    rng = np.random.default_rng(seed)
    n = n_queries * size
    X = rng.normal(size=(n, n_features))
    w = rng.normal(size=n_features)
    u = X @ w + 0.3 * rng.normal(size=n)
    y = np.clip(np.floor(u - np.quantile(u, 0.5)), 0, 3)
    ids = rng.choice(np.arange(1000, 9000), n_queries, replace=False)
    groups = np.repeat(ids, size)
    if shuffle:
        perm = rng.permutation(n)
        X, y, groups = X[perm], y[perm], groups[perm]
    return X, y, groups


def ranker(**params):
    return NeuralRanker(**{"loss": "ranknet", **FAST, **params})


# ---------------------------------------------------------------------------
# Learning and predictions
# ---------------------------------------------------------------------------
def test_learns_above_random():
    X, y, g = make_data(n_queries=40, size=15)
    model = ranker(max_epochs=30, lr=1e-2, validation_fraction=None).fit(X, y, g)
    rng = np.random.default_rng(1)
    random_ndcg = ndcg_score(y, rng.random(y.shape[0]), g, k=10)
    assert model.score(X, y, g) > random_ndcg + 0.2


def test_predict_row_order_with_shuffled_noncontiguous_groups():
    X, y, g = make_data(shuffle=True)
    model = ranker().fit(X, y, g)
    full = model.predict(X)
    perm = np.random.default_rng(3).permutation(X.shape[0])
    np.testing.assert_allclose(model.predict(X[perm]), full[perm], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.predict(X, groups=g), full, rtol=1e-6)
    assert full.shape == (X.shape[0],)
    assert full.dtype == np.float64


def test_sparse_equals_dense():
    X, y, g = make_data()
    X[np.abs(X) < 0.7] = 0
    # no input transform: the default one centres dense input only (centring
    # would densify a sparse matrix), see test_input_transform.py
    dense = ranker(input_transform=None).fit(X, y, g)
    sparse = ranker(input_transform=None).fit(sp.csr_matrix(X), y, g)
    np.testing.assert_allclose(
        dense.predict(X), sparse.predict(sp.csr_matrix(X)), rtol=1e-5, atol=1e-6
    )


def test_pandas_input_and_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, g = make_data()
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = ranker().fit(df, pd.Series(y), pd.Series(g))
    np.testing.assert_array_equal(model.feature_names_in_, df.columns)
    expected = ranker().fit(X, y, g).predict(X)
    np.testing.assert_allclose(model.predict(df), expected, rtol=1e-5, atol=1e-6)


def test_float32_and_float64_agree():
    X, y, g = make_data()
    # no input transform: fitted in float32 it differs from float64 by
    # rounding, which training amplifies beyond the tolerance
    p64 = ranker(input_transform=None).fit(X, y, g).predict(X)
    X32 = X.astype(np.float32)
    p32 = ranker(input_transform=None).fit(X32, y, g).predict(X32)
    np.testing.assert_allclose(p64, p32, rtol=1e-5, atol=1e-6)


def test_same_random_state_identical_predictions():
    X, y, g = make_data()
    a = ranker(module__dropout=0.2).fit(X, y, g).predict(X)
    b = ranker(module__dropout=0.2).fit(X, y, g).predict(X)
    c = ranker(module__dropout=0.2, random_state=1).fit(X, y, g).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_context_aware_module_predict_needs_groups():
    X, y, g = make_data(n_queries=10)
    model = NeuralRanker(
        module=AttentionScorer,
        loss="ranknet",
        max_epochs=3,
        random_state=0,
        module__d_model=8,
        module__n_heads=2,
        module__n_layers=1,
    ).fit(X, y, g)
    scores = model.predict(X, groups=g)
    assert scores.shape == (X.shape[0],)
    # same result whatever the row order
    perm = np.random.default_rng(0).permutation(X.shape[0])
    np.testing.assert_allclose(
        model.predict(X[perm], groups=g[perm]), scores[perm], rtol=1e-4, atol=1e-5
    )
    with pytest.raises(ValueError, match="AttentionScorer is context-aware"):
        model.predict(X)


def test_user_torch_module_and_ordinal_loss():
    X, y, g = make_data()
    model = NeuralRanker(
        module=torch.nn.Linear(X.shape[1], 1), loss="mse", max_epochs=2
    ).fit(X, y, g)
    assert model.predict(X).shape == (X.shape[0],)
    ordinal = ranker(loss="ordinal", loss__n_grades=4).fit(X, y, g)
    assert ordinal.module_.layers[-1].out_features == 3
    assert ordinal.predict(X).shape == (X.shape[0],)


def test_loss_kinds():
    from skrank.losses import get_loss

    X, y, g = make_data(n_queries=8)

    def mean_mse(scores, labels, mask):
        return ((scores - labels) ** 2)[mask].mean()

    combined = get_loss("ranknet") + 0.5 * get_loss("mse")
    for loss in [mean_mse, combined, type(get_loss("mse")), get_loss("mse")]:
        ranker(loss=loss, max_epochs=1).fit(X, y, g)
    with pytest.raises(ValueError, match="not a valid loss name"):
        ranker(loss="nope").fit(X, y, g)


# ---------------------------------------------------------------------------
# scikit-learn integration
# ---------------------------------------------------------------------------
def test_pipeline_with_scaler():
    X, y, g = make_data()
    pipe = make_pipeline(StandardScaler(), ranker())
    pipe.fit(X * 100 + 5, y, neuralranker__groups=g)
    assert pipe.predict(X).shape == (X.shape[0],)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X, y, groups=g)
        # Pipeline.score under routing always forwards sample_weight (None),
        # which a ranker's score does not take: score through the scorer.
        assert np.isfinite(ndcg_scorer(pipe, X, y, groups=g))
    with pytest.warns(NoGroupsWarning):
        assert np.isfinite(pipe.score(X, y))  # no routing: one query


GRID = {
    "loss": ["ranknet", "mse"],
    "lr": [1e-3, 1e-2],
    "module__hidden_sizes": [(4,), (8,)],
}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_routing(n_jobs):
    # With routing on and no set_*_request call, one groups=g reaches
    # GroupKFold, NeuralRanker.fit (a NoGroupsWarning would be an error here)
    # and ndcg_scorer.
    X, y, g = make_data(n_queries=12, size=8)
    grid = GridSearchCV(
        ranker(max_epochs=2, validation_fraction=None),
        GRID,
        cv=GroupKFold(n_splits=2),
        scoring=ndcg_scorer,
        n_jobs=n_jobs,
    )
    with sklearn.config_context(enable_metadata_routing=True):
        grid.fit(X, y, groups=g)
    assert len(grid.cv_results_["params"]) == 8
    assert set(grid.best_params_) == set(GRID)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_estimator_.predict(X).shape == (X.shape[0],)


def test_cross_validate_routing():
    X, y, g = make_data(n_queries=12, size=8)
    with sklearn.config_context(enable_metadata_routing=True):
        res = cross_validate(
            ranker(max_epochs=2),
            X,
            y,
            params={"groups": g},
            cv=GroupKFold(n_splits=3),
            scoring={"ndcg": ndcg_scorer},
        )
    assert res["test_ndcg"].shape == (3,)


def test_clone_and_set_params():
    model = ranker(loss__sigma=2.0)
    twin = clone(model)
    assert twin.get_params()["loss__sigma"] == 2.0
    assert twin.get_params()["module__hidden_sizes"] == (8,)
    twin.set_params(lr=0.5, module__hidden_sizes=(3,))
    X, y, g = make_data(n_queries=6)
    twin.fit(X, y, g)
    assert twin.loss_.sigma == 2.0
    assert twin.module_.layers[0].out_features == 3
    twin.set_params(loss__sigma=1.0)  # re-initialises the loss of a fitted net
    assert twin.loss_.sigma == 1.0


def test_pickle_and_joblib_round_trip(tmp_path):
    X, y, g = make_data()
    model = ranker().fit(X, y, g)
    expected = model.predict(X)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), expected)
    # clone of a fitted ranker refits to the same model (same random_state)
    np.testing.assert_allclose(clone(model).fit(X, y, g).predict(X), expected)
    joblib.dump(model, tmp_path / "m.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "m.joblib").predict(X), expected
    )


# Each reason says why the check does not apply to a ranker.
EXPECTED_FAILED = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and "
        "virtual_params_ (and keeps **kwargs as attributes); NeuralRanker "
        "inherits that to stay a skorch net"
    ),
    "check_do_not_raise_errors_in_init_or_set_params": (
        "skorch's set_params(callbacks=...) initialises the callbacks at once, "
        "so a non-list value fails in set_params, not in fit"
    ),
    "check_set_params": (
        "same skorch behaviour: set_params(callbacks=<number>) raises because "
        "skorch builds the callbacks inside set_params"
    ),
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED


@pytest.mark.filterwarnings("ignore::skrank.estimators.NoGroupsWarning")
@parametrize_with_checks(
    [NeuralRanker(loss="mse", max_epochs=2, random_state=0, module__hidden_sizes=(4,))],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------
# Training behaviour
# ---------------------------------------------------------------------------
def test_fit_without_groups_warns_one_query():
    X, y, _ = make_data(n_queries=3)
    msg = "fit was called without groups: all 36 rows are treated as one query"
    with pytest.warns(NoGroupsWarning, match=msg):
        model = ranker().fit(X, y)
    assert "valid_ndcg" not in model.history[-1]


def test_early_stopping_restores_best_weights():
    X, y, g = make_data(n_queries=30)
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, net, **kwargs):
            epoch = net.history[-1]["epoch"]
            snapshots[epoch] = {
                k: v.clone() for k, v in net.module_.state_dict().items()
            }

    model = ranker(
        max_epochs=12, lr=0.05, patience=3, callbacks=[Snapshot()], batch_size=4
    ).fit(X, y, g)
    ndcgs = model.history[:, "valid_ndcg"]
    best = int(np.argmax(ndcgs)) + 1  # first epoch reaching the best value
    assert model.best_epoch_ == best
    for name, value in model.module_.state_dict().items():
        torch.testing.assert_close(value, snapshots[best][name])


def test_explicit_eval_set():
    X, y, g = make_data(n_queries=20)
    Xv, yv, gv = make_data(n_queries=5, seed=1)
    model = ranker(max_epochs=2).fit(X, y, g, eval_set=(Xv, yv, gv))
    assert "valid_ndcg" in model.history[-1]
    assert model.eval_dataset_ is None  # not kept (pickles stay small)
    # every training query is used for training: 20 queries, batches of 8
    assert model.history[-1]["train_batch_count"] == 3


def test_keyboard_interrupt_leaves_usable_model_with_best_weights():
    X, y, g = make_data(n_queries=20)

    class Interrupt(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 3:
                raise KeyboardInterrupt

    model = ranker(max_epochs=10, callbacks=[Interrupt()]).fit(X, y, g)
    assert len(model.history) == 3
    assert model.best_epoch_ <= 3
    assert np.all(np.isfinite(model.predict(X)))


def test_non_finite_loss_error():
    X, y, g = make_data()

    def bad_loss(scores, labels, mask):
        return scores.sum() * float("nan")

    msg = re.escape("The training loss became nan in epoch 1. The learning rate")
    with pytest.raises(FloatingPointError, match=msg):
        ranker(loss=bad_loss).fit(X, y, g)


def test_warm_start_and_partial_fit_continue_training():
    X, y, g = make_data()
    model = ranker(max_epochs=2, warm_start=True).fit(X, y, g)
    weights = model.module_.layers[0].weight.detach().clone()
    model.fit(X, y, g)
    assert len(model.history) == 4  # history kept, weights continued
    assert not torch.equal(weights, model.module_.layers[0].weight)

    pf = ranker(max_epochs=1)
    pf.partial_fit(X, y, g)
    pf.partial_fit(X, y, g)
    assert len(pf.history) == 2


def test_lr_scheduler_callback():
    X, y, g = make_data()
    sched = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    model = ranker(max_epochs=3, lr=0.1, callbacks=[sched]).fit(X, y, g)
    assert model.optimizer_.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)


def test_progress_bar_needs_tqdm():
    try:
        import tqdm  # noqa: F401
    except ImportError:
        X, y, g = make_data(n_queries=4)
        with pytest.raises(ImportError, match="progress_bar=True needs the tqdm"):
            ranker(progress_bar=True).fit(X, y, g)
    else:  # pragma: no cover - tqdm installed
        X, y, g = make_data(n_queries=4)
        ranker(progress_bar=True).fit(X, y, g)


def test_checkpoint_callback(tmp_path):
    # Checkpoint on the best validation NDCG saves the weights that early
    # stopping restores at the end of fit.
    X, y, g = make_data()
    checkpoint = Checkpoint(monitor="valid_ndcg_best", dirname=str(tmp_path))
    model = ranker(max_epochs=4, callbacks=[checkpoint]).fit(X, y, g)
    assert (tmp_path / "params.pt").exists()
    other = ranker(max_epochs=1, random_state=5).fit(X, y, g)
    assert not np.allclose(other.predict(X), model.predict(X))
    other.load_params(checkpoint=checkpoint)
    np.testing.assert_allclose(other.predict(X), model.predict(X), rtol=1e-6)


def test_verbose_prints_progress_line(capsys):
    X, y, g = make_data()
    ranker(max_epochs=2, verbose=1).fit(X, y, g)
    out = capsys.readouterr().out
    for column in ["epoch", "train_loss", "valid_ndcg", "dur"]:
        assert column in out


def test_max_list_length_keeps_relevant_documents():
    rng = np.random.default_rng(0)
    sizes = np.array([3, 10, 7])
    rows = np.arange(sizes.sum())
    labels = np.zeros(rows.shape[0])
    labels[[4, 9, 15]] = [1, 2, 1]
    kept, new_sizes = subsample_lists(rows, sizes, labels, 4, rng)
    np.testing.assert_array_equal(new_sizes, [3, 4, 4])
    assert {4, 9, 15} <= set(kept.tolist())
    np.testing.assert_array_equal(kept, np.sort(kept))  # order kept
    # every kept row stays in its own list
    code = np.repeat(np.arange(3), sizes)
    np.testing.assert_array_equal(np.bincount(code[kept]), new_sizes)

    X, y, g = make_data()
    model = ranker(max_list_length=5).fit(X, y, g)
    assert np.isfinite(model.predict(X)).all()


def test_bucketing_batches_similar_lengths():
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 50, 64)
    g = np.repeat(np.arange(64), sizes)
    X = rng.normal(size=(g.shape[0], 3))
    ds = QueryDataset(X, np.zeros(g.shape[0]), QueryIndex(g))
    from skrank.estimators._data import QueryBatchIterator

    def padding(bucketing):
        it = QueryBatchIterator(ds, 8, shuffle=True, bucketing=bucketing, rng=rng)
        return sum(m.numel() - int(m.sum()) for (_, m), _ in it)

    assert padding(True) < 0.3 * padding(False)
    # a batch covers every row of every query once
    it = QueryBatchIterator(ds, 8, shuffle=True, rng=rng)
    assert sum(int(b.mask.sum()) for b, _ in it) == X.shape[0]


# ---------------------------------------------------------------------------
# Bad input, pinned wording
# ---------------------------------------------------------------------------
def test_bad_inputs():
    X, y, g = make_data(n_queries=4)
    with pytest.raises(ValueError, match=r"groups has 47 entries but X has 48 rows\."):
        ranker().fit(X, y, g[:-1])
    with pytest.raises(ValueError, match=r"y has 47 entries but X has 48 rows\."):
        ranker().fit(X, y[:-1], g)
    bad = y.copy()
    bad[0] = -1
    with pytest.raises(ValueError, match="y must hold graded relevance labels >= 0"):
        ranker().fit(X, bad, g)
    bad[0] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        ranker().fit(X, bad, g)
    Xn = X.copy()
    Xn[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        ranker().fit(Xn, y, g)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The 'lr' parameter of NeuralRanker must be a float in the range "
            "(0.0, inf). Got 0 instead."
        ),
    ):
        ranker(lr=0).fit(X, y, g)
    with pytest.raises(ValueError, match="The 'validation_fraction' parameter"):
        ranker(validation_fraction=1.5).fit(X, y, g)
    model = ranker().fit(X, y, g)
    with pytest.raises(ValueError, match="X has 4 features, but NeuralRanker is"):
        model.predict(X[:, :4])
    with pytest.raises(ValueError, match="eval_set must be a tuple"):
        ranker().fit(X, y, g, eval_set=X)


def test_modules_validate_parameters():
    with pytest.raises(ValueError, match="The 'norm' parameter must be"):
        MLPScorer(3, norm="group")
    with pytest.raises(ValueError, match="The 'activation' parameter must be"):
        MLPScorer(3, activation="swish2")
    for norm in ["batch", "layer"]:
        out = MLPScorer(3, hidden_sizes=(4,), norm=norm, n_members=1)(torch.zeros(5, 3))
        assert out.shape == (5, 1)


def test_pipeline_score_under_routing():
    import sklearn
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skrank import NeuralRanker
    from skrank.datasets import make_ranking

    X, y, qid = make_ranking(n_queries=20, n_features=5, random_state=0)
    pipe = make_pipeline(StandardScaler(), NeuralRanker(max_epochs=2, random_state=0))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X, y, groups=qid)
        score = pipe.score(X, y, groups=qid)
    assert 0.0 <= score <= 1.0
    with pytest.raises(ValueError, match="does not support sample_weight"):
        pipe[-1].score(X, y, qid, sample_weight=np.ones(len(y)))
