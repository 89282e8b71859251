"""The ``skrank`` command line: argument parsing plus calls into the library.

Exit codes: 0 success, 1 a failure while running (e.g. a model that cannot be
trained), 2 a usage error (bad option, bad path, an output that exists, a file
without ``qid:``, an unknown loss name), 130 interrupted (Ctrl-C; no output
file is written).
"""

import argparse
import math
import os
import stat
import sys
import time
from pathlib import Path

from joblib import parallel_config

from ._version import __version__

DEFAULT_LOSSES = "mse,ranknet,lambdarank,listnet,listmle,approxndcg"
QUICK_LOSSES = "mse,lambdarank,listnet"
DEFAULT_DATA = {"n_queries": 400, "n_features": 20, "no_relevant_fraction": 0.1}
QUICK_DATA = {"n_queries": 60, "n_features": 10, "no_relevant_fraction": 0.1}
MAX_FEATURES = 100_000  # feature columns of --data; more is a stray index
EPILOG = f"""details:
  --data    an SVMlight/LETOR file (qid: required), a CSV/TSV/Parquet table
            (--label-col, --qid-col, --drop-cols), LightGBM's form (FILE with
            FILE.query of query sizes), a LETOR fold folder (train.txt,
            vali.txt, test.txt; may be compressed) or a folder of Fold1..FoldN;
            float32, sparse kept sparse, <= {MAX_FEATURES} features.
  --losses  default {DEFAULT_LOSSES};
            with --quick {QUICK_LOSSES}
  --quick   a smoke test, not a benchmark: small data, 3 folds, 5 epochs.
  --metrics ndcg, map, mrr, err, precision, recall; '@K' sets a cut-off.
  outputs   never an input, never two the same, never replaced without --force;
            written atomically. Exit codes: 0 done, 1 failed, 2 usage, 130 Ctrl-C."""


class UsageError(Exception):
    """A problem with what the user asked for (exit code 2)."""


def _number(kind, low, text, exclude=(), high=math.inf):
    """An argparse ``type``: a finite ``kind`` in [low, high] (else exit 2)."""

    def parse(value):
        try:
            number = kind(value)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and low <= number <= high) or number in exclude:
            raise argparse.ArgumentTypeError(f"must be {text}. Got {value!r}")
        return number

    return parse


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawTextHelpFormatter):
    def _get_help_string(self, action):  # no "(default: None)" after our own text
        if (
            action.default is None
            or action.default is False
            or "default" in action.help
        ):
            return action.help
        return super()._get_help_string(action)


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
        description="Train NeuralRankers with several ranking losses and baselines "
        "on the same query splits;\nreport per-query means, confidence intervals "
        "and paired tests against a baseline.",
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    add = cmp.add_argument
    INT1 = _number(int, 1, "an int >= 1")
    add("--data", metavar="PATH", help="a ranking file or LETOR folder (see below)")
    add("--label-col", default="label", help="label column of a CSV/Parquet --data")
    add("--qid-col", default="qid", help="query-id column of a CSV/Parquet --data")
    add("--drop-cols", default="", help="comma-separated non-feature columns")
    add("--losses", help="loss names, 'all' or 'none' (default: see below)")
    add("--baselines", default="ridge,hgb", help="ridge, hgb, lgbm, xgb, or 'none'")
    add("--baseline", help="the model tested against (default: the first model)")
    add("--metrics", default="map,ndcg", help="comma-separated metrics (see below)")
    add("--k", type=INT1, default=10, help="cut-off K of metrics named without @K")
    add(
        "--cv",
        type=_number(int, 2, "an int >= 2"),
        help="GroupKFold folds (default 5; 3 with --quick)",
    )
    add("--quick", action="store_true", help="a smoke test, not a benchmark")
    add(
        "--seed",
        type=_number(int, 0, "an int in [0, 2**32 - 1]", high=2**32 - 1),
        default=0,
        help="random seed",
    )
    add(
        "--max-epochs",
        type=INT1,
        help="most epochs (default: NeuralRanker's, 15; 5 with --quick)",
    )
    add(
        "--patience",
        type=INT1,
        help="epochs without validation gain before early stopping (default 10)",
    )
    add("--hidden-sizes", help="MLP widths or 'linear' (default: 128,64)")
    add(
        "--lr",
        type=_number(float, 0, "a float > 0", (0,)),
        help="learning rate (default: NeuralRanker's, 1e-3)",
    )
    add(
        "--batch-size",
        type=INT1,
        help="queries per training batch (default: NeuralRanker's 'auto', about 600 "
        "documents a batch)",
    )
    n_jobs = _number(int, -math.inf, "an int other than 0", (0,))
    add("--n-jobs", type=n_jobs, help="parallel fits (default: 1; -1: all cores)")
    add("--threads", type=INT1, help="torch threads per fit (default: torch's)")
    add("--out", metavar="FILE", help="write a Markdown report")
    add("--plot", metavar="FILE", help="save a figure (matplotlib)")
    add("--json", nargs="?", const="-", metavar="FILE", help="JSON to FILE or stdout")
    add("--force", action="store_true", help="replace output files that exist")
    add("--no-progress", action="store_true", help="no progress display")
    return parser


