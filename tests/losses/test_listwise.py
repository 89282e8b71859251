"""Tests of the listwise losses: ListNet, ListMLE, ApproxNDCG, NeuralNDCG."""

import itertools
import math
import pickle

import pytest
import torch

from skrank.losses import (
    ApproxNDCG,
    ListMLE,
    ListNet,
    NeuralNDCG,
    _chunked,
    get_loss,
    get_loss_names,
)

LOSSES = [
    ListNet(),
    ListNet(target="linear", form="kl"),
    ListNet(target="exponential"),
    ListMLE(ties="score"),
    ListMLE(k=2, ties="score"),
    ApproxNDCG(),
    ApproxNDCG(temperature=0.5, k=3, gain="linear"),
    NeuralNDCG(),
    NeuralNDCG(temperature=0.3, k=3, n_iter=5),
    NeuralNDCG(n_iter=0),
]
IDS = [repr(loss) + str(i) for i, loss in enumerate(LOSSES)]


def _batch(n_queries=5, list_len=7, dtype=torch.float64, seed=0, p_real=0.75):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(n_queries, list_len, generator=g, dtype=dtype)
    labels = torch.randint(0, 4, (n_queries, list_len), generator=g).to(dtype)
    mask = torch.rand(n_queries, list_len, generator=g) < p_real
    mask[:, :2] = True
    return scores, labels, mask


def _value_and_grad(loss, scores, labels, mask):
    scores = scores.detach().clone().requires_grad_()
    value = loss(scores, labels, mask)
    (grad,) = torch.autograd.grad(value, scores)
    return value.detach(), grad


# ---------------------------------------------------------------------------
# Straightforward per-list references (plain loops, float64)
# ---------------------------------------------------------------------------
def _lists(scores, labels, mask):
    for q in range(scores.shape[0]):
        idx = [i for i in range(scores.shape[1]) if mask[q, i]]
        yield [scores[q, i] for i in idx], [float(labels[q, i]) for i in idx]


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else torch.zeros((), dtype=torch.float64)


def _gain(y, kind="exponential"):
    return 2.0**y - 1.0 if kind == "exponential" else y


def _disc(pos0):
    return 1.0 / math.log2(pos0 + 2.0)


def _idcg(ys, kind="exponential", k=None):
    gains = sorted((_gain(y, kind) for y in ys), reverse=True)
    n = len(gains) if k is None else min(k, len(gains))
    return sum(gains[i] * _disc(i) for i in range(n))


def ref_listnet(
    scores, labels, mask, target="softmax", form="cross_entropy", label_span=2.0
):
    out = []
    for s, y in _lists(scores, labels, mask):
        if len(s) < 2:
            out.append(None)
            continue
        if target == "softmax":
            t = 1.0 if label_span is None else max(1.0, (max(y) - min(y)) / label_span)
            z = sum(math.exp(v / t) for v in y)
            p = [math.exp(v / t) / z for v in y]
        else:
            w = [_gain(v, "linear" if target == "linear" else "exponential") for v in y]
            if sum(w) == 0:
                out.append(None)
                continue
            p = [v / sum(w) for v in w]
        log_z = torch.logsumexp(torch.stack(s), dim=0)
        value = sum(-pi * (si - log_z) for pi, si in zip(p, s, strict=True))
        if form == "kl":
            value = value + sum(pi * math.log(pi) for pi in p if pi > 0)
        out.append(value)
    return _mean(out)


def _plackett_luce_nll(s_in_order, k=None):
    """-log prod_i exp(s_pi(i)) / sum_{j >= i} exp(s_pi(j)), term by term."""
    n = len(s_in_order) if k is None else min(k, len(s_in_order))
    total = 0.0
    for i in range(n):
        rest = torch.stack(s_in_order[i:])
        total = total + torch.logsumexp(rest, dim=0) - s_in_order[i]
    return total


def ref_listmle(scores, labels, mask, k=None):
    out = []
    for s, y in _lists(scores, labels, mask):
        if len(s) < 2:
            out.append(None)
            continue
        # labels descending, ties: lower score first, then input order
        order = sorted(range(len(s)), key=lambda i: (-y[i], float(s[i].detach()), i))
        out.append(_plackett_luce_nll([s[i] for i in order], k))
    return _mean(out)


