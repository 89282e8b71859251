"""Pairwise ranking losses: one generic loss and thin named wrappers.

Every loss here is :class:`PairwiseLoss` with a pair function :math:`f` of the
score difference and optional constant pair weights :math:`w_{ij}`:

.. math::
    \\ell_q = \\frac{1}{Z_q} \\sum_{i, j \\in q:\\; y_i > y_j} w_{ij}\\, f(s_i - s_j)

over the pairs of real documents with different labels. The named losses are
:class:`PairwiseLoss` configurations, built through its ``__init__``. The
chunked engine that builds pairs, masks padding and computes the gradient
lives in :mod:`skrank.losses._chunked`.
"""

import math
from numbers import Integral, Real
from typing import ClassVar

import torch.nn.functional as F

from ..metrics._gains import GAINS
from ..utils._validation import HasMethods, Interval, StrOptions
from ._base import RankingLoss
from ._chunked import pairwise_per_list
from ._lambdaweights import LabelDiffWeights, LambdaLossWeights, LambdaRankWeights
from ._registry import register_loss

__all__ = [
    "HingePair",
    "LambdaLoss",
    "LambdaRank",
    "LogisticPair",
    "PairwiseHinge",
    "PairwiseLoss",
    "PairwiseSoftZeroOne",
    "RankNet",
    "SoftZeroOnePair",
]


# ---------------------------------------------------------------------------
# Pair functions: value and derivative of f(d), d = s_i - s_j, in one go.
# ``value_and_derivative`` may overwrite its argument; the true value and
# derivative are ``value_scale * value`` and ``derivative_scale * deriv``.
# ---------------------------------------------------------------------------
class LogisticPair:
    r"""Pairwise logistic :math:`f(d) = \log(1 + e^{-\sigma d})` (base e or 2)."""

    def __init__(self, sigma=1.0, base=math.e):
        self.sigma = float(sigma)
        self.value_scale = 1.0 / math.log(base)
        self.derivative_scale = -self.sigma / math.log(base)

    def value_and_derivative(self, diff):
        x = diff.mul_(-self.sigma)
        value = F.softplus(x)
        return value, x.sigmoid_()


class HingePair:
    r"""Pairwise hinge :math:`f(d) = \max(0, m - d)`."""

    value_scale = 1.0
    derivative_scale = -1.0

    def __init__(self, margin=1.0):
        self.margin = float(margin)

    def value_and_derivative(self, diff):
        value = diff.neg_().add_(self.margin).clamp_(min=0.0)
        return value, (value > 0).to(value.dtype)


class SoftZeroOnePair:
    r"""Pairwise soft zero-one :math:`f(d) = 1 / (1 + e^{\sigma d})`."""

    value_scale = 1.0

    def __init__(self, sigma=1.0):
        self.sigma = float(sigma)
        self.derivative_scale = -self.sigma

    def value_and_derivative(self, diff):
        value = diff.mul_(-self.sigma).sigmoid_()
        return value, value * (1.0 - value)


_PAIR_FUNCTIONS = {
    "logistic": LogisticPair,
    "hinge": HingePair,
    "soft_zero_one": SoftZeroOnePair,
}


