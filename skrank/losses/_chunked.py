"""Chunked engines: the ``O(list_len**2)`` work of the pairwise and listwise losses.

Three engines share one way of cutting the work, so that memory stays at a few
blocks whatever the batch and list sizes:

- :func:`pairwise_per_list`: every pairwise loss (RankNet, the hinge, the
  lambda-weighted losses); blocks of rows of the pair matrix;
- :func:`approx_ndcg_per_list`: smooth ranks from sigmoids of score
  differences (Qin et al. 2010), two passes over tiles;
- :func:`neural_ndcg_per_list`: NeuralSort (Grover et al. 2019) with Sinkhorn
  scaling kept as two vectors.

Each engine computes the per-list value and its gradient with respect to the
scores in one forward pass and keeps only the ``[n_queries, list_len]``
gradient for backward (labels and hyper-parameters are constants), so none of
them can be differentiated twice: a second derivative raises a clear error
(see :func:`first_order_only`).

**Cutting the work.** Documents are packed to the front of each list (real
documents first) and lists are processed in chunks (:func:`list_chunks`) sized
by :func:`block_bytes`: :data:`BLOCK_BYTES` on a CPU, where blocks should fit
in the cache, 16 times more on an accelerator, where every block costs kernel
launches. On a CPU tensor the chunks group lists of similar length, each
padded only to its own longest list; that needs the list lengths on the host,
which is free on a CPU. On an accelerator, reading them would force a
device-to-host synchronisation per batch, so chunks are cut from the shapes
alone (every list at the batch width, no ``.tolist()``, no ``.item()``): the
engines then pay for the padding of the batch, which a length-bucketing batch
sampler keeps small. No engine synchronises with the device.
"""

import functools
import math

import torch

from ..metrics._gains import discount
from ._base import current_ranks

__all__ = [
    "BLOCK_BYTES",
    "PairContext",
    "approx_ndcg_per_list",
    "block_bytes",
    "first_order_only",
    "list_chunks",
    "neural_ndcg_per_list",
    "pairwise_per_list",
]

#: Target size in bytes of one block of ``O(list_len**2)`` work on a CPU.
BLOCK_BYTES = 2**22


def block_bytes(device):
    """Work-block size for ``device``: :data:`BLOCK_BYTES`, 16 times on accelerators."""
    return BLOCK_BYTES if torch.device(device).type == "cpu" else 16 * BLOCK_BYTES


def lengths_on_host(tensor):
    """Whether list lengths can be read without a device synchronisation."""
    return tensor.device.type == "cpu"


