"""Quality benchmark (issue 10): NeuralRanker defaults against GBDT rankers.

One process, one thread (``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``,
``n_jobs=1`` / ``nthread=1`` everywhere).

MQ2008 (``--data``, else ``$SKRANK_MQ2008``, else ``../shared/data/MQ2008``),
``Fold1`` .. ``Fold5``, seeds 0, 1, 2. Every model is fitted on ``train.txt``
and scored on ``test.txt`` (NDCG@10, gain ``2**rel - 1``, tie-aware, queries
without a relevant document left out). ``--data`` may name any LETOR-format
folder with a validation file: fold folders ``Fold1`` .. ``FoldN`` or one
fold's files (LETOR 4.0's ``train/vali/test.txt`` or LETOR 3.0's
``trainingset/validationset/testset.txt``); the tables then name it.

- ``NeuralRanker()``: the defaults, ``random_state=seed``, fitted on the
  training file alone (no validation data: a fixed budget);
- the blend recipe: :func:`blend_recipe`, ``NeuralRanker()`` and a linear
  LambdaRank ensemble in a :class:`~skrank.ensemble.BlendedRanker` (weights
  1 and 0.5), also fitted on the training file alone;
- ``NeuralRanker() + vali``: the same estimator early-stopped on the fold's
  validation file (``fit(..., eval_set=vali)``), as the GBDTs below are;
- LightGBM, native API (``lgb.train``): lambdarank, 300 rounds, lr 0.05, 15
  leaves, early-stopped on vali NDCG@10 (30 rounds);
- XGBoost, native API (``xgb.train``): rank:ndcg, depth 4, eta 0.05, up to
  1000 rounds, early-stopped on vali NDCG@10 (50 rounds);
- ``HistGradientBoostingRegressor()`` (scikit-learn defaults) and
  ``Ridge(alpha=1)`` on the labels.

Significance: per test query (564 queries with a relevant document over the
5 folds), each model's NDCG@10 averaged over the seeds, paired with
LightGBM's and with Ridge's on the same query: two-sided paired t-test and
Wilcoxon signed-rank test (scipy), Holm-corrected over the models compared
with each baseline. (``compare_rankers`` fits scikit-learn estimators itself;
the GBDTs here use their native APIs with an explicit validation file, so
the paired tests are computed directly.)

``--mslr``: the MSLR-WEB30K-shaped synthetic task of the issue's stretch
target (:func:`make_mslr_shaped`), NeuralRanker() against LGBMRanker with
100 trees and Ridge, fit times in the same run.

``--losses``: every registered loss as ``NeuralRanker(loss=name)`` with the
other defaults, seed 0, 5 folds, against Ridge. ``--synthetic``: the test
parts of the synthetic sets of ``_experiments_quality.py`` (defaults, the
blend, the query-normalised recipe, LightGBM early-stopped on vali, Ridge),
3 seeds. ``--trees``: the same on the tree-shaped sets (round 17) instead.

Usage::

    python benchmarks/bench_quality.py [--seeds 0,1,2] [--losses] [--synthetic]
        [--trees] [--mslr]

Results: ``benchmarks/results/quality*.{md,json}``.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from scipy import stats

torch.set_num_threads(1)

import sklearn  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402

from skrank.datasets import load_letor_fold  # noqa: E402
from skrank.datasets._folds import _FOLD_NAME  # noqa: E402  (the loaders' rule)
from skrank.estimators import NeuralRanker  # noqa: E402
from skrank.losses import get_loss_names  # noqa: E402
from skrank.metrics import per_query_scores  # noqa: E402
from skrank.preprocessing import QueryNormalizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def _sizes(groups):
    """Sizes of the runs of equal ids (rows of a query are contiguous here)."""
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return np.diff(np.r_[starts, len(groups)])


def fit_lightgbm(train, vali, seed):
    import lightgbm as lgb

    params = {
        "objective": "lambdarank",
        "learning_rate": 0.05,
        "num_leaves": 15,
        "metric": "ndcg",
        "eval_at": [10],
        "num_threads": 1,
        "seed": seed,
        "deterministic": True,
        "verbose": -1,
    }
    dtrain = lgb.Dataset(train[0], train[1], group=_sizes(train[2]))
    dvali = lgb.Dataset(vali[0], vali[1], group=_sizes(vali[2]), reference=dtrain)
    booster = lgb.train(
        params,
        dtrain,
        num_boost_round=300,
        valid_sets=[dvali],
        callbacks=[lgb.early_stopping(30, verbose=False)],
    )
    return lambda X: booster.predict(X, num_iteration=booster.best_iteration)


def fit_xgboost(train, vali, seed):
    import xgboost as xgb

    params = {
        "objective": "rank:ndcg",
        "max_depth": 4,
        "eta": 0.05,
        "eval_metric": "ndcg@10",
        "nthread": 1,
        "seed": seed,
    }
    dtrain = xgb.DMatrix(train[0], train[1], qid=_codes(train[2]))
    dvali = xgb.DMatrix(vali[0], vali[1], qid=_codes(vali[2]))
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=1000,
        evals=[(dvali, "vali")],
        early_stopping_rounds=50,
        verbose_eval=False,
    )
    rounds = (0, booster.best_iteration + 1)
    return lambda X: booster.predict(xgb.DMatrix(X), iteration_range=rounds)


def _codes(groups):
    """Increasing query codes in row order (XGBoost wants sorted qid)."""
    return np.cumsum(np.r_[0, groups[1:] != groups[:-1]])


def fit_neural(train, vali, seed, use_vali=False, **params):
    ranker = NeuralRanker(random_state=seed, **params)
    kwargs = {"eval_set": vali} if use_vali else {}
    ranker.fit(*train, **kwargs)
    return lambda X: ranker.predict(X)


def blend_recipe(seed):
    """NeuralRanker() blended with a linear LambdaRank ensemble (the recipe).

    The linear part takes the features alone (``module__n_bins=0``): with the
    bins it would be an additive piecewise-linear model, which blended worse
    on the MQ2008 validation folds (round 10, ``B4_half*`` rows).
    """
    from skrank.ensemble import BlendedRanker

    linear = NeuralRanker(
        module__hidden_sizes=(),
        module__n_bins=0,
        loss="lambdarank",
        lr=1e-2,
        batch_size=8,
        max_epochs=15,
        random_state=seed,
    )
    return BlendedRanker(
        [("mlp", NeuralRanker(random_state=seed)), ("linear", linear)],
        weights=[1.0, 0.5],
    )


def fit_blend(train, vali, seed):
    model = blend_recipe(seed).fit(*train)
    return model.predict


def fit_query_normalised(train, vali, seed):
    return _QueryNormalised(seed).fit(*train).predict


class _QueryNormalised:
    """QueryNormalizer("standard") then NeuralRanker(): fit(X, y, g), predict(X, g)."""

    def __init__(self, seed):
        self.qn = QueryNormalizer("standard")
        self.ranker = NeuralRanker(random_state=seed)

    def fit(self, X, y, groups):
        self.ranker.fit(self.qn.fit_transform(X, groups=groups), y, groups)
        return self

    def predict(self, X, groups):
        return self.ranker.predict(self.qn.transform(X, groups=groups))


def fit_hgb(train, vali, seed):
    model = HistGradientBoostingRegressor(random_state=seed).fit(train[0], train[1])
    return model.predict


def fit_ridge(train, vali, seed):
    return Ridge(alpha=1.0).fit(train[0], train[1]).predict


MODELS = {
    "NeuralRanker()": (fit_neural, True),
    "Blend: NeuralRanker() + 0.5 linear LambdaRank": (fit_blend, True),
    "NeuralRanker() + vali": (
        lambda tr, va, s: fit_neural(tr, va, s, use_vali=True),
        True,
    ),
    "LightGBM lambdarank (vali-stopped)": (fit_lightgbm, True),
    "XGBoost rank:ndcg (vali-stopped)": (fit_xgboost, True),
    "HistGradientBoostingRegressor": (fit_hgb, True),
    "Ridge(alpha=1)": (fit_ridge, False),
}


def make_mslr_shaped(seed=0):
    """MSLR-WEB30K-shaped synthetic task (issue 10's stretch), split by query.

    136 features, labels 0-4, 2,500 queries of 20-80 documents (about
    100,000 training documents in 2,000 queries, 500 test queries),
    query-level feature offsets (``query_effect=1``), noise 1. The relevance
    is make_ranking's smooth utility (linear, pairwise products, sines) of 20
    informative features plus an axis-aligned part: steps of 5 further
    features at their medians (a tree's favourite).
    """
    from skrank.datasets import make_ranking

    X, y, g = make_ranking(
        2500,
        136,
        n_informative=20,
        list_length=(20, 80),
        n_grades=5,
        noise=1.0,
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    steps = (X[:, 20:25] > 0).astype(float) @ rng.normal(size=5)
    y = np.clip(y + (steps > np.quantile(steps, 0.7)), 0, 4)
    train = g < 2000
    test = ~train
    return (X[train].astype(np.float32), y[train], g[train]), (
        X[test].astype(np.float32),
        y[test],
        g[test],
    )


def run_mslr():
    import lightgbm as lgb

    train, test = make_mslr_shaped()
    lines = [
        "## MSLR-shaped synthetic task (stretch), seed 0",
        "",
        f"{train[0].shape[0]} training documents in 2000 queries, "
        f"{test[0].shape[0]} test documents in 500 queries, 136 features.",
        "",
        "| model | test NDCG@10 | fit time (s) |",
        "|---|---|---|",
    ]
    models = {
        "NeuralRanker()": lambda: NeuralRanker(random_state=0),
        "NeuralRanker(module__n_members=1)": lambda: NeuralRanker(
            random_state=0, module__n_members=1
        ),
        "Blend recipe": lambda: blend_recipe(0),
        "QueryNormalizer + NeuralRanker()": lambda: _QueryNormalised(0),
        "LGBMRanker(100 trees)": lambda: lgb.LGBMRanker(
            n_estimators=100, n_jobs=1, random_state=0, verbose=-1
        ),
        "Ridge(alpha=1)": lambda: Ridge(alpha=1.0),
    }
    for name, make in models.items():
        model = make()
        t0 = time.perf_counter()
        if name.startswith("LGBM"):
            model.fit(train[0], train[1], group=_sizes(train[2]))
        elif name.startswith("Ridge"):
            model.fit(train[0], train[1])
        else:
            model.fit(*train)
        fit_s = time.perf_counter() - t0
        scores = (
            model.predict(test[0], groups=test[2])
            if isinstance(model, _QueryNormalised)
            else model.predict(test[0])
        )
        score = float(np.nanmean(per_query_ndcg(test[1], scores, test[2])))
        print(f"  {name}: {score:.4f} in {fit_s:.1f} s", flush=True)
        lines.append(f"| {name} | {score:.4f} | {fit_s:.1f} |")
    return lines


def per_query_ndcg(y, score, groups):
    _, values = per_query_scores(y, score, groups, metrics=["ndcg@10"])
    return values["ndcg@10"]


def run_models(datasets, models, seeds):
    """``{model: {"pq": [n_queries] seed-mean, "folds": ..., "fit_s": ...}}``."""
    out = {}
    for name, (fit, seeded) in models.items():
        pq_by_seed, fold_means, fit_times = [], [], []
        for seed in seeds if seeded else seeds[:1]:
            pq_all, folds = [], []
            for train, vali, test in datasets:
                t0 = time.perf_counter()
                predict = fit(train, vali, seed)
                fit_times.append(time.perf_counter() - t0)
                try:
                    score = predict(test[0])
                except TypeError:
                    score = predict(test[0], test[2])
                pq = per_query_ndcg(test[1], score, test[2])
                pq_all.append(pq)
                folds.append(float(np.nanmean(pq)))
            pq_by_seed.append(np.concatenate(pq_all))
            fold_means.append(folds)
            print(f"  {name} seed {seed}: {np.mean(folds):.4f}", flush=True)
        out[name] = {
            "pq": np.mean(pq_by_seed, axis=0),
            "folds": np.mean(fold_means, axis=0).tolist(),
            "seed_means": [float(np.mean(f)) for f in fold_means],
            "fit_s": float(np.median(fit_times)),
        }
    return out


def holm(pvalues):
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def paired(results, baseline):
    base = results[baseline]["pq"]
    names = [n for n in results if n != baseline]
    rows = {}
    t_p, w_p = [], []
    for name in names:
        a = results[name]["pq"]
        ok = ~np.isnan(a) & ~np.isnan(base)
        diff = a[ok] - base[ok]
        t_p.append(stats.ttest_rel(a[ok], base[ok]).pvalue)
        w_p.append(stats.wilcoxon(diff).pvalue if np.any(diff) else 1.0)
        rows[name] = float(np.mean(diff))
    t_adj, w_adj = holm(t_p), holm(w_p)
    return {n: (rows[n], float(t_adj[i]), float(w_adj[i])) for i, n in enumerate(names)}


def fmt_p(p):
    return "<1e-4" if p < 1e-4 else f"{p:.3g}"


def table(results, baselines, fit_ref=None):
    tests = {b: paired(results, b) for b in baselines}
    head = "| model | NDCG@10 (mean of seeds) | per seed | per fold | fit s / fold"
    if fit_ref:
        head += f" | fit time / {fit_ref.split()[0]}"
    for b in baselines:
        head += f" | vs {b}: diff (p t / Wilcoxon)"
    lines = [head + " |", "|" + "---|" * (head.count("|") - 0)]
    lines[1] = "|" + "---|" * (lines[0].count("|") - 1)
    for name, r in results.items():
        cells = [
            name,
            f"**{np.mean(r['folds']):.4f}**",
            " ".join(f"{v:.4f}" for v in r["seed_means"]),
            " ".join(f"{v:.4f}" for v in r["folds"]),
            f"{r['fit_s']:.2f}",
        ]
        if fit_ref:
            cells.append(f"{r['fit_s'] / results[fit_ref]['fit_s']:.1f}x")
        for b in baselines:
            if name == b:
                cells.append("baseline")
                continue
            d, pt, pw = tests[b][name]
            star = " *" if pt < 0.05 and pw < 0.05 else ""
            cells.append(f"{d:+.4f} ({fmt_p(pt)} / {fmt_p(pw)}){star}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load_folds(folder):
    """(train, vali, test) of each fold folder ``FoldN``, or of ``folder``."""
    folds = sorted(
        (d for d in folder.iterdir() if d.is_dir() and _FOLD_NAME.fullmatch(d.name)),
        key=lambda d: int(_FOLD_NAME.fullmatch(d.name).group(1)),
    )
    data = []
    for path in folds or [folder]:
        # every file of a fold read as it is (features may differ by fold)
        fold = load_letor_fold(path, dense=True, dtype=np.float32)
        data.append((fold.train, fold.vali, fold.test))
    return data


def machine():
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, python "
        f"{platform.python_version()}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, load average {os.getloadavg()[0]:.1f} at start"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--losses", action="store_true")
    parser.add_argument(
        "--loss-names", default=None, help="with --losses: a comma list (default all)"
    )
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument(
        "--trees", action="store_true", help="the tree-shaped synthetic sets alone"
    )
    parser.add_argument("--main", action="store_true", help="the MQ2008 table")
    parser.add_argument("--mslr", action="store_true", help="the stretch task")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    args.synthetic = args.synthetic or args.trees
    if not (args.losses or args.synthetic or args.mslr):
        args.main = True
    folder = Path(
        args.data
        or os.environ.get("SKRANK_MQ2008", ROOT.parent / "shared" / "data" / "MQ2008")
    )
    if not folder.exists():
        sys.exit(f"{folder} not found: pass a LETOR folder (e.g. MQ2008) as --data.")
    mq = load_folds(folder)
    title = f"{folder.name}, {len(mq)} fold{'s' if len(mq) > 1 else ''}"
    RESULTS.mkdir(exist_ok=True)
    report = [f"Machine: {machine()}.", ""]
    t_start = time.perf_counter()
    if args.main:
        print(title, flush=True)
        results = run_models(mq, MODELS, seeds)
        report += [
            f"## {title} x seeds {seeds}",
            "",
            table(
                results,
                ["LightGBM lambdarank (vali-stopped)", "Ridge(alpha=1)"],
                fit_ref="LightGBM lambdarank (vali-stopped)",
            ),
            "",
        ]
        _dump("quality", results)
    if args.losses:
        print(f"every loss, {title}, seed 0", flush=True)
        models = {"Ridge(alpha=1)": (fit_ridge, False)}
        names = args.loss_names.split(",") if args.loss_names else get_loss_names()
        for name in names:
            models[f"NeuralRanker(loss={name!r})"] = (
                lambda tr, va, s, n=name: fit_neural(tr, va, s, loss=n),
                True,
            )
        results = run_models(mq, models, [0])
        report += [
            f"## Every loss with the other defaults, {title}, seed 0",
            "",
            table(results, ["Ridge(alpha=1)"]),
            "",
        ]
        _dump("quality_losses", results)
    if args.synthetic:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _experiments_quality import _TREE_SETS as TREE_SETS
        from _experiments_quality import load as load_synthetic

        models = {
            "NeuralRanker()": MODELS["NeuralRanker()"],
            "Blend recipe": (fit_blend, True),
            "QueryNormalizer + NeuralRanker()": (fit_query_normalised, True),
            "LightGBM lambdarank (vali-stopped)": (fit_lightgbm, True),
            "Ridge(alpha=1)": (fit_ridge, False),
        }
        names = ["syn_base", "syn_raw", "syn_short", "syn_few", "syn_counts"]
        # round 11: three shapes added after the round-10 defaults were set
        names += ["hold_ohsumed", "hold_small04", "hold_sparse"]
        # round 12: Yahoo-shaped, 600 features of which 15 informative
        names += ["hold_wide"]
        if args.trees:  # round 17: tree-shaped relevance, the trees alone
            names = list(TREE_SETS)
        for name in names:
            print(name, flush=True)
            results = run_models([load_synthetic(name)], models, seeds)
            report += [
                f"## {name} (test part), seeds {seeds}",
                "",
                table(results, ["LightGBM lambdarank (vali-stopped)"]),
                "",
            ]
            _dump(f"quality_{name}", results)
    if args.mslr:
        report += [*run_mslr(), ""]
    report.append(f"Total run time {time.perf_counter() - t_start:.0f} s.")
    text = "\n".join(report)
    print(text)
    suffix = ""
    for flag in ("losses", "synthetic", "trees", "mslr"):
        suffix = f"_{flag}" if getattr(args, flag) and not args.main else suffix
    (RESULTS / f"quality{suffix}.md").write_text(text + "\n")


def _dump(name, results):
    data = {
        k: {**{kk: vv for kk, vv in v.items() if kk != "pq"}, "pq": v["pq"].tolist()}
        for k, v in results.items()
    }
    # one line per model: the per-query scores are long
    lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items()]
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    (RESULTS / f"{name}.json").write_text(text)


if __name__ == "__main__":
    main()
