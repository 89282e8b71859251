"""Query datasets, length-bucketed batch sampling and padding collation.

A :class:`QueryDataset` holds the rows of a data set sorted by query (one
conversion through :class:`~skrank.utils.QueryIndex`), as tensors made once
per fit. Batches come from a standard :class:`torch.utils.data.DataLoader`
(see :func:`query_loader`): a :class:`QueryBatchSampler` yields lists of
query numbers, ``QueryDataset.__getitems__`` hands a whole list over at once
and the sampler's :meth:`~QueryBatchSampler.collate` gathers and pads it into

- ``X_rows``: ``[n_rows, n_features]`` float32, the rows of the batch's
  queries, concatenated query after query (row-major order of ``mask``),
- ``mask``: ``[n_queries, list_len]`` bool, True where a document is real,
- ``labels``: ``[n_queries, list_len]`` float32, 0 at padding,

so that ``X_pad[mask] = X_rows`` rebuilds the padded ``[Q, L, F]`` tensor for
context-aware modules, and row-wise modules never compute on padding.
Everything is built with vectorised index arithmetic from the offsets of the
query index; there is no Python loop over queries.

Because the loader is a plain ``DataLoader`` with a batch sampler, Accelerate
(``accelerator.prepare``) can shard it between processes: each process takes
every n-th batch of the same global order (see :class:`QueryBatchSampler`).
"""

import numpy as np
import scipy.sparse as sp
import torch

__all__ = [
    "QueryBatch",
    "QueryBatchSampler",
    "QueryDataset",
    "query_loader",
    "subsample_lists",
]


class QueryBatch:
    """The inputs of a batch: ``X_rows`` and ``mask``; ``len`` = n_queries.

    ``weights`` holds the batch's query weights (None: unweighted);
    ``queries`` the dataset's numbers of its queries (ndarray, or None).

    Unpacks as ``X_rows, mask = batch``. skorch measures a batch by
    ``len``, which is the number of queries here (not of rows).
    """

    __slots__ = ("X_rows", "flat_index", "mask", "queries", "weights")

    #: skorch asks batches whether they are sparse; answering saves an exception.
    is_sparse = False

    def __init__(self, X_rows, mask, flat_index=None, weights=None, queries=None):
        self.X_rows = X_rows
        self.mask = mask
        self.weights = weights
        self.queries = queries
        if flat_index is None:
            flat_index = torch.flatten(mask).nonzero().squeeze(1)
        self.flat_index = flat_index

    def pad(self, values):
        """Scatter per-row ``values`` ``[n_rows, ...]`` into ``[Q, L, ...]`` (zeros).

        Differentiable; uses the precomputed flat positions of the real
        documents (no boolean-mask indexing).
        """
        n_q, width = self.mask.shape
        out = values.new_zeros((n_q * width, *values.shape[1:]))
        out = out.index_copy(0, self.flat_index, values)
        return out.view(n_q, width, *values.shape[1:])

    def __len__(self):
        return int(self.mask.shape[0])

    def __iter__(self):
        yield self.X_rows
        yield self.mask


#: Rows gathered (and transformed) at a time when sorting dense features.
_GATHER_BYTES = 32 * 2**20


def dense_float32(block, transform=None):
    """A row block as a dense float32 array, ``transform`` applied once dense.

    Sparse rows are densified *before* the transform, so a transform sees
    the same values whether the user's ``X`` was sparse or dense (a sparse
    matrix cannot be centred without densifying it).
    """
    if sp.issparse(block):
        block = block.toarray()
    if transform is not None:
        block = transform(block)
        if sp.issparse(block):
            block = block.toarray()
    return np.asarray(block, dtype=np.float32)


