"""Tests of the ``skrank compare`` command line (tiny data, --quick)."""

import json
import subprocess
import sys

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
    code = main(argv)
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
    assert "model (loss family)" in out and "MAP" in out and "NDCG@10" in out
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


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--data", "/no/such/file.txt"], "no such file or folder"),
        (["--losses", "listnett"], "unknown loss name(s): listnett"),
        (["--baselines", "ridge,svm"], "unknown baseline(s): svm"),
        (["--metrics", "ndgc"], "unknown metric 'ndgc'"),
        (["--k", "0"], "--k must be an int >= 1"),
        (["--cv", "1"], "--cv must be an int >= 2"),
        (["--baseline", "nope", "--losses", "none"], "--baseline 'nope' is not"),
        (["--losses", "none", "--baselines", "none"], "nothing to compare"),
        (["--hidden-sizes", "0,x"], "--hidden-sizes must be widths >= 1"),
        (["--patience", "0"], "--patience and --batch-size must be >= 1"),
    ],
)
def test_usage_errors(argv, message, capsys):
    code, _, err = run(["compare", *argv], capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_file_without_qid(tmp_path, capsys):
    data = write_letor(tmp_path / "noqid.txt", qid=False)
    code, _, err = run(["compare", "--data", str(data)], capsys)
    assert code == 2
    assert "qid:" in err and "noqid.txt" in err
    assert "Traceback" not in err


def test_folder_without_letor_files(tmp_path, capsys):
    code, _, err = run(["compare", "--data", str(tmp_path)], capsys)
    assert code == 2 and "without train.txt" in err


def test_argparse_usage_error_exit_code(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--k", "ten"])
    assert exc.value.code == 2


def test_runtime_failure_exit_code(tmp_path, capsys, monkeypatch):
    import skrank._cli as cli

    def boom(*args, **kwargs):
        raise RuntimeError("training diverged")

    monkeypatch.setattr("skrank.model_selection.compare_rankers", boom)
    data = write_letor(tmp_path / "d.txt")
    code, _, err = run(
        ["compare", "--data", str(data), "--losses", "none", "--baselines", "ridge"],
        capsys,
    )
    assert code == 1
    assert "failed: RuntimeError: training diverged" in err
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
