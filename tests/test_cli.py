"""Tests of the ``skrank compare`` command line (tiny data, --quick)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file

from skrank._cli import main, parse_metrics

FAST = ["--quick", "--no-progress", "--max-epochs", "1"]


def write_letor(path, n_queries=12, size=6, seed=0, qid=True):
    rng = np.random.default_rng(seed)
    n = n_queries * size
    X = rng.normal(size=(n, 4))
    y = np.clip(np.round(X[:, 0] + 0.5), 0, 2)
    kw = {"query_id": np.repeat(np.arange(1, n_queries + 1) * 7, size)} if qid else {}
    dump_svmlight_file(X, y, str(path), zero_based=False, **kw)
    return path


def run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_without_command(capsys):
    code, out, _ = run([], capsys)
    assert code == 0 and "compare" in out


def test_compare_default_data_quick(capsys):
    argv = ["compare", "--quick", "--max-epochs", "1"]
    argv += ["--losses", "listnet", "--baselines", "ridge"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "make_ranking(" in out  # the embedded data set is stated
    assert "model" in out and "MAP" in out and "NDCG@10" in out
    assert "vs. ridge (regression)" in out
    assert "listnet (listwise)" in out
    assert "Holm correction" in out
    assert "[6/6]" not in out and "[6/6]" in err  # progress goes to stderr


def test_compare_file_with_outputs(tmp_path, capsys):
    data = write_letor(tmp_path / "train.svm")
    report, js = tmp_path / "report.md", tmp_path / "res.json"
    argv = ["compare", "--data", str(data), "--losses", "none", "--baselines"]
    argv += ["ridge", "--metrics", "ndcg,map@5,mrr", "--k", "3", "--cv", "3"]
    argv += ["--out", str(report), "--json", str(js), "--no-progress"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "12 queries, 72 rows, 4 features" in out
    text = report.read_text()
    assert text.startswith("# skrank compare")
    assert "| ridge (regression) |" in text and "NDCG@3" in text
    data = json.loads(js.read_text())
    assert data["metrics"] == ["ndcg@3", "map@5", "mrr"]
    assert data["n_splits"] == 3


def test_json_to_stdout(tmp_path, capsys):
    data = write_letor(tmp_path / "d.txt")
    argv = ["compare", "--data", str(data), "--losses", "none", "--baselines"]
    argv += ["ridge", "--json", "--cv", "2", "--no-progress"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert json.loads(out)["models"] == ["ridge (regression)"]
    assert "Data:" in err


def test_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    data = write_letor(tmp_path / "d.txt")
    fig = tmp_path / "fig.png"
    argv = ["compare", "--data", str(data), "--losses", "none", "--baselines"]
    argv += ["ridge", "--cv", "2", "--plot", str(fig), "--no-progress"]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    assert fig.stat().st_size > 1000


def test_fold_folders(tmp_path, capsys):
    # three folds rotating over three subsets, as LETOR does with five
    subsets = [write_letor(tmp_path / f"S{i}.txt", 4, seed=i) for i in range(3)]
    texts = [p.read_text().replace("qid:", f"qid:{i}") for i, p in enumerate(subsets)]
    for k in range(3):
        fold = tmp_path / "root" / f"Fold{k + 1}"
        fold.mkdir(parents=True)
        (fold / "train.txt").write_text(texts[k])
        (fold / "vali.txt").write_text(texts[(k + 1) % 3])
        (fold / "test.txt").write_text(texts[(k + 2) % 3])
    argv = ["compare", "--data", str(tmp_path / "root"), "--losses", "none"]
    argv += [
        "--baselines",
        "ridge",
        "--json",
        str(tmp_path / "r.json"),
        "--no-progress",
    ]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "3 LETOR folds" in out and "12 queries" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["n_splits"] == 3
    assert sorted(data["per_query"]["query_id"]) == sorted(
        int(f"{i}{7 * j}") for i in range(3) for j in range(1, 5)
    )


def test_single_fold_folder(tmp_path, capsys):
    for i, part in enumerate(("train", "vali", "test")):
        write_letor(tmp_path / f"{part}.txt", 5, seed=i)
        text = (tmp_path / f"{part}.txt").read_text()
        (tmp_path / f"{part}.txt").write_text(text.replace("qid:", f"qid:{i + 1}"))
    argv = ["compare", "--data", str(tmp_path), "--losses", "listnet"]
    argv += ["--baselines", "ridge", *FAST]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "one LETOR fold" in out


def test_file_without_qid(tmp_path, capsys):
    data = write_letor(tmp_path / "noqid.txt", qid=False)
    code, _, err = run(["compare", "--data", str(data)], capsys)
    assert code == 2
    assert "qid:" in err and "noqid.txt" in err
    assert "Traceback" not in err


def test_folder_without_letor_files(tmp_path, capsys):
    code, _, err = run(["compare", "--data", str(tmp_path)], capsys)
    assert code == 2 and "holds neither fold folders Fold1..FoldN nor train.txt" in err


def test_argparse_usage_error_exit_code(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--k", "ten"])
    assert exc.value.code == 2


def test_runtime_failure_exit_code(tmp_path, capsys, monkeypatch):
    import skrank._cli as cli

    def boom(*args, **kwargs):
        exc = RuntimeError("training diverged")
        exc.add_note("Could not fit model 'x' on split 2 of 5.")
        raise exc

    monkeypatch.setattr("skrank.model_selection.compare_rankers", boom)
    data = write_letor(tmp_path / "d.txt")
    code, _, err = run(
        ["compare", "--data", str(data), "--losses", "none", "--baselines", "ridge"],
        capsys,
    )
    assert code == 1
    assert "failed: RuntimeError: training diverged Could not fit model 'x'" in err
    assert "Traceback" not in err
    assert cli  # imported for monkeypatch target resolution


def test_parse_hidden_sizes():
    from skrank._cli import parse_hidden_sizes

    assert parse_hidden_sizes(None) is None
    assert parse_hidden_sizes("linear") == ()
    assert parse_hidden_sizes("64, 32") == (64, 32)


def test_parse_metrics():
    assert parse_metrics("map,ndcg", 10) == ["map", "ndcg@10"]
    assert parse_metrics("NDCG@5,precision,mrr,err", 3) == [
        "ndcg@5",
        "precision@3",
        "mrr",
        "err@3",
    ]


def test_python_dash_m(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "skrank", "compare", "--losses", "bogus"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "unknown loss name(s): bogus" in proc.stderr


# ------------------------------------------------------------ bad input, every option
def _fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return str(path)


BAD = [  # (argv after "compare", needs, exit code, stderr fragment)
    (["--data", "/no/such/file.txt"], None, 2, "no such file or folder"),
    (["--data", "/dev/null"], None, 2, "is not a regular file or folder"),
    (["--data", "FIFO"], None, 2, "is not a regular file or folder"),
    (["--losses", "listnett"], None, 2, "unknown loss name(s): listnett"),
    (["--baselines", "ridge,svm"], None, 2, "unknown baseline(s): svm"),
    (["--baseline", "nope", "--losses", "none"], "load", 2, "--baseline 'nope' is not"),
    (["--metrics", "ndgc"], None, 2, "unknown metric 'ndgc'"),
    (["--metrics", ","], None, 2, "--metrics names no metric"),
    (["--k", "0"], None, 2, "argument --k: must be an int >= 1. Got '0'"),
    (["--k", "ten"], None, 2, "argument --k: must be an int >= 1"),
    (["--cv", "1"], None, 2, "argument --cv: must be an int >= 2"),
    (["--cv", "50"], "load", 2, "Cannot make 50 splits of 12 queries"),
    (["--quick", "yes"], None, 2, "unrecognized arguments: yes"),
    (["--seed", "-1"], None, 2, "argument --seed: must be an int in [0, 2**32 - 1]"),
    (["--seed", str(2**32)], None, 2, "argument --seed: must be an int in [0,"),
    (["--seed", "1.5"], None, 2, "argument --seed"),
    (["--max-epochs", "0"], None, 2, "argument --max-epochs: must be an int >= 1"),
    (["--patience", "0"], None, 2, "argument --patience: must be an int >= 1"),
    (["--hidden-sizes", "0,x"], None, 2, "--hidden-sizes must be widths >= 1"),
    (["--lr", "nan"], None, 2, "argument --lr: must be a float > 0. Got 'nan'"),
    (["--lr", "inf"], None, 2, "argument --lr: must be a float > 0"),
    (["--lr", "0"], None, 2, "argument --lr: must be a float > 0"),
    (["--lr=-1e-3"], None, 2, "argument --lr: must be a float > 0"),
    (["--batch-size", "0"], None, 2, "argument --batch-size: must be an int >= 1"),
    (["--n-jobs", "0"], None, 2, "argument --n-jobs: must be an int other than 0"),
    (["--n-jobs", "two"], None, 2, "argument --n-jobs"),
    (["--threads", "0"], None, 2, "argument --threads: must be an int >= 1"),
    (["--out", "EXISTS"], None, 2, "exists; pass --force to replace it"),
    (["--json", "EXISTS"], None, 2, "exists; pass --force to replace it"),
    (["--plot", "EXISTS"], None, 2, "exists; pass --force to replace it"),
    (["--out", "r.md", "--json", "r.md"], None, 2, "--out and --json name the same"),
    (
        ["--plot", "r.png", "--out", "./r.png"],
        None,
        2,
        "--out and --plot name the same",
    ),
    (["--out", "DATA"], None, 2, "is an input file; refusing to write over it"),
    (["--out", "DATA", "--force"], None, 2, "is an input file"),
    (["--out", "FOLDER"], None, 2, "must be a file in an existing folder"),
    (["--out", "/no/such/dir/r.md"], None, 2, "must be a file in an existing folder"),
    (["--json", "FIFO", "--force"], None, 2, "exists and is not a regular file"),
    (["--losses", "none", "--baselines", "none"], None, 2, "nothing to compare"),
    (["--bogus"], None, 2, "unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize("argv, needs, code, fragment", BAD)
def test_bad_input_is_a_usage_error_before_any_loading(
    argv, needs, code, fragment, tmp_path, capsys, monkeypatch
):
    import skrank._cli as cli

    data = write_letor(tmp_path / "d.txt")
    before = data.read_bytes()
    (tmp_path / "EXISTS").write_text("keep me")
    subs = {"EXISTS": str(tmp_path / "EXISTS"), "DATA": str(data)}
    subs.update(FOLDER=str(tmp_path), FIFO=_fifo(tmp_path))
    subs.update({n: str(tmp_path / n) for n in ("r.md", "r.png")})
    argv = [subs.get(a, a) for a in argv]
    if "./r.png" in argv:
        argv[argv.index("./r.png")] = str(tmp_path / "." / "r.png")
    if needs != "load":  # these must fail before any data is read

        def no_loading(*args, **kwargs):
            raise AssertionError("data loaded before the usage error")

        monkeypatch.setattr(cli, "load_data", no_loading)
    if "--data" not in argv:
        argv = ["--data", str(data), *argv]
    got, _, err = run(["compare", "--losses", "none", *argv, "--no-progress"], capsys)
    assert got == code, err
    assert fragment in err
    assert "Traceback" not in err
    assert (tmp_path / "EXISTS").read_text() == "keep me"
    assert data.read_bytes() == before


def test_help_is_clean(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = capsys.readouterr().out
    assert "(default: None)" not in out
    assert "128,64" in out and "smoke test" in out and "--force" in out
    assert "--threads" in out


# ------------------------------------------------------------ outputs
def test_never_overwrites_the_input(tmp_path, capsys):
    data = write_letor(tmp_path / "train.txt")
    before = data.read_bytes()
    argv = ["compare", "--data", str(data), "--out", str(data), "--force"]
    code, _, err = run([*argv, "--losses", "none", "--baselines", "ridge"], capsys)
    assert code == 2 and "is an input file" in err
    assert data.read_bytes() == before


def test_fold_folder_files_are_inputs(tmp_path, capsys):
    make_fold_folders(tmp_path / "root")
    target = tmp_path / "root" / "Fold1" / "test.txt"
    before = target.read_bytes()
    argv = ["compare", "--data", str(tmp_path / "root"), "--json", str(target)]
    code, _, err = run(
        [*argv, "--force", "--losses", "none", "--baselines", "ridge"], capsys
    )
    assert code == 2 and "is an input file" in err
    assert target.read_bytes() == before


def test_force_replaces_atomically(tmp_path, capsys):
    data = write_letor(tmp_path / "d.txt")
    report = tmp_path / "report.md"
    report.write_text("old")
    argv = ["compare", "--data", str(data), "--losses", "none", "--baselines", "ridge"]
    code, _, err = run(
        [*argv, "--out", str(report), "--force", "--no-progress"], capsys
    )
    assert code == 0, err
    assert report.read_text().startswith("# skrank compare")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.txt", "report.md"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    from skrank.utils._files import write_atomic

    target = tmp_path / "r.json"
    target.write_text("old")

    def half_then_crash(tmp):
        Path(tmp).write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, half_then_crash)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


# ------------------------------------------------------------ options reach the models
def test_max_epochs_and_other_zero_like_values_are_used(tmp_path, capsys, monkeypatch):
    seen = {}

    def spy(models, X, y, groups, **kwargs):
        seen.update(models=models, X=X, kwargs=kwargs)
        raise KeyboardInterrupt  # stop here: nothing else to run

    monkeypatch.setattr("skrank.model_selection.compare_rankers", spy)
    argv = ["compare", "--quick", "--max-epochs", "2", "--losses", "listnet"]
    argv += ["--baselines", "ridge", "--seed", "0", "--n-jobs", "-1", "--patience", "1"]
    code, _, err = run(argv, capsys)
    assert code == 130 and "interrupted" in err
    nn = seen["models"]["listnet (listwise)"]
    assert (nn.max_epochs, nn.patience, nn.random_state) == (2, 1, 0)
    assert seen["kwargs"]["n_jobs"] == -1


def test_sparse_data_stays_sparse_float32(tmp_path, capsys, monkeypatch):
    import scipy.sparse as sp

    seen = {}

    def spy(models, X, y, groups, **kwargs):
        seen["X"] = X
        raise KeyboardInterrupt

    monkeypatch.setattr("skrank.model_selection.compare_rankers", spy)
    rng = np.random.default_rng(0)
    X = sp.random(60, 500, density=0.01, random_state=0, format="csr")
    path = tmp_path / "sparse.txt"
    dump_svmlight_file(
        X, rng.integers(0, 3, 60), str(path), query_id=np.repeat(np.arange(10), 6)
    )
    argv = ["compare", "--data", str(path), "--losses", "none", "--baselines", "ridge"]
    assert run(argv, capsys)[0] == 130
    assert sp.issparse(seen["X"]) and seen["X"].dtype == np.float32
    dense = write_letor(tmp_path / "dense.txt")
    argv[2] = str(dense)
    assert run(argv, capsys)[0] == 130
    assert isinstance(seen["X"], np.ndarray) and seen["X"].dtype == np.float32


def test_absurd_width_is_refused(tmp_path, capsys):
    path = tmp_path / "wide.txt"
    path.write_text("1 qid:1 1:0.5\n0 qid:1 999999999:1\n1 qid:2 2:1\n0 qid:2 1:1\n")
    argv = ["compare", "--data", str(path), "--losses", "none", "--baselines", "ridge"]
    code, _, err = run(argv, capsys)
    assert (
        code == 2
        and "999999999 feature columns" in err
        and "at most max_features=100000" in err
    )


def test_gzip_fold_folders(tmp_path, capsys):
    make_fold_folders(tmp_path / "root", gzip=True)
    argv = ["compare", "--data", str(tmp_path / "root"), "--losses", "none"]
    code, out, err = run([*argv, "--baselines", "ridge", "--no-progress"], capsys)
    assert code == 0, err
    assert "3 LETOR folds" in out


def test_one_model_output_has_no_oddities(tmp_path, capsys):
    data = write_letor(tmp_path / "d.txt")
    argv = ["compare", "--data", str(data), "--losses", "none", "--baselines", "ridge"]
    code, out, err = run([*argv, "--cv", "2", "--no-progress"], capsys)
    assert code == 0, err
    assert "Comparing 1 model over 2 splits" in out
    assert "0 held-out" not in out and "nothing was tested" in out


def test_gbdt_baseline_early_stops_on_fold_validation(tmp_path, capsys, monkeypatch):
    pytest.importorskip("lightgbm")
    seen = {}
    real = __import__("skrank.model_selection", fromlist=["x"]).compare_rankers

    def spy(models, *args, **kwargs):
        seen["models"] = models
        return real(models, *args, **kwargs)

    monkeypatch.setattr("skrank.model_selection.compare_rankers", spy)
    make_fold_folders(tmp_path / "root")
    argv = ["compare", "--data", str(tmp_path / "root"), "--losses", "none"]
    code, _, err = run([*argv, "--baselines", "lgbm", "--no-progress"], capsys)
    assert code == 0, err
    lgbm = seen["models"]["lgbm (GBDT ranker)"].estimator
    assert lgbm.get_params()["early_stopping_round"] == 10


# ------------------------------------------------------------ interrupts
INTERRUPTED_RUN = """
import os, signal, sys
import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
import skrank._cli as cli