def _sorted_float32(X, order, transform=None):
    """``transform(X[order])`` as one C-contiguous float32 array, built in chunks.

    The only full-size allocation is the result: gathering, casting and
    transforming go through row blocks of about ``_GATHER_BYTES``, so a
    float64 input or an input transformation never holds a second full copy.
    """
    X = np.asarray(X)
    n, width = X.shape
    out = None  # allocated at the first block: a transform may change the width
    step = max(1, _GATHER_BYTES // (8 * max(1, width)))
    for start in range(0, max(n, 1), step):
        block = X[order[start : start + step]]
        if transform is not None:
            block = transform(block)
        if out is None:
            out = np.empty((n, block.shape[1]), dtype=np.float32)
        out[start : start + step] = block
    return out


class QueryDataset(torch.utils.data.Dataset):
    """Rows grouped by query, sorted once, ready to be cut into batches.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Validated features. Dense input becomes one float32 tensor; sparse
        input stays sparse (CSR) and is densified batch by batch.
    y : ndarray of shape (n_samples,), default=None
        Relevance labels (None for prediction).
    index : QueryIndex
        The query index of the rows.
    device : str, default="cpu"
        Where the dense tensors live.
    transform : callable, default=None
        Applied to dense row blocks: to all rows once for dense input, to
        each densified batch for sparse input (see :func:`dense_float32`).

    Notes
    -----
    ``len(dataset)`` is the number of queries it iterates over (those of a
    :meth:`subset` for a subset). A ``DataLoader`` fetches a batch sampler's
    list of query numbers through ``__getitems__``, which returns it as an
    array; :meth:`batch` (called by the collate function) builds the padded
    batch. Single items are not supported.
    """

    def __init__(self, X, y, index, device="cpu", transform=None):
        self.index = index
        self.device = device
        order = index.order
        self.transform = None
        if sp.issparse(X):
            self.X = sp.csr_matrix(X)[order]
            self.X.sort_indices()
            self.sparse = True
            self.transform = transform  # applied to each densified batch
            # a transform may change the number of columns
            self.n_features = self.X.shape[1]
            if transform is not None and self.X.shape[0]:
                self.n_features = dense_float32(self.X[:1], transform).shape[1]
        else:
            self.X = torch.from_numpy(_sorted_float32(X, order, transform)).to(device)
            self.sparse = False
            self.n_features = self.X.shape[1]
        if y is None:
            self.y = self.y_np = None
        else:
            self.y_np = np.asarray(y, dtype=np.float32)[order]
            self.y = torch.as_tensor(self.y_np, device=device)
        self.offsets = index.offsets
        self.sizes = index.sizes
        self.query_weights = None  # set by NeuralRanker for sample_weight

    def __len__(self):
        return self.n_queries()

    def __getitem__(self, i):
        raise TypeError(
            "QueryDataset is read whole queries at a time: use query_loader (a "
            "DataLoader with a QueryBatchSampler). Got a single index "
            f"{i!r} instead."
        )

    def __getitems__(self, queries):
        """The query numbers of a batch, as an array (the collate pads them)."""
        return np.asarray(queries, dtype=np.intp)

    def subset(self, queries):
        """A view restricted to the query numbers ``queries`` (sorted)."""
        sub = object.__new__(type(self))
        sub.__dict__.update(self.__dict__)
        queries = np.sort(np.asarray(queries, dtype=np.intp))
        sub._queries = queries
        return sub

    @property
    def queries(self):
        """The query numbers this dataset iterates over."""
        q = getattr(self, "_queries", None)
        return np.arange(len(self.sizes)) if q is None else q

    def n_queries(self):
        return int(self.queries.shape[0])

    def rows(self, queries):
        """Sorted-row positions of ``queries`` (concatenated) and their sizes."""
        sizes = self.sizes[queries]
        first = np.cumsum(sizes) - sizes
        rows = np.repeat(self.offsets[queries] - first, sizes) + np.arange(sizes.sum())
        return rows, sizes

    def batch(self, queries, rows=None, sizes=None):
        """Padded batch ``(QueryBatch(X_rows, mask), labels)`` of ``queries``.

        ``rows``/``sizes`` (from :meth:`rows`, possibly subsampled) may be
        given; by default every row of each query is used.
        """
        if rows is None:
            rows, sizes = self.rows(queries)
        n_q = sizes.shape[0]
        width = int(sizes.max()) if n_q else 0
        dev = self.device
        sizes_t = torch.as_tensor(sizes, device=dev)
        mask = torch.arange(width, device=dev)[None, :] < sizes_t[:, None]
        # flat position (query * width + rank) of each row in the padded batch
        first = np.cumsum(sizes) - sizes
        flat = np.arange(rows.shape[0]) + np.repeat(
            np.arange(n_q) * width - first, sizes
        )
        batch_rows = torch.as_tensor(rows, device=dev)
        if self.sparse:
            X_rows = torch.as_tensor(
                dense_float32(self.X[rows], self.transform), device=dev
            )
        else:
            X_rows = self.X.index_select(0, batch_rows)
        weights = None
        if self.query_weights is not None:
            weights = torch.as_tensor(
                self.query_weights[queries], dtype=torch.float32, device=dev
            )
        batch = QueryBatch(
            X_rows, mask, torch.as_tensor(flat, device=dev), weights, queries
        )
        labels = None
        if self.y is not None:
            labels = batch.pad(self.y.index_select(0, batch_rows))
        return batch, labels


def subsample_lists(rows, sizes, labels, max_length, rng=None, *, noise=None):
    """Cap each list at ``max_length`` rows, keeping relevant documents first.

    Every list longer than ``max_length`` keeps a random subset of its rows
    in which documents with a label > 0 are taken before the others (all of
    them when there are at most ``max_length``; a random subset of them
    otherwise). Kept rows stay in their original order. Vectorised: one
    ``lexsort`` over the batch.

    Parameters
    ----------
    rows : ndarray of shape (n_rows,)
        Row positions, list after list.
    sizes : ndarray of shape (n_lists,)
        Size of each list.
    labels : ndarray of shape (n_rows,)
        The label of each row.
    max_length : int
        The cap.
    rng : numpy.random.Generator, default=None
        Source of randomness (one uniform draw per row).
    noise : ndarray of shape (n_rows,), default=None
        Uniform draws in [0, 1) to use instead of drawing from ``rng``.

    Returns
    -------
    rows, sizes : ndarray
        The kept rows and the new sizes.
    """
    if sizes.shape[0] == 0 or sizes.max() <= max_length:
        return rows, sizes
    code = np.repeat(np.arange(sizes.shape[0]), sizes)
    if noise is None:
        noise = rng.random(rows.shape[0])
    priority = (labels > 0).astype(np.float64) + noise
    order = np.lexsort((-priority, code))
    starts = np.cumsum(sizes) - sizes
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0]) - np.repeat(starts, sizes)
    keep = rank < max_length
    return rows[keep], np.minimum(sizes, max_length)


