"""The ``skrank`` command line: ``skrank compare`` and friends.

Exit codes: 0 success, 1 a failure while running (e.g. a model that cannot
be trained), 2 a usage error (bad option, bad path, a file without ``qid:``,
an unknown loss name).
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from ._version import __version__

FAMILIES = {
    "mse": "pointwise",
    "mae": "pointwise",
    "huber": "pointwise",
    "sigmoid_bce": "pointwise",
    "ordinal": "pointwise",
    "ranknet": "pairwise",
    "pairwise_hinge": "pairwise",
    "pairwise_soft_zero_one": "pairwise",
    "lambdarank": "pairwise",
    "lambdaloss": "pairwise",
    "listnet": "listwise",
    "listmle": "listwise",
    "approxndcg": "listwise",
    "neuralndcg": "listwise",
}
BASELINES = {
    "ridge": "regression",
    "hgb": "regression",
    "lgbm": "GBDT ranker",
    "xgb": "GBDT ranker",
}
DEFAULT_LOSSES = "mse,ranknet,lambdarank,listnet,listmle,approxndcg"
QUICK_LOSSES = "mse,lambdarank,listnet"
DEFAULT_DATA = {"n_queries": 400, "n_features": 20, "no_relevant_fraction": 0.1}
QUICK_DATA = {"n_queries": 60, "n_features": 10, "no_relevant_fraction": 0.1}


class UsageError(Exception):
    """A problem with what the user asked for (exit code 2)."""


def build_parser():
    """The argument parser of the ``skrank`` command."""
    parser = argparse.ArgumentParser(
        prog="skrank",
        description="scikit-learn compatible learning-to-rank with neural networks.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cmp = sub.add_parser(
        "compare",
        help="compare ranking losses against regression baselines",
        description=(
            "Train NeuralRankers with several ranking losses and regression "
            "baselines on the same query splits, and report per-query means, "
            "confidence intervals and paired significance tests against a "
            "baseline. Without --data it runs on a synthetic make_ranking data set."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    cmp.add_argument(
        "--data",
        metavar="PATH",
        help="an SVMlight/LETOR file (with qid:), a LETOR fold folder "
        "(train.txt, vali.txt, test.txt) or a folder of folds Fold1..FoldN "
        "(default: a synthetic make_ranking data set)",
    )
    cmp.add_argument(
        "--losses",
        default=None,
        help="comma-separated loss names, or 'all' (default: "
        f"{DEFAULT_LOSSES}; with --quick {QUICK_LOSSES})",
    )
    cmp.add_argument(
        "--baselines",
        default="ridge,hgb",
        help="comma-separated non-neural models among ridge, hgb "
        "(HistGradientBoostingRegressor), lgbm (LightGBM LGBMRanker), xgb "
        "(XGBoost XGBRanker), or 'none'",
    )
    cmp.add_argument(
        "--baseline",
        default=None,
        help="the model every other is tested against (default: the first "
        "baseline, else the first loss)",
    )
    cmp.add_argument(
        "--metrics",
        default="map,ndcg",
        help="comma-separated metrics: ndcg, map, mrr, err, precision, recall; "
        "'@K' sets a cut-off, names without one that need one get --k",
    )
    cmp.add_argument("--k", type=int, default=10, help="the default cut-off K")
    cmp.add_argument(
        "--cv",
        type=int,
        default=None,
        help="number of GroupKFold folds (default 5, 3 with --quick; a folder "
        "of LETOR folds uses its own folds)",
    )
    cmp.add_argument(
        "--quick",
        action="store_true",
        help="a fast smoke run: smaller default data, 3 folds, fewer epochs and losses",
    )
    cmp.add_argument("--seed", type=int, default=0, help="random seed")
    cmp.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="most epochs (default 30 on the embedded data, 100 with --data; "
        "5 with --quick); training stops early on validation NDCG@10",
    )
    cmp.add_argument(
        "--patience",
        type=int,
        default=10,
        help="epochs without validation improvement before stopping",
    )
    cmp.add_argument(
        "--hidden-sizes",
        default=None,
        help="the MLP scorer's hidden layer widths, e.g. 128,64; 'linear' for a "
        "linear scorer (default: the MLPScorer default)",
    )
    cmp.add_argument("--lr", type=float, default=3e-3, help="learning rate")
    cmp.add_argument(
        "--batch-size", type=int, default=32, help="queries per training batch"
    )
    cmp.add_argument("--n-jobs", type=int, default=None, help="parallel fits")
    cmp.add_argument("--out", metavar="FILE", help="write a Markdown report")
    cmp.add_argument("--plot", metavar="FILE", help="save a figure (matplotlib)")
    cmp.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write the full results as JSON to FILE, or to stdout without "
        "FILE (the table then goes to stderr)",
    )
    cmp.add_argument("--no-progress", action="store_true", help="no progress display")
    return parser


# ---------------------------------------------------------------- options
def _split_list(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_losses(text, quick):
    """Validate the loss names of ``--losses``."""
    from .losses import get_loss_names

    known = get_loss_names()
    if text is None:
        names = _split_list(QUICK_LOSSES if quick else DEFAULT_LOSSES)
        names = [n for n in names if n in known]
    elif text.strip().lower() == "all":
        names = list(known)
    elif text.strip().lower() == "none":
        names = []
    else:
        names = _split_list(text)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UsageError(
                f"unknown loss name(s): {', '.join(unknown)}. "
                f"Known losses: {', '.join(known)}."
            )
    return names


def parse_baselines(text):
    """Validate the names of ``--baselines``."""
    if text.strip().lower() == "none":
        return []
    names = _split_list(text)
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise UsageError(
            f"unknown baseline(s): {', '.join(unknown)}. "
            f"Known baselines: {', '.join(BASELINES)}."
        )
    for name, package in (("lgbm", "lightgbm"), ("xgb", "xgboost")):
        if name in names:
            try:
                __import__(package)
            except ImportError:
                raise UsageError(
                    f"baseline {name!r} needs {package}: pip install {package}"
                ) from None
    return names


_NEEDS_K = {"ndcg", "err", "precision", "recall"}
_METRIC_RE = re.compile(r"^(ndcg|map|mrr|err|precision|recall)(@[1-9][0-9]*)?$")


def parse_metrics(text, k):
    """Turn ``--metrics`` and ``--k`` into metric names for per_query_scores."""
    if k < 1:
        raise UsageError(f"--k must be an int >= 1. Got {k}.")
    out = []
    for name in _split_list(text.lower()):
        m = _METRIC_RE.match(name)
        if not m:
            raise UsageError(
                f"unknown metric {name!r}. Use ndcg, map, mrr, err, precision or "
                "recall, optionally with a cut-off as in ndcg@10."
            )
        if m.group(2) is None and m.group(1) in _NEEDS_K:
            name = f"{name}@{k}"
        if name not in out:
            out.append(name)
    if not out:
        raise UsageError("--metrics names no metric.")
    return out


# ---------------------------------------------------------------- data
def load_data(path, seed, quick):
    """Return X, y, groups, cv (or None), and a one-line description."""
    from .datasets import make_ranking

    if path is None:
        params = dict(QUICK_DATA if quick else DEFAULT_DATA, random_state=seed)
        X, y, groups = make_ranking(**params)
        call = ", ".join(f"{k}={v}" for k, v in params.items())
        desc = (
            f"synthetic data from skrank.datasets.make_ranking({call}): "
            f"{_shape_text(X, groups)} (pass --data PATH for your own data)"
        )
        return X, y, groups, None, desc
    p = Path(path)
    if not p.exists():
        raise UsageError(f"no such file or folder: '{path}'")
    if p.is_file():
        from .datasets import load_svmlight_ranking

        X, y, groups = _load(load_svmlight_ranking, p, dense=True)
        return X, y, groups, None, f"{path}: {_shape_text(X, groups)}"
    folds = sorted(
        (d for d in p.iterdir() if d.is_dir() and re.fullmatch(r"Fold\d+", d.name)),
        key=lambda d: int(d.name[4:]),
    )
    if folds:
        return _load_fold_folders(p, folds)
    if any((p / f"train{ext}").exists() for ext in ("", ".txt")) or any(
        p.glob("train.txt*")
    ):
        from .datasets import load_letor_fold

        fold = _load(load_letor_fold, p, dense=True)
        X, y, groups, split = _stack([fold.train, fold.vali, fold.test])
        desc = (
            f"{path} (one LETOR fold: train on train.txt, early stopping on "
            f"vali.txt, test on test.txt): {_shape_text(X, groups)}"
        )
        return X, y, groups, [split], desc
    raise UsageError(
        f"'{path}' is a folder without train.txt or Fold1..FoldN sub-folders; "
        "pass an SVMlight/LETOR file, a LETOR fold folder or a folder of folds."
    )


def _load(loader, path, **kwargs):
    try:
        return loader(os.fspath(path), **kwargs)
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None


def _shape_text(X, groups):
    n_queries = np.unique(groups).shape[0]
    return f"{n_queries} queries, {X.shape[0]} rows, {X.shape[1]} features"


def _stack(parts):
    """Concatenate (X, y, groups) parts; return the split (train, val, test)."""
    X = np.vstack([part[0] for part in parts])
    y = np.concatenate([part[1] for part in parts])
    groups = np.concatenate([part[2] for part in parts])
    ends = np.cumsum([part[0].shape[0] for part in parts])
    starts = np.r_[0, ends[:-1]]
    split = tuple(np.arange(s, e) for s, e in zip(starts, ends, strict=True))
    if len(split) == 2:
        split = (split[0], np.array([], dtype=np.intp), split[1])
    return X, y, groups, split


_QID_RE = re.compile(rb"qid:(\S+)")


def _qids_of(path):
    """The query ids of a LETOR file, without parsing its features."""
    with open(path, "rb") as f:
        ids = [m.group(1).decode() for m in map(_QID_RE.search, f) if m]
    try:
        return np.unique(np.array(ids, dtype=np.int64))
    except ValueError:
        return np.unique(ids)


def _load_fold_folders(root, folds):
    """Data of Fold1 (all queries), splits from each fold's vali/test query ids."""
    from .datasets import load_letor_fold

    first = _load(load_letor_fold, folds[0], dense=True)
    X, y, groups, _ = _stack([first.train, first.vali, first.test])
    splits = []
    for fold in folds:
        parts = {}
        for part in ("vali", "test"):
            files = sorted(fold.glob(f"{part}.txt*"))
            if not files:
                raise UsageError(f"'{fold}' has no {part}.txt")
            qids = _qids_of(files[0])
            if qids.dtype.kind != groups.dtype.kind:
                qids, keys = qids.astype(str), groups.astype(str)
            else:
                keys = groups
            parts[part] = np.isin(keys, qids)
        test = np.flatnonzero(parts["test"])
        val = np.flatnonzero(parts["vali"] & ~parts["test"])
        train = np.flatnonzero(~parts["vali"] & ~parts["test"])
        if test.size == 0:
            raise UsageError(f"the test queries of '{fold}' are not in {folds[0].name}")
        splits.append((train, val, test))
    desc = (
        f"{root} ({len(folds)} LETOR folds: train on train.txt, early stopping on "
        f"vali.txt, test on test.txt of each): {_shape_text(X, groups)}"
    )
    return X, y, groups, splits, desc


