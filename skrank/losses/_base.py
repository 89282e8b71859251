"""The one place for input checks, masking and reduction of ranking losses.

A loss is a :class:`RankingLoss` subclass that implements :meth:`per_list`:
given padded ``scores`` and ``labels`` of shape ``[n_queries, list_len]`` and a
boolean ``mask`` (True = a real document), it returns one loss value per list
and a boolean saying which lists contribute. :meth:`RankingLoss.forward`
checks the inputs, calls it, and averages over the contributing lists.
"""

import math
import numbers

import torch
from torch import nn

from ..metrics._gains import discount
from ..utils._validation import validate_parameter_constraints

__all__ = [
    "CombinedLoss",
    "RankingLoss",
    "check_hyperparams",
    "check_loss_inputs",
    "current_ranks",
    "ideal_dcg",
    "masked_log_softmax",
    "masked_mean",
    "pairwise_per_list",
    "reduce_lists",
]

REDUCTIONS = ("mean", "sum", "none")


def check_loss_inputs(scores, labels, mask=None, *, n_outputs=1, name="loss"):
    """Check shapes and dtypes of a loss call; return ``scores, labels, mask``.

    Only shapes and dtypes are checked (no data-dependent test), so the check
    costs nothing on a GPU. ``labels`` is cast to the dtype of ``scores``;
    ``mask=None`` means every document is real.
    """
    if not isinstance(scores, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise TypeError(
            f"{name} expects torch tensors for scores and labels. "
            f"Got {type(scores).__name__} and {type(labels).__name__} instead."
        )
    expected_dim = 2 if n_outputs == 1 else 3
    if scores.dim() == 3 and n_outputs == 1 and scores.shape[-1] == 1:
        scores = scores.squeeze(-1)
    if scores.dim() != expected_dim:
        shape = "[n_queries, list_len]"
        if n_outputs > 1:
            shape = f"[n_queries, list_len, {n_outputs}]"
        raise ValueError(
            f"{name} expects scores of shape {shape}. "
            f"Got a tensor of shape {tuple(scores.shape)} instead."
        )
    if n_outputs > 1 and scores.shape[-1] != n_outputs:
        raise ValueError(
            f"{name} expects {n_outputs} outputs per document. "
            f"Got scores of shape {tuple(scores.shape)} instead."
        )
    if labels.shape != scores.shape[:2]:
        raise ValueError(
            f"{name}: labels must have the shape of scores {tuple(scores.shape[:2])}. "
            f"Got {tuple(labels.shape)} instead."
        )
    if not scores.is_floating_point():
        raise TypeError(f"{name} expects floating-point scores. Got {scores.dtype}.")
    labels = labels.to(scores.dtype)
    if mask is None:
        mask = torch.ones(labels.shape, dtype=torch.bool, device=labels.device)
    else:
        if mask.shape != labels.shape:
            raise ValueError(
                f"{name}: mask must have the shape of labels {tuple(labels.shape)}. "
                f"Got {tuple(mask.shape)} instead."
            )
        if mask.dtype != torch.bool:
            mask = mask.bool()
    return scores, labels, mask


def reduce_lists(values, valid, reduction="mean"):
    """Reduce per-list losses, counting only the contributing lists.

    Non-contributing lists (all padding, or no pair to order) add exactly zero
    to the value and to every gradient; with no contributing list at all the
    mean is 0, not NaN.
    """
    values = torch.where(valid, values, torch.zeros_like(values))
    if reduction == "none":
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    return total / valid.sum().clamp(min=1).to(values.dtype)


def _check_reduction(reduction, name):
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"The 'reduction' parameter of {name} must be a str among "
            f"{{'mean', 'sum', 'none'}}. Got {reduction!r} instead."
        )
    return reduction