# ---------------------------------------------------------------- options
def _split_list(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def _choose(text, known, what):
    """Names of a comma-separated option, checked against ``known``."""
    if text.strip().lower() in ("none", ""):
        return []
    if text.strip().lower() == "all":
        return list(known)
    unknown = [n for n in _split_list(text) if n not in known]
    if unknown:
        raise UsageError(
            f"unknown {what}: {', '.join(unknown)}. Known {what}: {', '.join(known)}."
        )
    return _split_list(text)


def parse_metrics(text, k):
    """Turn ``--metrics`` and ``--k`` into metric names for per_query_scores."""
    from .metrics._ranking import _parse_metric_name

    out = []
    for name in _split_list(text.lower()):
        try:
            kind, cutoff = _parse_metric_name(name)
        except ValueError:
            raise UsageError(
                f"unknown metric {name!r}. Use ndcg, map, mrr, err, "
                "precision or recall, e.g. ndcg@10."
            ) from None
        if cutoff is None and kind in ("ndcg", "err", "precision", "recall"):
            name = f"{name}@{k}"
        out += [name] if name not in out else []
    if not out:
        raise UsageError("--metrics names no metric.")
    return out


def parse_hidden_sizes(text):
    """``--hidden-sizes``: None (module default), () for linear, or widths."""
    if text is None or text.strip().lower() in ("linear", "none", "0", ""):
        return None if text is None else ()
    try:
        sizes = tuple(int(t) for t in _split_list(text))
    except ValueError:
        sizes = (0,)
    if any(n < 1 for n in sizes):
        raise UsageError(
            "--hidden-sizes must be widths >= 1 such as 128,64, or "
            f"'linear'. Got {text!r}."
        )
    return sizes


def check_paths(args):
    """Refuse a bad --data and bad outputs, before any work starts."""
    from .utils._files import check_output_paths

    inputs = []
    if args.data is not None:
        data = Path(args.data)
        if not data.exists():
            raise UsageError(f"no such file or folder: '{args.data}'")
        if not (data.is_dir() or stat.S_ISREG(data.stat().st_mode)):
            raise UsageError(f"--data '{args.data}' is not a regular file or folder.")
        inputs = [data] if data.is_file() else [*data.glob("*"), *data.glob("*/*")]
    json = None if args.json == "-" else args.json
    outputs = {"--out": args.out, "--json": json, "--plot": args.plot}
    try:
        check_output_paths(outputs, inputs=inputs, force=args.force)
    except (ValueError, FileExistsError) as exc:
        raise UsageError(str(exc)) from None


# ---------------------------------------------------------------- data
def load_data(path, seed, quick, needs_dense=False, table=None):
    """Return X, y, groups, the splits (or None) and a one-line description."""
    import numpy as np

    from . import datasets

    if path is None:
        params = dict(QUICK_DATA if quick else DEFAULT_DATA, random_state=seed)
        X, y, groups = datasets.make_ranking(**params)
        call = ", ".join(f"{k}={v}" for k, v in params.items())
        desc = f"synthetic data from skrank.datasets.make_ranking({call})"
        splits, note = None, " (pass --data PATH for your own data)"
    else:
        dense = True if needs_dense else "auto"  # hgb needs dense input
        table = table or {"label": "label", "qid": "qid", "drop": None}
        try:
            data = datasets.load_ranking_data(
                path,
                dense=dense,
                max_features=MAX_FEATURES,
                label=table["label"],
                qid=table["qid"],
                drop=table["drop"],
            )
        except (OSError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        X, y, groups, splits, n = (
            data.X,
            data.y,
            data.groups,
            data.splits,
            len(data.folds),
        )
        folds = f"{n} LETOR folds" if n > 1 else "one LETOR fold"
        desc = (
            path if not n else f"{path} ({folds}: train, early stopping on vali, test)"
        )
        note = ""
    n_queries = np.unique(groups).shape[0]
    shape = f"{n_queries} queries, {X.shape[0]} rows, {X.shape[1]} features"
    return X, y, groups, splits, f"{desc}: {shape}{note}"


# ---------------------------------------------------------------- models
def make_models(losses, baselines, *, seed, rounds=None, hidden_sizes=None, **neural):
    """The estimators by display name; GBDTs early-stop after ``rounds`` if set."""
    from .model_selection._baselines import BASELINES, make_baseline

    models = {}
    for name in baselines:
        try:
            ranker = make_baseline(
                name, random_state=seed, early_stopping_rounds=rounds
            )
        except ImportError as exc:
            raise UsageError(
                f"baseline {name!r} needs {exc.name}: pip install {exc.name}"
            ) from None
        models[f"{name} ({BASELINES[name]})"] = ranker
    if losses:
        from .estimators import NeuralRanker
        from .losses import get_loss_family

        if hidden_sizes is not None:
            neural["module__hidden_sizes"] = hidden_sizes
        for loss in losses:
            ranker = NeuralRanker(loss=loss, random_state=seed, **neural)
            models[f"{loss} ({get_loss_family(loss)})"] = ranker
    return models


def _resolve_baseline(requested, names):
    for name in names:
        if requested in (None, name, name.split(" (")[0]):
            return name
    short = ", ".join(n.split(" (")[0] for n in names)
    raise UsageError(f"--baseline {requested!r} is not one of the models: {short}.")


def _progress(stream):
    """A callback writing one line per finished fit to ``stream``."""
    start = time.perf_counter()

    def show(info):
        stream.write(
            f"[{info['done']}/{info['total']}] {info['model']}, split "
            f"{info['split'] + 1}: fit {info['fit_time']:.1f}s (elapsed "
            f"{time.perf_counter() - start:.0f}s)\n"
        )
        stream.flush()

    return show


# ---------------------------------------------------------------- commands
def run_compare(args, out, err):
    """Run ``skrank compare`` with parsed ``args``; return the exit code."""
    from .losses import get_loss_names
    from .model_selection import QuerySplitError, compare_rankers
    from .model_selection._baselines import BASELINES

    check_paths(args)
    default = QUICK_LOSSES if args.quick else DEFAULT_LOSSES
    text = default if args.losses is None else args.losses
    losses = _choose(text, get_loss_names(), "loss name(s)")
    baselines = _choose(args.baselines, list(BASELINES), "baseline(s)")
    metrics = parse_metrics(args.metrics, args.k)
    if not losses and not baselines:
        raise UsageError("nothing to compare: --losses and --baselines are both empty.")
    hidden = parse_hidden_sizes(args.hidden_sizes)
    if args.plot:
        _use_matplotlib()
    # NeuralRanker's own defaults unless an option says otherwise
    options = {
        "max_epochs": 5 if args.quick and args.max_epochs is None else args.max_epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "patience": args.patience,
    }
    neural = {key: value for key, value in options.items() if value is not None}
    table = {
        "label": args.label_col,
        "qid": args.qid_col,
        "drop": _split_list(args.drop_cols),
    }
    X, y, groups, splits, desc = load_data(
        args.data, args.seed, args.quick, "hgb" in baselines, table
    )
    stop = splits is not None and all(val.size for _, val, _ in splits)
    models = make_models(
        losses,
        baselines,
        seed=args.seed,
        hidden_sizes=hidden,
        rounds=(10 if args.patience is None else args.patience) if stop else None,
        **neural,
    )
    folds = (3 if args.quick else 5) if args.cv is None else args.cv
    cv = folds if splits is None else splits
    table = err if args.json == "-" else out
    n, n_splits = len(models), folds if splits is None else len(splits)
    scorer = (
        f"ensemble of 5 MLPs {(128, 64) if hidden is None else hidden}"
        if hidden != ()
        else "linear"
    )
    settings = "".join(f"{k}={v}, " for k, v in neural.items()) or "defaults, "
    print(f"Data: {desc}", file=table)
    print(
        f"Comparing {n} model{'s' * (n != 1)} over {n_splits} "
        f"split{'s' * (n_splits != 1)} (NeuralRanker: {scorer} scorer, "
        f"{settings}seed={args.seed}).",
        file=table,
        flush=True,
    )
    if args.threads is not None and "torch" in sys.modules:  # torch threads per fit
        sys.modules["torch"].set_num_threads(args.threads)
    kw = {"cv": cv, "metrics": metrics, "n_jobs": args.n_jobs}
    kw.update(baseline=_resolve_baseline(args.baseline, list(models)))
    kw.update(callback=None if args.no_progress else _progress(err))
    start = time.perf_counter()
    try:
        with parallel_config(inner_max_num_threads=args.threads):
            result = compare_rankers(models, X, y, groups, **kw)
    except QuerySplitError as exc:
        raise UsageError(str(exc)) from None
    elapsed = time.perf_counter() - start
    print(f"\n{result.to_text(compact=True)}Total time: {elapsed:.1f}s.", file=table)
    notes = [f"Data: {desc}", f"Command: `skrank {' '.join(args.argv)}`"]
    notes.append(f"skrank {__version__}; total time {elapsed:.1f}s")
    if args.json == "-":
        out.write(result.to_json(indent=2) + "\n")
    _write_outputs(args, result, notes, table)
    return 0


def _use_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")


def _write_outputs(args, result, notes, table):
    """Write --out, --plot and --json, each atomically."""
    from .utils._files import write_atomic

    def write(what, path, text=None, figure=None):
        fmt = Path(path).suffix[1:] or "png"
        if figure is not None:
            write_atomic(path, lambda tmp: figure.savefig(tmp, dpi=120, format=fmt))
        else:
            write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        print(f"{what} written to {path}", file=table)

    if args.out:
        write("Report", args.out, result.to_report(title="skrank compare", notes=notes))
    if args.plot:
        write("Figure", args.plot, figure=result.plot(result._main_metric(None)))
    if args.json not in (None, "-"):
        write("JSON", args.json, result.to_json(indent=2) + "\n")


def main(argv=None):
    """Entry point of the ``skrank`` console script; returns the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)  # exits with 2 on a usage error
    if args.command is None:
        parser.print_help()
        return 0
    args.argv = argv
    try:
        return run_compare(args, sys.stdout, sys.stderr)
    except UsageError as exc:
        print(f"skrank {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"skrank {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `skrank compare | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # a runtime failure: message, no traceback
        notes = "".join(f" {note}" for note in getattr(exc, "__notes__", ()))
        print(
            f"skrank {args.command}: failed: {type(exc).__name__}: {exc}{notes}",
            file=sys.stderr,
        )
        if os.environ.get("SKRANK_DEBUG"):
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