# ---------------------------------------------------------------- models
def parse_hidden_sizes(text):
    """``--hidden-sizes``: None (module default), () for linear, or widths."""
    if text is None:
        return None
    if text.strip().lower() in ("linear", "none", "0", ""):
        return ()
    try:
        sizes = tuple(int(t) for t in _split_list(text))
    except ValueError:
        sizes = (0,)
    if any(n < 1 for n in sizes):
        raise UsageError(
            f"--hidden-sizes must be widths >= 1 such as 128,64, or 'linear'. "
            f"Got {text!r}."
        )
    return sizes


def make_models(
    losses,
    baselines,
    *,
    seed,
    max_epochs,
    lr,
    batch_size,
    patience=10,
    hidden_sizes=None,
):
    """The estimators to compare, keyed by display name."""
    models = {}
    for name in baselines:
        models[f"{name} ({BASELINES[name]})"] = _baseline(name, seed)
    if losses:
        from .estimators import NeuralRanker

        for loss in losses:
            family = FAMILIES.get(loss, "custom")
            extra = (
                {} if hidden_sizes is None else {"module__hidden_sizes": hidden_sizes}
            )
            models[f"{loss} ({family})"] = NeuralRanker(
                loss=loss,
                max_epochs=max_epochs,
                lr=lr,
                batch_size=batch_size,
                patience=patience,
                random_state=seed,
                **extra,
            )
    return models


