"""The ``skrank`` command line: argument parsing plus calls into the library.

Exit codes: 0 success, 1 a failure while running (e.g. a model that cannot be
trained), 2 a usage error (bad option, bad path, an output that exists, a file
without ``qid:``, an unknown loss name), 130 interrupted (Ctrl-C; no output
file is written).
"""

import argparse
import contextlib
import math
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

from ._version import __version__

BASELINES = {"ridge": "regression", "hgb": "regression", "lgbm": "GBDT ranker"}
BASELINES["xgb"] = "GBDT ranker"
DEFAULT_LOSSES = "mse,ranknet,lambdarank,listnet,listmle,approxndcg"
QUICK_LOSSES = "mse,lambdarank,listnet"
DEFAULT_DATA = {"n_queries": 400, "n_features": 20, "no_relevant_fraction": 0.1}
QUICK_DATA = {"n_queries": 60, "n_features": 10, "no_relevant_fraction": 0.1}
MAX_FEATURES = 100_000  # feature columns; more is almost always a bad index
DENSE_BUDGET = 4 * 2**30  # bytes a dense float32 copy of --data may take


class UsageError(Exception):
    """A problem with what the user asked for (exit code 2)."""


def _number(kind, low=-math.inf, text=None, exclude=()):
    """An argparse ``type``: a finite ``kind`` >= ``low`` (argparse exits 2)."""

    def parse(value):
        try:
            number = kind(value)
        except ValueError:
            number = None
        if (
            number is None
            or not math.isfinite(number)
            or number < low
            or (number in exclude)
        ):
            raise argparse.ArgumentTypeError(f"must be {text}. Got {value!r}")
        return number

    return parse


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action):  # no "(default: None)" after our own text
        if action.default in (None, False) or "default" in (action.help or ""):
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
        "on the same query splits, and report per-query means, confidence "
        "intervals and paired significance tests against a baseline. Without "
        "--data it runs on a synthetic make_ranking data set.",
        formatter_class=_Formatter,
    )
    add = cmp.add_argument
    INT1 = _number(int, 1, "an int >= 1")
    add("--data", metavar="PATH", help="SVMlight/LETOR file, fold folder or Fold1..N")
    add("--losses", help=f"loss names, 'all' or 'none' (default: {DEFAULT_LOSSES})")
    add("--baselines", default="ridge,hgb", help="ridge, hgb, lgbm, xgb, or 'none'")
    add("--baseline", help="the model tested against (default: the first model)")
    add("--metrics", default="map,ndcg", help="ndcg, map, mrr, err, precision, recall")
    add("--k", type=INT1, default=10, help="cut-off K of metrics named without @K")
    add(
        "--cv", type=_number(int, 2, "an int >= 2"), help="GroupKFold folds (default 5)"
    )
    add(
        "--quick", action="store_true", help="a smoke test, not a benchmark (see below)"
    )
    add("--seed", type=_number(int, 0, "an int >= 0"), default=0, help="random seed")
    add("--max-epochs", type=INT1, help="most epochs (default 30; 100 with --data)")
    add("--patience", type=INT1, default=10, help="epochs without validation gain")
    add("--hidden-sizes", help="MLP widths or 'linear' (default: 128,64)")
    add("--lr", type=_number(float, 0, "a float > 0", (0,)), default=3e-3, help="rate")
    add("--batch-size", type=INT1, default=32, help="queries per training batch")
    add("--n-jobs", type=_number(int, text="an int, not 0", exclude=(0,)), help="fits")
    add("--threads", type=INT1, help="torch threads per fit (default: torch's choice)")
    add("--out", metavar="FILE", help="write a Markdown report")
    add("--plot", metavar="FILE", help="save a figure (matplotlib)")
    add("--json", nargs="?", const="-", metavar="FILE", help="JSON to FILE or stdout")
    add("--force", action="store_true", help="replace output files that exist")
    add("--no-progress", action="store_true", help="no progress display")
    return parser


