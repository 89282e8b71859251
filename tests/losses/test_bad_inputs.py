"""Table-driven bad inputs: every loss class's parameters and call inputs.

Each row asserts the exception type and a fragment of the message in
scikit-learn's wording.
"""

import re

import numpy as np
import pytest
import torch

from skrank.losses import (
    AbsoluteError,
    ApproxNDCG,
    CombinedLoss,
    HuberLoss,
    LambdaLoss,
    LambdaRank,
    ListMLE,
    ListNet,
    NeuralNDCG,
    OrdinalLoss,
    PairwiseHinge,
    PairwiseLoss,
    PairwiseSoftZeroOne,
    RankNet,
    SigmoidBCE,
    SquaredError,
    get_loss,
    get_loss_family,
    get_loss_names,
    register_loss,
)

# (class, parameters, expected fragment after "The '<param>' parameter of <cls>")
BAD_PARAMETERS = [
    (PairwiseLoss, {"pair_fn": "cubic"}, "must be a str among"),
    (PairwiseLoss, {"pair_fn": 3}, "must be a str among"),
    (PairwiseLoss, {"sigma": 0}, "must be a float in the range (0.0, inf)"),
    (PairwiseLoss, {"margin": -1.0}, "must be a float in the range [0.0, inf)"),
    (PairwiseLoss, {"weights": "ndcg"}, "must be a str among"),
    (PairwiseLoss, {"normalize": "yes"}, "must be an instance of 'bool'"),
    (PairwiseLoss, {"reduction": "max"}, "must be a str among"),
    (RankNet, {"sigma": -1}, "must be a float in the range (0.0, inf). Got -1"),
    (RankNet, {"sigma": "1"}, "must be a float in the range (0.0, inf)"),
    (RankNet, {"label_diff": "yes"}, "must be an instance of 'bool'"),
    (RankNet, {"reduction": "avg"}, "must be a str among"),
    (PairwiseHinge, {"margin": -0.5}, "must be a float in the range [0.0, inf)"),
    (PairwiseHinge, {"label_diff": None}, "must be an instance of 'bool'"),
    (PairwiseSoftZeroOne, {"sigma": 0.0}, "must be a float in the range (0.0, inf)"),
    (PairwiseSoftZeroOne, {"label_diff": 0}, "must be an instance of 'bool'"),
    (LambdaRank, {"sigma": np.inf}, "must be a float in the range (0.0, inf)"),
    (LambdaRank, {"k": 0}, "must be an int in the range [1, inf) or None. Got 0"),
    (LambdaRank, {"k": 1.5}, "must be an int in the range [1, inf) or None"),
    (LambdaRank, {"gain": "log"}, "must be a str among"),
    (LambdaLoss, {"weighting": "ndcg"}, "must be a str among"),
    (LambdaLoss, {"mu": -1.0}, "must be a float in the range [0.0, inf)"),
    (LambdaLoss, {"sigma": 0}, "must be a float in the range (0.0, inf)"),
    (LambdaLoss, {"k": -2}, "must be an int in the range [1, inf) or None"),
    (LambdaLoss, {"gain": "linear2"}, "must be a str among"),
    (ListNet, {"target": "max"}, "must be a str among"),
    (ListNet, {"form": "js"}, "must be a str among"),
    (ListNet, {"label_span": 0}, "must be a float in the range (0.0, inf) or None"),
    (ListNet, {"reduction": None}, "must be a str among"),
    (ListMLE, {"k": 0}, "must be an int in the range [1, inf) or None"),
    (ListMLE, {"ties": "first"}, "must be a str among"),
    (ListMLE, {"random_state": -1}, "must be an int in the range [0, inf) or None"),
    (ListMLE, {"random_state": "a"}, "must be an int in the range [0, inf) or None"),
    (ApproxNDCG, {"temperature": 0}, "must be a float in the range (0.0, inf)"),
    (ApproxNDCG, {"k": 0}, "must be an int in the range [1, inf) or None"),
    (ApproxNDCG, {"gain": "cubic"}, "must be a str among"),
    (NeuralNDCG, {"temperature": -1.0}, "must be a float in the range (0.0, inf)"),
    (NeuralNDCG, {"k": 0}, "must be an int in the range [1, inf) or None"),
    (NeuralNDCG, {"n_iter": -1}, "must be an int in the range [0, inf)"),
    (NeuralNDCG, {"n_iter": 2.5}, "must be an int in the range [0, inf)"),
    (NeuralNDCG, {"gain": "cubic"}, "must be a str among"),
    (NeuralNDCG, {"max_list_len": 1}, "must be an int in the range [2, inf) or None"),
    (SquaredError, {"reduction": "mean "}, "must be a str among"),
    (AbsoluteError, {"reduction": 1}, "must be a str among"),
    (HuberLoss, {"delta": 0}, "must be a float in the range (0.0, inf)"),
    (HuberLoss, {"delta": np.nan}, "must be a float in the range (0.0, inf)"),
    (SigmoidBCE, {"threshold": np.inf}, "must be a float in the range (-inf, inf)"),
    (SigmoidBCE, {"max_grade": 0}, "must be a float in the range (0.0, inf) or None"),
    (OrdinalLoss, {"n_grades": 1}, "must be an int in the range [2, inf)"),
    (OrdinalLoss, {"n_grades": 2.5}, "must be an int in the range [2, inf)"),
]


