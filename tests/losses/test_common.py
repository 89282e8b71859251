"""Property tests run over every registered loss (``get_loss_names()``)."""

import inspect

import numpy as np
import pytest
import torch

from skrank.losses import get_loss, get_loss_family, get_loss_names

NAMES = get_loss_names()
DTYPES = [torch.float32, torch.float64]


def make_loss(name, seeded=False):
    """A loss by name, with its defaults or, if ``seeded``, a fixed seed.

    A loss with a random part (ListMLE shuffling tied labels) is seeded only
    where the test asks for reproducibility: its random draws depend on the
    batch shape, so the invariance properties are checked on its
    deterministic form (ListMLE's ``ties="score"``), not on a seeded shuffle.
    """
    cls = type(get_loss(name))
    params = inspect.signature(cls).parameters
    kwargs = {}
    if "ties" in params and not seeded:
        kwargs["ties"] = "score"
    if seeded:
        for seed_name in ("random_state", "seed"):
            if seed_name in params:
                kwargs[seed_name] = 0
    return get_loss(name, **kwargs)


def make_scores(loss, shape, rng, dtype, scale=1.0):
    """Scores ``[Q, L]`` (or ``[Q, L, n_outputs]``) drawn from a normal law."""
    n_outputs = getattr(loss, "n_outputs", 1)
    full = shape if n_outputs == 1 else (*shape, n_outputs)
    return torch.tensor(rng.normal(size=full) * scale, dtype=dtype)


def value_and_grad(loss, scores, labels, mask):
    scores = scores.detach().clone().requires_grad_()
    value = loss(scores, labels, mask)
    (grad,) = torch.autograd.grad(value, scores)
    return value.detach(), grad


def tols(dtype):
    if dtype == torch.float32:
        return {"rtol": 2e-5, "atol": 2e-6}
    return {"rtol": 1e-10, "atol": 1e-12}


