"""Training speed of NeuralRanker.

1. Overhead: one epoch of ``NeuralRanker`` versus a bare hand-written PyTorch
   loop over the same padded batches (same MLP, same loss, same optimizer) on
   100,000 documents in 2,000 queries. Target: at most 1.2x the bare loop.
2. Heavy-tailed list lengths: an epoch with length bucketing versus batching
   queries at random. Target: bucketing at least 2x faster.
3. The DataLoader (batch sampler + padding collate, which Accelerate can
   shard) against the hand-written iterator it replaced, on the same data:
   the batches of one epoch alone, and a whole training epoch. Target: no
   slower (ratio old/new >= 0.95).

Run on one thread, medians of repeats, ratios measured in the same process::

    .venv/bin/python benchmarks/bench_training.py --repeats 5
"""

import argparse
import platform
import time

import numpy as np
import torch

from skrank.estimators import AttentionScorer, MLPScorer, NeuralRanker
from skrank.estimators._data import (
    QueryBatchSampler,
    QueryDataset,
    query_loader,
    subsample_lists,
)
from skrank.losses import get_loss
from skrank.utils import QueryIndex


def make_lists(sizes, n_features, seed):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(sizes.shape[0]), sizes)
    X = rng.normal(size=(groups.shape[0], n_features)).astype(np.float32)
    w = rng.normal(size=n_features)
    y = np.clip(np.floor(X @ w / np.sqrt(n_features) + rng.normal(size=len(X))), 0, 4)
    perm = rng.permutation(groups.shape[0])  # rows of a query not contiguous
    return X[perm], y[perm], groups[perm]


def ranker(loss, batch_size, bucketing=True, hidden=(128, 64), seed=0, module=None):
    if module == "attention":
        module_params = dict(
            module=AttentionScorer,
            module__d_model=32,
            module__n_heads=4,
            module__n_layers=1,
            module__dim_feedforward=64,
        )
    else:
        module_params = dict(module=MLPScorer, module__hidden_sizes=hidden)
    return NeuralRanker(
        loss=loss,
        max_epochs=1,
        batch_size=batch_size,
        validation_fraction=None,
        early_stopping=False,
        bucketing=bucketing,
        random_state=seed,
        **module_params,
    )


def time_neural_ranker(X, y, g, loss, batch_size, bucketing=True, module=None):
    """Return (epoch seconds from history, whole fit() seconds)."""
    model = ranker(loss, batch_size, bucketing, module=module)
    start = time.perf_counter()
    model.fit(X, y, g)
    total = time.perf_counter() - start
    return model.history[-1]["dur"], total


def time_bare_loop(X, y, g, loss_name, batch_size, hidden=(128, 64), seed=0):
    """One epoch of a plain PyTorch loop over pre-built padded batches."""
    torch.manual_seed(seed)
    index = QueryIndex(g)
    ds = QueryDataset(X, y, index)
    rng = np.random.default_rng(seed)
    batches = []
    for xb, labels in query_loader(ds, batch_size, shuffle=True, rng=rng):
        X_pad = xb.X_rows.new_zeros((*xb.mask.shape, X.shape[1]))
        X_pad[xb.mask] = xb.X_rows
        batches.append((X_pad, labels, xb.mask))
    mlp = MLPScorer(X.shape[1], hidden_sizes=hidden)
    loss_fn = get_loss(loss_name)
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-3)
    mlp.train()
    start = time.perf_counter()
    for X_pad, labels, mask in batches:
        opt.zero_grad()
        scores = mlp(X_pad).squeeze(-1)
        loss = loss_fn(scores, labels, mask)
        loss.backward()
        opt.step()
        loss.item()
    return time.perf_counter() - start


def overhead(args):
    rng = np.random.default_rng(0)
    sizes = rng.integers(25, 76, args.n_queries)
    sizes = np.round(sizes * args.n_docs / sizes.sum()).astype(int)
    X, y, g = make_lists(sizes, args.n_features, 0)
    print(
        f"\n## Overhead: {len(X)} documents, {len(sizes)} queries, "
        f"{args.n_features} features, batch_size={args.batch_size} queries"
    )
    for loss in args.losses:
        epoch, fit, bare = [], [], []
        for r in range(args.repeats):
            bare.append(time_bare_loop(X, y, g, loss, args.batch_size, seed=r))
            e, f = time_neural_ranker(X, y, g, loss, args.batch_size)
            epoch.append(e)
            fit.append(f)
        b, e, f = np.median(bare), np.median(epoch), np.median(fit)
        print(
            f"{loss:10s} bare loop {b:.3f}s | NeuralRanker epoch {e:.3f}s "
            f"(x{e / b:.2f}) | whole fit() incl. data prep {f:.3f}s (x{f / b:.2f})"
        )


