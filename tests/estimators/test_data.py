"""Query batches as a DataLoader: batch sampler, collation, sharding."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skrank.estimators import NeuralRanker
from skrank.estimators._data import (
    QueryBatchSampler,
    QueryDataset,
    query_loader,
    subsample_lists,
)
from skrank.utils import QueryIndex


def make_dataset(n_queries=50, seed=0, sparse=False, max_len=40):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_len, n_queries)
    groups = rng.permutation(np.repeat(np.arange(n_queries), sizes))
    X = rng.normal(size=(groups.shape[0], 3))
    y = rng.integers(0, 3, groups.shape[0]).astype(float)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0))
    return QueryDataset(X, y, QueryIndex(groups)), X, y


def reference_batches(dataset, batch_size, rng, jitter=0.1):
    """The batch order of the hand-written iterator this loader replaced."""
    queries = dataset.queries
    lengths = np.log(dataset.sizes[queries].astype(np.float64))
    lengths = lengths + rng.uniform(0.0, jitter, queries.shape[0])
    queries = queries[np.argsort(lengths, kind="stable")]
    batches = [
        queries[i : i + batch_size] for i in range(0, queries.shape[0], batch_size)
    ]
    return [batches[i] for i in rng.permutation(len(batches))]


def test_loader_is_a_dataloader_of_padded_query_batches():
    ds, _, _ = make_dataset()
    loader = query_loader(ds, 8, shuffle=True, rng=np.random.default_rng(0))
    assert isinstance(loader, torch.utils.data.DataLoader)
    assert loader.num_workers == 0
    assert len(loader) == 7  # ceil(50 / 8)
    seen = []
    for xb, labels in loader:
        rows, sizes = ds.rows(xb.queries)
        np.testing.assert_array_equal(xb.mask.sum(1).numpy(), sizes)
        assert xb.mask.shape[1] == sizes.max()
        X_pad = torch.zeros((*xb.mask.shape, 3))
        X_pad[xb.mask] = xb.X_rows
        np.testing.assert_allclose(
            X_pad[xb.mask].numpy(), ds.X[torch.as_tensor(rows)].numpy()
        )
        np.testing.assert_array_equal(labels[xb.mask].numpy(), ds.y_np[rows])
        assert float(labels[~xb.mask].abs().sum()) == 0
        seen.extend(xb.queries.tolist())
    assert sorted(seen) == list(range(50))  # every query once


def test_batch_order_and_subsampling_keep_the_former_random_stream():
    # The batches and subsampled lists equal those of the former iterator for
    # the same generator: the same seed gives the same training as before.
    ds, _, _ = make_dataset(seed=1)
    rng, twin = np.random.default_rng(5), np.random.default_rng(5)
    loader = query_loader(ds, 8, shuffle=True, max_list_length=6, rng=rng)
    for _ in range(2):  # two epochs
        expected = reference_batches(ds, 8, twin)
        got = list(loader)
        assert len(got) == len(expected)
        for (xb, labels), queries in zip(got, expected, strict=True):
            np.testing.assert_array_equal(xb.queries, queries)
            rows, sizes = ds.rows(queries)
            rows, sizes = subsample_lists(rows, sizes, ds.y_np[rows], 6, twin)
            np.testing.assert_array_equal(xb.mask.sum(1).numpy(), sizes)
            np.testing.assert_array_equal(labels[xb.mask].numpy(), ds.y_np[rows])
    assert rng.random() == twin.random()  # the streams stay in step


def test_unshuffled_batches_are_sorted_by_length_without_randomness():
    ds, _, _ = make_dataset()
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    lengths = [xb.mask.shape[1] for xb, _ in query_loader(ds, 8, rng=rng)]
    assert lengths == sorted(lengths)
    assert rng.bit_generator.state == state
    unbucketed = QueryBatchSampler(ds, 8, bucketing=False)
    np.testing.assert_array_equal(np.concatenate(unbucketed.batches()), ds.queries)


def test_random_batches_without_bucketing():
    ds, _, _ = make_dataset()
    sampler = QueryBatchSampler(
        ds, 8, shuffle=True, bucketing=False, rng=np.random.default_rng(0)
    )
    order = np.concatenate(sampler.batches())
    assert sorted(order.tolist()) == list(range(50))
    assert order.tolist() != list(range(50))
    assert all(len(b) == 8 for b in sampler.batches()[:-1])


def test_sparse_and_subset_datasets():
    ds, _, _ = make_dataset(sparse=True)
    sub = ds.subset([3, 1, 7])
    batches = list(query_loader(sub, 2))
    assert sorted(np.concatenate([b.queries for b, _ in batches]).tolist()) == [1, 3, 7]
    for xb, _ in batches:
        rows, _ = ds.rows(xb.queries)
        np.testing.assert_allclose(xb.X_rows.numpy(), ds.X[rows].toarray())


def test_single_items_are_refused():
    ds, _, _ = make_dataset()
    with pytest.raises(TypeError, match=r"whole queries at a time.*Got a single"):
        ds[0]
    np.testing.assert_array_equal(ds.__getitems__([4, 2]), [4, 2])


def _shards(sampler_factory, n_shards, even_batches=True):
    """What each process gets from Accelerate's BatchSamplerShard."""
    from accelerate.data_loader import BatchSamplerShard

    return [
        list(
            BatchSamplerShard(
                sampler_factory(),
                num_processes=n_shards,
                process_index=rank,
                even_batches=even_batches,
            )
        )
        for rank in range(n_shards)
    ]