def ref_approxndcg(scores, labels, mask, temperature=1.0, k=None, gain="exponential"):
    out = []
    for s, y in _lists(scores, labels, mask):
        idcg = _idcg(y, gain, k)
        if len(s) < 2 or idcg == 0:
            out.append(None)
            continue
        dcg = 0.0
        for i in range(len(s)):
            rank = 1.0
            for j in range(len(s)):
                if j != i:
                    rank = rank + torch.sigmoid((s[j] - s[i]) / temperature)
            if k is None or rank <= k:
                dcg = dcg + _gain(y[i], gain) / torch.log2(1.0 + rank)
        out.append(-dcg / idcg)
    return _mean(out)


def ref_neuralndcg(
    scores, labels, mask, temperature=1.0, k=None, n_iter=50, gain="exponential"
):
    out = []
    for s, y in _lists(scores, labels, mask):
        n = len(s)
        idcg = _idcg(y, gain, k)
        if n < 2 or idcg == 0:
            out.append(None)
            continue
        p = [[None] * n for _ in range(n)]
        b = [sum(abs(s[j] - s[m]) for m in range(n)) for j in range(n)]
        for i in range(n):  # position i + 1
            row = torch.stack([((n + 1 - 2 * (i + 1)) * s[j] - b[j]) for j in range(n)])
            row = torch.softmax(row / temperature, dim=0)
            for j in range(n):
                p[i][j] = row[j]
        for _ in range(n_iter):
            for j in range(n):
                col = sum(p[i][j] for i in range(n))
                for i in range(n):
                    p[i][j] = p[i][j] / col
            for i in range(n):
                row = sum(p[i][j] for j in range(n))
                for j in range(n):
                    p[i][j] = p[i][j] / row
        top = n if k is None else min(k, n)
        dcg = 0.0
        for i in range(top):
            expected = sum(p[i][j] * _gain(y[j], gain) for j in range(n))
            dcg = dcg + expected * _disc(i)
        out.append(-dcg / idcg)
    return _mean(out)


REFERENCES = [
    (ListNet(), ref_listnet, {}),
    (ListNet(form="kl"), ref_listnet, {"form": "kl"}),
    (ListNet(label_span=None), ref_listnet, {"label_span": None}),
    (
        ListNet(label_span=1.0, form="kl"),
        ref_listnet,
        {"label_span": 1.0, "form": "kl"},
    ),
    (ListNet(target="linear"), ref_listnet, {"target": "linear"}),
    (
        ListNet(target="exponential", form="kl"),
        ref_listnet,
        {"target": "exponential", "form": "kl"},
    ),
    (ListMLE(ties="score"), ref_listmle, {}),
    (ListMLE(k=3, ties="score"), ref_listmle, {"k": 3}),
    (ApproxNDCG(), ref_approxndcg, {}),
    (
        ApproxNDCG(temperature=0.3, k=3, gain="linear"),
        ref_approxndcg,
        {"temperature": 0.3, "k": 3, "gain": "linear"},
    ),
    (NeuralNDCG(n_iter=10), ref_neuralndcg, {"n_iter": 10}),
    (
        NeuralNDCG(temperature=0.5, k=2, n_iter=3, gain="linear"),
        ref_neuralndcg,
        {"temperature": 0.5, "k": 2, "n_iter": 3, "gain": "linear"},
    ),
    (NeuralNDCG(n_iter=0), ref_neuralndcg, {"n_iter": 0}),
]


@pytest.mark.parametrize(("loss", "ref", "params"), REFERENCES)
def test_agrees_with_per_list_reference(loss, ref, params):
    scores, labels, mask = _batch(n_queries=6, list_len=6)
    mask[4, 1:] = False  # a one-document list
    labels[5] = 0.0  # a list without a relevant document
    value, grad = _value_and_grad(loss, scores, labels, mask)
    s = scores.clone().requires_grad_()
    expected = ref(s, labels, mask, **params)
    (expected_grad,) = torch.autograd.grad(expected, s)
    torch.testing.assert_close(value, expected.detach(), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-8, atol=1e-12)


# ---------------------------------------------------------------------------
# Hand-computed values
# ---------------------------------------------------------------------------
def test_listnet_hand_values():
    labels = torch.tensor([[1.0, 0.0]])
    scores = torch.tensor([[0.0, 0.0]])
    assert ListNet()(scores, labels).item() == pytest.approx(math.log(2.0))
    p = math.e / (1.0 + math.e)
    entropy = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    kl = ListNet(form="kl")(scores, labels).item()
    assert kl == pytest.approx(math.log(2.0) - entropy, rel=1e-6)
    # a perfect fit of the softmax target has KL 0
    assert ListNet(form="kl")(labels, labels).item() == pytest.approx(0.0, abs=1e-7)