PARAM_IDS = [f"{cls.__name__}-{next(iter(p))}" for cls, p, _ in BAD_PARAMETERS]


@pytest.mark.parametrize("cls, params, fragment", BAD_PARAMETERS, ids=PARAM_IDS)
def test_bad_parameters_at_construction(cls, params, fragment):
    (param,) = params
    message = f"The '{param}' parameter of {cls.__name__} {fragment}"
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(**params)


@pytest.mark.parametrize("cls, params, fragment", BAD_PARAMETERS, ids=PARAM_IDS)
def test_bad_parameters_reassigned_are_refused_at_call(cls, params, fragment):
    loss = cls()
    ((param, value),) = params.items()
    setattr(loss, param, value)
    message = f"The '{param}' parameter of {cls.__name__} {fragment}"
    shape = (1, 3, loss.n_outputs) if loss.n_outputs > 1 else (1, 3)
    with pytest.raises(ValueError, match=re.escape(message)):
        loss(torch.zeros(shape), torch.ones(1, 3))


def test_every_loss_class_has_a_bad_parameter_row():
    classes = {type(get_loss(name)) for name in get_loss_names()} | {PairwiseLoss}
    covered = {row[0] for row in BAD_PARAMETERS}
    assert classes <= covered
    for cls in classes:  # and one row per declared parameter
        params = {next(iter(row[1])) for row in BAD_PARAMETERS if row[0] is cls}
        declared = set(cls._parameter_constraints) - {"reduction"}
        assert declared <= params, (cls, declared - params)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: ApproxNDCG(1.0, 3),
        lambda: NeuralNDCG(1.0, 3),
        lambda: ListMLE(3),
        lambda: LambdaRank(1.0, 3),
        lambda: RankNet(1.0, True),
    ],
)
def test_k_and_flags_are_keyword_only(factory):
    with pytest.raises(TypeError, match="positional argument"):
        factory()


def _good_call(loss, n_queries=2, list_len=3):
    shape = (n_queries, list_len)
    scores = torch.zeros(shape if loss.n_outputs == 1 else (*shape, loss.n_outputs))
    return scores, torch.ones(shape), torch.ones(shape, dtype=torch.bool)


# (how to spoil a good call, exception, message fragment with {name})
BAD_CALLS = [
    (
        lambda s, y, m: (s.tolist(), y, m),
        TypeError,
        "{name} expects torch tensors for scores and labels. Got list and Tensor",
    ),
    (
        lambda s, y, m: (s, y.numpy(), m),
        TypeError,
        "{name} expects torch tensors for scores and labels. Got Tensor and ndarray",
    ),
    (
        lambda s, y, m: (s[0], y, m),
        ValueError,
        "{name} expects scores of shape [n_queries, list_len",
    ),
    (
        lambda s, y, m: (s, y[:, :2], m),
        ValueError,
        "{name}: labels must have the shape of scores (2, 3). Got (2, 2) instead.",
    ),
    (
        lambda s, y, m: (s, y, m[:1]),
        ValueError,
        "{name}: mask must have the shape of labels (2, 3). Got (1, 3) instead.",
    ),
    (
        lambda s, y, m: (s.long(), y, m),
        TypeError,
        "{name} expects floating-point scores. Got torch.int64.",
    ),
]