# ---------------------------------------------------------------- options
def _split_list(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def _choose(text, known, what, default=()):
    """Names of a comma-separated option, checked against ``known``."""
    if text.strip().lower() in ("none", ""):
        return []
    if text.strip().lower() == "all":
        return list(known)
    names = _split_list(text) or list(default)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(
            f"unknown {what}: {', '.join(unknown)}. Known: {', '.join(known)}."
        )
    return names


def parse_losses(text, quick):
    """Validate the loss names of ``--losses``."""
    from .losses import get_loss_names

    default = QUICK_LOSSES if quick else DEFAULT_LOSSES
    return _choose(default if text is None else text, get_loss_names(), "loss name(s)")


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
                "precision or recall, optionally as in ndcg@10."
            ) from None
        if cutoff is None and kind in ("ndcg", "err", "precision", "recall"):
            name = f"{name}@{k}"
        if name not in out:
            out.append(name)
    if not out:
        raise UsageError("--metrics names no metric.")
    return out


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
            "--hidden-sizes must be widths >= 1 such as 128,64, or "
            f"'linear'. Got {text!r}."
        )
    return sizes


# ---------------------------------------------------------------- paths
def check_paths(args):
    """Refuse bad --data and outputs before any work: exists, collides, input."""
    inputs = set()
    if args.data is not None:
        data = Path(args.data)
        if not data.exists():
            raise UsageError(f"no such file or folder: '{args.data}'")
        if not (data.is_dir() or stat.S_ISREG(data.stat().st_mode)):
            raise UsageError(f"--data '{args.data}' is not a regular file or folder.")
        files = [data] if data.is_file() else [*data.glob("*"), *data.glob("*/*")]
        inputs = {os.path.realpath(f) for f in files}
    seen = {}
    for option in ("--out", "--json", "--plot"):
        path = getattr(args, option[2:])
        if path is None or path == "-":
            continue
        real = os.path.realpath(path)
        if real in inputs:
            raise UsageError(
                f"{option} '{path}' is an input file; skrank never "
                "writes to its input. Choose another file."
            )
        if real in seen:
            raise UsageError(
                f"{seen[real]} and {option} name the same file "
                f"'{path}'; give each output its own file."
            )
        seen[real] = option
        if os.path.isdir(real) or not os.path.isdir(os.path.dirname(real)):
            raise UsageError(f"{option} '{path}' must be a file in an existing folder.")
        if os.path.lexists(path) and not args.force:
            raise UsageError(f"{option} '{path}' exists; pass --force to replace it.")
        if os.path.exists(real) and not os.path.isfile(real):
            raise UsageError(f"{option} '{path}' is not a regular file.")