def test_listnet_label_span_hand_values():
    scores = torch.zeros(1, 2, dtype=torch.float64)

    def kl(loss, labels):
        return loss(scores, torch.tensor([labels], dtype=torch.float64)).item()

    def expected(gap):  # KL from uniform scores to a two-document target
        p = 1.0 / (1.0 + math.exp(-gap))
        return math.log(2.0) + p * math.log(p) + (1 - p) * math.log(1 - p)

    # grades 0-4: the labels are halved, the target is e^2 : 1
    assert kl(ListNet(form="kl"), [4.0, 0.0]) == pytest.approx(expected(2.0))
    assert kl(ListNet(form="kl", label_span=None), [4.0, 0.0]) == pytest.approx(
        expected(4.0)
    )
    assert kl(ListNet(form="kl", label_span=1.0), [4.0, 1.0]) == pytest.approx(
        expected(1.0)
    )
    # a span within label_span is left as it is, bit for bit
    g = torch.Generator().manual_seed(3)
    s = torch.randn(6, 9, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (6, 9), generator=g).to(torch.float64)
    assert ListNet()(s, y).item() == ListNet(label_span=None)(s, y).item()
    # padding does not widen the span
    mask = torch.ones(6, 9, dtype=torch.bool)
    mask[:, -1] = False
    y_pad = y.clone()
    y_pad[:, -1] = 40.0
    assert ListNet()(s, y_pad, mask).item() == ListNet()(s, y, mask).item()


def test_listmle_hand_values():
    scores = torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64)
    labels = torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64)
    # order: doc 2 (s=0), doc 1 (s=1), doc 0 (s=2)
    expected = math.log(1 + math.e + math.e**2) + math.log(math.e + math.e**2) - 1.0
    assert ListMLE()(scores, labels).item() == pytest.approx(expected)
    # top-1: only the first factor
    assert ListMLE(k=1)(scores, labels).item() == pytest.approx(
        math.log(1 + math.e + math.e**2)
    )


def test_approxndcg_hand_values():
    scores = torch.tensor([[0.3, -0.4]], dtype=torch.float64)
    labels = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    rank = 1.0 + 1.0 / (1.0 + math.exp(-(-0.4 - 0.3) / 0.5))
    expected = -1.0 / math.log2(1.0 + rank)
    value = ApproxNDCG(temperature=0.5)(scores, labels).item()
    assert value == pytest.approx(expected)
    # k=1: the relevant document's smooth rank is above 1, cut off
    assert ApproxNDCG(temperature=0.5, k=1)(scores, labels).item() == 0.0


def test_neuralndcg_hand_values():
    # n = 2: rows softmax(s / T) and softmax(-s / T), already doubly stochastic
    scores = torch.tensor([[0.3, -0.4]], dtype=torch.float64)
    labels = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    p = 1.0 / (1.0 + math.exp(-(0.3 + 0.4) / 0.5))
    expected = -(p + (1.0 - p) / math.log2(3.0))
    for n_iter in (0, 1, 50):
        loss = NeuralNDCG(temperature=0.5, n_iter=n_iter)
        assert loss(scores, labels).item() == pytest.approx(expected)
    assert NeuralNDCG(temperature=0.5, k=1)(scores, labels).item() == pytest.approx(-p)


def test_neuralndcg_keeps_subnormals_out_of_its_matrix_products(monkeypatch):
    # Arithmetic on subnormals is many times slower on x86 CPUs. The relaxed
    # sort of well-separated scores has entries near the smallest normal
    # number, and their products are subnormal: such entries are 0.
    tiny = torch.finfo(torch.float32).tiny
    gen = torch.Generator().manual_seed(0)
    scores = 20 * torch.randn(2, 25, generator=gen)
    labels = torch.randint(0, 3, (2, 25), generator=gen).to(torch.float32)
    mask = torch.ones_like(labels, dtype=torch.bool)
    operands = []
    bmm = torch.bmm

    def recording_bmm(a, b, **kwargs):
        operands.extend([a, b])
        return bmm(a, b, **kwargs)

    monkeypatch.setattr(torch, "bmm", recording_bmm)
    loss = NeuralNDCG(temperature=0.1)
    value, grad = _value_and_grad(loss, scores, labels, mask)
    monkeypatch.undo()
    assert operands
    for operand in operands:
        assert not ((operand != 0) & (operand.abs() < tiny)).any()
    # what is left out is below what a float sum can see
    s = scores.double().requires_grad_()
    expected = ref_neuralndcg(s, labels.double(), mask, temperature=0.1)
    (expected_grad,) = torch.autograd.grad(expected, s)
    torch.testing.assert_close(value.double(), expected.detach(), rtol=0, atol=1e-6)
    torch.testing.assert_close(grad.double(), expected_grad, rtol=0, atol=1e-5)
    value, grad = _value_and_grad(loss, s, labels.double(), mask)
    torch.testing.assert_close(value, expected.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-14)


