"""MSLR-WEB30K-sized training: one epoch's time and peak memory, and scaling.

An MSLR-shaped synthetic set (136 features, labels 0-4, heavy-tailed list
lengths up to 1,250, 100 documents a query on average) is generated at
100k, 300k and 1M documents. Each size runs in its own subprocess (one
torch thread) that builds X in float32, fits ``NeuralRanker(max_epochs=1)``
with its defaults and reports the epoch time and the peak resident memory
during ``fit`` (the kernel's VmHWM, reset once X exists) above the process's
memory before X existed, as a multiple of X's bytes: X itself counts 1.

Usage::

    python benchmarks/bench_scale.py [--sizes 100000 300000 1000000]

Results: ``benchmarks/results/scale.md`` and the README's "MSLR-sized data".
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "scale.md"


def _status_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak():
    """Restart the kernel's peak-RSS count (VmHWM), so it covers fit alone."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def mslr_like(n_docs, seed=0):
    """X float32 (n_docs, 136), labels 0-4, heavy-tailed query lengths <= 1250."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lengths = np.minimum(rng.lognormal(4.2, 0.9, size=n_docs // 20 + 10), 1250)
    lengths = np.maximum(lengths.astype(np.int64), 2)
    ends = np.cumsum(lengths)
    n_queries = int(np.searchsorted(ends, n_docs)) + 1
    lengths = lengths[:n_queries]
    lengths[-1] -= ends[n_queries - 1] - n_docs
    qid = np.repeat(np.arange(n_queries), lengths)
    X = rng.standard_normal((n_docs, 136), dtype=np.float32)
    X += np.repeat(rng.standard_normal((n_queries, 136), dtype=np.float32), lengths, 0)
    w = rng.standard_normal(136).astype(np.float32) / 12
    u = X @ w + (X[:, 0] > 0.5) + rng.standard_normal(n_docs).astype(np.float32)
    y = np.digitize(u, np.quantile(u, [0.5, 0.8, 0.93, 0.98])).astype(np.float64)
    return X, y, qid


def _child(n_docs):
    import torch

    torch.set_num_threads(1)
    from skrank import NeuralRanker

    base = _status_mb("VmRSS")  # before X exists
    X, y, qid = mslr_like(n_docs)
    x_mb = X.nbytes / 2**20
    ranker = NeuralRanker(max_epochs=1, random_state=0)
    _reset_peak()  # the generator's own temporaries do not count
    start = time.perf_counter()
    ranker.fit(X, y, groups=qid)
    fit_s = time.perf_counter() - start
    epoch_s = float(ranker.history[-1, "dur"])
    peak = _status_mb("VmHWM")
    print(
        json.dumps(
            {
                "n_docs": n_docs,
                "n_queries": int(qid[-1]) + 1,
                "X_MB": x_mb,
                "fit_s": fit_s,
                "epoch_s": epoch_s,
                "peak_over_X": (peak - base) / x_mb,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000]
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rows = []
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, one torch thread; "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| documents | queries | X (MB, float32) | one epoch (s) | s per 100k docs "
        "| fit (s) | peak memory / X |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n_docs']:,} | {r['n_queries']:,} | {r['X_MB']:.0f} | "
            f"{r['epoch_s']:.1f} | {r['epoch_s'] / r['n_docs'] * 1e5:.2f} | "
            f"{r['fit_s']:.1f} | {r['peak_over_X']:.2f} |"
        )
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
