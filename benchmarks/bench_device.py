"""Fit time of ``NeuralRanker()`` on the CPU (one thread) and on a CUDA GPU.

Two synthetic shapes: MQ2008-like (470 queries, 46 features, ~19 documents a
query) and MSLR-WEB30K-like (2,000 queries, 136 features, ~100,000
documents). Each row: fit seconds (after one untimed warm-up fit of a tiny
model on the device), prediction seconds for the training rows, and test
NDCG@10 on a held-out draw, so a device that is fast but wrong shows.

Usage::

    python benchmarks/bench_device.py [--devices cpu,cuda] [--shapes mq,mslr]
"""

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from skrank.datasets import make_ranking
from skrank.estimators import NeuralRanker
from skrank.metrics import ndcg_score

SHAPES = {
    "mq": dict(n_queries=470, n_features=46, list_length=(5, 33), n_grades=3),
    "mslr": dict(n_queries=2000, n_features=136, list_length=(20, 80), n_grades=5),
}


def _draw(shape, seed):
    X, y, g = make_ranking(**SHAPES[shape], n_informative=20, random_state=seed)
    return X.astype(np.float32), y, g


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="cpu,cuda")
    parser.add_argument("--shapes", default="mq,mslr")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print("| shape | device | fit s | predict s | test NDCG@10 |")
    print("|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        train, test = _draw(shape, 0), _draw(shape, 1)
        for device in args.devices.split(","):
            if device == "cuda" and not torch.cuda.is_available():
                print(f"| {shape} | cuda | no GPU | | |")
                continue
            NeuralRanker(max_epochs=1, device=device).fit(*_draw("mq", 2))
            ranker = NeuralRanker(random_state=0, device=device)
            t0 = time.perf_counter()
            ranker.fit(*train)
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            ranker.predict(train[0])
            predict_s = time.perf_counter() - t0
            ndcg = ndcg_score(test[1], ranker.predict(test[0]), test[2], k=10)
            print(
                f"| {shape} | {device} | {fit_s:.2f} | {predict_s:.3f} | {ndcg:.4f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