class PairwiseLoss(RankingLoss):
    r"""Generic pairwise loss: a pair function and optional pair weights.

    .. math::
        \ell_q = \frac{1}{Z_q} \sum_{i, j:\; y_i > y_j} w_{ij}\, f(s_i - s_j)

    over the pairs of real documents of list :math:`q` with different labels.
    :math:`Z_q` is the number of such pairs when ``normalize=True``, else 1.
    The batch loss is the mean of :math:`\ell_q` over the lists that have at
    least one pair: a list with one document, or whose documents all share a
    label (e.g. no relevant document), contributes nothing.

    The pairs are processed in blocks of rows, and the gradient with respect
    to the scores is computed in the same pass (weights are constants), so
    memory stays at a few megabytes whatever the list length.

    Parameters
    ----------
    pair_fn : {"logistic", "hinge", "soft_zero_one"} or object, default="logistic"
        The pair function :math:`f` of :math:`d = s_i - s_j`: logistic
        :math:`\log(1 + e^{-\sigma d})`, hinge :math:`\max(0, m - d)`, soft
        zero-one :math:`1 / (1 + e^{\sigma d})`; or an object with
        ``value_and_derivative(d)``, ``value_scale`` and ``derivative_scale``
        (see :class:`LogisticPair`).
    sigma : float, default=1.0
        Steepness :math:`\sigma` of the logistic and soft zero-one functions.
    margin : float, default=1.0
        Margin :math:`m` of the hinge.
    weights : {"label_diff"} or object, default=None
        Pair weights: ``None`` for 1, ``"label_diff"`` for :math:`|y_i - y_j|`,
        or a weight object (see :mod:`skrank.losses._lambdaweights`).
    normalize : bool, default=True
        Divide each list's sum by its number of pairs.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] R. Jagerman, X. Qin, K. Wang, M. Bendersky and M. Najork, "Rax:
       Composable Learning-to-Rank using JAX", KDD 2022.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import PairwiseLoss
    >>> scores = torch.tensor([[2.0, 1.0, 0.0]])
    >>> labels = torch.tensor([[0.0, 1.0, 2.0]])
    >>> PairwiseLoss("hinge", margin=1.0)(scores, labels)
    tensor(2.3333)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "pair_fn": [
            StrOptions(set(_PAIR_FUNCTIONS)),
            HasMethods(["value_and_derivative"]),
        ],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "weights": [StrOptions({"label_diff"}), None, HasMethods(["prepare", "block"])],
        "normalize": ["boolean"],
    }

    def __init__(
        self,
        pair_fn="logistic",
        *,
        sigma=1.0,
        margin=1.0,
        weights=None,
        normalize=True,
        reduction="mean",
    ):
        super().__init__(reduction=reduction)
        self.pair_fn = pair_fn
        self.sigma = sigma
        self.margin = margin
        self.weights = weights
        self.normalize = normalize
        # the generic parameters; a named loss validates its own after setting them
        self._validate_params(PairwiseLoss._parameter_constraints)

    def _pair_function(self):
        if not isinstance(self.pair_fn, str):
            return self.pair_fn
        if self.pair_fn == "hinge":
            return HingePair(self.margin)
        return _PAIR_FUNCTIONS[self.pair_fn](self.sigma)

    def _weight_function(self):
        if self.weights == "label_diff":
            return LabelDiffWeights()
        return self.weights

    def per_list(self, scores, labels, mask):
        return pairwise_per_list(
            scores,
            labels,
            mask,
            self._pair_function(),
            self._weight_function(),
            normalize=self.normalize,
            name=type(self).__name__,
        )


class _NamedPairwise(PairwiseLoss):
    """A pairwise loss with a fixed pair function; ``label_diff`` option."""

    def _weight_function(self):
        return LabelDiffWeights() if self.label_diff else None


@register_loss("ranknet", family="pairwise")
class RankNet(_NamedPairwise):
    r"""RankNet: pairwise logistic loss.

    .. math::
        \ell_q = \frac{1}{Z_q} \sum_{i, j:\; y_i > y_j} w_{ij}
            \log\left(1 + e^{-\sigma (s_i - s_j)}\right)

    with :math:`Z_q` the number of pairs of real documents with
    :math:`y_i > y_j` and :math:`w_{ij} = 1` (or :math:`|y_i - y_j|` with
    ``label_diff=True``). The loss is the mean of :math:`\ell_q` over the lists
    with at least one such pair; a one-document list, or a list whose
    documents share one label (e.g. no relevant document), contributes nothing.

    Parameters
    ----------
    sigma : float, default=1.0
        Steepness of the logistic function, > 0.
    label_diff : bool, default=False
        Weight each pair by :math:`|y_i - y_j|`.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] C. Burges, T. Shaked, E. Renshaw, A. Lazier, M. Deeds, N. Hamilton
       and G. Hullender, "Learning to rank using gradient descent", ICML 2005.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import RankNet
    >>> scores = torch.tensor([[0.0, 0.0, 1.0]])
    >>> labels = torch.tensor([[1.0, 0.0, 0.0]])
    >>> RankNet()(scores, labels)
    tensor(1.0032)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "label_diff": ["boolean"],
    }

    def __init__(self, sigma=1.0, *, label_diff=False, reduction="mean"):
        super().__init__("logistic", sigma=sigma, reduction=reduction)
        self.label_diff = label_diff
        self._validate_params()

    def _pair_function(self):
        return LogisticPair(self.sigma)