@pytest.mark.parametrize("spoil, error, fragment", BAD_CALLS)
@pytest.mark.parametrize("name", get_loss_names())
def test_bad_call_inputs(name, spoil, error, fragment):
    loss = get_loss(name)
    args = spoil(*_good_call(loss))
    message = fragment.format(name=type(loss).__name__)
    with pytest.raises(error, match=re.escape(message)):
        loss(*args)


def test_ordinal_scores_need_one_output_per_threshold():
    loss = OrdinalLoss(n_grades=3)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "OrdinalLoss expects 2 outputs per document. Got scores of shape "
            "(1, 3, 4) instead."
        ),
    ):
        loss(torch.zeros(1, 3, 4), torch.zeros(1, 3))
    with pytest.raises(ValueError, match=re.escape("[n_queries, list_len, 2]")):
        loss(torch.zeros(1, 3), torch.zeros(1, 3))


@pytest.mark.parametrize(
    "loss", [LambdaRank(), ApproxNDCG(gain="linear"), ListNet("exponential")], ids=repr
)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_labels_refused_by_gain_losses(loss, bad):
    labels = torch.tensor([[1.0, bad, 0.0]])
    message = f"{type(loss).__name__} needs finite labels. Got a label of {bad}"
    with pytest.raises(ValueError, match=re.escape(message)):
        loss.check_labels(labels)
    with pytest.raises(ValueError, match=re.escape(message)):
        loss.check_labels(labels.numpy().tolist())
    if loss._label_gain() == "exponential":  # forward checks on CPU too
        with pytest.raises(ValueError, match=re.escape(message)):
            loss(torch.zeros(1, 3), labels)


def test_reassigned_parameter_checked_even_after_a_good_call():
    loss = RankNet()
    scores, labels = torch.zeros(1, 3), torch.tensor([[1.0, 0.0, 2.0]])
    loss(scores, labels)
    loss.sigma = 0.0
    with pytest.raises(ValueError, match="The 'sigma' parameter of RankNet"):
        loss(scores, labels)
    loss.sigma = 2.0
    assert torch.isfinite(loss(scores, labels))


def test_neuralndcg_refuses_lists_over_max_list_len():
    loss = NeuralNDCG(max_list_len=4)
    labels = torch.tensor([[1.0, 0.0, 2.0, 0.0, 1.0]])
    message = (
        "NeuralNDCG needs a list_len x list_len matrix per list: a list of 5 "
        "documents needs 0 MiB for it, over the limit max_list_len=4."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        loss(torch.zeros(1, 5), labels)
    # padding does not count on the CPU; None removes the limit
    mask = torch.tensor([[True, True, True, True, False]])
    assert torch.isfinite(loss(torch.zeros(1, 5), labels, mask))
    assert torch.isfinite(NeuralNDCG(max_list_len=None)(torch.zeros(1, 5), labels))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: get_loss("nope"), ValueError, "'nope' is not a valid loss name."),
        (lambda: get_loss(3), TypeError, "Loss name must be a str. Got int instead."),
        (
            lambda: get_loss("ranknet", sigmaa=1.0),
            TypeError,
            "Invalid parameters for loss 'ranknet': got an unexpected keyword",
        ),
        (
            lambda: get_loss("approxndcg", 1.0),
            TypeError,
            "get_loss() takes 1 positional argument but 2 were given",
        ),
        (
            lambda: get_loss_names("ranking"),
            ValueError,
            "The 'family' parameter of get_loss_names must be a str among "
            "{'pointwise', 'pairwise', 'listwise', 'other'}. Got 'ranking' instead.",
        ),
        (lambda: get_loss_family("nope"), ValueError, "'nope' is not a valid loss"),
        (
            lambda: register_loss("x", family="groupwise"),
            ValueError,
            "The 'family' parameter of register_loss must be a str among",
        ),
        (
            lambda: register_loss("ranknet")(ListNet),
            ValueError,
            "A loss named 'ranknet' is already registered.",
        ),
        (
            lambda: CombinedLoss([("a", RankNet())]),
            TypeError,
            "CombinedLoss terms must be (weight, loss) pairs with a real weight",
        ),
        (
            lambda: CombinedLoss([(1.0, RankNet()), (1.0, OrdinalLoss())]),
            ValueError,
            "Cannot combine losses that need different numbers of outputs",
        ),
    ],
)
def test_bad_registry_and_combination_calls(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