def write_atomic(path, write):
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it."""
    path = Path(os.path.realpath(path))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------- data
def load_data(path, seed, quick, needs_dense=False):
    """Return X, y, groups, the splits (or None) and a one-line description."""
    from . import datasets

    if path is None:
        params = dict(QUICK_DATA if quick else DEFAULT_DATA, random_state=seed)
        X, y, groups = datasets.make_ranking(**params)
        call = ", ".join(f"{k}={v}" for k, v in params.items())
        desc = (
            f"synthetic data from skrank.datasets.make_ranking({call}): "
            f"{_shape_text(X, groups)} (pass --data PATH for your own data)"
        )
        return X, y, groups, None, desc
    kw = {"dtype": "float32", "dense": False}
    try:
        if Path(path).is_file():
            X, y, groups = datasets.load_svmlight_ranking(path, **kw)
            splits, desc = None, f"{path}"
        else:
            data = datasets.load_letor_folds(path, **kw)
            X, y, groups, splits = data.X, data.y, data.groups, data.splits
            desc = (
                f"{path} ({len(splits)} LETOR fold(s): train on train.txt, early "
                "stopping on vali.txt, test on test.txt of each)"
            )
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    X = _dense_if_sensible(X, path, needs_dense)
    return X, y, groups, splits, f"{desc}: {_shape_text(X, groups)}"


def _dense_if_sensible(X, path, needs_dense):
    """Refuse absurd widths; densify when a model needs it or it saves memory."""
    n_rows, n_features = X.shape
    if n_features > MAX_FEATURES:
        raise UsageError(
            f"'{path}' has {n_features} feature columns (its largest "
            f"feature index); skrank compare accepts at most "
            f"{MAX_FEATURES}. Check the file for a stray index."
        )
    dense_bytes = 4 * n_rows * n_features
    if needs_dense and dense_bytes > DENSE_BUDGET:
        raise UsageError(
            f"the hgb baseline needs '{path}' dense: "
            f"{dense_bytes / 2**30:.1f} GiB, more than the "
            f"{DENSE_BUDGET / 2**30:g} GiB allowed. Drop hgb."
        )
    if needs_dense or 2 * X.nnz >= n_rows * n_features:  # dense is smaller
        return X.toarray()
    return X


def _shape_text(X, groups):
    import numpy as np

    n_queries = np.unique(groups).shape[0]
    return f"{n_queries} queries, {X.shape[0]} rows, {X.shape[1]} features"


# ---------------------------------------------------------------- models
def _loss_family(name):
    from . import losses

    if hasattr(losses, "get_loss_family"):  # the registry's own accessor
        return losses.get_loss_family(name)
    module = type(losses.get_loss(name)).__module__.rsplit(".", 1)[-1].lstrip("_")
    return module if module in ("pointwise", "pairwise", "listwise") else "custom"


def make_models(
    losses,
    baselines,
    *,
    seed,
    early_stopping=False,
    patience=10,
    hidden_sizes=None,
    **neural,
):
    """The estimators to compare, keyed by display name."""
    models = {}
    for name in baselines:
        rounds = patience if early_stopping else None
        models[f"{name} ({BASELINES[name]})"] = _baseline(name, seed, rounds)
    if losses:
        from .estimators import NeuralRanker

        extra = {} if hidden_sizes is None else {"module__hidden_sizes": hidden_sizes}
        for loss in losses:
            models[f"{loss} ({_loss_family(loss)})"] = NeuralRanker(
                loss=loss, patience=patience, random_state=seed, **neural, **extra
            )
    return models


def _baseline(name, seed, rounds):
    """A baseline; GBDT rankers early-stop on validation queries when given."""
    if name == "ridge":
        from sklearn.linear_model import Ridge

        return Ridge(alpha=1.0)
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(random_state=seed)
    from .model_selection import GroupSizeRanker

    try:
        if name == "lgbm":
            from lightgbm import LGBMRanker

            stop = {} if rounds is None else {"early_stopping_round": rounds}
            return GroupSizeRanker(LGBMRanker(random_state=seed, verbose=-1, **stop))
        from xgboost import XGBRanker
    except ImportError as exc:
        raise UsageError(
            f"baseline {name!r} needs {exc.name}: pip install {exc.name}"
        ) from None
    stop = {} if rounds is None else {"early_stopping_rounds": rounds}
    return GroupSizeRanker(XGBRanker(objective="rank:ndcg", random_state=seed, **stop))


def _resolve_baseline(requested, names):
    if requested is None:
        return names[0]
    for name in names:
        if requested in (name, name.split(" (")[0]):
            return name
    short = ", ".join(n.split(" (")[0] for n in names)
    raise UsageError(f"--baseline {requested!r} is not one of the models: {short}.")


def _progress(enabled, stream):
    """A callback: one progress line per fit on ``stream`` (rewritten on a tty)."""
    start, tty = time.perf_counter(), stream.isatty()

    def show(info):
        if not enabled:
            return
        text = (
            f"[{info['done']:>{len(str(info['total']))}}/{info['total']}] "
            f"{info['model']}, split {info['split'] + 1}: fit "
            f"{info['fit_time']:.1f}s (elapsed {time.perf_counter() - start:.0f}s)"
        )
        end = "\n" if not tty or info["done"] == info["total"] else ""
        stream.write(("\r\033[K" if tty else "") + text + end)
        stream.flush()

    return show


# ---------------------------------------------------------------- commands
def run_compare(args, out, err):
    """Run ``skrank compare`` with parsed ``args``; return the exit code."""
    check_paths(args)
    losses = parse_losses(args.losses, args.quick)
    baselines = _choose(args.baselines, list(BASELINES), "baseline(s)")
    metrics = parse_metrics(args.metrics, args.k)
    if not losses and not baselines:
        raise UsageError("nothing to compare: --losses and --baselines are both empty.")
    hidden = parse_hidden_sizes(args.hidden_sizes)
    if args.plot:
        try:
            import matplotlib
        except ImportError:
            raise UsageError(
                "--plot needs matplotlib: pip install 'skrank[plot]'"
            ) from None
        matplotlib.use("Agg")
    max_epochs = args.max_epochs
    if max_epochs is None:
        max_epochs = 5 if args.quick else (30 if args.data is None else 100)
    X, y, groups, splits, desc = load_data(
        args.data, args.seed, args.quick, needs_dense="hgb" in baselines
    )
    has_val = splits is not None and all(val.size for _, val, _ in splits)
    models = make_models(
        losses,
        baselines,
        seed=args.seed,
        max_epochs=max_epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        patience=args.patience,
        hidden_sizes=hidden,
        early_stopping=has_val,
    )
    baseline = _resolve_baseline(args.baseline, list(models))
    cv = splits if splits is not None else (args.cv or (3 if args.quick else 5))
    n_splits = len(cv) if splits is not None else cv
    table = err if args.json == "-" else out
    scorer = "linear" if hidden == () else f"MLP {hidden or (128, 64)}"
    print(f"Data: {desc}", file=table)
    print(
        f"Comparing {len(models)} model{'s' * (len(models) != 1)} over {n_splits} "
        f"splits (NeuralRanker: {scorer} scorer, max_epochs={max_epochs}, "
        f"patience={args.patience}, lr={args.lr:g}, batch_size={args.batch_size}, "
        f"seed={args.seed}).",
        file=table,
        flush=True,
    )
    from joblib import parallel_config

    from .model_selection import QuerySplitError, compare_rankers

    if args.threads is not None and losses:
        import torch

        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    try:
        with parallel_config(inner_max_num_threads=args.threads):
            result = compare_rankers(
                models,
                X,
                y,
                groups,
                cv=cv,
                metrics=metrics,
                baseline=baseline,
                n_jobs=args.n_jobs,
                callback=_progress(not args.no_progress, err),
            )
    except QuerySplitError as exc:
        raise UsageError(str(exc)) from None
    elapsed = time.perf_counter() - start
    print("\n" + result.to_text(compact=True), file=table)
    print(f"Total time: {elapsed:.1f}s.", file=table)
    if args.out:
        notes = [
            f"Data: {desc}",
            f"Command: `skrank {' '.join(args.argv)}`",
            f"skrank {__version__}; total time {elapsed:.1f}s",
        ]
        text = result.to_report(title="skrank compare", notes=notes)
        write_atomic(args.out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        print(f"Report written to {args.out}", file=table)
    if args.plot:
        fig = result.plot(result._main_metric(None))
        fmt = Path(args.plot).suffix[1:] or "png"
        write_atomic(args.plot, lambda tmp: fig.savefig(tmp, dpi=120, format=fmt))
        print(f"Figure written to {args.plot}", file=table)
    if args.json:
        text = result.to_json(indent=2) + "\n"
        if args.json == "-":
            out.write(text)
        else:
            write_atomic(
                args.json, lambda t: Path(t).write_text(text, encoding="utf-8")
            )
            print(f"JSON written to {args.json}", file=table)
    return 0


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
        print(f"skrank {args.command}: interrupted; nothing written", file=sys.stderr)
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
