"""Round 15: how much training does the MSLR-shaped task need to reach LightGBM?

On the MSLR-shaped task (``bench_quality.py``'s ``make_mslr_shaped``), one
process and one thread: LightGBM's 100 trees, then ``NeuralRanker()`` with a
fixed epoch budget (``max_epochs``: no probe, the cosine schedule over that
budget) for each of ``MEMBERS`` x ``EPOCHS``, plus ``auto`` in EPOCHS for the
default budget. Scored by NDCG@10 on the task's 500 held-out queries.
Generator seeds 1 and 2 only: seed 0 is the benchmark's test task. One JSON
row per fit.

    OMP_NUM_THREADS=1 python benchmarks/_experiments_mslr_budget.py SEED \
        MEMBERS EPOCHS OUT [TRANSFORMS]
    # e.g. 1 1,5 5,8,12,20,auto results/mslr_budget_r15.jsonl
    # round 21: 1 5 auto OUT log1p,scaled_log1p (each input_transform)

Each row also has the probe's best epoch and the time per epoch of the fit.
"""

import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import _sizes, make_mslr_shaped, per_query_ndcg

from skrank import NeuralRanker


def _row(out, **row):
    print(row, flush=True)
    with open(out, "a") as f:
        f.write(json.dumps(row) + "\n")


def main(seed, members, budgets, out, transforms=("log1p",)):
    import lightgbm as lgb

    if seed == 0:
        sys.exit("seed 0 is bench_quality.py's test task: use 1 or 2")
    torch.set_num_threads(1)
    train, test = make_mslr_shaped(seed)

    def ndcg(scores):
        return float(np.nanmean(per_query_ndcg(test[1], scores, test[2])))

    lgbm = lgb.LGBMRanker(n_estimators=100, n_jobs=1, random_state=0, verbose=-1)
    t0 = time.perf_counter()
    lgbm.fit(train[0], train[1], group=_sizes(train[2]))
    fit_s = time.perf_counter() - t0
    _row(
        out,
        seed=seed,
        model="lgbm100",
        fit_s=round(fit_s, 1),
        ndcg=ndcg(lgbm.predict(test[0])),
    )
    for transform, m, budget in itertools.product(transforms, members, budgets):
        model = NeuralRanker(
            random_state=seed,
            module__n_members=m,
            max_epochs=budget,
            input_transform=transform,
        )
        t0 = time.perf_counter()
        model.fit(*train)
        fit_s = time.perf_counter() - t0
        _row(
            out,
            seed=seed,
            model="NeuralRanker",
            members=m,
            input_transform=transform,
            max_epochs=budget,
            epochs=model.max_epochs_,
            probe_best_epoch=model.probe_best_epoch_,
            fit_s=round(fit_s, 1),
            s_per_epoch=round(float(np.mean(model.history[:, "dur"])), 2),
            ndcg=ndcg(model.predict(test[0])),
        )


if __name__ == "__main__":
    main(
        int(sys.argv[1]),
        [int(m) for m in sys.argv[2].split(",")],
        [b if b == "auto" else int(b) for b in sys.argv[3].split(",")],
        sys.argv[4],
        *([sys.argv[5].split(",")] if len(sys.argv) > 5 else []),
    )
