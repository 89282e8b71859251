"""Chunked engines for the smooth-rank listwise losses.

Both engines work on the documents of each list packed to the front (real
documents first) and on chunks of lists of similar length, so that the
``O(list_len**2)`` work of a chunk fits in a few megabytes whatever the batch
size, and padding costs no work. Each engine computes the per-list value and
its gradient with respect to the scores in one forward pass and keeps only the
``[n_queries, list_len]`` gradient for backward (the hyper-parameters and
labels are constants), as the pairwise engine of :mod:`skrank.losses._base`
does.

- :func:`approx_ndcg_per_list`: smooth ranks from sigmoids of score
  differences (Qin et al. 2010), two passes over blocks of rows.
- :func:`neural_ndcg_per_list`: NeuralSort (Grover et al. 2019) with
  Sinkhorn scaling; the scaling is kept as two vectors, so the permutation
  matrix of a chunk is the only ``[list_len, list_len]`` tensor, and its
  gradient is never materialised (see :class:`_NeuralNDCGFunction`).
"""

import math

import torch

from ..metrics._gains import discount

__all__ = ["approx_ndcg_per_list", "neural_ndcg_per_list", "pack_lists"]

#: Target size in bytes of one ``[lists, rows, cols]`` block of work.
BLOCK_BYTES = 2**22


class PackedLists:
    """Real documents moved to the front of each list, lists in chunks.

    Attributes
    ----------
    doc_order : LongTensor of shape (n_queries, list_len)
        Gather index: real documents first (stable), then padding.
    n_real : LongTensor of shape (n_queries,)
        Real documents per list.
    list_order : LongTensor of shape (n_queries,)
        Lists by decreasing number of real documents.
    """

    def __init__(self, mask):
        self.doc_order = torch.argsort((~mask).to(torch.int8), dim=-1, stable=True)
        self.n_real = mask.sum(dim=-1)
        self.list_order = torch.argsort(self.n_real, descending=True, stable=True)
        self._n_sorted = self.n_real[self.list_order].tolist()

    def pack(self, values):
        """Gather ``[Q, L]`` values so that real documents come first."""
        return values.gather(-1, self.doc_order)

    def unpack(self, values):
        """Inverse of :meth:`pack`."""
        return torch.empty_like(values).scatter_(-1, self.doc_order, values)

    def chunks(self, size_of_list, budget=None):
        """Yield ``(lists, width)``: list indices and their longest length.

        ``size_of_list(width)`` is the work size of one list of that width; a
        chunk holds as many lists as fit in ``budget`` (default
        :data:`BLOCK_BYTES`). Lists without a real document are skipped.
        """
        budget = BLOCK_BYTES if budget is None else budget
        start, n = 0, len(self._n_sorted)
        while start < n:
            width = self._n_sorted[start]
            if width == 0:
                return
            size = max(1, budget // max(1, size_of_list(width)))
            stop = min(n, start + size)
            yield self.list_order[start:stop], width
            start = stop


def pack_lists(mask):
    """Return the :class:`PackedLists` of a boolean ``[Q, L]`` mask."""
    return PackedLists(mask)


# ---------------------------------------------------------------------------
# ApproxNDCG
# ---------------------------------------------------------------------------
#: Pairs of one chunk of lists (never materialised: a bound on chunk size).
CHUNK_PAIRS = 2**24
#: Pairs in one tile ``[lists, rows, cols]`` of work.
TILE_PAIRS = 2**20
#: Score given to padding: below every real score, so padding never ranks
#: above a real document and sigmoid(padding - real) is exactly 0.
_PAD = -1e30


def _tiles(width, size):
    """Upper-triangular tiles ``(rows, cols, diagonal)`` of a width x width grid."""
    for a in range(0, width, size):
        for b in range(a, width, size):
            yield slice(a, min(a + size, width)), slice(b, min(b + size, width)), a == b


def _tile_size(n_lists, width):
    return min(width, max(16, int(math.sqrt(TILE_PAIRS / n_lists))))


class _ApproxNDCGFunction(torch.autograd.Function):
    r"""Minus the approximate DCG of each list and its gradient.

    With :math:`u = s / T` and :math:`S_{ij} = \sigma(u_j - u_i)`, the smooth
    rank is :math:`\hat\pi_i = 1/2 + \sum_j S_{ij}` and, with
    :math:`c_i = \partial \ell / \partial \hat\pi_i`,

    .. math::
        \frac{\partial \ell}{\partial s_m} = \frac{1}{T} \sum_j
        \sigma'(u_j - u_m) (c_j - c_m).

    :math:`S_{ji} = 1 - S_{ij}` and :math:`\sigma'` is even, so each pass
    (ranks, then gradient) only visits the tiles on and above the diagonal,
    using every tile for its rows and, transposed, for its columns.
    """

    @staticmethod
    def forward(ctx, scores, weights, mask, temperature, k):
        packed = PackedLists(mask)
        dtype, device = scores.dtype, scores.device
        n_q, n_docs = scores.shape
        zeros = torch.zeros_like(scores)
        m = packed.pack(mask)
        u = torch.where(m, packed.pack(scores.detach()) / temperature, zeros)
        u = u.masked_fill(~m, _PAD)
        w = packed.pack(weights)
        values = torch.zeros(n_q, dtype=dtype, device=device)
        grad = torch.zeros(n_q, n_docs, dtype=dtype, device=device)
        need_grad = ctx.needs_input_grad[0]
        for lists, width in packed.chunks(lambda w_: w_ * w_, CHUNK_PAIRS):
            uc, wc = u[lists, :width], w[lists, :width]
            value, g = _approx_chunk(uc, wc, k, temperature, need_grad)
            values[lists] = value
            if need_grad:
                grad[lists, :width] = g
        if need_grad:
            grad = torch.where(mask, packed.unpack(grad), zeros)
        ctx.save_for_backward(grad)
        return values

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_values):
        (grad,) = ctx.saved_tensors
        return grad * grad_values[:, None], None, None, None, None


