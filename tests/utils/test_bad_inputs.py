"""Every public function of skrank.utils against bad inputs: type and message."""

import numpy as np
import pytest

from skrank.utils import QueryIndex, check_groups

CASES = [
    ("None", None, None, "groups is required"),
    ("scalar", 5, None, "must be 1-dimensional"),
    ("string", "abc", None, "must be 1-dimensional"),
    ("empty", [], None, r"0 sample\(s\) .* required by groups"),
    ("2-D", [[1, 2], [3, 4]], None, r"1-dimensional .* shape \(2, 2\)"),
    ("NaN", [1.0, np.nan], None, r"groups contains NaN.* Got 1 NaN id"),
    ("None id", np.array([1, None], dtype=object), None, "None or NaN"),
    ("NaN object id", np.array(["a", float("nan")], dtype=object), None, "None or NaN"),
    # a numpy float NaN is not a Python float: it used to become its own query
    ("float32 NaN id", np.array([1, np.float32("nan")], dtype=object), None, "NaN"),
    ("complex", [1j, 2j], None, "must hold ints or strings. Got dtype complex128"),
    ("datetime", np.array(["2020-01-01"], dtype="M8[D]"), None, "ints or strings"),
    ("too short", [1, 2, 3], 4, r"^groups has 3 entries but X has 4 rows\.$"),
    ("too long", [1, 2, 3], 2, r"^groups has 3 entries but X has 2 rows\.$"),
]


@pytest.mark.parametrize("func", [check_groups, QueryIndex], ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "case, groups, n_samples, match", CASES, ids=[c[0] for c in CASES]
)
def test_groups_bad_inputs(func, case, groups, n_samples, match):
    with pytest.raises(ValueError, match=match):
        func(groups, n_samples)


@pytest.mark.parametrize("dtype", ["string", "Int64", "category"])
def test_pandas_missing_ids_are_refused(dtype):
    # pd.NA (nullable dtypes) cannot be compared: it used to reach the sort
    pd = pytest.importorskip("pandas")
    groups = pd.Series([1, 1, None, 2], dtype=dtype)
    if dtype == "string":
        groups = pd.Series(["a", "a", None, "b"], dtype=dtype)
    for func in (check_groups, QueryIndex):
        with pytest.raises(ValueError, match=r"contains (None or )?NaN"):
            func(groups)


def test_mixed_ids_only_fail_in_the_index():
    mixed = np.array([1, "a", 2], dtype=object)
    check_groups(mixed)  # a valid array of ids; ordering them is what fails
    with pytest.raises(ValueError, match="ids of one comparable type"):
        QueryIndex(mixed)


@pytest.mark.parametrize(
    "method, args, match",
    [
        ("argsort_within", ([1.0, 2.0],), r"values must have shape \(3,\)"),
        ("argsort_within", ([1.0, np.nan, 2.0],), "values contains NaN"),
        ("argsort_within", (["a", "b", "c"],), "could not convert string to float"),
        ("rows", ([5],), "out of bounds"),
        ("rows", ([0.5],), "queries must hold query numbers"),
    ],
)
def test_query_index_methods_bad_inputs(method, args, match):
    index = QueryIndex([1, 1, 2])
    with pytest.raises((ValueError, IndexError, TypeError), match=match):
        getattr(index, method)(*args)