class RankingLoss(nn.Module):
    """Base class of skrank's ranking losses.

    Subclasses store hyper-parameters in ``__init__`` and implement
    :meth:`per_list`. Calling the loss as ``loss(scores, labels, mask=None)``
    returns a scalar: the mean over lists that contribute.

    Losses combine with ``+`` and scalar ``*``: ``ListNet() + 0.5 * RankNet()``
    is a :class:`CombinedLoss`.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` averages over the contributing lists, ``"sum"`` adds them,
        ``"none"`` returns one value per list (0 for lists that do not count).

    Attributes
    ----------
    n_outputs : int
        How many outputs per document the scorer module must produce (1 for
        every loss except the ordinal one).

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import RankingLoss
    >>> class MeanScore(RankingLoss):
    ...     def per_list(self, scores, labels, mask):
    ...         counts = mask.sum(-1)
    ...         values = (scores * mask).sum(-1) / counts.clamp(min=1)
    ...         return values, counts > 0
    >>> MeanScore()(torch.tensor([[1.0, 3.0]]), torch.tensor([[0.0, 1.0]]))
    tensor(2.)
    """

    n_outputs = 1

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def per_list(self, scores, labels, mask):
        """Return one loss per list and which lists count.

        Values at padded positions are arbitrary and must not leak into the
        result or its gradient.

        Parameters
        ----------
        scores : torch.Tensor of shape (n_queries, list_len)
            Scores (``(n_queries, list_len, n_outputs)`` when ``n_outputs > 1``).
        labels : torch.Tensor of shape (n_queries, list_len)
            Graded relevance labels, in the dtype of ``scores``.
        mask : torch.Tensor of shape (n_queries, list_len)
            Boolean, True for a real document.

        Returns
        -------
        values : torch.Tensor of shape (n_queries,)
            The loss of each list.
        valid : torch.Tensor of shape (n_queries,)
            Boolean, True for the lists that contribute.
        """
        raise NotImplementedError

    def forward(self, scores, labels, mask=None):
        name = type(self).__name__
        _check_reduction(self.reduction, name)
        # Hyper-parameters may have been reassigned since __init__; checking
        # them costs microseconds, once per call, for every loss.
        constraints = getattr(self, "_constraints", None)
        if constraints:
            check_hyperparams(self, constraints)
        scores, labels, mask = check_loss_inputs(
            scores, labels, mask, n_outputs=self.n_outputs, name=name
        )
        values, valid = self.per_list(scores, labels, mask)
        return reduce_lists(values, valid, self.reduction)

    def score_from_output(self, output):
        """Map the scorer's raw output to one ranking score per document.

        Parameters
        ----------
        output : torch.Tensor of shape (..., n_outputs)
            The module's raw output.

        Returns
        -------
        scores : torch.Tensor of shape (...)
            The ranking score (the single output, squeezed).
        """
        if output.dim() >= 1 and output.shape[-1] == 1:
            return output.squeeze(-1)
        return output

    # -- combination -----------------------------------------------------
    def __add__(self, other):
        return CombinedLoss([(1.0, self)]) + other

    def __radd__(self, other):
        if isinstance(other, numbers.Number) and other == 0:  # sum([...])
            return CombinedLoss([(1.0, self)])
        return NotImplemented

    def __mul__(self, weight):
        if not isinstance(weight, numbers.Real):
            return NotImplemented
        return CombinedLoss([(float(weight), self)])

    __rmul__ = __mul__


def _loss_name(loss):
    if isinstance(loss, nn.Module):
        return type(loss).__name__
    return getattr(loss, "__name__", type(loss).__name__)


