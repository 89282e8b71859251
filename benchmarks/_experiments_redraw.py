"""Round 19: does a screen's verdict on a synthetic set survive a new draw?

``_experiments_resplit.py`` splits one draw of a set anew; the draw itself
(which features are informative, and for ``syn_raw`` each feature's scale
``10**b``) stays. This draws the generator anew with other seeds (``_syn_raw``
and ``_hold_small04`` take one; their own are 2 and 12), fits ``D9`` and one
other configuration (seed 0) on each draw's training part and scores both
on its validation part. One JSON row per draw.

    SKRANK_CACHE=... python benchmarks/_experiments_redraw.py syn_raw \
        201,202,203,204,205,206 R17_unitlog
"""

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _experiments_quality import _D9, CONFIGS, _hold_small04, _syn_raw, make_ranker

from skrank.metrics import ndcg_score

GENERATORS = {"syn_raw": _syn_raw, "hold_small04": _hold_small04}


def main(name, draws, other):
    torch.set_num_threads(1)
    for draw in draws:
        train, vali, _ = GENERATORS[name](seed=draw)
        row = {"data": name, "draw": draw, "config": other}
        for tag, config in (("D9", _D9), ("other", CONFIGS[other])):
            model = make_ranker(config, 0, groups=train[2]).fit(*train)
            row[tag] = float(ndcg_score(vali[1], model.predict(vali[0]), vali[2], k=10))
        row["diff"] = row["other"] - row["D9"]
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3])
