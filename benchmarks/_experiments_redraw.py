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

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _experiments_quality import _hold_small04, _syn_raw
from _experiments_resplit import print_paired_row

GENERATORS = {"syn_raw": _syn_raw, "hold_small04": _hold_small04}


def main(name, draws, other):
    torch.set_num_threads(1)
    for draw in draws:
        train, vali, _ = GENERATORS[name](seed=draw)
        print_paired_row(
            {"data": name, "draw": draw, "config": other}, train, vali, other
        )


if __name__ == "__main__":
    main(sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3])
