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


def check_relevance(y_true, *, input_name="y_true"):
    """Return graded relevance labels as a float64 1-D array, finite and >= 0."""
    y = column_or_1d(
        check_array(y_true, ensure_2d=False, dtype=np.float64, input_name=input_name),
        input_name=input_name,
    )
    if (y < 0).any():
        raise ValueError(
            f"{input_name} must hold graded relevance labels >= 0. "
            f"Got a minimum of {y.min():g}."
        )
    return y


def check_scores(y_score, *, input_name="y_score"):
    """Return predicted scores as a finite float64 1-D array."""
    return column_or_1d(
        check_array(y_score, ensure_2d=False, dtype=np.float64, input_name=input_name),
        input_name=input_name,
    )
