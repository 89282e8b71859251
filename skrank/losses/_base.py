"""The loss contract: input checks, masks, gains, reduction and combination.

A loss is a :class:`RankingLoss` subclass that implements :meth:`per_list`:
given padded ``scores`` and ``labels`` of shape ``[n_queries, list_len]`` and a
boolean ``mask`` (True = a real document), it returns one loss value per list
and a boolean saying which lists contribute. :meth:`RankingLoss.forward`
validates the hyper-parameters and the inputs, calls it, and reduces over the
contributing lists. The ``O(list_len**2)`` engines live in
:mod:`skrank.losses._chunked`.

**Precision.** Losses compute in float32 at least: float16 and bfloat16
scores are promoted (as ``torch.autocast`` does for losses), so the value is
float32 and the gradient reaches the scores in their own dtype; inside
``torch.autocast`` the loss runs with autocast off, so its matrix products are
not lowered to half precision.
"""

import math
import numbers
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ..metrics._gains import discount
from ..utils._validation import StrOptions, validate_parameter_constraints

__all__ = [
    "CombinedLoss",
    "RankingLoss",
    "check_gain_labels",
    "check_loss_inputs",
    "current_ranks",
    "ideal_dcg",
    "list_gains",
    "masked_log_softmax",
    "masked_mean",
    "reduce_lists",
]

REDUCTIONS = ("mean", "sum", "none")