def list_chunks(n_real, width, size_of_list, budget, min_len=1):
    """Yield ``(lists, width)``: chunks of lists and the width to process them at.

    ``size_of_list(w)`` is the work size of one list processed at width ``w``;
    a chunk holds as many lists as fit in ``budget`` (at least one). On a CPU
    tensor, lists come longest first, each chunk at the length of its longest
    list, and lists with fewer than ``min_len`` real documents are skipped.
    Elsewhere (no device-to-host copy) the chunks are slices of the batch in
    its own order at the batch ``width``.
    """
    if width == 0:
        return
    if not lengths_on_host(n_real):
        n = n_real.shape[0]
        step = max(1, budget // max(1, size_of_list(width)))
        for start in range(0, n, step):
            yield slice(start, min(n, start + step)), width
        return
    order = torch.argsort(n_real, descending=True, stable=True)
    lengths = n_real[order].tolist()
    start, n = 0, len(lengths)
    while start < n and lengths[start] >= min_len:
        chunk_width = lengths[start]
        step = max(1, budget // max(1, size_of_list(chunk_width)))
        stop = min(n, start + step)
        yield order[start:stop], chunk_width
        start = stop


def first_order_only(backward):
    """Refuse a second derivative of a ``backward`` that is first-order only.

    The engines return a gradient computed in the forward pass: differentiating
    it again would silently miss every term that depends on the scores (e.g.
    a gradient penalty). ``backward`` runs with grad mode on exactly when the
    caller asked for ``create_graph=True``, so that case raises instead.
    """

    inner = torch.autograd.function.once_differentiable(backward)

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        if torch.is_grad_enabled():
            raise RuntimeError(
                f"{ctx.loss_name} computes its gradient in the forward pass and "
                "is first-order only: a second derivative (backward with "
                "create_graph=True, e.g. a gradient penalty) is not supported."
            )
        return inner(ctx, *grads)

    return wrapper


def _packing_order(mask):
    """Gather index putting the real documents of each list first (stable)."""
    return torch.argsort((~mask).to(torch.int8), dim=-1, stable=True)


# ---------------------------------------------------------------------------
# The pairwise engine
# ---------------------------------------------------------------------------
class PairContext:
    """Per-document tensors of a batch, sorted by label within each list.

    The pairwise engine sorts every list by decreasing label (real documents
    first, stable), so that for a block of rows ``a:b`` every pair partner with
    a smaller label lies in the columns ``a:``; the upper triangle is all the
    work. Attributes are ``[Q, L]`` tensors in that order:

    - ``scores``: scores with padding set to 0 (detached);
    - ``labels``: labels with padding set to 0;
    - ``mask``: real documents;
    - ``row_labels`` / ``col_labels``: labels with padding at -inf / +inf, so
      that ``row_labels[i] > col_labels[j]`` is exactly "i, j real and
      y_i > y_j";
    - ``ranks``: 0-based ranks under the current scores (see
      :func:`~skrank.losses._base.current_ranks`), as the scores' dtype;
    - ``n_real``: number of real documents per list, ``[Q]``.
    """

    def __init__(self, scores, labels, mask):
        zeros = torch.zeros_like(scores)
        ranks = current_ranks(scores, mask)
        key = torch.where(mask, labels, torch.full_like(labels, -math.inf))
        key = key.masked_fill(torch.isnan(key), -math.inf)
        self.order = torch.argsort(key, dim=-1, descending=True, stable=True)
        mask = mask.gather(-1, self.order)
        self.mask = mask
        self.scores = torch.where(mask, scores.detach().gather(-1, self.order), zeros)
        self.labels = torch.where(mask, labels.gather(-1, self.order), zeros)
        self.row_labels = self.labels.masked_fill(~mask, -math.inf)
        self.col_labels = self.labels.masked_fill(~mask, math.inf)
        self.ranks = ranks.gather(-1, self.order).to(scores.dtype)
        self.n_real = mask.sum(dim=-1)

    def unsort(self, values):
        """Put ``[Q, L]`` values from label order back into input order."""
        out = torch.empty_like(values)
        return out.scatter_(-1, self.order, values)

    def n_pairs(self):
        """Number of pairs (i, j) with y_i > y_j, both real, per list."""
        if self.labels.shape[-1] == 0:
            return self.n_real
        # -y is ascending along each list, padding (+inf) last
        ascending = torch.where(
            self.mask, -self.labels, torch.full_like(self.labels, math.inf)
        ).contiguous()
        # documents with a label >= y_i (i included), counted per row
        not_lower = torch.searchsorted(ascending, ascending, right=True)
        lower = (self.n_real[:, None] - not_lower).clamp(min=0)
        return torch.where(self.mask, lower, torch.zeros_like(lower)).sum(dim=-1)


class _PairwiseFunction(torch.autograd.Function):
    """Per-list pairwise loss whose forward also computes the score gradient.

    One pass over blocks of rows computes, for pairs ``y_i > y_j``, the sum
    of ``w_ij f(s_i - s_j)`` and its gradient; only the ``[Q, L]`` gradient is
    kept for backward, so memory stays at a few blocks whatever ``L``.
    Lists are sorted by label, so a block of rows ``a:b`` only meets columns
    ``a:`` (the upper triangle), and chunked by length (see
    :func:`list_chunks`).
    """

    @staticmethod
    def forward(ctx, scores, labels, mask, pair_fn, weight_fn, normalize, name):
        ctx.loss_name = name
        pc = PairContext(scores, labels, mask)
        n_q, n_docs = pc.scores.shape
        dtype, device = pc.scores.dtype, scores.device
        itemsize = pc.scores.element_size()
        budget = block_bytes(device)
        total = torch.zeros(n_q, dtype=dtype, device=device)
        grad = torch.zeros(n_q, n_docs, dtype=dtype, device=device)
        state = weight_fn.prepare(pc) if weight_fn is not None else ()
        chunks = list_chunks(
            pc.n_real, n_docs, lambda w: w * w * itemsize, 8 * budget, min_len=2
        )
        for ids, width in chunks:
            s = pc.scores[ids, :width]
            row_labels = pc.row_labels[ids, :width]
            col_labels = pc.col_labels[ids, :width]
            group_state = tuple(t[ids, :width] for t in state)
            n_lists = s.shape[0]
            g_total = torch.zeros(n_lists, dtype=dtype, device=device)
            g_grad = torch.zeros(n_lists, width, dtype=dtype, device=device)
            step = max(1, min(width, budget // max(1, n_lists * width * itemsize)))
            for a in range(0, width, step):
                rows, cols = slice(a, min(a + step, width)), slice(a, width)
                pairs = row_labels[:, rows, None] > col_labels[:, None, cols]
                if weight_fn is None:
                    weights = pairs.to(dtype)
                else:
                    weights = weight_fn.block(group_state, rows, cols, pairs)
                diff = s[:, rows, None] - s[:, None, cols]
                value, deriv = pair_fn.value_and_derivative(diff)
                deriv.mul_(weights)
                g_total += value.mul_(weights).sum(dim=(1, 2))
                g_grad[:, rows] += deriv.sum(dim=2)
                g_grad[:, cols] -= deriv.sum(dim=1)
            total[ids] = g_total
            grad[ids, :width] = g_grad
        n_pairs = pc.n_pairs()
        total *= pair_fn.value_scale
        if normalize:
            scale = 1.0 / n_pairs.clamp(min=1).to(dtype)
            total = total * scale
            grad *= scale[:, None]
        grad *= pair_fn.derivative_scale
        ctx.save_for_backward(pc.unsort(grad))
        ctx.mark_non_differentiable(n_pairs)
        return total, n_pairs

    @staticmethod
    @first_order_only
    def backward(ctx, grad_total, grad_pairs):
        (grad,) = ctx.saved_tensors
        return grad * grad_total[:, None], None, None, None, None, None, None


def pairwise_per_list(
    scores, labels, mask, pair_fn, weight_fn=None, normalize=True, name="loss"
):
    r"""Per-list pairwise loss over the pairs with :math:`y_i > y_j`.

    .. math::
        \ell_q = \frac{1}{Z_q} \sum_{i, j:\, y_i > y_j} w_{ij} \, f(s_i - s_j)

    with :math:`Z_q` the number of such pairs when ``normalize`` is true (else
    1). ``pair_fn`` gives :math:`f` and :math:`f'` (see
    :mod:`skrank.losses._pairwise`), ``weight_fn`` the constant weights
    :math:`w_{ij}` (``None`` = 1; see :mod:`skrank.losses._lambdaweights`).
    The work is chunked over blocks of rows; the gradient is computed in the
    forward pass (weights are constants, as in LambdaMART). ``name`` names the
    loss in errors.

    Returns ``(values, valid)``: a list is valid when it has at least one pair.
    """
    values, n_pairs = _PairwiseFunction.apply(
        scores, labels, mask, pair_fn, weight_fn, normalize, name
    )
    return values, n_pairs > 0


# ---------------------------------------------------------------------------
# ApproxNDCG
# ---------------------------------------------------------------------------
def _pad_score(dtype):
    """Score given to padding: below any real score, so that padding never
    ranks above a real document and sigmoid(padding - real) is exactly 0; half
    the lowest float, so that real - padding cannot overflow."""
    return torch.finfo(dtype).min / 2


def _tiles(width, size):
    """Upper-triangular tiles ``(rows, cols, diagonal)`` of a width x width grid."""
    for a in range(0, width, size):
        for b in range(a, width, size):
            yield slice(a, min(a + size, width)), slice(b, min(b + size, width)), a == b


def _tile_size(n_lists, width, tile_pairs):
    return min(width, max(16, int(math.sqrt(tile_pairs / n_lists))))


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
    using every tile for its rows and, transposed, for its columns. A chunk of
    lists holds ``16 * block_bytes`` of (never materialised) pairs, a tile
    ``block_bytes``.
    """

    @staticmethod
    def forward(ctx, scores, weights, mask, temperature, k, name):
        ctx.loss_name = name
        dtype, device = scores.dtype, scores.device
        n_q, n_docs = scores.shape
        order = _packing_order(mask)
        m = mask.gather(-1, order)
        u = scores.detach().gather(-1, order) / temperature
        u = u.masked_fill(~m, _pad_score(dtype))
        w = weights.gather(-1, order)
        values = torch.zeros(n_q, dtype=dtype, device=device)
        grad = torch.zeros(n_q, n_docs, dtype=dtype, device=device)
        need_grad = ctx.needs_input_grad[0]
        itemsize = scores.element_size()
        budget = block_bytes(device)
        tile_pairs = budget // itemsize
        chunks = list_chunks(
            m.sum(dim=-1), n_docs, lambda w_: w_ * w_ * itemsize, 16 * budget
        )
        for lists, width in chunks:
            uc, wc = u[lists, :width], w[lists, :width]
            value, g = _approx_chunk(uc, wc, k, temperature, need_grad, tile_pairs)
            values[lists] = value
            if need_grad:
                grad[lists, :width] = g
        if need_grad:
            grad = torch.empty_like(grad).scatter_(-1, order, grad)
            grad = torch.where(mask, grad, torch.zeros_like(grad))
        ctx.save_for_backward(grad)
        return values

    @staticmethod
    @first_order_only
    def backward(ctx, grad_values):
        (grad,) = ctx.saved_tensors
        return grad * grad_values[:, None], None, None, None, None, None


def _approx_chunk(u, w, k, temperature, need_grad, tile_pairs):
    n_l, width = u.shape
    size = _tile_size(n_l, width, tile_pairs)
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


def approx_ndcg_per_list(scores, weights, mask, temperature, k=None, name="loss"):
    r"""Minus the approximate DCG of each list, weighted by ``weights``.

    .. math::
        \ell_q = -\sum_i w_i \, D(\hat\pi_i), \quad
        \hat\pi_i = 1 + \sum_{j \ne i} \sigma\!\left(\frac{s_j - s_i}{T}\right)

    with :math:`D(r) = 1 / \log_2(1 + r)` (0 when :math:`\hat\pi_i > k`).
    Chunked over lists and tiles; the gradient is computed in the forward
    pass. ``name`` names the loss in errors.
    """
    return _ApproxNDCGFunction.apply(scores, weights, mask, float(temperature), k, name)


# ---------------------------------------------------------------------------
# NeuralNDCG
# ---------------------------------------------------------------------------
def _eps(dtype):
    """Floor of row sums and scalings: far below any real value, well above
    the subnormal range of ``dtype`` (1e-30 in float64, as before)."""
    return max(1e-30, torch.finfo(dtype).tiny ** 0.5)


def _format_bytes(n_bytes):
    return (
        f"{n_bytes / 2**30:.1f} GiB"
        if n_bytes >= 2**30
        else f"{n_bytes / 2**20:.0f} MiB"
    )


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

    :math:`K` itself, ``[list_len, list_len]`` per list, is intrinsic: Sinkhorn
    multiplies by it ``2 n_iter`` times, and recomputing it per product would
    cost ``2 n_iter`` passes of exponentials. A chunk holds ``block_bytes`` of
    these matrices, or one list; a list longer than ``max_list_len`` is refused
    before anything is allocated.
    """

    @staticmethod
    def forward(ctx, scores, gains, weights, mask, temperature, n_iter, limit, name):
        ctx.loss_name = name
        dtype, device = scores.dtype, scores.device
        n_q, n_docs = scores.shape
        order = _packing_order(mask)
        zeros = torch.zeros_like(scores)
        m = mask.gather(-1, order)
        s = torch.where(m, scores.detach().gather(-1, order), zeros)
        g = torch.where(m, gains.gather(-1, order), zeros)
        w = weights  # per position, already packed by construction
        n_real = m.sum(dim=-1)
        values = torch.zeros(n_q, dtype=dtype, device=device)
        grad = torch.zeros(n_q, n_docs, dtype=dtype, device=device)
        need_grad = ctx.needs_input_grad[0]
        eps = _eps(dtype)
        itemsize = s.element_size()
        chunks = list_chunks(
            n_real, n_docs, lambda w_: w_ * w_ * itemsize, block_bytes(device)
        )
        for lists, width in chunks:
            if limit is not None and width > limit:
                raise ValueError(
                    f"{name} needs a list_len x list_len matrix per list: a list "
                    f"of {width} documents needs "
                    f"{_format_bytes(width * width * itemsize)} for it, over the "
                    f"limit max_list_len={limit}. Split or truncate long lists, "
                    "or raise max_list_len (None removes the limit)."
                )
            n = n_real[lists].to(dtype)
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
            grad = torch.empty_like(grad).scatter_(-1, order, grad)
            grad = torch.where(mask, grad, zeros)
        ctx.save_for_backward(grad)
        return values

    @staticmethod
    @first_order_only
    def backward(ctx, grad_values):
        (grad,) = ctx.saved_tensors
        return grad * grad_values[:, None], None, None, None, None, None, None, None


def no_subnormals(x):
    """``x`` with its subnormal entries 0 (a new tensor).

    On many x86 CPUs every operation on a subnormal operand (magnitude below
    ``torch.finfo(dtype).tiny``, about 1.2e-38 in float32) takes a microcode
    path many times slower than the normal one. Values that small change no
    sum of normal-sized terms, so zeroing them changes nothing a float sees.
    """
    return torch.nn.functional.hardshrink(x, torch.finfo(x.dtype).tiny)


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
    # Arithmetic on subnormal numbers is very slow on CPUs, and products of
    # entries near the smallest normal number are subnormal: entries below
    # eps (1e-19 in float32, 1e-30 in float64; a row's largest is 1) are 0
    buf.sub_(top).clamp_(min=math.log(eps) - 1.0).exp_()
    torch.nn.functional.threshold_(buf, eps, 0.0)
    buf.mul_(real[:, None, :]).mul_(real[:, :, None])
    buf.div_(buf.sum(dim=-1, keepdim=True).clamp_(min=eps))
    kmat = buf  # row stochastic on the real block, 0 elsewhere
    kt = kmat.transpose(1, 2)

    def mv(mat, vec):
        # row vector times the transpose: much faster than bmm(mat, column)
        vec = no_subnormals(vec)
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
    rho = (big_u * torch.bmm(kmat, no_subnormals(big_v))).sum(dim=-1)
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
    cols = torch.bmm(no_subnormals(stacked).transpose(1, 2), kmat).transpose(1, 2)
    n_m = big_u.shape[-1]
    coef_z = (big_v * cols[..., :n_m]).sum(-1) - cols[..., 2 * n_m]
    ones_z = (big_v * cols[..., n_m : 2 * n_m]).sum(-1) - cols[..., 2 * n_m + 1]
    grad = coef_z / temperature
    b_bar_nb = -ones_z / temperature  # d loss / d B_j
    # B backward: grad_m += sum_k sign(s_m - s_k) (Bbar_m + Bbar_k), real k
    torch.sub(s[:, :, None], s[:, None, :], out=buf)
    buf.sign_()
    sums = torch.bmm(buf, no_subnormals(torch.stack([real, b_bar_nb * real], -1)))
    grad = grad + b_bar_nb * sums[..., 0] + sums[..., 1]
    return value, grad * real


def position_weights(ideal, n_real, width, dtype, k=None):
    """``D(i) / IDCG`` for positions ``i < min(k, n)``, 0 elsewhere: ``[Q, W]``."""
    pos = torch.arange(width, dtype=dtype, device=ideal.device)
    w = discount(pos).expand(ideal.shape[0], width)
    keep = pos[None, :] < n_real[:, None]
    if k is not None:
        keep = keep & (pos[None, :] < k)
    tiny = torch.finfo(ideal.dtype).tiny
    inv = torch.where(ideal > 0, 1.0 / ideal.clamp(min=tiny), torch.zeros_like(ideal))
    return torch.where(keep, w * inv[:, None], torch.zeros_like(w))


def neural_ndcg_per_list(
    scores,
    gains,
    mask,
    ideal,
    temperature,
    n_iter,
    k=None,
    max_list_len=None,
    name="loss",
):
    r"""Minus the NeuralNDCG of each list (0 where ``ideal`` is 0).

    .. math::
        \ell_q = -\frac{1}{\mathrm{IDCG@k}} \sum_{i < k} D(i)\,
        (\hat P g)_i

    with :math:`\hat P` the Sinkhorn-scaled NeuralSort matrix of the real
    documents. Chunked over lists; gradient computed in the forward pass. A
    list processed at a width above ``max_list_len`` (None: no limit) raises
    a ValueError naming ``name``.
    """
    weights = position_weights(
        ideal, mask.sum(dim=-1), scores.shape[-1], scores.dtype, k
    )
    return _NeuralNDCGFunction.apply(
        scores,
        gains,
        weights,
        mask,
        float(temperature),
        int(n_iter),
        max_list_len,
        name,
    )
