"""Speed of the ranking metrics on 1,000,000 documents in 10,000 queries.

Run from the repository root::

    .venv/bin/python benchmarks/bench_metrics.py

Times the full public calls (validation, the query index and the sort
included), one thread, median of repeats, against a per-query loop over
``sklearn.metrics.ndcg_score`` / ``average_precision_score`` on the same data
in the same run. The sklearn loop is slow, so it is timed on a random subset
of queries and extrapolated linearly to all queries by document count.
"""

import argparse
import os
import platform
import time

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.metrics import ndcg_score as sk_ndcg_score

from skrank.metrics import map_score, ndcg_score, per_query_scores


def make_data(n_docs=1_000_000, n_queries=10_000, seed=0):
    """Heavy-tailed list lengths 1..500, labels 0-4, ~5% tied docs, 1/4 no relevant."""
    rng = np.random.default_rng(seed)
    # log-normal list lengths clipped to 1..500; the location is tuned by
    # bisection so that the lengths add up to about n_docs
    normal = rng.normal(size=n_queries)
    lo, hi = 0.0, 10.0
    for _ in range(50):
        mu = (lo + hi) / 2
        sizes = np.clip(np.ceil(np.exp(mu + 1.5 * normal)), 1, 500).astype(np.int64)
        lo, hi = (mu, hi) if sizes.sum() < n_docs else (lo, mu)
    groups = np.repeat(np.arange(n_queries), sizes)
    n = groups.shape[0]
    labels = rng.choice(5, size=n, p=[0.6, 0.2, 0.1, 0.06, 0.04]).astype(float)
    no_rel = rng.random(n_queries) < 0.25
    labels[no_rel[groups]] = 0.0
    scores = labels * 0.5 + rng.normal(size=n)
    # ~5% of the documents share a score with a neighbour in their query
    tied = np.flatnonzero(rng.random(n) < 0.025)
    tied = tied[tied + 1 < n]
    scores[tied + 1] = scores[tied]
    return labels, scores, groups, sizes


def median_time(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def sklearn_loop(labels, scores, groups, sizes, query_subset, which):
    offsets = np.r_[0, np.cumsum(sizes)]
    total = 0.0
    for q in query_subset:
        lo, hi = offsets[q], offsets[q + 1]
        y, s = labels[lo:hi], scores[lo:hi]
        if which == "ndcg":
            if hi - lo > 1 and y.any():
                total += sk_ndcg_score(y[None], s[None], k=10)
        elif (y >= 1).any():
            total += average_precision_score(y >= 1, s)
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sklearn-queries", type=int, default=1000)
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass

    labels, scores, groups, sizes = make_data()
    n_queries = sizes.shape[0]
    same = scores[1:] == scores[:-1]
    tied_share = np.mean(np.r_[same, False] | np.r_[False, same])
    no_rel = np.mean(np.add.reduceat(labels, np.r_[0, np.cumsum(sizes)[:-1]]) == 0)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"numpy {np.__version__}"
    )
    print(
        f"data: {labels.shape[0]} docs, {n_queries} queries, lengths "
        f"{sizes.min()}..{sizes.max()} (median {int(np.median(sizes))}), "
        f"{tied_share:.1%} docs tied, {no_rel:.1%} queries without relevant"
    )

    rng = np.random.default_rng(1)
    subset = np.sort(rng.choice(n_queries, args.sklearn_queries, replace=False))
    scale = labels.shape[0] / sizes[subset].sum()

    rows = []
    for name, ours, which in [
        ("NDCG@10", lambda: ndcg_score(labels, scores, groups, k=10), "ndcg"),
        ("MAP", lambda: map_score(labels, scores, groups), "map"),
    ]:
        ours()  # warm up
        t_ours = median_time(ours, args.repeat)
        t_sk = median_time(
            lambda w=which: sklearn_loop(labels, scores, groups, sizes, subset, w), 3
        )
        rows.append((name, t_ours, t_sk * scale))

    several = ["ndcg@10", "ndcg", "map", "mrr@10", "precision@10", "recall@10"]
    t_several = median_time(
        lambda: per_query_scores(labels, scores, groups, metrics=several), args.repeat
    )
    t_separate = median_time(
        lambda: [per_query_scores(labels, scores, groups, metrics=m) for m in several],
        max(3, args.repeat // 2),
    )

    print()
    print(f"{'metric':<10} {'skrank s':>10} {'sklearn loop s':>15} {'speed-up':>9}")
    for name, t_ours, t_sk in rows:
        print(f"{name:<10} {t_ours:>10.3f} {t_sk:>15.2f} {t_sk / t_ours:>8.0f}x")
    print(
        f"(sklearn loop timed on {args.sklearn_queries} random queries, "
        f"extrapolated x{scale:.1f} by document count)"
    )
    print()
    print(f"per_query_scores, {len(several)} metrics {several}:")
    print(f"  one call (one sort):   {t_several:.3f} s")
    print(f"  separate calls:        {t_separate:.3f} s")


if __name__ == "__main__":
    main()