def _approx_chunk(u, w, k, temperature, need_grad):
    n_l, width = u.shape
    size = _tile_size(n_l, width)
    buf = torch.empty(n_l, size, size, dtype=u.dtype, device=u.device)
    # pass 1: smooth ranks
    ranks = torch.full_like(u, 0.5)
    for rows, cols, diagonal in _tiles(width, size):
        tile = buf[:, : rows.stop - rows.start, : cols.stop - cols.start]
        torch.sub(u[:, None, cols], u[:, rows, None], out=tile)
        tile.sigmoid_()
        ranks[:, rows] += tile.sum(dim=2)
        if not diagonal:
            ranks[:, cols] += (rows.stop - rows.start) - tile.sum(dim=1)
    disc = discount(ranks - 1.0)
    if k is not None:
        disc = torch.where(ranks <= k, disc, torch.zeros_like(disc))
    value = -(w * disc).sum(dim=-1)
    if not need_grad:
        return value, None
    # pass 2: c_i = -w_i D'(rank_i), D'(r) = -D(r)^2 / ((1 + r) ln 2)
    coef = w * disc.square() / ((1.0 + ranks) * math.log(2.0))
    both = torch.stack([coef, torch.ones_like(coef)], dim=1)  # [n_l, 2, W]
    sums = torch.zeros_like(both)
    square = torch.empty_like(buf)
    for rows, cols, diagonal in _tiles(width, size):
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        tile = buf[:, : shape[0], : shape[1]]
        torch.sub(u[:, None, cols], u[:, rows, None], out=tile)
        tile.sigmoid_()
        sq = square[:, : shape[0], : shape[1]]
        torch.mul(tile, tile, out=sq)
        tile.sub_(sq)  # sigmoid' = sigmoid (1 - sigmoid)
        sums[:, :, rows] += torch.bmm(both[:, :, cols], tile.transpose(1, 2))
        if not diagonal:
            sums[:, :, cols] += torch.bmm(both[:, :, rows], tile)
    grad = (sums[:, 0] - coef * sums[:, 1]) / temperature
    return value, grad


def approx_ndcg_per_list(scores, weights, mask, temperature, k=None):
    r"""Minus the approximate DCG of each list, weighted by ``weights``.

    .. math::
        \ell_q = -\sum_i w_i \, D(\hat\pi_i), \quad
        \hat\pi_i = 1 + \sum_{j \ne i} \sigma\!\left(\frac{s_j - s_i}{T}\right)

    with :math:`D(r) = 1 / \log_2(1 + r)` (0 when :math:`\hat\pi_i > k`).
    Chunked over lists and tiles; the gradient is computed in the forward
    pass.
    """
    return _ApproxNDCGFunction.apply(scores, weights, mask, float(temperature), k)


