"""Listwise ranking losses: ListNet, ListMLE, ApproxNDCG and NeuralNDCG.

Each loss computes one value per list from the padded ``[n_queries,
list_len]`` scores and labels; :class:`~skrank.losses._base.RankingLoss`
checks the inputs and averages over the lists that contribute. Throughout this
module a list contributes when it has at least two real documents (a
one-document list has nothing to rank) and, for the NDCG-based losses and the
gain targets of ListNet, at least one relevant document (its ideal DCG is
positive). Lists that do not contribute add exactly zero to the value and to
every gradient.

ApproxNDCG and NeuralNDCG do ``O(list_len**2)`` work per list; they run in
the chunked engines of :mod:`skrank.losses._chunked`. ApproxNDCG's memory stays
at a few megabytes of work blocks whatever the batch and list sizes;
NeuralNDCG needs one ``list_len x list_len`` matrix per list (see its
``max_list_len``).
"""

import math
from numbers import Integral, Real
from typing import ClassVar

import torch

from ..utils._validation import Interval, StrOptions
from ._base import (
    RankingLoss,
    ideal_dcg,
    list_gains,
    masked_log_softmax,
)
from ._chunked import approx_ndcg_per_list, neural_ndcg_per_list
from ._registry import register_loss

__all__ = ["ApproxNDCG", "ListMLE", "ListNet", "NeuralNDCG"]


def _two_or_more(mask):
    return mask.sum(dim=-1) >= 2


def _label_temperature(labels, mask, span):
    """``max(1, (max y - min y) / span)`` per list, over its real documents."""
    big = torch.finfo(labels.dtype).max
    top = labels.masked_fill(~mask, -big).amax(dim=-1, keepdim=True)
    bottom = labels.masked_fill(~mask, big).amin(dim=-1, keepdim=True)
    return ((top - bottom) / span).clamp(min=1.0)