class CombinedLoss(RankingLoss):
    r"""A weighted sum of ranking losses.

    .. math::
        \mathcal{L} = \sum_t w_t \, \mathcal{L}_t(s, y, m)

    Built by ``+`` and ``*`` on losses (``ListNet() + 0.5 * RankNet()``) or
    directly. Any callable ``f(scores, labels, mask)`` returning a scalar is
    accepted as a term. After each call, :attr:`last_parts_` holds every
    term's (unweighted, detached) value for logging.

    Parameters
    ----------
    terms : list of (float, loss) tuples
        The weights and the losses.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import CombinedLoss
    >>> def mean_score(scores, labels, mask=None):
    ...     return scores.mean()
    >>> loss = CombinedLoss([(2.0, mean_score)])
    >>> loss(torch.ones(1, 3), torch.zeros(1, 3))
    tensor(2.)
    >>> loss.last_parts_
    {'mean_score': tensor(1.)}
    """

    def __init__(self, terms):
        super().__init__()
        terms = list(terms)
        for weight, loss in terms:
            if not isinstance(weight, numbers.Real) or not callable(loss):
                raise TypeError(
                    "CombinedLoss terms must be (weight, loss) pairs with a real "
                    f"weight and a callable loss. Got ({weight!r}, {loss!r})."
                )
        n_outputs = {getattr(loss, "n_outputs", 1) for _, loss in terms}
        if len(n_outputs) > 1:
            raise ValueError(
                "Cannot combine losses that need different numbers of outputs "
                f"per document. Got n_outputs {sorted(n_outputs)}."
            )
        self.n_outputs = n_outputs.pop() if n_outputs else 1
        self.weights = [float(w) for w, _ in terms]
        # Modules are registered so that .to(device) and state_dict reach them.
        self.losses = nn.ModuleList(
            [loss for _, loss in terms if isinstance(loss, nn.Module)]
        )
        self._terms = [loss for _, loss in terms]
        self.last_parts_ = {}

    @property
    def terms(self):
        """The ``(weight, loss)`` pairs."""
        return list(zip(self.weights, self._terms, strict=True))

    def part_names(self):
        """Unique names of the terms (class names, numbered when repeated)."""
        names, seen = [], {}
        for loss in self._terms:
            base = _loss_name(loss)
            seen[base] = seen.get(base, 0) + 1
            names.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
        return names

    def forward(self, scores, labels, mask=None):
        total = 0.0
        parts = {}
        for name, weight, loss in zip(
            self.part_names(), self.weights, self._terms, strict=True
        ):
            value = loss(scores, labels, mask)
            parts[name] = value.detach()
            total = total + weight * value
        self.last_parts_ = parts
        return total

    def __add__(self, other):
        if isinstance(other, CombinedLoss):
            return CombinedLoss(self.terms + other.terms)
        if callable(other):
            return CombinedLoss([*self.terms, (1.0, other)])
        return NotImplemented

    def __mul__(self, weight):
        if not isinstance(weight, numbers.Real):
            return NotImplemented
        return CombinedLoss([(w * float(weight), loss) for w, loss in self.terms])

    __rmul__ = __mul__

    def extra_repr(self):
        return " + ".join(f"{w:g} * {_loss_name(loss)}" for w, loss in self.terms)


# ---------------------------------------------------------------------------
# Hyper-parameters
# ---------------------------------------------------------------------------
def check_hyperparams(loss, constraints):
    """Validate a loss's hyper-parameters with scikit-learn's wording.

    ``constraints`` maps attribute names of ``loss`` to scikit-learn parameter
    constraints; the error reads "The 'sigma' parameter of RankNet must be a
    float in the range (0.0, inf). Got -1 instead."
    """
    params = {name: getattr(loss, name) for name in constraints}
    validate_parameter_constraints(constraints, params, caller_name=type(loss).__name__)


# ---------------------------------------------------------------------------
# Per-document helpers
# ---------------------------------------------------------------------------
def masked_mean(values, mask):
    """Mean of ``values`` over the real documents of each list.

    Returns ``(means, valid)``: lists without a real document are not valid
    (their mean is 0 and they get no gradient).
    """
    values = torch.where(mask, values, torch.zeros_like(values))
    counts = mask.sum(dim=-1)
    means = values.sum(dim=-1) / counts.clamp(min=1).to(values.dtype)
    return means, counts > 0


def masked_log_softmax(values, mask):
    """Log-softmax over the real documents of each list; 0 at padding.

    Finite everywhere (a list without a real document gives zeros); padding
    gets no probability mass and no gradient.
    """
    any_real = mask.any(dim=-1, keepdim=True)
    values = torch.where(mask, values, torch.full_like(values, -math.inf))
    values = torch.where(any_real, values, torch.zeros_like(values))
    out = torch.log_softmax(values, dim=-1)
    return torch.where(mask, out, torch.zeros_like(out))


def current_ranks(scores, mask):
    """0-based rank of each document under the current scores (detached).

    Higher score = better rank. Ties are broken by position in the list (the
    earlier document gets the better rank), padding is ranked after every real
    document, so neither the padding nor its scores change a real rank.
    """
    key = torch.where(mask, scores.detach(), torch.full_like(scores, -math.inf))
    key = key.masked_fill(torch.isnan(key), -math.inf)
    order = torch.argsort(key, dim=-1, descending=True, stable=True)
    ranks = torch.empty_like(order)
    positions = torch.arange(order.shape[-1], device=order.device).expand_as(order)
    ranks.scatter_(-1, order, positions)
    return ranks


def ideal_dcg(gains, mask, k=None):
    """Ideal DCG (at ``k``) of each list from per-document gains ``[Q, L]``."""
    gains = torch.where(mask, gains, torch.zeros_like(gains))
    ideal = torch.sort(gains, dim=-1, descending=True).values
    n = ideal.shape[-1] if k is None else min(k, ideal.shape[-1])
    positions = torch.arange(n, device=gains.device, dtype=gains.dtype)
    return (ideal[..., :n] * discount(positions)).sum(dim=-1)