# ---------------------------------------------------------------------------
# NeuralNDCG
# ---------------------------------------------------------------------------
def _log_tiny(dtype):
    return math.log(torch.finfo(dtype).tiny) + 1.0


def _eps(dtype):
    return 1e-30 if dtype == torch.float64 else 1e-20


class _NeuralNDCGFunction(torch.autograd.Function):
    r"""NeuralNDCG of each list with its gradient, chunked over lists.

    For one list of :math:`n` real documents, NeuralSort gives the row
    stochastic :math:`K = \mathrm{softmax}_j((n + 1 - 2i) s_j - B_j) / T)`
    with :math:`B_j = \sum_k |s_j - s_k|`. Sinkhorn scaling alternates column
    and row normalisation; every iterate is :math:`\mathrm{diag}(a) K
    \mathrm{diag}(b)`, so only the vectors are updated,
    :math:`b_t = 1 / K^\top a_{t-1}`, :math:`a_t = 1 / K b_t`, two
    matrix-vector products per iteration. The loss is
    :math:`-\sum_i w_i a_i (K (b \circ g))_i`.

    Backward through the iterations only needs vectors too: the gradient with
    respect to :math:`K` is a sum of outer products :math:`\bar K = U V^\top`
    with :math:`2 T + 1` columns, and the softmax backward only needs
    :math:`K V` and :math:`K^\top` times a few vectors, so :math:`\bar K` is
    never formed; everything is batched matrix products.
    """

    @staticmethod
    def forward(ctx, scores, gains, weights, mask, temperature, n_iter):
        packed = PackedLists(mask)
        dtype, device = scores.dtype, scores.device
        n_q, n_docs = scores.shape
        zeros = torch.zeros_like(scores)
        m = packed.pack(mask)
        s = torch.where(m, packed.pack(scores.detach()), zeros)
        g = torch.where(m, packed.pack(gains), zeros)
        w = weights  # per position, already packed by construction
        values = torch.zeros(n_q, dtype=dtype, device=device)
        grad = torch.zeros(n_q, n_docs, dtype=dtype, device=device)
        need_grad = ctx.needs_input_grad[0]
        eps = _eps(dtype)
        itemsize = s.element_size()
        for lists, width in packed.chunks(lambda w_: w_ * w_ * itemsize):
            n = packed.n_real[lists].to(dtype)
            sc, gc, wc = s[lists, :width], g[lists, :width], w[lists, :width]
            mc = m[lists, :width]
            real = mc.to(dtype)
            val, gr = _neural_ndcg_chunk(
                sc, gc, wc, real, mc, n, temperature, n_iter, eps, need_grad
            )
            values[lists] = val
            if need_grad:
                grad[lists, :width] = gr
        if need_grad:
            grad = packed.unpack(grad)
            grad = torch.where(mask, grad, zeros)
        ctx.save_for_backward(grad)
        return values

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_values):
        (grad,) = ctx.saved_tensors
        return grad * grad_values[:, None], None, None, None, None, None


