"""Round 22: does the ensemble's mean weigh its members by their score scale?

``NeuralRanker()`` scores with the plain mean of its members' scores. A
ListNet member's scores are defined up to a shift per query, and their
spread within a query is the member's own confidence: a member whose
scores spread twice as wide counts twice as much in the mean. This fits
the defaults (``D11``) on a set's training part and scores its validation
part with three read-outs of the same fit:

- ``mean``: the defaults (the members ``member_selection`` kept, averaged);
- ``scaled``: each member's scores divided by its *spread*, the mean over
  the training queries of the standard deviation of its scores within a
  query (query ids are known at fit time; ``predict`` needs none);
- ``scaled_all``: the same over all five members, ignoring the selection.

One JSON row per (set, seed), the validation NDCG@10 of each read-out and
the members' spreads.

    SKRANK_CACHE=... python benchmarks/_experiments_readout.py \
        mq1,tree_raw 0,1,2 OUT.jsonl [JOBS]
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _experiments_members import main as run_rows
from _experiments_members import subset_scores
from _experiments_quality import CONFIGS, load, make_ranker

from skrank.metrics import ndcg_score
from skrank.utils import QueryIndex


def member_scores(ranker, X):
    """``[n_rows, n_members]``: each member's scores, one predict per member."""
    alone = {m: [m] for m in range(ranker.module_.n_members)}
    return np.stack(list(subset_scores(ranker, X, None, alone).values()), axis=1)


def spreads(scores, groups):
    """Mean over queries of each column's standard deviation within a query."""
    index = QueryIndex(groups)

    def query_means(values):
        return index.reduce(index.sort(values)) / index.sizes[:, None]

    centred = scores - query_means(scores)[index.codes]
    return np.sqrt(query_means(centred**2)[index.sizes > 1]).mean(0)


def task(args):
    data, seed = args
    torch.set_num_threads(1)
    train, vali, _ = load(data)
    ranker = make_ranker(CONFIGS["D11"], seed, groups=train[2])
    ranker.fit(*train)
    spread = spreads(member_scores(ranker, train[0]), train[2])
    scores = member_scores(ranker, vali[0])
    keep = list(ranker._scoring_members())
    readouts = {
        "mean": ranker.predict(vali[0]),
        "scaled": (scores[:, keep] / spread[keep]).mean(1),
        "scaled_all": (scores / spread).mean(1),
    }
    row = {"data": data, "seed": seed, "members": keep}
    row["spread"] = [round(float(s), 5) for s in spread]
    for name, s in readouts.items():
        row[name] = float(ndcg_score(vali[1], s, vali[2], k=10))
    return row


if __name__ == "__main__":
    run_rows(
        sys.argv[1].split(","),
        [int(s) for s in sys.argv[2].split(",")],
        sys.argv[3],
        *(int(j) for j in sys.argv[4:5]),
        task=task,
    )
