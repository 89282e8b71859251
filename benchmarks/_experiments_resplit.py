"""Round 18: does a screen's verdict on a synthetic set survive a new split?

The harness scores each synthetic set on one fixed validation part, and its
seeds vary only the networks' initialisation. This pools a set's three parts,
splits its queries anew (60/20/20, ``_split_by_query`` with another seed),
fits ``D9`` (or the configuration named fourth) and one other configuration
(seed 0) on the new training part and scores both on the new validation
part. One JSON row per split; the spread of ``diff`` over splits is the
split's own noise, which more seeds cannot remove.

    SKRANK_CACHE=... python benchmarks/_experiments_resplit.py tree_raw \
        101,102,103,104,105,106 R17_allbins
    SKRANK_CACHE=... python benchmarks/_experiments_resplit.py tree_raw \
        101,102,103,104,105,106 R23_shifted D11
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _experiments_quality import _D9, CONFIGS, _split_by_query, load, make_ranker

from skrank.metrics import ndcg_score


def print_paired_row(row, train, vali, other, base="D9"):
    """Fit ``base`` and ``other`` (seed 0) on ``train``; print ``row`` with
    their validation NDCG@10 (keys ``base`` and "other") and the difference."""
    base_config = _D9 if base == "D9" else CONFIGS[base]
    for tag, config in ((base, base_config), ("other", CONFIGS[other])):
        model = make_ranker(config, 0, groups=train[2]).fit(*train)
        row[tag] = float(ndcg_score(vali[1], model.predict(vali[0]), vali[2], k=10))
    row["diff"] = row["other"] - row[base]
    print(json.dumps(row), flush=True)


def main(name, splits, other, base="D9"):
    torch.set_num_threads(1)
    parts = load(name)
    X, y, g = (np.concatenate([p[i] for p in parts]) for i in range(3))
    for split in splits:
        train, vali, _ = _split_by_query(X, y, g, split)
        print_paired_row(
            {"data": name, "split": split, "config": other}, train, vali, other, base
        )


if __name__ == "__main__":
    main(sys.argv[1], [int(s) for s in sys.argv[2].split(",")], *sys.argv[3:5])