def test_ndcg_losses_tend_to_minus_ndcg():
    scores = torch.tensor([[3.0, 1.0, 2.0, 0.0]])
    labels = torch.tensor([[2.0, 0.0, 1.0, 1.0]])
    gains = [3.0, 0.0, 1.0, 1.0]
    order = [0, 2, 1, 3]
    dcg = sum(gains[d] * _disc(i) for i, d in enumerate(order))
    ndcg = dcg / _idcg([2.0, 0.0, 1.0, 1.0])
    for loss in (ApproxNDCG(temperature=1e-3), NeuralNDCG(temperature=1e-3)):
        assert loss(scores, labels).item() == pytest.approx(-ndcg, abs=1e-5)


# ---------------------------------------------------------------------------
# ListMLE ties
# ---------------------------------------------------------------------------
def test_listmle_ties_take_the_largest_loss_over_tie_orders():
    scores = torch.tensor([[0.5, -1.0, 2.0, 0.1, 0.7]], dtype=torch.float64)
    labels = torch.tensor([[1.0, 1.0, 1.0, 0.0, 0.0]], dtype=torch.float64)
    s = list(scores[0])
    values = []
    for top in itertools.permutations([0, 1, 2]):
        for bottom in itertools.permutations([3, 4]):
            values.append(float(_plackett_luce_nll([s[i] for i in top + bottom])))
    value = ListMLE(ties="score")(scores, labels).item()
    assert value == pytest.approx(max(values))
    assert value >= sum(values) / len(values)


def test_listmle_score_ties_keep_documents_interchangeable():
    # equal labels and equal scores: the value does not depend on their order
    scores = torch.tensor([[1.0, 1.0, 0.0]])
    labels = torch.tensor([[1.0, 1.0, 0.0]])
    perm = torch.tensor([1, 0, 2])
    loss = ListMLE(ties="score")
    assert loss(scores, labels) == loss(scores[:, perm], labels[:, perm])


def test_listmle_random_ties_are_seeded():
    scores, _, mask = _batch(n_queries=4, list_len=8)
    labels = torch.zeros_like(scores)
    labels[:, :2] = 1.0

    def run(seed, n=5):
        loss = ListMLE(random_state=seed)
        return torch.stack([loss(scores, labels, mask) for _ in range(n)])

    first = run(0)
    torch.testing.assert_close(first, run(0))
    assert len(set(first.tolist())) > 1  # a new shuffle at each call
    assert not torch.equal(first, run(1))
    # every value is the loss of some order of the ties: within [min, max]
    worst = ListMLE(ties="score")(scores, labels, mask)
    assert (first <= worst + 1e-6).all()


def test_listmle_random_ties_by_default_from_torchs_generator():
    # the default shuffles ties with torch's global generator: reproducible
    # under torch.manual_seed (NeuralRanker seeds it in fit)
    scores, _, mask = _batch(n_queries=4, list_len=8)
    labels = torch.zeros_like(scores)
    labels[:, :2] = 1.0
    torch.manual_seed(0)
    a = torch.stack([ListMLE()(scores, labels, mask) for _ in range(4)])
    torch.manual_seed(0)
    b = torch.stack([ListMLE()(scores, labels, mask) for _ in range(4)])
    torch.testing.assert_close(a, b)
    assert len(set(a.tolist())) > 1
    assert (a <= ListMLE(ties="score")(scores, labels, mask) + 1e-6).all()
    # without ties the tie order does not matter
    distinct = torch.arange(8.0).expand(4, 8)
    torch.testing.assert_close(
        ListMLE()(scores, distinct, mask), ListMLE(ties="score")(scores, distinct, mask)
    )


def test_listmle_pickle_restarts_generator():
    loss = ListMLE(random_state=3)
    scores, labels, mask = _batch()
    labels[:] = 1.0
    loss(scores, labels, mask)
    clone = pickle.loads(pickle.dumps(loss))
    torch.testing.assert_close(
        clone(scores, labels, mask), ListMLE(random_state=3)(scores, labels, mask)
    )