def _baseline(name, seed):
    if name == "ridge":
        from sklearn.linear_model import Ridge

        return Ridge(alpha=1.0)
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(random_state=seed)
    from .model_selection import GroupSizeRanker

    if name == "lgbm":
        from lightgbm import LGBMRanker

        return GroupSizeRanker(LGBMRanker(random_state=seed, verbose=-1))
    from xgboost import XGBRanker

    return GroupSizeRanker(XGBRanker(objective="rank:ndcg", random_state=seed))


def _resolve_baseline(requested, names):
    if requested is None:
        return names[0]
    for name in names:
        if name == requested or name.split(" (")[0] == requested:
            return name
    short = [n.split(" (")[0] for n in names]
    raise UsageError(
        f"--baseline {requested!r} is not one of the models: {', '.join(short)}."
    )


# ---------------------------------------------------------------- output
class _Progress:
    """A one-line progress display on stderr (a line per fit when not a tty)."""

    def __init__(self, enabled, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.start = time.perf_counter()

    def __call__(self, info):
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        text = (
            f"[{info['done']:>{len(str(info['total']))}}/{info['total']}] "
            f"{info['model']}, split {info['split'] + 1}: fit {info['fit_time']:.1f}s"
            f" (elapsed {elapsed:.0f}s)"
        )
        if self.tty:
            end = "\n" if info["done"] == info["total"] else ""
            self.stream.write("\r\033[K" + text + end)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def family_table(result, metrics, digits=3):
    """The headline table: loss family | metrics | vs. baseline (p-value)."""
    main = "ndcg@10" if "ndcg@10" in metrics else metrics[0]
    tests = result.significance(main)
    summaries = {m: result.summary(m) for m in metrics}
    header = ["model (loss family)", *[m.upper() for m in metrics]]
    header.append(f"vs. {result.baseline}: Δ{main.upper()} (p t-test / Wilcoxon)")
    rows = []
    for name in result.model_names:
        row = [name]
        for m in metrics:
            s = summaries[m][name]
            row.append(f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}")
        if name == result.baseline:
            row.append("baseline")
        else:
            t = tests[name]
            star = " *" if t["significant"] else ""
            row.append(
                f"{t['diff']:+.{digits}f} ({_p(t['t_pvalue_adj'])} / "
                f"{_p(t['wilcoxon_pvalue_adj'])}){star}"
            )
        rows.append(row)
    return header, rows, main


def _p(p):
    if p != p:
        return "n/a"
    return "p<1e-4" if p < 1e-4 else f"p={p:.3g}"


def render_text(header, rows):
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = [
        (lambda c, w: c.ljust(w)) if i == 0 else (lambda c, w: c.rjust(w))
        for i in range(len(header))
    ]
    lines = [
        "  ".join(f(c, w) for f, c, w in zip(fmt, r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def conclusions(result, main):
    """Sentences naming the significant differences to the baseline."""
    tests = result.significance(main)
    corr = {"holm": "Holm", "bonferroni": "Bonferroni", "none": "no"}[result.correction]
    better = [n for n, t in tests.items() if t["significant"] and t["diff"] > 0]
    worse = [n for n, t in tests.items() if t["significant"] and t["diff"] < 0]
    lines = []
    if better:
        lines.append(
            f"Significantly better than {result.baseline} on {main}: "
            + ", ".join(f"{n} ({tests[n]['diff']:+.3f})" for n in better)
            + "."
        )
    if worse:
        lines.append(
            f"Significantly worse than {result.baseline} on {main}: "
            + ", ".join(f"{n} ({tests[n]['diff']:+.3f})" for n in worse)
            + "."
        )
    if not better and not worse:
        lines.append(
            f"No model differs significantly from {result.baseline} on {main}."
        )
    n_paired = max((t["n"] for t in tests.values()), default=0)
    lines.append(
        f"Significant (*) means both the paired t-test and the Wilcoxon "
        f"signed-rank test over the {n_paired} held-out queries that have a "
        f"relevant document (of {result.query_ids.shape[0]}) "
        f"give p < {result.alpha:g} after {corr} correction for "
        f"{len(tests)} comparisons. Scores: mean ± std over {result.n_splits} "
        "split(s)."
    )
    return lines


# ---------------------------------------------------------------- commands
def run_compare(args, out=None, err=None):
    """Run ``skrank compare`` with parsed ``args``; return the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    quick = args.quick
    losses = parse_losses(args.losses, quick)
    baselines = parse_baselines(args.baselines)
    metrics = parse_metrics(args.metrics, args.k)
    if not losses and not baselines:
        raise UsageError("nothing to compare: --losses and --baselines are both empty.")
    if args.cv is not None and args.cv < 2:
        raise UsageError(f"--cv must be an int >= 2. Got {args.cv}.")
    if args.plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
        except ImportError:
            raise UsageError(
                "--plot needs matplotlib: pip install 'skrank[plot]'"
            ) from None
    if quick:
        max_epochs = args.max_epochs or 5
    else:
        max_epochs = args.max_epochs or (30 if args.data is None else 100)
    if max_epochs < 1 or args.patience < 1 or args.batch_size < 1 or args.lr <= 0:
        raise UsageError(
            "--max-epochs, --patience and --batch-size must be >= 1 and --lr > 0."
        )
    hidden = parse_hidden_sizes(args.hidden_sizes)
    X, y, groups, splits, desc = load_data(args.data, args.seed, quick)
    models = make_models(
        losses,
        baselines,
        seed=args.seed,
        max_epochs=max_epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        patience=args.patience,
        hidden_sizes=hidden,
    )
    baseline = _resolve_baseline(args.baseline, list(models))
    cv = splits if splits is not None else (args.cv or (3 if quick else 5))
    table_stream = err if args.json == "-" else out
    n_splits = len(splits) if splits is not None else cv
    print(f"Data: {desc}", file=table_stream)
    print(
        f"Comparing {len(models)} models over {n_splits} splits "
        f"(NeuralRanker: {'linear' if hidden == () else 'MLP'} scorer"
        f"{'' if not hidden else ' ' + str(hidden)}, max_epochs={max_epochs}, "
        f"patience={args.patience}, lr={args.lr:g}, batch_size={args.batch_size}, "
        f"seed={args.seed}).",
        file=table_stream,
        flush=True,
    )
    from .model_selection import compare_rankers

    start = time.perf_counter()
    try:
        result = compare_rankers(
            models,
            X,
            y,
            groups,
            cv=cv,
            metrics=metrics,
            baseline=baseline,
            n_jobs=args.n_jobs,
            callback=_Progress(not args.no_progress, err),
        )
    except ValueError as exc:
        if "splits queries" in str(exc) or "Cannot make" in str(exc):
            raise UsageError(str(exc)) from None
        raise
    elapsed = time.perf_counter() - start
    header, rows, main = family_table(result, metrics)
    print("", file=table_stream)
    print(render_text(header, rows), file=table_stream)
    print("", file=table_stream)
    for line in conclusions(result, main):
        print(line, file=table_stream)
    print(f"Total time: {elapsed:.1f}s.", file=table_stream)
    if args.out:
        report = _markdown_report(result, desc, header, rows, main, elapsed, args)
        Path(args.out).write_text(report, encoding="utf-8")
        print(f"Report written to {args.out}", file=table_stream)
    if args.plot:
        fig = result.plot(main)
        fig.savefig(args.plot, dpi=120)
        print(f"Figure written to {args.plot}", file=table_stream)
    if args.json:
        text = result.to_json(indent=2)
        if args.json == "-":
            out.write(text + "\n")
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
            print(f"JSON written to {args.json}", file=table_stream)
    return 0


def _markdown_report(result, desc, header, rows, main, elapsed, args):
    lines = [
        "# skrank compare",
        "",
        f"- Data: {desc}",
        f"- Command: `skrank compare {' '.join(args._argv)}`".rstrip(),
        f"- skrank {__version__}; total time {elapsed:.1f}s",
        "",
        "## Summary",
        "",
        render_markdown(header, rows),
        "",
        *conclusions(result, main),
        "",
        "## Details",
        "",
        result.to_markdown(metric=main),
    ]
    return "\n".join(lines)


def main(argv=None):
    """Entry point of the ``skrank`` console script; returns the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)  # exits with 2 on a usage error
    if args.command is None:
        parser.print_help()
        return 0
    args._argv = argv[1:]
    try:
        return run_compare(args)
    except UsageError as exc:
        print(f"skrank {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"skrank {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `skrank compare | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:  # a runtime failure: message, no traceback
        print(
            f"skrank {args.command}: failed: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        if os.environ.get("SKRANK_DEBUG"):
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