@register_loss("pairwise_hinge", family="pairwise")
class PairwiseHinge(_NamedPairwise):
    r"""Pairwise hinge loss.

    .. math::
        \ell_q = \frac{1}{Z_q} \sum_{i, j:\; y_i > y_j} w_{ij}
            \max\left(0, m - (s_i - s_j)\right)

    with :math:`Z_q` the number of pairs of real documents with
    :math:`y_i > y_j` and :math:`w_{ij} = 1` (or :math:`|y_i - y_j|` with
    ``label_diff=True``); the subgradient at :math:`s_i - s_j = m` is 0. The
    loss is the mean of :math:`\ell_q` over lists with at least one pair; a
    one-document list, or one whose documents share a label (e.g. no relevant
    document), contributes nothing.

    Parameters
    ----------
    margin : float, default=1.0
        Margin :math:`m`, >= 0.
    label_diff : bool, default=False
        Weight each pair by :math:`|y_i - y_j|`.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] R. Herbrich, T. Graepel and K. Obermayer, "Large margin rank
       boundaries for ordinal regression", Advances in Large Margin
       Classifiers, 2000.
    .. [2] T. Joachims, "Optimizing search engines using clickthrough data",
       KDD 2002.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import PairwiseHinge
    >>> scores = torch.tensor([[0.5, 0.0, 2.0]])
    >>> labels = torch.tensor([[1.0, 0.0, 0.0]])
    >>> PairwiseHinge(margin=1.0)(scores, labels)
    tensor(1.5000)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "margin": [Interval(Real, 0, None, closed="left")],
        "label_diff": ["boolean"],
    }

    def __init__(self, margin=1.0, *, label_diff=False, reduction="mean"):
        super().__init__("hinge", margin=margin, reduction=reduction)
        self.label_diff = label_diff
        self._validate_params()

    def _pair_function(self):
        return HingePair(self.margin)


@register_loss("pairwise_soft_zero_one", family="pairwise")
class PairwiseSoftZeroOne(_NamedPairwise):
    r"""Pairwise soft zero-one loss: a sigmoid of the negative difference.

    .. math::
        \ell_q = \frac{1}{Z_q} \sum_{i, j:\; y_i > y_j} w_{ij}
            \frac{1}{1 + e^{\sigma (s_i - s_j)}}

    a smooth count of mis-ordered pairs, with :math:`Z_q` the number of pairs
    of real documents with :math:`y_i > y_j` and :math:`w_{ij} = 1` (or
    :math:`|y_i - y_j|` with ``label_diff=True``). The loss is the mean of
    :math:`\ell_q` over lists with at least one pair; a one-document list, or
    one whose documents share a label, contributes nothing.

    Parameters
    ----------
    sigma : float, default=1.0
        Steepness of the sigmoid, > 0.
    label_diff : bool, default=False
        Weight each pair by :math:`|y_i - y_j|`.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] R. Jagerman, X. Qin, K. Wang, M. Bendersky and M. Najork, "Rax:
       Composable Learning-to-Rank using JAX", KDD 2022
       (``pairwise_soft_zero_one_loss``).

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import PairwiseSoftZeroOne
    >>> scores = torch.tensor([[0.0, 0.0]])
    >>> labels = torch.tensor([[1.0, 0.0]])
    >>> PairwiseSoftZeroOne()(scores, labels)
    tensor(0.5000)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "label_diff": ["boolean"],
    }

    def __init__(self, sigma=1.0, *, label_diff=False, reduction="mean"):
        super().__init__("soft_zero_one", sigma=sigma, reduction=reduction)
        self.label_diff = label_diff
        self._validate_params()

    def _pair_function(self):
        return SoftZeroOnePair(self.sigma)


_K = [Interval(Integral, 1, None, closed="left"), None]


