"""Pointwise ranking losses: each document's score against its label.

Every pointwise loss averages over the real documents of a list, then over
the lists with at least one real document (:func:`~skrank.losses._base.
masked_mean` then :func:`~skrank.losses._base.reduce_lists`): each list
weighs the same whatever its length, as in the listwise and pairwise losses.
"""

from numbers import Integral, Real
from typing import ClassVar

import torch
import torch.nn.functional as F

from ..utils._validation import Interval
from ._base import RankingLoss, _host_labels, masked_mean
from ._registry import register_loss

__all__ = ["AbsoluteError", "HuberLoss", "OrdinalLoss", "SigmoidBCE", "SquaredError"]


def _clean(scores, labels, mask):
    """Zero the padding so that its values cannot reach any gradient."""
    if scores.dim() == 3:
        scores = torch.where(mask[..., None], scores, torch.zeros_like(scores))
    else:
        scores = torch.where(mask, scores, torch.zeros_like(scores))
    return scores, torch.where(mask, labels, torch.zeros_like(labels))


class _Pointwise(RankingLoss):
    def _doc_losses(self, scores, labels):
        raise NotImplementedError

    def per_list(self, scores, labels, mask):
        scores, labels = _clean(scores, labels, mask)
        return masked_mean(self._doc_losses(scores, labels), mask)


@register_loss("mse", family="pointwise")
class SquaredError(_Pointwise):
    r"""Squared error between scores and labels: the regression baseline.

    .. math::
        \ell_q = \frac{1}{n_q} \sum_{i \in q} (s_i - y_i)^2

    averaged over the :math:`n_q` real documents of each list, then over the
    lists with at least one real document. A one-document list counts like
    any other list; a list without a relevant document still pulls its scores
    to 0.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] D. Cossock and T. Zhang, "Subset ranking using regression", COLT
       2006.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import SquaredError
    >>> SquaredError()(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0]]))
    tensor(0.5000)
    """

    def _doc_losses(self, scores, labels):
        return (scores - labels).square()


@register_loss("mae", family="pointwise")
class AbsoluteError(_Pointwise):
    r"""Absolute error between scores and labels.

    .. math::
        \ell_q = \frac{1}{n_q} \sum_{i \in q} |s_i - y_i|

    averaged over the :math:`n_q` real documents of each list, then over the
    lists with at least one real document. A one-document list counts like
    any other list; a list without a relevant document still pulls its scores
    to 0. The subgradient at :math:`s_i = y_i` is 0.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import AbsoluteError
    >>> AbsoluteError()(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0]]))
    tensor(0.5000)
    """

    def _doc_losses(self, scores, labels):
        return (scores - labels).abs()


@register_loss("huber", family="pointwise")
class HuberLoss(_Pointwise):
    r"""Huber (smooth L1) loss between scores and labels.

    .. math::
        \ell_q = \frac{1}{n_q} \sum_{i \in q}
        \begin{cases}
            \frac{1}{2}(s_i - y_i)^2 & |s_i - y_i| \le \delta \\
            \delta \left(|s_i - y_i| - \frac{1}{2}\delta\right) & \text{otherwise}
        \end{cases}

    averaged over the real documents of each list, then over the lists with at
    least one real document. A one-document list counts like any other list;
    a list without a relevant document still pulls its scores to 0.

    Parameters
    ----------
    delta : float, default=1.0
        Where the loss turns from quadratic to linear, > 0.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] P. J. Huber, "Robust estimation of a location parameter", Annals of
       Mathematical Statistics, 1964.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import HuberLoss
    >>> HuberLoss(delta=1.0)(torch.tensor([[3.0, 0.5]]), torch.tensor([[0.0, 0.0]]))
    tensor(1.3125)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, delta=1.0, *, reduction="mean"):
        super().__init__(reduction=reduction)
        self.delta = delta
        self._validate_params()

    def _doc_losses(self, scores, labels):
        return F.huber_loss(scores, labels, reduction="none", delta=float(self.delta))


@register_loss("sigmoid_bce", family="pointwise")
class SigmoidBCE(_Pointwise):
    r"""Sigmoid binary cross-entropy: relevant or not, or labels scaled to [0, 1].

    .. math::
        \ell_q = \frac{1}{n_q} \sum_{i \in q}
            -t_i \log \sigma(s_i) - (1 - t_i) \log(1 - \sigma(s_i))

    with targets :math:`t_i = [y_i \ge \text{threshold}]`, or, when
    ``max_grade`` is given, :math:`t_i = \min(1, y_i / \text{max\_grade})`.
    Averaged over the real documents of each list, then over the lists with at
    least one real document. A one-document list counts like any other; a list
    without a relevant document pulls all its scores down.

    Parameters
    ----------
    threshold : float, default=1.0
        Labels at or above it are relevant (used when ``max_grade`` is None).
    max_grade : float, default=None
        If given, targets are labels divided by it, clipped to [0, 1].
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import SigmoidBCE
    >>> SigmoidBCE()(torch.tensor([[0.0, 0.0]]), torch.tensor([[2.0, 0.0]]))
    tensor(0.6931)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "threshold": [Interval(Real, None, None, closed="neither")],
        "max_grade": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, threshold=1.0, *, max_grade=None, reduction="mean"):
        super().__init__(reduction=reduction)
        self.threshold = threshold
        self.max_grade = max_grade
        self._validate_params()

    def _doc_losses(self, scores, labels):
        if self.max_grade is None:
            target = (labels >= self.threshold).to(scores.dtype)
        else:
            target = (labels / float(self.max_grade)).clamp(0.0, 1.0)
        return F.binary_cross_entropy_with_logits(scores, target, reduction="none")