# ---------------------------------------------------------------------------
# ListNet
# ---------------------------------------------------------------------------
@register_loss("listnet", family="listwise")
class ListNet(RankingLoss):
    r"""ListNet: top-one cross-entropy between label and score distributions.

    The top-one probabilities of the scores are
    :math:`q_i = e^{s_i} / \sum_j e^{s_j}` and those of the labels
    :math:`p_i` (see ``target``), both over the real documents of the list:

    .. math::
        \ell_q = -\sum_i p_i \log q_i \quad \text{(cross-entropy)}, \qquad
        \ell_q = \sum_i p_i \log \frac{p_i}{q_i} \quad \text{(KL divergence)}

    The two forms differ by the entropy of :math:`p`, a constant, so they have
    the same gradient; the KL form is 0 for a perfect fit.

    A list contributes when it has at least two real documents. With the
    default ``target="softmax"``, a list without a relevant document has a
    uniform target and still contributes (it pulls its scores together); with
    ``"linear"`` or ``"exponential"`` its target is undefined and it does not
    contribute. A one-document list does not contribute (its loss would be
    0 in both forms).

    **The softmax target's span.** :math:`e^{y_i}` depends on the label
    scale: with grades 0-4 the best document of a list gets :math:`e^4
    \approx 55` times the weight of the worst, and grades 1-2 get almost
    none; with grades 0-2 the ratio is :math:`e^2 \approx 7.4`. By default
    each list's labels are divided by

    .. math::
        T_q = \max\left(1, \frac{\max_i y_i - \min_i y_i}{\texttt{label\_span}}
        \right)

    over its real documents, so that the target's ratio is at most
    :math:`e^{\texttt{label\_span}}`: a list whose labels span at most 2
    (binary labels, grades 0-2) keeps Cao et al.'s target exactly; a list
    with grades 0-4 gets :math:`e^{y_i / 2}`. Chosen on validation data
    (``benchmarks/README.md``, round 16): on five synthetic sets with grades
    0-3 or 0-4, ``NeuralRanker()`` gained 0.009 NDCG@10 on average over the
    plain target; spans of 1.5 and 3 did worse.

    Parameters
    ----------
    target : {"softmax", "linear", "exponential"}, default="softmax"
        The label distribution :math:`p`: ``"softmax"`` is
        :math:`e^{y_i / T_q} / \sum_j e^{y_j / T_q}` (Cao et al. 2007,
        allRank, with :math:`T_q = 1`); ``"linear"`` is
        :math:`y_i / \sum_j y_j`; ``"exponential"`` is
        :math:`(2^{y_i} - 1) / \sum_j (2^{y_j} - 1)`.
    form : {"cross_entropy", "kl"}, default="cross_entropy"
        Cross-entropy or Kullback-Leibler divergence.
    label_span : float or None, default=2.0
        The widest label span of a list that the softmax target takes as it
        is (see above); None never rescales (:math:`T_q = 1`, the textbook
        target). The linear and exponential targets are NDCG's gains and do
        not use it.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] Z. Cao, T. Qin, T.-Y. Liu, M.-F. Tsai and H. Li, "Learning to rank:
       from pairwise approach to listwise approach", ICML 2007.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import ListNet
    >>> scores = torch.tensor([[0.0, 0.0]])
    >>> labels = torch.tensor([[1.0, 0.0]])
    >>> ListNet()(scores, labels)
    tensor(0.6931)
    >>> ListNet(form="kl")(labels, labels)  # a perfect fit
    tensor(0.)
    >>> ListNet(target="linear", form="kl")(scores, labels)  # log 2 - 0
    tensor(0.6931)

    Grades 0-4: the default target is softmax([4, 0] / 2), the textbook one
    softmax([4, 0]).

    >>> scores, labels = torch.tensor([[1.0, 0.0]]), torch.tensor([[4.0, 0.0]])
    >>> ListNet()(scores, labels)
    tensor(0.4325)
    >>> ListNet(label_span=None)(scores, labels)
    tensor(0.3312)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "target": [StrOptions({"softmax", "linear", "exponential"})],
        "form": [StrOptions({"cross_entropy", "kl"})],
        "label_span": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        target="softmax",
        form="cross_entropy",
        *,
        label_span=2.0,
        reduction="mean",
    ):
        super().__init__(reduction=reduction)
        self.target = target
        self.form = form
        self.label_span = label_span
        self._validate_params()

    def _label_gain(self):
        # softmax targets are computed stably: only finiteness matters
        return "exponential" if self.target == "exponential" else "linear"

    def per_list(self, scores, labels, mask):
        valid = _two_or_more(mask)
        if self.target == "softmax":
            # Padding gets the lowest finite value: exactly zero probability,
            # and p * log q stays finite (0 * finite) so nothing leaks into
            # the value or the gradient, with no extra masking pass.
            fill = torch.finfo(scores.dtype).min
            if self.label_span is not None:
                labels = labels / _label_temperature(labels, mask, self.label_span)
            log_p = torch.log_softmax(labels.masked_fill(~mask, fill), dim=-1)
            log_q = torch.log_softmax(scores.masked_fill(~mask, fill), dim=-1)
            p = log_p.exp()
            values = -(p * log_q).sum(dim=-1)
            if self.form == "kl":
                values = values + (p * log_p).sum(dim=-1)
            return values, valid
        zeros = torch.zeros_like(labels)
        weights = list_gains(labels, mask, self.target)
        total = weights.sum(dim=-1, keepdim=True)
        valid = valid & (total[:, 0] > 0)
        tiny = torch.finfo(labels.dtype).tiny
        p = weights / total.clamp(min=tiny)
        log_p = torch.where(p > 0, p.clamp(min=tiny).log(), zeros)
        log_q = masked_log_softmax(scores, mask)
        values = -(p * log_q).sum(dim=-1)
        if self.form == "kl":
            values = values + (p * log_p).sum(dim=-1)
        return values, valid


# ---------------------------------------------------------------------------
# ListMLE
# ---------------------------------------------------------------------------
@register_loss("listmle", family="listwise")
class ListMLE(RankingLoss):
    r"""ListMLE: Plackett-Luce negative log-likelihood of the label order.

    With the real documents of a list ordered by decreasing label,
    :math:`\pi(1), \dots, \pi(n)`:

    .. math::
        \ell_q = \sum_{i=1}^{\min(k, n)} \left(
        \log \sum_{j=i}^{n} e^{s_{\pi(j)}} - s_{\pi(i)} \right)

    computed with a stable log-cumulative-sum-exp from the end of the list.

    **Label ties.** The likelihood depends on the order given to documents
    with equal labels. By default (``ties="random"``) tied documents are
    shuffled uniformly at each call (Xia et al. 2008, TF-Ranking, allRank),
    so over training the loss averages the likelihood over tie orders. With
    ``ties="score"`` they are instead ordered by the current scores, lowest
    score first (a stop-gradient choice, so the loss is deterministic and its
    gradient permutes with the documents): the least likely order of each
    tie group, so the loss is the largest Plackett-Luce loss over tie orders,
    an upper bound on their average. As a training loss the bound is much
    worse: on MQ2008, where most of a list is tied at label 0, an MLP
    ensemble trained with it reached a validation NDCG@10 of 0.48 (0.62
    without dropout), against 0.71 with random ties. Documents with equal
    labels and equal scores keep their input order.

    A list contributes when it has at least two real documents; a list
    without a relevant document has all labels tied and still contributes.

    Parameters
    ----------
    k : int, default=None
        Only the first ``k`` positions of the label order enter the
        likelihood (top-k ListMLE, Xia et al. 2009). None uses all.
    ties : {"random", "score"}, default="random"
        How documents with equal labels are ordered: shuffled at each call,
        or by score, lowest first (deterministic; see above).
    random_state : int, default=None
        Seeds the shuffles of ``ties="random"``: a generator seeded once with
        it, so a run is reproducible. None draws from torch's global
        generator (which :class:`~skrank.estimators.NeuralRanker` seeds from
        its own ``random_state`` in ``fit``).
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] F. Xia, T.-Y. Liu, J. Wang, W. Zhang and H. Li, "Listwise approach
       to learning to rank: theory and algorithm", ICML 2008.
    .. [2] F. Xia, T.-Y. Liu and H. Li, "Statistical consistency of top-k
       ranking", NeurIPS 2009.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import ListMLE
    >>> scores = torch.tensor([[0.0, 0.0, 0.0]])
    >>> labels = torch.tensor([[2.0, 1.0, 0.0]])
    >>> ListMLE()(scores, labels)  # log 3 + log 2
    tensor(1.7918)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "ties": [StrOptions({"random", "score"})],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, *, k=None, ties="random", random_state=None, reduction="mean"):
        super().__init__(reduction=reduction)
        self.k = k
        self.ties = ties
        self.random_state = random_state
        self._validate_params()
        self._generator = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_generator"] = None  # restarts from random_state
        return state

    def _tie_keys(self, scores):
        if self.ties == "score":
            return scores.detach()
        if self.random_state is None:  # torch's global generator, on the device
            return torch.rand(scores.shape, device=scores.device)
        if self._generator is None:
            self._generator = torch.Generator().manual_seed(int(self.random_state))
        keys = torch.rand(scores.shape, generator=self._generator, dtype=torch.float64)
        return keys.to(scores.device)

    def per_list(self, scores, labels, mask):
        # ties first (ascending key), then labels descending, padding first
        first = torch.argsort(self._tie_keys(scores), dim=-1, stable=True)
        key = torch.where(mask, labels, torch.full_like(labels, math.inf))
        second = torch.argsort(
            key.gather(-1, first), dim=-1, descending=True, stable=True
        )
        order = first.gather(-1, second)
        real = mask.gather(-1, order)
        s = scores.gather(-1, order)
        s = torch.where(real, s, torch.zeros_like(s))
        tail = torch.logcumsumexp(s.flip(-1), dim=-1).flip(-1)
        terms = tail - s
        keep = real
        if self.k is not None:
            n_pad = (~mask).sum(dim=-1, keepdim=True)
            pos = torch.arange(s.shape[-1], device=s.device)
            keep = keep & (pos - n_pad < self.k)
        values = torch.where(keep, terms, torch.zeros_like(terms)).sum(dim=-1)
        return values, _two_or_more(mask)