def _neural_ndcg_chunk(s, g, w, real, mask, n, temperature, n_iter, eps, need_grad):
    """Value and gradient of one chunk ``[c, W]`` of packed lists."""
    width = s.shape[1]
    # B_j = sum_k |s_j - s_k| over real k (the buffer is reused for K)
    buf = s[:, :, None] - s[:, None, :]
    buf.abs_()
    big_b = torch.bmm(buf, real[:, :, None]).squeeze(-1)
    # Z_ij = ((n - 1 - 2 i) s_j - B_j) / T, rows = positions, cols = documents
    pos = torch.arange(width, dtype=s.dtype, device=s.device)
    coef = (n[:, None] - 1.0 - 2.0 * pos) * real
    torch.mul(coef[:, :, None], s[:, None, :], out=buf)
    buf.sub_(big_b[:, None, :])
    buf.mul_(1.0 / temperature)
    buf.masked_fill_(~mask[:, None, :], -math.inf)
    top = buf.amax(dim=-1, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    # exp of subnormal results is very slow on CPUs: stop just above them
    buf.sub_(top).clamp_(min=_log_tiny(s.dtype)).exp_()
    buf.mul_(real[:, None, :]).mul_(real[:, :, None])
    buf.div_(buf.sum(dim=-1, keepdim=True).clamp_(min=eps))
    kmat = buf  # row stochastic on the real block, 0 elsewhere
    kt = kmat.transpose(1, 2)

    def mv(mat, vec):
        # row vector times the transpose: much faster than bmm(mat, column)
        return torch.bmm(vec[:, None, :], mat.transpose(1, 2)).squeeze(1)

    a_prev = [real]
    bs = []
    a = real
    for _ in range(n_iter):
        b = torch.where(mask, 1.0 / mv(kt, a).clamp_(min=eps), torch.zeros_like(a))
        a = torch.where(mask, 1.0 / mv(kmat, b).clamp_(min=eps), torch.zeros_like(a))
        bs.append(b)
        a_prev.append(a)
    b = bs[-1] if bs else real
    h = mv(kmat, b * g)
    value = -(w * a * h).sum(dim=-1)
    if not need_grad:
        return value, None

    # reverse mode through the iterations, collecting K-bar = U V^T
    a_bar = -w * h
    h_bar = -w * a
    left, right = [h_bar], [b * g]
    b_bar = g * mv(kt, h_bar)
    for t in range(n_iter, 0, -1):
        a_t, b_t, a_before = a_prev[t], bs[t - 1], a_prev[t - 1]
        v_bar = -a_bar * a_t * a_t
        left.append(v_bar)
        right.append(b_t)
        b_bar = b_bar + mv(kt, v_bar)
        u_bar = -b_bar * b_t * b_t
        left.append(a_before)
        right.append(u_bar)
        a_bar = mv(kmat, u_bar)
        b_bar = torch.zeros_like(b_bar)
    big_u = torch.stack(left, dim=-1)  # [c, W, M]
    big_v = torch.stack(right, dim=-1)
    # softmax backward: Z-bar_ij = K_ij (K-bar_ij - rho_i)
    rho = (big_u * torch.bmm(kmat, big_v)).sum(dim=-1)
    # column sums of x_i Z-bar_ij for x = coef and x = 1
    stacked = torch.cat(
        [
            coef[:, :, None] * big_u,
            big_u,
            (coef * rho)[:, :, None],
            rho[:, :, None],
        ],
        dim=-1,
    )
    cols = torch.bmm(stacked.transpose(1, 2), kmat).transpose(1, 2)
    n_m = big_u.shape[-1]
    coef_z = (big_v * cols[..., :n_m]).sum(-1) - cols[..., 2 * n_m]
    ones_z = (big_v * cols[..., n_m : 2 * n_m]).sum(-1) - cols[..., 2 * n_m + 1]
    grad = coef_z / temperature
    b_bar_nb = -ones_z / temperature  # d loss / d B_j
    # B backward: grad_m += sum_k sign(s_m - s_k) (Bbar_m + Bbar_k), real k
    torch.sub(s[:, :, None], s[:, None, :], out=buf)
    buf.sign_()
    sums = torch.bmm(buf, torch.stack([real, b_bar_nb * real], dim=-1))
    grad = grad + b_bar_nb * sums[..., 0] + sums[..., 1]
    return value, grad * real


def position_weights(ideal, n_real, width, dtype, k=None):
    """``D(i) / IDCG`` for positions ``i < min(k, n)``, 0 elsewhere: ``[Q, W]``."""
    pos = torch.arange(width, dtype=dtype, device=ideal.device)
    w = discount(pos).expand(ideal.shape[0], width)
    keep = pos[None, :] < n_real[:, None]
    if k is not None:
        keep = keep & (pos[None, :] < k)
    inv = torch.where(ideal > 0, 1.0 / ideal.clamp(min=1e-30), torch.zeros_like(ideal))
    return torch.where(keep, w * inv[:, None], torch.zeros_like(w))


def neural_ndcg_per_list(scores, gains, mask, ideal, temperature, n_iter, k=None):
    r"""Minus the NeuralNDCG of each list (0 where ``ideal`` is 0).

    .. math::
        \ell_q = -\frac{1}{\mathrm{IDCG@k}} \sum_{i < k} D(i)\,
        (\hat P g)_i

    with :math:`\hat P` the Sinkhorn-scaled NeuralSort matrix of the real
    documents. Chunked over lists; gradient computed in the forward pass.
    """
    weights = position_weights(
        ideal, mask.sum(dim=-1), scores.shape[-1], scores.dtype, k
    )
    return _NeuralNDCGFunction.apply(
        scores, gains, weights, mask, float(temperature), int(n_iter)
    )
