"""The one place for input checks, masking and reduction of ranking losses.

A loss is a :class:`RankingLoss` subclass that implements :meth:`per_list`:
given padded ``scores`` and ``labels`` of shape ``[n_queries, list_len]`` and a
boolean ``mask`` (True = a real document), it returns one loss value per list
and a boolean saying which lists contribute. :meth:`RankingLoss.forward`
checks the inputs, calls it, and averages over the contributing lists.
"""

import numbers

import torch
from torch import nn

__all__ = ["CombinedLoss", "RankingLoss", "check_loss_inputs", "reduce_lists"]

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

    Attributes
    ----------
    n_outputs : int
        How many outputs per document the scorer module must produce (1 for
        every loss except the ordinal one).
    """

    n_outputs = 1

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def per_list(self, scores, labels, mask):
        """Return ``(values, valid)``: one loss per list and which lists count.

        ``scores`` and ``labels`` are ``[n_queries, list_len]`` tensors (scores
        ``[..., n_outputs]`` when ``n_outputs > 1``) and ``mask`` is boolean.
        Values at padded positions are arbitrary and must not leak into the
        result or its gradient.
        """
        raise NotImplementedError

    def forward(self, scores, labels, mask=None):
        name = type(self).__name__
        _check_reduction(self.reduction, name)
        scores, labels, mask = check_loss_inputs(
            scores, labels, mask, n_outputs=self.n_outputs, name=name
        )
        values, valid = self.per_list(scores, labels, mask)
        return reduce_lists(values, valid, self.reduction)

    def score_from_output(self, output):
        """Map the scorer's raw output ``[..., n_outputs]`` to one ranking score."""
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
