"""Gain and discount functions, shared by the metrics and the losses.

They work on numpy arrays and on torch tensors, so a loss that optimises NDCG
uses exactly the gain and discount that the metric reports.
:func:`check_gain_overflow` says, before any work, whether the gains of some
labels can be held in a floating-point type at all.
"""

import math

import numpy as np

__all__ = ["GAINS", "check_gain_overflow", "discount", "gain", "scaled_gain"]

GAINS = ("exponential", "linear")


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
    return scaled_gain(labels, kind, 0.0)


def scaled_gain(labels, kind="exponential", shift=0.0):
    r"""The gain of ``labels`` times :math:`2^{-shift}`, computed without overflow.

    ``"exponential"``: :math:`2^{rel - shift} - 2^{-shift}`; ``"linear"``:
    :math:`rel \cdot 2^{-shift}`. NDCG is a ratio of two sums of gains of one
    query, so scaling both by the same power of two (e.g. ``shift`` = the
    largest label of the query) changes nothing, is exact for labels that fit,
    and keeps gains such as :math:`2^{1023} - 1` from overflowing the sums.

    Parameters
    ----------
    labels : ndarray or torch.Tensor
        Graded relevance labels.
    kind : {"exponential", "linear"}, default="exponential"
        The gain.
    shift : float, ndarray or torch.Tensor, default=0.0
        The power of two to divide by; broadcast against ``labels``.

    Returns
    -------
    gains : ndarray or torch.Tensor
        The scaled gains, of the type of ``labels``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.metrics._gains import scaled_gain
    >>> scaled_gain(np.array([0.0, 1.0, 2.0]), shift=2.0)
    array([0.  , 0.25, 0.75])
    """
    exp2 = np.exp2 if isinstance(labels, np.ndarray) else (lambda x: 2.0**x)
    if kind == "exponential":
        return exp2(labels - shift) - exp2(-shift)
    if kind == "linear":
        return labels * exp2(-shift)
    raise ValueError(
        f"The 'kind' parameter of gain must be a str among "
        f"{{'exponential', 'linear'}}. Got {kind!r} instead."
    )


def _finfo(dtype):
    """``(finfo, name)`` of a numpy or torch floating dtype."""
    try:
        return np.finfo(dtype), np.dtype(dtype).name
    except (TypeError, ValueError):
        import torch  # a torch dtype: only the losses pass one

        return torch.finfo(dtype), str(dtype).removeprefix("torch.")


def check_gain_overflow(
    labels, kind="exponential", dtype=np.float64, *, input_name="y_true", caller=None
):
    """Raise a ``ValueError`` when the gain of a label overflows ``dtype``.

    The exponential gain :math:`2^{rel} - 1` is finite in float64 for labels
    below 1024, in float32 below 128 and in float16 below 16; the linear gain
    overflows only for labels beyond the largest finite value. Metrics call
    this with float64 and losses with the dtype they compute in, so that an
    overflow is a clear error before any work, never an inf or NaN later.

    Parameters
    ----------
    labels : ndarray or torch.Tensor
        Graded relevance labels (finite, >= 0).
    kind : {"exponential", "linear"}, default="exponential"
        The gain.
    dtype : numpy or torch floating dtype, default=np.float64
        The type the gains are computed in.
    input_name : str, default="y_true"
        The name of ``labels`` in the error message.
    caller : str, default=None
        The function to name in the error message.

    Raises
    ------
    ValueError
        Naming the largest label, its gain, the dtype and the largest label
        the dtype can hold.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.metrics._gains import check_gain_overflow
    >>> check_gain_overflow(np.array([0.0, 1023.0]))
    >>> check_gain_overflow(np.array([0.0, 200.0]), dtype=np.float32)
    Traceback (most recent call last):
    ...
    ValueError: y_true has a label of 200, whose exponential gain 2**200 - 1 ...
    """
    try:
        top = float(labels.max())
    except (ValueError, RuntimeError):  # no label (numpy, torch)
        return
    info, name = _finfo(dtype)
    if kind == "exponential":
        # max = m * 2**e with 0.5 <= m < 1: 2**e is the first power of 2 to
        # overflow (1024 for float64, 128 for float32 and bfloat16)
        limit = float(math.frexp(float(info.max))[1])
        if top < limit:
            return
        formula = f"exponential gain 2**{top:g} - 1"
        allowed = f"labels below {limit:g}"
        advice = "Use gain='linear' or relevance labels on a smaller scale."
    else:
        if top <= float(info.max):
            return
        formula = f"linear gain {top:g}"
        allowed = f"labels up to {float(info.max):g}"
        advice = "Use relevance labels on a smaller scale."
    where = f" in {caller}" if caller else ""
    raise ValueError(
        f"{input_name} has a label of {top:g}, whose {formula} overflows "
        f"{name}{where} ({name} holds the gains of {allowed}). {advice}"
    )


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
