"""Gain and discount functions, shared by the metrics and the losses.

Both work on numpy arrays and on torch tensors, so a loss that optimises NDCG
uses exactly the gain and discount that the metric reports.
"""

import numpy as np

GAINS = ("exponential", "linear")


def check_gain(gain, caller="ndcg_score"):
    """Raise the scikit-learn style error for an invalid ``gain`` value."""
    if gain not in GAINS:
        raise ValueError(
            f"The 'gain' parameter of {caller} must be a str among "
            f"{{'exponential', 'linear'}}. Got {gain!r} instead."
        )
    return gain


def gain(labels, kind="exponential"):
    r"""The gain of graded relevance labels.

    ``"exponential"``: :math:`2^{rel} - 1` (Burges et al., 2005);
    ``"linear"``: :math:`rel` (then NDCG equals ``sklearn.metrics.ndcg_score``).

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.metrics._gains import gain
    >>> gain(np.array([0.0, 1.0, 2.0]))
    array([0., 1., 3.])
    """
    if kind == "exponential":
        return 2.0**labels - 1.0
    if kind == "linear":
        return labels * 1.0
    check_gain(kind, caller="gain")


def discount(positions):
    r"""The DCG discount of 0-based ranking positions: :math:`1 / \log_2(pos + 2)`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.metrics._gains import discount
    >>> discount(np.array([0, 1, 3]))
    array([1.        , 0.63092975, 0.43067656])
    """
    shifted = positions + 2.0
    if isinstance(shifted, np.ndarray | float | int):
        return 1.0 / np.log2(shifted)
    return 1.0 / shifted.log2()
