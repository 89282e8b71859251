"""Round 14: the feature screen on small curated data (no training).

On random subsets of MQ2008 training folds 1-3 (30, 60, 100 and 200 queries,
5 draws each), prints round 14's share (the features that vary within queries
and pass the screen) and how many of those features the interaction-stage
rule without the share rule (``R14_trend_inter``) would penalise.

    SKRANK_MQ2008=../shared/data/MQ2008 python benchmarks/_experiments_screen_subsets.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _experiments_quality as E

from skrank.estimators._screen import _column_tests, benjamini_hochberg
from skrank.utils import QueryIndex


def main():
    for fold in (1, 2, 3):
        X, y, g = E.DATASETS[f"mq{fold}"]()[0]
        queries = np.unique(g)
        for n in (30, 60, 100, 200):
            cells = []
            for draw in range(5):
                rng = np.random.default_rng(100 * n + draw)
                keep = np.isin(g, rng.choice(queries, n, replace=False))
                Xs, ys, index = X[keep], y[keep], QueryIndex(g[keep])
                pvalues, constant = _column_tests(Xs, ys, index)
                found = benjamini_hochberg(pvalues)
                if not found.any():
                    cells.append("none pass")
                    continue
                share = found[~constant].mean()
                failed = np.flatnonzero(~found)
                inter = E._interaction_pvalues(
                    Xs, ys, index, failed, np.flatnonzero(found), pvalues
                )
                found[failed] = benjamini_hochberg(inter[failed])
                cells.append(f"{share:.2f}/{int((~found & ~constant).sum())}")
            print(
                f"mq{fold}, {n} queries (share / penalised of "
                f"{int((~constant).sum())}): {'  '.join(cells)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
