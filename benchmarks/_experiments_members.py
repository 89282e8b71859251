"""Round 20: which of the defaults' members carry the ranking, set by set?

``D9``'s five members are three networks on the features and their quantile
bins (members 0, 2, 4) and two on the features alone (1, 3). This fits ``D9``
on a set's training part and scores its validation part with the mean of
every member (the defaults), of the binned members alone and of the plain
members alone; the row also has the probe's held-out NDCG@10 of the three
means at its best epoch (``probe_ndcg``), on which ``member_selection``
decides. One JSON row per (set, seed). A set named ``"tree_raw@301"`` is the
generator of ``tree_raw`` drawn anew with seed 301 (tree sets, ``syn_raw``,
``hold_small04``); its test part is scored too (``test_*``). ``"mslr"`` is
``bench_quality.py --mslr``'s task (its test part is also the "vali" part).

    SKRANK_CACHE=... python benchmarks/_experiments_members.py \
        mq1,tree_raw 0,1,2 OUT.jsonl [JOBS]
"""

import json
import multiprocessing
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _experiments_quality import (
    _TREE_SETS,
    CONFIGS,
    _hold_small04,
    _stash_probe_history,
    _syn_raw,
    _tree_world,
    load,
    make_ranker,
)

from skrank.estimators import NeuralRanker
from skrank.metrics import ndcg_score

#: score the test parts of the harness's sets too (SKRANK_MEMBERS_TEST=1):
#: the pairs of D9 ("all") and D11 on the test tables' fits
TEST = os.environ.get("SKRANK_MEMBERS_TEST") == "1"
SUBSETS = {"all": [0, 1, 2, 3, 4], "binned": [0, 2, 4], "plain": [1, 3]}


class MemberLoggingRanker(NeuralRanker):
    """Logs each member's loss (and a constant score's) on validation batches."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if not training and X is not None:
            n = self.module_.n_members
            with torch.no_grad():
                parts = y_pred.unflatten(-1, (n, -1)).unbind(-2)
                values = [
                    float(self._member_loss(p, y_true, X.mask, X.weights))
                    for p in (*parts, torch.zeros_like(parts[0]))
                ]
            self.history.record_batch("member_losses", values)
            mask = X.mask
            scores = torch.stack([self._member_score(p) for p in parts], -1)
            self.history.record_batch("member_scores", scores[mask].tolist())
            self.history.record_batch("member_labels", y_true[mask].tolist())
            self.history.record_batch("member_sizes", mask.sum(1).tolist())
            self.history.record_batch("member_n", int(y_true.shape[0]))
        return super().get_loss(y_pred, y_true, X=X, training=training)


def probe_member_losses(history):
    """Each member's held-out loss, and a constant's, at the probe's best epoch."""
    losses = np.asarray(history[:, "valid_loss"], dtype=np.float64)
    best = int(np.nanargmin(losses))
    batches = [b for b in history[best]["batches"] if "member_losses" in b]
    n = np.array([b["member_n"] for b in batches], dtype=np.float64)
    values = np.array([b["member_losses"] for b in batches])
    scores = np.concatenate([b["member_scores"] for b in batches])
    labels = np.concatenate([b["member_labels"] for b in batches])
    sizes = np.concatenate([b["member_sizes"] for b in batches])
    groups = np.repeat(np.arange(sizes.shape[0]), sizes)
    ndcg = {
        name: float(ndcg_score(labels, scores[:, keep].mean(1), groups, k=10))
        for name, keep in SUBSETS.items()
    }
    return (n[:, None] * values).sum(0) / n.sum(), best + 1, ndcg


def subset_scores(ranker, X, groups, subsets=SUBSETS):
    """``{subset: scores}``: the mean of those members' scores."""
    n = ranker.module_.n_members
    original = ranker._score_from_output
    out = {}
    try:
        for name, keep in subsets.items():

            def score(output, keep=keep):
                parts = output.unflatten(-1, (n, -1)).unbind(-2)
                return sum(ranker._member_score(parts[m]) for m in keep) / len(keep)

            ranker._score_from_output = score
            out[name] = ranker.predict(X, groups=groups)
    finally:
        ranker._score_from_output = original
    return out


def parts_of(data):
    """A set of the harness, or ``"name@draw"``: its generator drawn anew."""
    name, _, draw = data.partition("@")
    if name == "mslr":  # the stretch task's test draw (bench_quality --mslr)
        from bench_quality import make_mslr_shaped

        train, test = make_mslr_shaped()
        return train, test, test
    if not draw:
        return load(name)
    if name in _TREE_SETS:
        return _tree_world(**{**_TREE_SETS[name], "seed": int(draw)})
    return {"syn_raw": _syn_raw, "hold_small04": _hold_small04}[name](seed=int(draw))


def task(args):
    data, seed = args
    torch.set_num_threads(1)
    train, vali, test = parts_of(data)
    _stash_probe_history()
    ranker = make_ranker(CONFIGS["D9"], seed, groups=train[2])
    ranker.__class__ = MemberLoggingRanker  # the probe is a clone: logs too
    ranker.fit(*train)
    row = {"data": data, "seed": seed, "epochs": len(ranker.history)}
    member, row["probe_best"], ndcg = probe_member_losses(ranker.probe_history_)
    row["probe_ndcg"] = ndcg
    row["probe_losses"] = [round(float(v), 6) for v in member]
    for name, scores in subset_scores(ranker, vali[0], vali[2]).items():
        row[name] = float(ndcg_score(vali[1], scores, vali[2], k=10))
    if "@" in data or TEST:  # a new draw's test part is as unseen as its vali
        for name, scores in subset_scores(ranker, test[0], test[2]).items():
            row[f"test_{name}"] = float(ndcg_score(test[1], scores, test[2], k=10))
    return row


def main(data, seeds, out, jobs=2, task=task):
    """Run ``task((set, seed))`` for each pair, ``jobs`` processes; rows to ``out``."""
    for name in data:
        if "@" not in name and name != "mslr":
            load(name)
    tasks = [(d, s) for s in seeds for d in data]
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        for row in pool.imap_unordered(task, tasks):
            print(json.dumps(row), flush=True)
            with open(out, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(
        sys.argv[1].split(","),
        [int(s) for s in sys.argv[2].split(",")],
        sys.argv[3],
        *(int(j) for j in sys.argv[4:5]),
    )