# ---------------------------------------------------------------------------
# NDCG-based
# ---------------------------------------------------------------------------
def _gains_and_ideal(labels, mask, gain, k):
    gains = list_gains(labels, mask, gain)
    return gains, ideal_dcg(gains, mask, k)


@register_loss("approxndcg", family="listwise")
class ApproxNDCG(RankingLoss):
    r"""ApproxNDCG: minus NDCG with ranks smoothed by sigmoids.

    The rank of document :math:`i` is replaced by the smooth rank

    .. math::
        \hat\pi_i = 1 + \sum_{j \ne i} \sigma\!\left(\frac{s_j - s_i}{T}\right),
        \qquad
        \ell_q = -\frac{1}{\mathrm{IDCG@k}} \sum_i
        \frac{G(y_i)\, [\hat\pi_i \le k]}{\log_2(1 + \hat\pi_i)}

    with temperature :math:`T`, gain :math:`G(y) = 2^y - 1` by default and
    the ideal DCG of the list (at ``k``). With ``k`` a document whose smooth
    rank exceeds ``k`` gets discount 0 (a hard cut-off, so it gets no
    gradient either). As :math:`T \to 0` the loss tends to minus NDCG@k.

    A list contributes when it has at least two real documents and a relevant
    one; a list without a relevant document (ideal DCG 0) or with one document
    does not. The ``O(list_len**2)`` sums run in blocks, two passes (value,
    then gradient) computed in the forward call, so memory does not grow as
    ``n_queries * list_len**2``.

    Parameters
    ----------
    temperature : float, default=1.0
        Temperature :math:`T` of the sigmoid, > 0 (Qin et al.'s
        :math:`1 / \alpha`).
    k : int, default=None
        Truncation of NDCG; None uses the whole list.
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
    .. [1] T. Qin, T.-Y. Liu and H. Li, "A general approximation framework for
       direct optimization of information retrieval measures", Information
       Retrieval 13(4), 2010.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import ApproxNDCG
    >>> labels = torch.tensor([[1.0, 0.0]])
    >>> ApproxNDCG(temperature=0.01)(torch.tensor([[1.0, 0.0]]), labels)
    tensor(-1.)
    >>> ApproxNDCG(temperature=0.01)(torch.tensor([[0.0, 1.0]]), labels)
    tensor(-0.6309)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "gain": [StrOptions({"exponential", "linear"})],
    }

    def __init__(
        self, temperature=1.0, *, k=None, gain="exponential", reduction="mean"
    ):
        super().__init__(reduction=reduction)
        self.temperature = temperature
        self.k = k
        self.gain = gain
        self._validate_params()

    def _label_gain(self):
        return self.gain

    def per_list(self, scores, labels, mask):
        gains, ideal = _gains_and_ideal(labels, mask, self.gain, self.k)
        valid = (ideal > 0) & _two_or_more(mask)
        tiny = torch.finfo(ideal.dtype).tiny
        inv = torch.where(valid, 1.0 / ideal.clamp(min=tiny), torch.zeros_like(ideal))
        weights = gains * inv[:, None]
        values = approx_ndcg_per_list(
            scores, weights, mask, self.temperature, self.k, type(self).__name__
        )
        return values, valid


@register_loss("neuralndcg", family="listwise")
class NeuralNDCG(RankingLoss):
    r"""NeuralNDCG: minus NDCG of a relaxed sort (NeuralSort + Sinkhorn).

    NeuralSort (Grover et al. 2019) relaxes the permutation matrix that sorts
    the scores of the :math:`n` real documents of a list:

    .. math::
        \hat P_{i,:} = \mathrm{softmax}\!\left(
        \frac{(n + 1 - 2i)\, s - A_s \mathbf{1}}{T}\right), \quad
        (A_s \mathbf{1})_j = \sum_k |s_j - s_k|

    for positions :math:`i = 1, \dots, n`. ``n_iter`` Sinkhorn iterations
    (column then row normalisation) make it nearly doubly stochastic, and

    .. math::
        \ell_q = -\frac{1}{\mathrm{IDCG@k}} \sum_{i=1}^{\min(k, n)}
        \frac{(\hat P\, G(y))_i}{\log_2(1 + i)}

    (Pobrotyn & Bialobrzeski 2021). Padded documents get no row, no column
    and no probability mass: each list is relaxed at its own length.

    A list contributes when it has at least two real documents and a relevant
    one; a list without a relevant document (ideal DCG 0) or with one document
    does not.

    **Memory.** :math:`\hat P` is a ``list_len x list_len`` matrix per list,
    and it is intrinsic: Sinkhorn multiplies by it twice per iteration, so
    recomputing it block by block would cost ``2 * n_iter`` passes of
    exponentials over the whole matrix. Everything else is kept small: the
    Sinkhorn iterates are scaling vectors of :math:`\hat P` (every iterate is
    :math:`\mathrm{diag}(a) \hat P \mathrm{diag}(b)`) and the backward pass
    through the iterations is done by hand with matrix products, so the
    matrices of one chunk of lists of similar length (a few MB of them, or a
    single longer list) are the only large tensors, whatever ``n_iter``; value
    and gradient are computed in the forward call. One list of :math:`n`
    documents therefore needs about :math:`4 n^2` bytes in float32 (256 MiB at
    8,192 documents, 1.6 GB at 20,000): a list longer than ``max_list_len``
    raises a ValueError before anything is allocated. On a CPU the length that
    counts is the number of real documents; on an accelerator, where reading
    lengths would synchronise with the device, it is the padded width of the
    batch.

    Parameters
    ----------
    temperature : float, default=1.0
        Temperature :math:`T` of NeuralSort, > 0.
    k : int, default=None
        Truncation of NDCG; None uses the whole list.
    n_iter : int, default=50
        Sinkhorn iterations, a fixed number (allRank stops earlier at a
        tolerance of 1e-6, with at most 50); 0 uses NeuralSort alone.
    gain : {"exponential", "linear"}, default="exponential"
        Gain of the labels, :math:`2^y - 1` or :math:`y`, as the metrics'
        ``gain=``. Exponential gains are computed per list in a scaled domain
        (exact ratios, no overflow of the ideal DCG); a label whose gain does
        not fit the dtype (128 and above in float32) is refused, see
        :meth:`~skrank.losses.RankingLoss.check_labels`.
    max_list_len : int, default=8192
        The longest list accepted (see **Memory**); None for no limit.
    reduction : {"mean", "sum", "none"}, default="mean"
        How to reduce the per-list losses.

    References
    ----------
    .. [1] P. Pobrotyn and R. Bialobrzeski, "NeuralNDCG: direct optimisation
       of a ranking metric via differentiable relaxation of sorting",
       arXiv:2102.07831, 2021.
    .. [2] A. Grover, E. Wang, A. Zweig and S. Ermon, "Stochastic optimization
       of sorting networks via continuous relaxations", ICLR 2019.

    Examples
    --------
    >>> import torch
    >>> from skrank.losses import NeuralNDCG
    >>> labels = torch.tensor([[1.0, 0.0]])
    >>> NeuralNDCG(temperature=0.01)(torch.tensor([[1.0, 0.0]]), labels)
    tensor(-1.)
    >>> NeuralNDCG(temperature=0.01)(torch.tensor([[0.0, 1.0]]), labels)
    tensor(-0.6309)
    """

    _parameter_constraints: ClassVar[dict] = {
        **RankingLoss._parameter_constraints,
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "gain": [StrOptions({"exponential", "linear"})],
        "max_list_len": [Interval(Integral, 2, None, closed="left"), None],
    }

    def __init__(
        self,
        temperature=1.0,
        *,
        k=None,
        n_iter=50,
        gain="exponential",
        max_list_len=8192,
        reduction="mean",
    ):
        super().__init__(reduction=reduction)
        self.temperature = temperature
        self.k = k
        self.n_iter = n_iter
        self.gain = gain
        self.max_list_len = max_list_len
        self._validate_params()

    def _label_gain(self):
        return self.gain

    def per_list(self, scores, labels, mask):
        gains, ideal = _gains_and_ideal(labels, mask, self.gain, self.k)
        valid = (ideal > 0) & _two_or_more(mask)
        ideal = torch.where(valid, ideal, torch.zeros_like(ideal))
        values = neural_ndcg_per_list(
            scores,
            gains,
            mask,
            ideal,
            self.temperature,
            self.n_iter,
            self.k,
            self.max_list_len,
            type(self).__name__,
        )
        return values, valid