@pytest.mark.parametrize("n_shards", [2, 3])
def test_shards_get_disjoint_whole_queries_in_equal_numbers(n_shards):
    pytest.importorskip("accelerate")
    ds, _, _ = make_dataset(n_queries=50)

    def sampler():  # each process seeds its own generator identically
        return QueryBatchSampler(
            ds, 8, shuffle=True, rng=np.random.default_rng(3), n_shards=n_shards
        )

    assert len(sampler()) % n_shards == 0
    shards = _shards(sampler, n_shards)
    assert len({len(s) for s in shards}) == 1  # same number of steps
    queries = [[q for batch in shard for q in batch] for shard in shards]
    assert sum(len(q) for q in queries) == 50  # nothing repeated
    assert sorted(q for shard in queries for q in shard) == list(range(50))
    # round r: process k gets the k-th batch of the same global order
    order = sampler().batches()
    for rank, shard in enumerate(shards):
        for r, batch in enumerate(shard):
            assert batch == order[r * n_shards + rank].tolist()


def test_unrounded_batches_are_padded_by_accelerate_with_repeats():
    # What the rounding avoids: 7 batches on 2 processes, Accelerate's
    # even_batches repeats the first batch so that both take 4 steps.
    pytest.importorskip("accelerate")
    ds, _, _ = make_dataset(n_queries=50)
    shards = _shards(lambda: QueryBatchSampler(ds, 8), 2)
    assert [len(s) for s in shards] == [4, 4]
    assert sum(len(b) for s in shards for b in s) > 50


def test_replicated_batches_reach_every_shard():
    pytest.importorskip("accelerate")
    ds, _, _ = make_dataset(n_queries=50)
    shards = _shards(lambda: QueryBatchSampler(ds, 8, n_shards=2, replicate=True), 2)
    expected = [b.tolist() for b in QueryBatchSampler(ds, 8).batches()]
    assert shards == [expected, expected]


def test_fit_without_device_puts_data_on_the_cpu():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = rng.integers(0, 3, 60).astype(float)
    g = np.repeat(np.arange(6), 10)
    model = NeuralRanker(
        max_epochs=2, random_state=0, device=None, module__hidden_sizes=(4,)
    )
    model.fit(X, y, g)
    expected = NeuralRanker(max_epochs=2, random_state=0, module__hidden_sizes=(4,))
    np.testing.assert_array_equal(model.predict(X), expected.fit(X, y, g).predict(X))
