"""One shim over scikit-learn's validation helpers (some are private).

Everything in skrank, tests included, takes scikit-learn's private names from
here only (``sklearn.utils._param_validation``), so a change in scikit-learn's
private API is fixed here once.
"""

import numpy as np
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    column_or_1d,
    validate_data,
)

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "check_array",
    "check_consistent_length",
    "check_relevance",
    "check_scores",
    "column_or_1d",
    "validate_data",
    "validate_parameter_constraints",
    "validate_params",
]


def _check_1d_numbers(values, input_name):
    """A finite float64 1-D array, or a ValueError naming ``input_name``."""
    arr = values if hasattr(values, "dtype") else np.asarray(values, dtype=object)
    if getattr(arr, "ndim", 1) == 2 and arr.shape[1] == 1:
        arr = np.asarray(arr).ravel()
    if getattr(arr, "ndim", 1) != 1:
        raise ValueError(
            f"{input_name} must be 1-dimensional (one value per row). Got an "
            f"array of shape {np.shape(arr)} instead."
        )
    if np.shape(arr)[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={np.shape(arr)}) while a "
            f"minimum of 1 is required by {input_name}."
        )
    try:
        return check_array(
            arr, ensure_2d=False, dtype=np.float64, input_name=input_name
        )
    except (TypeError, ValueError) as exc:
        if "NaN" in str(exc) or "infinity" in str(exc):
            raise
        raise ValueError(
            f"{input_name} must hold real numbers. Got values that are not: {exc}"
        ) from None


def check_relevance(y_true, *, input_name="y_true"):
    """Return graded relevance labels as a float64 1-D array, finite and >= 0."""
    y = _check_1d_numbers(y_true, input_name)
    if (y < 0).any():
        raise ValueError(
            f"{input_name} must hold graded relevance labels >= 0. "
            f"Got a minimum of {y.min():g}."
        )
    return y


def check_scores(y_score, *, input_name="y_score"):
    """Return predicted scores as a finite float64 1-D array."""
    return _check_1d_numbers(y_score, input_name)
