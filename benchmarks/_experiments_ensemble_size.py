"""Round 14: does the five-member ensemble help more on less data?

NeuralRanker() with ``module__n_members`` 1 and 5 on the first 250, 500, 1000
or 2000 training queries of the MSLR-shaped task (``bench_quality.py``'s
``make_mslr_shaped``), scored on its 500 held-out queries. Generator seeds 1
and 2 only: seed 0 is the benchmark's test task. One JSON row per fit.

    OMP_NUM_THREADS=1 python benchmarks/_experiments_ensemble_size.py SEED \
        MEMBERS SIZES OUT
    # e.g. 1 1,5 250,500,1000 results/ensemble_size.jsonl
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import make_mslr_shaped, per_query_ndcg

from skrank import NeuralRanker


def main(seed, members, sizes, out):
    if seed == 0:
        sys.exit("seed 0 is bench_quality.py's test task: use 1 or 2")
    train, test = make_mslr_shaped(seed)
    for n in sizes:
        keep = train[2] < n
        part = (train[0][keep], train[1][keep], train[2][keep])
        for m in members:
            model = NeuralRanker(random_state=seed, module__n_members=m)
            t0 = time.perf_counter()
            model.fit(*part)
            fit_s = time.perf_counter() - t0
            scores = model.predict(test[0])
            row = {
                "seed": seed,
                "n_queries": n,
                "n_docs": int(keep.sum()),
                "members": m,
                "fit_s": round(fit_s, 1),
                "epochs": model.max_epochs_,
                "probe_best": model.probe_best_epoch_,
                "ndcg": float(np.nanmean(per_query_ndcg(test[1], scores, test[2]))),
            }
            print(row, flush=True)
            with open(out, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(
        int(sys.argv[1]),
        [int(m) for m in sys.argv[2].split(",")],
        [int(s) for s in sys.argv[3].split(",")],
        sys.argv[4],
    )