# ---------------------------------------------------------------------------
# The chunked pairwise engine
# ---------------------------------------------------------------------------
#: Target size in bytes of one ``[n_queries, rows, cols]`` block of pair work.
PAIR_BLOCK_BYTES = 2**22


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
      :func:`current_ranks`), as the scores' dtype;
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


def _block_rows(n_queries, n_cols, itemsize):
    per_row = max(1, n_queries * n_cols * itemsize)
    return max(1, min(n_cols, PAIR_BLOCK_BYTES // per_row))


def _query_groups(n_real, itemsize):
    """Groups of lists of similar length, longest first: ``[(ids, width)]``.

    Each group is padded only to its own longest list, so a batch of mixed
    lengths does not pay pair work for the padding of its longest list; a
    group holds about ``4 * PAIR_BLOCK_BYTES`` of (triangular) pair work.
    Lists with fewer than two real documents have no pair and are skipped.
    """
    lengths = n_real.tolist()
    order = sorted(range(len(lengths)), key=lambda q: -lengths[q])
    budget = 4 * PAIR_BLOCK_BYTES
    groups, current, width = [], [], 0
    for q in order:
        if lengths[q] < 2:
            break
        if current and (len(current) + 1) * width * width * itemsize > 2 * budget:
            groups.append((current, width))
            current = []
        if not current:
            width = lengths[q]
        current.append(q)
    if current:
        groups.append((current, width))
    return groups


class _PairwiseFunction(torch.autograd.Function):
    """Per-list pairwise loss whose forward also computes the score gradient.

    One pass over blocks of rows computes, for pairs ``y_i > y_j``, the sum
    of ``w_ij f(s_i - s_j)`` and its gradient; only the ``[Q, L]`` gradient is
    kept for backward, so memory stays at a few blocks whatever ``L``.
    Lists are sorted by label, so a block of rows ``a:b`` only meets columns
    ``a:`` (the upper triangle), and grouped by length (see
    :func:`_query_groups`).
    """

    @staticmethod
    def forward(ctx, scores, labels, mask, pair_fn, weight_fn, normalize):
        pc = PairContext(scores, labels, mask)
        n_q, n_docs = pc.scores.shape
        dtype = pc.scores.dtype
        itemsize = pc.scores.element_size()
        total = torch.zeros(n_q, dtype=dtype, device=scores.device)
        grad = torch.zeros(n_q, n_docs, dtype=dtype, device=scores.device)
        state = weight_fn.prepare(pc) if weight_fn is not None else ()
        for ids, width in _query_groups(pc.n_real, itemsize):
            ids = torch.tensor(ids, device=scores.device)
            s = pc.scores[ids, :width]
            row_labels = pc.row_labels[ids, :width]
            col_labels = pc.col_labels[ids, :width]
            group_state = tuple(t[ids, :width] for t in state)
            g_total = torch.zeros(len(ids), dtype=dtype, device=scores.device)
            g_grad = torch.zeros(len(ids), width, dtype=dtype, device=scores.device)
            step = _block_rows(len(ids), width, itemsize)
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
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_total, grad_pairs):
        (grad,) = ctx.saved_tensors
        return grad * grad_total[:, None], None, None, None, None, None


def pairwise_per_list(scores, labels, mask, pair_fn, weight_fn=None, normalize=True):
    r"""Per-list pairwise loss over the pairs with :math:`y_i > y_j`.

    .. math::
        \ell_q = \frac{1}{Z_q} \sum_{i, j:\, y_i > y_j} w_{ij} \, f(s_i - s_j)

    with :math:`Z_q` the number of such pairs when ``normalize`` is true (else
    1). ``pair_fn`` gives :math:`f` and :math:`f'` (see
    :mod:`skrank.losses._pairwise`), ``weight_fn`` the constant weights
    :math:`w_{ij}` (``None`` = 1; see :mod:`skrank.losses._lambdaweights`).
    The work is chunked over blocks of rows; the gradient is computed in the
    forward pass (weights are constants, as in LambdaMART).

    Returns ``(values, valid)``: a list is valid when it has at least one pair.
    """
    values, n_pairs = _PairwiseFunction.apply(
        scores, labels, mask, pair_fn, weight_fn, normalize
    )
    return values, n_pairs > 0