def heavy_tail(args):
    rng = np.random.default_rng(1)
    sizes = np.clip(np.round(rng.lognormal(2.5, 1.1, args.n_queries)), 1, 2000)
    sizes = sizes.astype(int)
    X, y, g = make_lists(sizes, args.n_features, 1)
    print(
        f"\n## Heavy-tailed lengths: {len(X)} documents, {len(sizes)} queries, "
        f"median length {int(np.median(sizes))}, max {sizes.max()}, "
        f"batch_size={args.batch_size}"
    )
    cases = [(loss, "mlp") for loss in args.losses] + [("listnet", "attention")]
    for loss, module in cases:
        on, off = [], []
        repeats = args.repeats if module == "mlp" else args.attention_repeats
        for _ in range(repeats):
            for bucketing, times in [(True, on), (False, off)]:
                epoch, _ = time_neural_ranker(
                    X, y, g, loss, args.batch_size, bucketing, module
                )
                times.append(epoch)
        a, b = np.median(on), np.median(off)
        print(
            f"{loss:10s} {module:9s} bucketing {a:.3f}s | random batches {b:.3f}s "
            f"| speed-up x{b / a:.2f}"
        )


class LegacyIterator:
    """The hand-written batch iterator that the DataLoader replaced."""

    def __init__(self, dataset, batch_size, shuffle, bucketing, max_list_length, rng):
        self.sampler = QueryBatchSampler(
            dataset, batch_size, shuffle=shuffle, bucketing=bucketing, rng=rng
        )
        self.dataset = dataset
        self.max_list_length = max_list_length
        self.rng = rng

    def __len__(self):
        return len(self.sampler)

    def __iter__(self):
        ds = self.dataset
        for queries in self.sampler.batches():
            if self.max_list_length is not None and ds.y is not None:
                rows, sizes = ds.rows(queries)
                rows, sizes = subsample_lists(
                    rows, sizes, ds.y_np[rows], self.max_list_length, self.rng
                )
                yield ds.batch(queries, rows, sizes)
            else:
                yield ds.batch(queries)


class LegacyRanker(NeuralRanker):
    def get_iterator(self, dataset, training=False):
        return LegacyIterator(
            dataset,
            self.batch_size,
            training,
            self.bucketing,
            self.max_list_length if training else None,
            self.rng_,
        )


def loader_vs_legacy(args):
    rng = np.random.default_rng(1)
    sizes = np.clip(np.round(rng.lognormal(2.5, 1.1, args.n_queries)), 1, 2000)
    X, y, g = make_lists(sizes.astype(int), args.n_features, 1)
    print(
        f"\n## DataLoader vs former iterator: {len(X)} documents, {len(sizes)} "
        f"queries (heavy-tailed), batch_size={args.batch_size}; ratio old/new "
        "(> 1: the DataLoader is faster)"
    )
    ds = QueryDataset(X, y, QueryIndex(g))
    for max_len in [None, 20]:
        old, new = [], []
        for r in range(args.repeats):
            legacy = LegacyIterator(
                ds, args.batch_size, True, True, max_len, np.random.default_rng(r)
            )
            loader = query_loader(
                ds,
                args.batch_size,
                shuffle=True,
                max_list_length=max_len,
                rng=np.random.default_rng(r),
            )
            for batches, times in [(legacy, old), (loader, new)]:
                start = time.perf_counter()
                for _ in batches:
                    pass
                times.append(time.perf_counter() - start)
        o, n = np.median(old), np.median(new)
        print(
            f"batches only, max_list_length={max_len}: former {o * 1e3:.1f} ms | "
            f"DataLoader {n * 1e3:.1f} ms | old/new x{o / n:.2f}"
        )
    for loss in args.losses:
        old, new = [], []
        for _ in range(args.repeats):
            for cls, times in [(LegacyRanker, old), (NeuralRanker, new)]:
                model = cls(
                    loss=loss,
                    max_epochs=1,
                    batch_size=args.batch_size,
                    validation_fraction=None,
                    early_stopping=False,
                    random_state=0,
                    module__hidden_sizes=(128, 64),
                )
                model.fit(X, y, g)
                times.append(model.history[-1]["dur"])
        o, n = np.median(old), np.median(new)
        print(
            f"{loss:10s} training epoch: former {o:.3f}s | DataLoader {n:.3f}s | "
            f"old/new x{o / n:.2f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-docs", type=int, default=100_000)
    parser.add_argument("--n-queries", type=int, default=2_000)
    parser.add_argument("--n-features", type=int, default=46)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--losses", nargs="+", default=["ranknet", "listnet"])
    parser.add_argument("--attention-repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--only-loader",
        action="store_true",
        help="run only the DataLoader vs former iterator comparison",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{args.threads} thread(s), median of {args.repeats} repeats"
    )
    if not args.only_loader:
        overhead(args)
        heavy_tail(args)
    loader_vs_legacy(args)


if __name__ == "__main__":
    main()