def _batch(loss, rng, dtype, n_queries=4, list_len=6):
    scores = make_scores(loss, (n_queries, list_len), rng, dtype)
    labels = torch.tensor(rng.integers(0, 4, (n_queries, list_len)), dtype=dtype)
    lengths = torch.tensor([list_len, 3, 1, 5][:n_queries])
    mask = torch.arange(list_len)[None, :] < lengths[:, None]
    return scores, labels, mask


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_padding_invariance(name, dtype):
    rng = np.random.default_rng(0)
    loss = make_loss(name)
    scores, labels, mask = _batch(loss, rng, dtype)
    value, grad = value_and_grad(loss, scores, labels, mask)
    # junk in the existing padding and 5 more padded columns
    junk = make_scores(loss, scores.shape[:2], rng, dtype, scale=1e3)
    pad_mask = mask if scores.dim() == 2 else mask[..., None]
    junk_scores = torch.where(pad_mask, scores, junk)
    junk_labels = torch.where(mask, labels, torch.tensor(7.0, dtype=dtype))
    extra = make_scores(loss, (scores.shape[0], 5), rng, dtype, scale=1e3)
    wide_scores = torch.cat([junk_scores, extra], dim=1)
    wide_labels = torch.cat(
        [junk_labels, torch.tensor(rng.integers(0, 9, (4, 5)), dtype=dtype)], dim=1
    )
    wide_mask = torch.cat([mask, torch.zeros(4, 5, dtype=torch.bool)], dim=1)
    wide_value, wide_grad = value_and_grad(loss, wide_scores, wide_labels, wide_mask)
    torch.testing.assert_close(wide_value, value, **tols(dtype))
    n = scores.shape[1]
    torch.testing.assert_close(
        wide_grad[:, :n][pad_mask.expand_as(grad)],
        grad[pad_mask.expand_as(grad)],
        **tols(dtype),
    )
    assert (wide_grad[:, n:] == 0).all()
    assert (wide_grad[:, :n][~pad_mask.expand_as(grad)] == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_permutation_equivariance(name, dtype):
    # distinct labels: with tied labels a loss may legitimately depend on the
    # order of the tied documents (ListMLE's tie-breaking)
    rng = np.random.default_rng(1)
    loss = make_loss(name)
    n_queries, list_len = 3, 6
    scores = make_scores(loss, (n_queries, list_len), rng, dtype)
    labels = torch.tensor(
        np.stack([rng.permutation(list_len) for _ in range(n_queries)]), dtype=dtype
    )
    mask = torch.ones(n_queries, list_len, dtype=torch.bool)
    value, grad = value_and_grad(loss, scores, labels, mask)
    perm = torch.tensor(np.stack([rng.permutation(list_len) for _ in range(n_queries)]))
    idx = perm if scores.dim() == 2 else perm[..., None].expand_as(scores)
    p_value, p_grad = value_and_grad(
        loss, scores.gather(1, idx), labels.gather(1, perm), mask
    )
    torch.testing.assert_close(p_value, value, **tols(dtype))
    torch.testing.assert_close(p_grad, grad.gather(1, idx), **tols(dtype))


@pytest.mark.parametrize("name", NAMES)
def test_list_order_invariance(name):
    rng = np.random.default_rng(2)
    loss = make_loss(name)
    scores, labels, mask = _batch(loss, rng, torch.float64)
    value, grad = value_and_grad(loss, scores, labels, mask)
    order = torch.tensor([2, 0, 3, 1])
    o_value, o_grad = value_and_grad(loss, scores[order], labels[order], mask[order])
    torch.testing.assert_close(o_value, value)
    torch.testing.assert_close(o_grad, grad[order])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_extreme_scores_finite(name, dtype):
    rng = np.random.default_rng(3)
    loss = make_loss(name)
    scores, labels, mask = _batch(loss, rng, dtype)
    scores = torch.sign(scores) * 1e4
    value, grad = value_and_grad(loss, scores, labels, mask)
    assert torch.isfinite(value) and torch.isfinite(grad).all()
    assert value.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_all_equal_labels_finite(name, dtype):
    rng = np.random.default_rng(4)
    loss = make_loss(name)
    scores, _, mask = _batch(loss, rng, dtype)
    for level in (0.0, 2.0):
        labels = torch.full(mask.shape, level, dtype=dtype)
        value, grad = value_and_grad(loss, scores, labels, mask)
        assert torch.isfinite(value) and torch.isfinite(grad).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_one_document_lists_finite(name, dtype):
    rng = np.random.default_rng(5)
    loss = make_loss(name)
    scores = make_scores(loss, (3, 1), rng, dtype)
    labels = torch.tensor([[0.0], [1.0], [3.0]], dtype=dtype)
    value, grad = value_and_grad(loss, scores, labels, None)
    assert torch.isfinite(value) and torch.isfinite(grad).all()


@pytest.mark.parametrize("name", NAMES)
def test_all_masked_rows_contribute_nothing(name):
    rng = np.random.default_rng(6)
    loss = make_loss(name)
    scores, labels, mask = _batch(loss, rng, torch.float64)
    value, grad = value_and_grad(loss, scores, labels, mask)
    extra_scores = make_scores(loss, (1, scores.shape[1]), rng, torch.float64)
    big_scores = torch.cat([scores, extra_scores])
    big_labels = torch.cat(
        [labels, torch.full((1, labels.shape[1]), 2.0, dtype=labels.dtype)]
    )
    big_mask = torch.cat([mask, torch.zeros(1, mask.shape[1], dtype=torch.bool)])
    big_value, big_grad = value_and_grad(loss, big_scores, big_labels, big_mask)
    torch.testing.assert_close(big_value, value)
    torch.testing.assert_close(big_grad[:4], grad)
    assert (big_grad[4] == 0).all()
    # nothing real at all: 0, no NaN
    none_value, none_grad = value_and_grad(loss, scores, labels, torch.zeros_like(mask))
    assert none_value == 0 and (none_grad == 0).all()


@pytest.mark.parametrize("seeded", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_deterministic(name, seeded):
    rng = np.random.default_rng(7)
    loss = make_loss(name, seeded)
    scores, labels, mask = _batch(loss, rng, torch.float32)
    value1, grad1 = value_and_grad(loss, scores, labels, mask)
    assert torch.isfinite(value1) and torch.isfinite(grad1).all()
    value2, grad2 = value_and_grad(make_loss(name, seeded), scores, labels, mask)
    assert torch.equal(value1, value2) and torch.equal(grad1, grad2)
    if not seeded:  # the same instance called twice
        value3, grad3 = value_and_grad(loss, scores, labels, mask)
        assert torch.equal(value1, value3) and torch.equal(grad1, grad3)


@pytest.mark.parametrize("name", NAMES)
def test_inputs_not_modified(name):
    rng = np.random.default_rng(8)
    loss = make_loss(name)
    scores, labels, mask = _batch(loss, rng, torch.float32)
    copies = scores.clone(), labels.clone(), mask.clone()
    loss(scores, labels, mask)
    for before, after in zip(copies, (scores, labels, mask), strict=True):
        assert torch.equal(before, after)


@pytest.mark.parametrize("name", NAMES)
def test_label_hooks_take_reversed_views(name):
    # an estimator passes numpy labels to check_labels and initial_output;
    # a view with a negative stride must work as its copy does
    loss = make_loss(name)
    labels = np.array([0.0, 1.0, 2.0, 0.0, 4.0])
    for hook in ("check_labels", "initial_output"):
        fn = getattr(loss, hook, None)
        if fn is None:
            continue
        by_view, by_copy = fn(labels[::-1]), fn(labels[::-1].copy())
        if by_copy is not None:
            assert torch.equal(by_view, by_copy)


def test_registry():
    assert len(NAMES) == len(set(NAMES)) and NAMES == sorted(NAMES)
    for name in (
        "mse",
        "mae",
        "huber",
        "sigmoid_bce",
        "ordinal",
        "ranknet",
        "pairwise_hinge",
        "pairwise_soft_zero_one",
        "lambdarank",
        "lambdaloss",
    ):
        assert name in NAMES
    assert get_loss("ranknet") is not get_loss("ranknet")
    assert get_loss("ranknet", sigma=2.0).sigma == 2.0
    with pytest.raises(ValueError, match=r"'nope' is not a valid loss name\. Valid"):
        get_loss("nope")


def test_registry_families():
    # the families the CLI and the documentation group losses by
    expected = {
        "pointwise": ["huber", "mae", "mse", "ordinal", "sigmoid_bce"],
        "pairwise": [
            "lambdaloss",
            "lambdarank",
            "pairwise_hinge",
            "pairwise_soft_zero_one",
            "ranknet",
        ],
        "listwise": ["approxndcg", "listmle", "listnet", "neuralndcg"],
    }
    for family, names in expected.items():
        assert get_loss_names(family) == names
        assert get_loss_names(family=family) == names
        for name in names:
            assert get_loss_family(name) == family
    assert get_loss_names("other") == []
    assert sorted(n for names in expected.values() for n in names) == NAMES


# --------------------------------------------------------------------------
# Training sanity: a linear scorer learns with every loss.
# --------------------------------------------------------------------------


def ndcg_at_10(scores, labels, mask):
    """Mean NDCG@10 (exponential gain) over lists with a relevant document."""
    key = torch.where(mask, scores, torch.tensor(-torch.inf))
    order = torch.argsort(key, dim=1, descending=True, stable=True)
    gains = torch.where(mask, 2.0**labels - 1.0, torch.zeros_like(labels))
    disc = 1.0 / torch.log2(torch.arange(labels.shape[1]) + 2.0)
    disc[10:] = 0
    dcg = (gains.gather(1, order) * disc).sum(1)
    idcg = (gains.sort(1, descending=True).values * disc).sum(1)
    ok = idcg > 0
    return (dcg[ok] / idcg[ok]).mean().item()


def _ranking_task():
    rng = np.random.default_rng(0)
    n_queries, list_len, n_features = 30, 20, 5
    x = rng.normal(size=(n_queries, list_len, n_features))
    w = rng.normal(size=n_features)
    utility = x @ w + 0.3 * rng.normal(size=(n_queries, list_len))
    labels = np.digitize(utility, np.quantile(utility, [0.5, 0.75, 0.9, 0.97]))
    lengths = rng.integers(8, list_len + 1, n_queries)
    mask = np.arange(list_len)[None, :] < lengths[:, None]
    return (
        torch.tensor(x, dtype=torch.float32),
        torch.tensor(labels, dtype=torch.float32),
        torch.tensor(mask),
        torch.tensor(w, dtype=torch.float32),
    )


@pytest.mark.parametrize("name", NAMES)
def test_training_improves_ndcg(name):
    x, labels, mask, w = _ranking_task()
    loss = make_loss(name)
    n_outputs = getattr(loss, "n_outputs", 1)
    model = torch.nn.Linear(x.shape[-1], n_outputs)
    with torch.no_grad():  # start from a bad ranking (reversed direction)
        model.weight.copy_(-0.3 * w.expand(n_outputs, -1))
        model.bias.zero_()

    def ranking_scores():
        with torch.no_grad():
            return loss.score_from_output(model(x))

    before = ndcg_at_10(ranking_scores(), labels, mask)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):
        optimizer.zero_grad()
        output = model(x)
        value = loss(output if n_outputs > 1 else output[..., 0], labels, mask)
        value.backward()
        optimizer.step()
    after = ndcg_at_10(ranking_scores(), labels, mask)
    assert after > before + 0.1, (before, after)