class Sigint(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        try:  # like skorch: Ctrl-C ends training, fit returns
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                np.zeros(1000).sum()
        except KeyboardInterrupt:
            pass
        self.n_ = X.shape[1]
        return self
    def predict(self, X):
        return np.zeros(X.shape[0])

cli.make_models = lambda *a, **k: {"sigint": Sigint()}
# as in a terminal, even when the test runs in a background job (SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.exit(cli.main(sys.argv[1:]))
"""


def test_cli_interrupt_exits_130_and_writes_nothing(tmp_path):
    report = tmp_path / "report.md"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            INTERRUPTED_RUN,
            "compare",
            "--quick",
            "--baselines",
            "ridge",
            "--losses",
            "none",
            "--out",
            str(report),
            "--json",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert proc.returncode == 130, proc.stderr
    assert "interrupted" in proc.stderr
    assert not report.exists() and list(tmp_path.iterdir()) == []


def make_fold_folders(root, gzip=False):
    import gzip as gz

    subsets = []
    for i in range(3):
        path = write_letor(root.parent / f"S{i}.txt", 4, seed=i)
        subsets.append(path.read_text().replace("qid:", f"qid:{i}"))
        path.unlink()
    for k in range(3):
        fold = root / f"Fold{k + 1}"
        fold.mkdir(parents=True)
        for j, part in enumerate(("train", "vali", "test")):
            text = subsets[(k + j) % 3]
            if gzip:
                (fold / f"{part}.txt.gz").write_bytes(gz.compress(text.encode()))
            else:
                (fold / f"{part}.txt").write_text(text)
    return root


def test_empty_losses_means_none_not_the_default(tmp_path, capsys, monkeypatch):
    seen = {}

    def spy(models, *args, **kwargs):
        seen["models"] = list(models)
        raise KeyboardInterrupt

    monkeypatch.setattr("skrank.model_selection.compare_rankers", spy)
    data = write_letor(tmp_path / "d.txt")
    argv = ["compare", "--data", str(data), "--losses", "", "--baselines", "ridge"]
    assert run(argv, capsys)[0] == 130
    assert seen["models"] == ["ridge (regression)"]


def test_model_names_carry_the_registry_family():
    from skrank._cli import make_models

    models = make_models(["mse", "ranknet", "listnet"], [], seed=0)
    assert list(models) == [
        "mse (pointwise)",
        "ranknet (pairwise)",
        "listnet (listwise)",
    ]


def test_compare_csv_with_named_columns(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n_queries, size = 12, 6
    frame = pd.DataFrame(rng.normal(size=(n_queries * size, 3)), columns=list("abc"))
    frame["grade"] = np.clip(np.round(frame["a"] + 0.5), 0, 2)
    frame["query"] = np.repeat(np.arange(n_queries), size)
    frame["url"] = "u"
    path = tmp_path / "judged.csv"
    frame.to_csv(path, index=False)
    argv = ["compare", "--data", str(path), "--label-col", "grade"]
    argv += ["--qid-col", "query", "--drop-cols", "url", "--losses", "none"]
    argv += ["--baselines", "ridge", "--cv", "3", "--no-progress"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "12 queries, 72 rows, 3 features" in out
    code, _, err = run([*argv[:3], "--losses", "none", "--baselines", "ridge"], capsys)
    assert code == 2 and "label column 'grade'" not in err
    assert "column 'label' is not in the table" in err