def check_loss_inputs(scores, labels, mask=None, *, n_outputs=1, name="loss"):
    """Check shapes and dtypes of a loss call; return ``scores, labels, mask``.

    Only shapes and dtypes are checked (no data-dependent test), so the check
    costs nothing on a GPU. Half-precision ``scores`` are promoted to float32,
    ``labels`` are cast to the dtype of ``scores``; ``mask=None`` means every
    document is real.
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
    if torch.finfo(scores.dtype).bits < 32:  # float16, bfloat16
        scores = scores.float()
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


def _autocast_enabled(device_type):
    try:
        return torch.is_autocast_enabled(device_type)
    except RuntimeError:  # a device type autocast does not know (e.g. "meta")
        return False


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

    _parameter_constraints: ClassVar[dict] = {
        "reduction": [StrOptions(set(REDUCTIONS))]
    }

    def __init__(self, *, reduction="mean"):
        super().__init__()
        self.reduction = reduction
        self._validate_params(RankingLoss._parameter_constraints)

    def _validate_params(self, constraints=None):
        """Validate hyper-parameters with scikit-learn's wording.

        ``constraints`` defaults to the class's ``_parameter_constraints``
        (scikit-learn's convention); the error reads "The 'sigma' parameter of
        RankNet must be a float in the range (0.0, inf). Got -1 instead."
        """
        if constraints is None:
            constraints = self._parameter_constraints
        params = {name: getattr(self, name) for name in constraints}
        validate_parameter_constraints(
            constraints, params, caller_name=type(self).__name__
        )

    def check_labels(self, labels, dtype=None):
        """Check once, before training, that the loss can use these labels.

        The default accepts every label; losses with an exponential gain
        refuse labels whose gain :math:`2^y - 1` does not fit the dtype they
        compute in. An estimator calls this once on all its training labels:
        forward checks again only on CPU tensors, where that needs no device
        synchronisation.

        Parameters
        ----------
        labels : array-like or torch.Tensor
            Relevance labels (any shape; padding must not be included).
        dtype : torch.dtype, default=None
            The dtype of the scores in training; None means float32. Losses
            compute in float32 at least.

        Raises
        ------
        ValueError
            If a label cannot be used by this loss.

        Examples
        --------
        >>> from skrank.losses import LambdaRank
        >>> LambdaRank().check_labels([0, 1, 127])
        >>> LambdaRank().check_labels([0, 128])
        Traceback (most recent call last):
        ...
        ValueError: LambdaRank: the label 128 has the exponential gain 2**128 - 1, ...
        """
        gain = self._label_gain()
        if gain is not None:
            check_gain_labels(labels, gain, dtype, type(self).__name__)

    def _label_gain(self):
        """The gain whose labels must fit, or None for a loss without a check."""
        return None

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

    def _revalidate_params(self):
        """Validate again if a hyper-parameter was reassigned since the last call.

        Checking identities costs well under a microsecond; scikit-learn's
        validation costs tens, as much as a whole pointwise loss on a batch.
        """
        current = tuple(getattr(self, name) for name in self._parameter_constraints)
        last = self.__dict__.get("_validated_params")
        if last is None or len(last) != len(current):
            changed = True
        else:
            changed = any(a is not b for a, b in zip(current, last, strict=True))
        if changed:
            self._validate_params()
            self.__dict__["_validated_params"] = current

    def forward(self, scores, labels, mask=None):
        # Hyper-parameters may have been reassigned since __init__.
        self._revalidate_params()
        scores, labels, mask = check_loss_inputs(
            scores, labels, mask, n_outputs=self.n_outputs, name=type(self).__name__
        )
        gain = self._label_gain()
        # Only exponential gains can overflow; checked where it needs no sync.
        if gain == "exponential" and labels.device.type == "cpu":
            check_gain_labels(labels[mask], gain, scores.dtype, type(self).__name__)
        device_type = scores.device.type
        if _autocast_enabled(device_type):
            with torch.autocast(device_type, enabled=False):
                values, valid = self.per_list(scores, labels, mask)
        else:
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

    def check_labels(self, labels, dtype=None):
        """Check the labels for every term that has a ``check_labels`` method.

        Parameters
        ----------
        labels : array-like or torch.Tensor
            Relevance labels.
        dtype : torch.dtype, default=None
            The dtype of the scores in training; None means float32.
        """
        for loss in self._terms:
            check = getattr(loss, "check_labels", None)
            if check is not None:
                check(labels, dtype)

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
# Gains
# ---------------------------------------------------------------------------
def list_gains(labels, mask, gain="exponential"):
    r"""Gains of the real documents ``[Q, L]``, each list's scaled by a power of 2.

    The NDCG-type losses use gains only through ratios (:math:`G_i /
    \mathrm{IDCG}`, differences over IDCG), so each list's exponential gains
    are computed as

    .. math::
        rac{2^{y_i} - 1}{2^m} = 2^{y_i - m} - 2^{-m}, \qquad
        m = \max(0, \max_j y_j),

    which never overflows (they are at most 1, the ideal DCG at most the list
    length) and equals the unscaled gain times an exact power of two, so
    every ratio is the same to the last bit wherever the unscaled gains fit
    (the way the metrics keep float64 NDCG exact). Linear gains are the
    labels. Padding gets 0.
    """
    zeros = torch.zeros_like(labels)
    y = torch.where(mask, labels, zeros)
    if gain == "linear" or y.shape[-1] == 0:
        return y
    top = y.amax(dim=-1, keepdim=True).clamp(min=0.0)
    return torch.where(mask, torch.exp2(y - top) - torch.exp2(-top), zeros)


def _host_labels(labels):
    """Array-like labels as a float64 CPU tensor of their own.

    A copy: torch wraps neither a view with a negative stride (``y[::-1]``)
    nor, without a warning, a read-only array (a memory map).
    """
    return torch.from_numpy(np.array(labels, dtype=np.float64, order="C"))


def check_gain_labels(labels, gain, dtype, name):
    """Raise a ValueError naming a label the ``gain`` cannot hold in ``dtype``.

    Labels must be finite; with ``gain="exponential"`` the gain
    :math:`2^y - 1` of every label must fit the dtype the loss computes in
    (``dtype`` promoted to float32 at least; None means float32): labels up to
    127 in float32, 1023 in float64. Needs the labels on the host: called by
    :meth:`RankingLoss.check_labels`, and from ``forward`` on CPU tensors only.
    """
    if isinstance(labels, torch.Tensor):
        labels = labels.detach()
    else:
        labels = _host_labels(labels)
    if labels.numel() == 0:
        return
    finite = torch.isfinite(labels)
    if not finite.all():
        bad = labels[~finite].flatten()[0].item()
        raise ValueError(f"{name} needs finite labels. Got a label of {bad}.")
    if gain != "exponential":
        return
    dtype = torch.float32 if dtype is None else dtype
    dtype = torch.promote_types(dtype, torch.float32)
    # 2**y - 1 fits iff y < e, with the largest float = m * 2**e, m in [0.5, 1)
    limit = math.frexp(torch.finfo(dtype).max)[1]
    top = labels.max().item()
    if top >= limit:
        raise ValueError(
            f"{name}: the label {top:g} has the exponential gain 2**{top:g} - 1, "
            f"which does not fit in {str(dtype).removeprefix('torch.')} (labels "
            f"up to {limit - 1} do). Use gain='linear' or smaller labels."
        )
