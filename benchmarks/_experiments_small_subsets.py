"""Round 15: configurations of the quality harness on small training sets.

Each configuration of ``_experiments_quality.py`` is fitted on a random
subset of ``N`` queries of a data set's training part (drawn with seed
``1000 + seed``, the same for every configuration) and scored by NDCG@10 on
the full validation part, for seeds 0-2. The rules of ``max_epochs="auto"``
bind on small data (an epoch of 100 short lists is 3-4 optimiser steps),
which the full training parts seldom show. One JSON row per fit.

    SKRANK_CACHE=.cache OMP_NUM_THREADS=1 python \\
        benchmarks/_experiments_small_subsets.py SETS CONFIGS N OUT
    # e.g. mq1,mq2,mq3,mq4,mq5 D8,R15_pat100 100 results/small_subsets_r15.jsonl
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _experiments_quality as harness

from skrank.metrics import ndcg_score


def main(sets, configs, n, out):
    for name in sets:
        train, vali, _ = harness.load(name)
        for seed in (0, 1, 2):
            queries = np.unique(train[2])
            rng = np.random.default_rng(1000 + seed)
            drawn = rng.choice(queries, min(n, len(queries)), replace=False)
            part = tuple(a[np.isin(train[2], drawn)] for a in train)
            for config in configs:
                t0 = time.perf_counter()
                model = harness.make_ranker(
                    harness.CONFIGS[config], seed, groups=part[2]
                ).fit(*part)
                row = {
                    "config": config,
                    "data": name,
                    "n": n,
                    "seed": seed,
                    "fit_s": round(time.perf_counter() - t0, 2),
                    "probe": model.probe_best_epoch_,
                    "epochs": model.max_epochs_,
                    "vali": float(
                        ndcg_score(vali[1], model.predict(vali[0]), vali[2], k=10)
                    ),
                }
                print(json.dumps(row), flush=True)
                with open(out, "a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(
        sys.argv[1].split(","),
        sys.argv[2].split(","),
        int(sys.argv[3]),
        sys.argv[4],
    )