# ---------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_gradcheck(loss):
    scores, labels, mask = _batch(n_queries=3, list_len=5, seed=1)
    scores.requires_grad_()
    assert torch.autograd.gradcheck(lambda s: loss(s, labels, mask), (scores,))


def test_gradcheck_chunked(monkeypatch):
    # tiny tiles and chunks: many tiles per list and many chunks per batch
    monkeypatch.setattr(_chunked, "BLOCK_BYTES", 96)
    scores, labels, mask = _batch(n_queries=3, list_len=7, seed=2)
    scores.requires_grad_()
    for loss in (ApproxNDCG(temperature=0.7), NeuralNDCG(n_iter=3)):
        assert torch.autograd.gradcheck(lambda s, f=loss: f(s, labels, mask), (scores,))


@pytest.mark.parametrize("loss", [ApproxNDCG(), NeuralNDCG(n_iter=8)], ids=repr)
def test_chunking_does_not_change_results(loss, monkeypatch):
    scores, labels, mask = _batch(n_queries=7, list_len=30, seed=3, p_real=0.6)
    value, grad = _value_and_grad(loss, scores, labels, mask)
    monkeypatch.setattr(_chunked, "BLOCK_BYTES", 2000)
    chunked_value, chunked_grad = _value_and_grad(loss, scores, labels, mask)
    torch.testing.assert_close(value, chunked_value, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, chunked_grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_no_grad_gives_the_same_value(loss):
    scores, labels, mask = _batch()
    value, _ = _value_and_grad(loss, scores, labels, mask)
    if isinstance(loss, ListMLE) and loss.random_state is not None:
        return
    with torch.no_grad():
        torch.testing.assert_close(loss(scores, labels, mask), value)


# ---------------------------------------------------------------------------
# Masking, edge cases, properties
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_padding_invariance(loss):
    scores, labels, mask = _batch()
    value, grad = _value_and_grad(loss, scores, labels, mask)
    g = torch.Generator().manual_seed(5)
    wide_scores = torch.cat([scores, 50 * torch.randn(5, 4, generator=g)], dim=1)
    wide_scores[:, :7][~mask] = -123.0
    wide_labels = torch.cat([labels, torch.full((5, 4), 3.0)], dim=1)
    wide_mask = torch.cat([mask, torch.zeros(5, 4, dtype=torch.bool)], dim=1)
    wide_value, wide_grad = _value_and_grad(loss, wide_scores, wide_labels, wide_mask)
    torch.testing.assert_close(wide_value, value, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(wide_grad[:, :7], grad, rtol=1e-10, atol=1e-14)
    assert (wide_grad[:, 7:] == 0).all()
    assert (grad[~mask] == 0).all()


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_permutation_equivariance_and_list_order(loss):
    scores, labels, mask = _batch()
    value, grad = _value_and_grad(loss, scores, labels, mask)
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(1))
    p_value, p_grad = _value_and_grad(
        loss, scores[:, perm], labels[:, perm], mask[:, perm]
    )
    torch.testing.assert_close(p_value, value, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(p_grad, grad[:, perm], rtol=1e-10, atol=1e-14)
    rows = torch.tensor([3, 0, 4, 2, 1])
    r_value, r_grad = _value_and_grad(loss, scores[rows], labels[rows], mask[rows])
    torch.testing.assert_close(r_value, value, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(r_grad, grad[rows], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_scores_and_equal_labels_are_finite(loss, dtype):
    scores, labels, mask = _batch(dtype=dtype)
    for s, y in [
        (scores * 1e4, labels),
        (torch.sign(scores) * 1e4, labels),
        (scores, torch.ones_like(labels)),
        (torch.zeros_like(scores), labels),
        (torch.zeros_like(scores), torch.zeros_like(labels)),
    ]:
        value, grad = _value_and_grad(loss, s, y, mask)
        assert torch.isfinite(value)
        assert torch.isfinite(grad).all()


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_all_masked_and_one_document_lists_contribute_nothing(loss):
    scores, labels, mask = _batch(n_queries=3)
    value, grad = _value_and_grad(loss, scores, labels, mask)
    extra_scores = torch.cat([scores, torch.randn(2, 7, dtype=scores.dtype)])
    extra_labels = torch.cat([labels, torch.full((2, 7), 2.0, dtype=labels.dtype)])
    extra_mask = torch.cat([mask, torch.zeros(2, 7, dtype=torch.bool)])
    extra_mask[4, 3] = True  # one-document list
    e_value, e_grad = _value_and_grad(loss, extra_scores, extra_labels, extra_mask)
    torch.testing.assert_close(e_value, value, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(e_grad[:3], grad, rtol=1e-10, atol=1e-14)
    assert (e_grad[3:] == 0).all()
    # nothing contributes at all: 0, not NaN
    value, grad = _value_and_grad(
        loss, extra_scores[3:], extra_labels[3:], extra_mask[3:]
    )
    assert value.item() == 0.0
    assert (grad == 0).all()


@pytest.mark.parametrize(
    ("loss", "contributes"),
    [
        (ListNet(), True),
        (ListNet(target="linear"), False),
        (ListNet(target="exponential"), False),
        (ListMLE(), True),
        (ApproxNDCG(), False),
        (NeuralNDCG(), False),
    ],
    ids=repr,
)
def test_lists_without_relevant_document(loss, contributes):
    scores = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, 0.0]])
    labels = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    loss.reduction = "none"
    values = loss(scores, labels)
    assert torch.isfinite(values).all()
    assert (values[0] != 0).item() == contributes


def test_reductions():
    scores, labels, mask = _batch()
    for loss_cls in (ListNet, ListMLE, ApproxNDCG, NeuralNDCG):
        torch.manual_seed(0)  # the same tie shuffles for ListMLE
        per_list = loss_cls(reduction="none")(scores, labels, mask)
        assert per_list.shape == (5,)
        torch.manual_seed(0)
        total = loss_cls(reduction="sum")(scores, labels, mask)
        torch.testing.assert_close(total, per_list.sum())


def test_long_lists_run():
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(2, 1500, generator=g).requires_grad_()
    labels = torch.randint(0, 3, (2, 1500), generator=g).float()
    mask = torch.ones(2, 1500, dtype=torch.bool)
    mask[1, 1000:] = False
    for loss in (ApproxNDCG(), NeuralNDCG(n_iter=5)):
        loss(scores, labels, mask).backward()
        assert torch.isfinite(scores.grad).all()
        scores.grad = None


# ---------------------------------------------------------------------------
# Hyper-parameters and registry
# ---------------------------------------------------------------------------
def test_registered_names():
    names = get_loss_names()
    for name, cls in [
        ("listnet", ListNet),
        ("listmle", ListMLE),
        ("approxndcg", ApproxNDCG),
        ("neuralndcg", NeuralNDCG),
    ]:
        assert name in names
        assert type(get_loss(name)) is cls


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (
            ApproxNDCG,
            {"temperature": 0},
            "The 'temperature' parameter of ApproxNDCG must be a float in the "
            "range (0.0, inf). Got 0 instead.",
        ),
        (
            ApproxNDCG,
            {"k": 0},
            "The 'k' parameter of ApproxNDCG must be an int in the range [1, inf) "
            "or None. Got 0 instead.",
        ),
        (
            NeuralNDCG,
            {"temperature": -1.0},
            "The 'temperature' parameter of NeuralNDCG must be a float in the "
            "range (0.0, inf). Got -1.0 instead.",
        ),
        (
            NeuralNDCG,
            {"n_iter": -1},
            "The 'n_iter' parameter of NeuralNDCG must be an int in the range "
            "[0, inf). Got -1 instead.",
        ),
        (
            NeuralNDCG,
            {"gain": "cubic"},
            "The 'gain' parameter of NeuralNDCG must be a str among",
        ),
        (ListNet, {"target": "max"}, "The 'target' parameter of ListNet must be a str"),
        (
            ListNet,
            {"form": "js"},
            "The 'form' parameter of ListNet must be a str among",
        ),
        (
            ListMLE,
            {"k": 1.5},
            "The 'k' parameter of ListMLE must be an int in the range [1, inf) or "
            "None. Got 1.5 instead.",
        ),
        (
            ListMLE,
            {"random_state": "a"},
            "The 'random_state' parameter of ListMLE must be an int in the range",
        ),
    ],
)
def test_hyperparameter_validation(cls, params, message):
    with pytest.raises(ValueError, match=_escape(message)):
        cls(**params)


def test_hyperparameters_checked_again_at_call():
    loss = ApproxNDCG()
    loss.temperature = 0.0
    with pytest.raises(ValueError, match="'temperature' parameter of ApproxNDCG"):
        loss(torch.zeros(1, 2), torch.ones(1, 2))


def _escape(text):
    import re

    return re.escape(text)