@register_loss("ordinal", family="pointwise")
class OrdinalLoss(_Pointwise):
    r"""Ordinal loss: cumulative-link cross-entropy over the grades.

    The scorer gives :math:`T = n\_grades - 1` outputs per document,
    :math:`f_{i,t}` modelling :math:`P(y_i > t) = \sigma(f_{i,t})`,
    :math:`t = 0, \dots, T - 1`:

    .. math::
        \ell_q = \frac{1}{n_q} \sum_{i \in q} \sum_{t=0}^{T-1}
            \mathrm{BCE}\left(\sigma(f_{i,t}),\, [y_i > t]\right)

    Labels above ``n_grades - 1`` count as the top grade. Averaged over the
    real documents of each list, then over lists with at least one real
    document; one-document lists and lists without a relevant document count
    like any other.

    Scores have shape ``[n_queries, list_len, n_outputs]``: an estimator builds
    its scorer with ``loss.n_outputs`` outputs and ranks documents by
    :meth:`score_from_output`, the expected grade
    :math:`\sum_t \sigma(f_{i,t})`.

    Parameters
    ----------
    n_grades : int, default=5
        Number of relevance grades ``0 .. n_grades - 1``, >= 2.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] P. McCullagh, "Regression models for ordinal data", Journal of the
       Royal Statistical Society B, 1980.
    .. [2] W. Cao, V. Mirjalili and S. Raschka, "Rank consistent ordinal
       regression for neural networks", Pattern Recognition Letters, 2020.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import OrdinalLoss
    >>> loss = OrdinalLoss(n_grades=3)
    >>> loss.n_outputs
    2
    >>> output = torch.zeros(1, 2, 2)
    >>> loss(output, torch.tensor([[2.0, 0.0]]))
    tensor(1.3863)
    >>> loss.score_from_output(output)
    tensor([[1., 1.]])
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "n_grades": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, n_grades=5, *, reduction="mean"):
        super().__init__(reduction=reduction)
        self.n_grades = n_grades
        self._validate_params()
        self.n_outputs = n_grades - 1

    def _doc_losses(self, scores, labels):
        thresholds = torch.arange(
            self.n_outputs, dtype=scores.dtype, device=scores.device
        )
        target = (labels[..., None] > thresholds).to(scores.dtype)
        bce = F.binary_cross_entropy_with_logits(scores, target, reduction="none")
        return bce.sum(dim=-1)

    def initial_output(self, labels):
        """Logits of the label frequencies :math:`P(y > t)`, smoothed.

        An estimator adds them to its scorer's outputs, so training starts
        from the label distribution and learns only what ranks documents.

        Parameters
        ----------
        labels : array-like of shape (n_samples,)
            The training labels.

        Returns
        -------
        offset : torch.Tensor of shape (n_outputs,)
            :math:`\\log(p_t / (1 - p_t))` with
            :math:`p_t = (|\\{i : y_i > t\\}| + 0.5) / (n + 1)`.
        """
        if not isinstance(labels, torch.Tensor):
            labels = _host_labels(labels)
        labels = labels.to(torch.float64).reshape(-1, 1)
        above = (labels > torch.arange(self.n_outputs)).sum(0)
        p = (above + 0.5) / (labels.shape[0] + 1.0)
        return torch.log(p) - torch.log1p(-p)

    def score_from_output(self, output):
        """Expected grade :math:`\\sum_t \\sigma(f_t)` of the threshold logits.

        Parameters
        ----------
        output : torch.Tensor of shape (..., n_outputs)
            Logits :math:`f_t` of :math:`P(y > t)`, one per threshold.

        Returns
        -------
        scores : torch.Tensor of shape (...)
            The expected grade, used as the ranking score.
        """
        return torch.sigmoid(output).sum(dim=-1)