@register_loss("lambdarank", family="pairwise")
class LambdaRank(PairwiseLoss):
    r"""LambdaRank: pairwise logistic loss weighted by :math:`|\Delta NDCG|`.

    .. math::
        \ell_q = \sum_{i, j:\; y_i > y_j}
            \frac{|G_i - G_j|\, |D(r_i) - D(r_j)|}{\mathrm{IDCG@k}_q}
            \log\left(1 + e^{-\sigma (s_i - s_j)}\right)

    The weight is the change of NDCG@k when documents i and j swap places in
    the **current** ranking: :math:`G` is the gain (``2**y - 1`` by default),
    :math:`r` the 0-based rank under the current scores (ties broken by
    position in the list: the earlier document ranks first), :math:`D(r) = 1 /
    \log_2(r + 2)` for :math:`r < k` and 0 beyond, so only pairs with at least
    one document in the top ``k`` matter. Weights are constants (no gradient
    through the ranks), as in LambdaMART. The sum is not divided by the number
    of pairs. The loss is the mean of :math:`\ell_q` over lists with at least
    one pair of different labels; a one-document list, or a list without a
    relevant document, contributes nothing.

    Parameters
    ----------
    sigma : float, default=1.0
        Steepness of the logistic function, > 0.
    k : int, default=None
        NDCG truncation; ``None`` for the whole list.
    gain : {"exponential", "linear"}, default="exponential"
        Gain of the labels, :math:`2^y - 1` or :math:`y`, as the metrics'
        ``gain=``. Exponential gains are computed per list in a scaled domain
        (exact ratios, no overflow of the ideal DCG); a label whose gain does
        not fit the dtype (128 and above in float32) is refused, see
        :meth:`~skrank.losses.RankingLoss.check_labels`.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] C. Burges, R. Ragno and Q. Le, "Learning to rank with nonsmooth cost
       functions", NIPS 2006.
    .. [2] C. Burges, "From RankNet to LambdaRank to LambdaMART: an overview",
       Microsoft Research Technical Report MSR-TR-2010-82, 2010.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import LambdaRank
    >>> scores = torch.tensor([[1.0, 0.0]])
    >>> labels = torch.tensor([[0.0, 1.0]])
    >>> LambdaRank()(scores, labels)
    tensor(0.4847)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "k": _K,
        "gain": [StrOptions(set(GAINS))],
    }

    def __init__(self, sigma=1.0, *, k=None, gain="exponential", reduction="mean"):
        super().__init__("logistic", sigma=sigma, normalize=False, reduction=reduction)
        self.k = k
        self.gain = gain
        self._validate_params()

    def _label_gain(self):
        return self.gain

    def _pair_function(self):
        return LogisticPair(self.sigma)

    def _weight_function(self):
        return LambdaRankWeights(k=self.k, gain=self.gain)


@register_loss("lambdaloss", family="pairwise")
class LambdaLoss(PairwiseLoss):
    r"""LambdaLoss with the NDCG-Loss2 or NDCG-Loss2++ weighting.

    .. math::
        \ell_q = \sum_{i, j:\; y_i > y_j}
            \frac{|G_i - G_j|}{\mathrm{IDCG@k}_q}\, \omega_{ij}\,
            \log_2\left(1 + e^{-\sigma (s_i - s_j)}\right)

    with, for 0-based current ranks :math:`r` (ties broken by position),
    :math:`\delta_{ij} = 1/\log_2(|r_i - r_j| + 1) - 1/\log_2(|r_i - r_j| + 2)`
    and :math:`\rho_{ij} = |D(r_i) - D(r_j)|`,
    :math:`D(r) = 1/\log_2(r + 2)` (0 beyond ``k``):

    - ``"ndcg_loss2"``: :math:`\omega_{ij} = \delta_{ij}`;
    - ``"ndcg_loss2pp"``: :math:`\omega_{ij} = \rho_{ij} + \mu\, \delta_{ij}`.

    With ``k``, only pairs with at least one document in the current top ``k``
    count. Weights are constants (no gradient through the ranks). The loss is
    the mean of :math:`\ell_q` over lists with at least one pair of different
    labels; a one-document list, or a list without a relevant document,
    contributes nothing.

    Parameters
    ----------
    weighting : {"ndcg_loss2", "ndcg_loss2pp"}, default="ndcg_loss2"
        The weighting scheme.
    mu : float, default=10.0
        Weight :math:`\mu` of :math:`\delta` in NDCG-Loss2++, >= 0.
    sigma : float, default=1.0
        Steepness of the logistic function, > 0.
    k : int, default=None
        NDCG truncation; ``None`` for the whole list.
    gain : {"exponential", "linear"}, default="exponential"
        Gain of the labels, :math:`2^y - 1` or :math:`y`, as the metrics'
        ``gain=``. Exponential gains are computed per list in a scaled domain
        (exact ratios, no overflow of the ideal DCG); a label whose gain does
        not fit the dtype (128 and above in float32) is refused, see
        :meth:`~skrank.losses.RankingLoss.check_labels`.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] X. Wang, C. Li, N. Golbandi, M. Bendersky and M. Najork, "The
       LambdaLoss Framework for Ranking Metric Optimization", CIKM 2018.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import LambdaLoss
    >>> scores = torch.tensor([[1.0, 0.0]])
    >>> labels = torch.tensor([[0.0, 1.0]])
    >>> LambdaLoss()(scores, labels)
    tensor(0.6993)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "weighting": [StrOptions({"ndcg_loss2", "ndcg_loss2pp"})],
        "mu": [Interval(Real, 0, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "k": _K,
        "gain": [StrOptions(set(GAINS))],
    }

    def __init__(
        self,
        weighting="ndcg_loss2",
        *,
        mu=10.0,
        sigma=1.0,
        k=None,
        gain="exponential",
        reduction="mean",
    ):
        super().__init__("logistic", sigma=sigma, normalize=False, reduction=reduction)
        self.weighting = weighting
        self.mu = mu
        self.k = k
        self.gain = gain
        self._validate_params()

    def _label_gain(self):
        return self.gain

    def _pair_function(self):
        return LogisticPair(self.sigma, base=2.0)

    def _weight_function(self):
        return LambdaLossWeights(self.weighting, mu=self.mu, k=self.k, gain=self.gain)