class QueryBatchSampler(torch.utils.data.Sampler):
    """Batches of query numbers for a ``DataLoader``, length-bucketed.

    With ``bucketing=True`` queries are sorted by length (with a random
    jitter so that batches change between epochs), cut into consecutive
    batches, and the batch order is shuffled: lists of similar length share
    a batch and padding stays small on heavy-tailed list lengths. With
    ``bucketing=False`` and ``shuffle=True`` queries are batched at random.
    Each iteration yields the batches of one epoch as lists of query numbers
    (those of ``dataset.queries``); :meth:`collate` pads one into a batch.

    Parameters
    ----------
    dataset : QueryDataset
        The queries to iterate over.
    batch_size : int
        Number of queries per batch (-1 = all).
    shuffle : bool, default=False
        Shuffle between epochs (training).
    bucketing : bool, default=True
        Batch queries of similar length together.
    max_list_length : int, default=None
        Subsample longer lists in each batch (see :func:`subsample_lists`).
    rng : numpy.random.Generator, default=None
        Source of randomness for shuffling, jitter and subsampling. Each
        epoch draws, in this order, the jitter (or the permutation), the
        batch order, then the subsampling of the batches that need it in
        batch order: all at the start of the epoch, so that processes that
        share the seed and each collate a different share of the batches
        keep the same stream.
    jitter : float, default=0.1
        Relative jitter of the length used for sorting: lists whose lengths
        differ by less than about this fraction may swap buckets.
    n_shards : int, default=1
        The number of processes that will share the batches, each taking
        every ``n_shards``-th batch (Accelerate's ``BatchSamplerShard``).
        Without ``replicate``, the number of batches is rounded up to a
        multiple of ``n_shards`` (smaller batches): every process gets the
        same number of batches and every query is seen once per epoch, so
        Accelerate never pads a process's share with repeated batches.
    replicate : bool, default=False
        Yield each batch ``n_shards`` times in a row: after sharding, every
        process gets every batch (e.g. validation, so that the validation
        score and early stopping agree on all processes).

    Attributes
    ----------
    batch_size : None
        Batches vary in size; Accelerate reads this to shard whole batches.
    """

    batch_size = None

    def __init__(
        self,
        dataset,
        batch_size,
        *,
        shuffle=False,
        bucketing=True,
        max_list_length=None,
        rng=None,
        jitter=0.1,
        n_shards=1,
        replicate=False,
    ):
        self.dataset = dataset
        self.queries_per_batch = batch_size
        self.shuffle = shuffle
        self.bucketing = bucketing
        self.max_list_length = max_list_length
        self.rng = np.random.default_rng() if rng is None else rng
        self.jitter = jitter
        self.n_shards = int(n_shards)
        self.replicate = replicate
        self._noise = None

    def _size_and_count(self):
        n = self.dataset.n_queries()
        size = self.queries_per_batch
        size = n if size in (-1, None) else max(1, int(size))
        count = -(-n // size)
        if self.n_shards > 1 and not self.replicate and n >= self.n_shards:
            count = -(-count // self.n_shards) * self.n_shards
        return size, count

    def batches(self):
        """The batches of one epoch: a list of arrays of query numbers.

        Draws the jitter (or permutation) and the batch order from ``rng``
        when shuffling.
        """
        queries = self.dataset.queries
        n = queries.shape[0]
        size, count = self._size_and_count()
        if self.bucketing:
            lengths = np.log(self.dataset.sizes[queries].astype(np.float64))
            if self.shuffle:
                lengths = lengths + self.rng.uniform(0.0, self.jitter, n)
            queries = queries[np.argsort(lengths, kind="stable")]
        elif self.shuffle:
            queries = queries[self.rng.permutation(n)]
        if count == -(-n // size):
            batches = [queries[i : i + size] for i in range(0, n, size)]
        else:  # more batches, one round per process: sizes as equal as possible
            batches = np.array_split(queries, count)
        if self.shuffle and self.bucketing:
            batches = [batches[i] for i in self.rng.permutation(len(batches))]
        return batches

    def _draw_noise(self, batches):
        """Per-row draws for the subsampling of this epoch's long batches."""
        ds = self.dataset
        if self.max_list_length is None or ds.y is None or not batches:
            return None
        sizes = ds.sizes
        long = [b for b in batches if sizes[b].max() > self.max_list_length]
        if not long:
            return None
        rows, _ = ds.rows(np.concatenate(long))
        noise = np.zeros(ds.y_np.shape[0])
        noise[rows] = self.rng.random(rows.shape[0])
        return noise

    def __len__(self):
        _, count = self._size_and_count()
        return count * self.n_shards if self.replicate else count

    def __iter__(self):
        batches = self.batches()
        self._noise = self._draw_noise(batches)
        repeats = self.n_shards if self.replicate else 1
        for queries in batches:
            queries = queries.tolist()
            for _ in range(repeats):
                yield queries

    def collate(self, queries):
        """Pad the queries of a batch: ``(QueryBatch(X_rows, mask), labels)``.

        Lists longer than ``max_list_length`` are subsampled with the draws
        made for this epoch (see :func:`subsample_lists`).
        """
        ds = self.dataset
        queries = np.asarray(queries, dtype=np.intp)
        if self._noise is None:
            return ds.batch(queries)
        rows, sizes = ds.rows(queries)
        rows, sizes = subsample_lists(
            rows, sizes, ds.y_np[rows], self.max_list_length, noise=self._noise[rows]
        )
        return ds.batch(queries, rows, sizes)


def query_loader(
    dataset,
    batch_size,
    *,
    shuffle=False,
    bucketing=True,
    max_list_length=None,
    rng=None,
    jitter=0.1,
    n_shards=1,
    replicate=False,
):
    """A ``DataLoader`` of padded query batches of ``dataset``.

    Its batch sampler is a :class:`QueryBatchSampler` (all parameters but
    ``dataset`` go to it) and its ``collate_fn`` the sampler's
    :meth:`~QueryBatchSampler.collate`; it runs in the calling process
    (``num_workers=0``: the data are tensors already, possibly on a GPU).

    Returns
    -------
    loader : torch.utils.data.DataLoader
        Yields ``(QueryBatch(X_rows, mask), labels)``.
    """
    sampler = QueryBatchSampler(
        dataset,
        batch_size,
        shuffle=shuffle,
        bucketing=bucketing,
        max_list_length=max_list_length,
        rng=rng,
        jitter=jitter,
        n_shards=n_shards,
        replicate=replicate,
    )
    return torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, collate_fn=sampler.collate
    )
