import numpy as np
import pytest

from skrank.utils import QueryIndex, check_groups


@pytest.mark.parametrize(
    "groups",
    [
        [3, 3, 1, 1, 1, 2],  # contiguous, unsorted ids
        [1, 2, 1, 3, 2, 1],  # interleaved
        ["b", "a", "b", "c", "a", "a"],
        np.array([2.0, 2.0, 5.0]),
    ],
)
def test_query_index_roundtrip(groups):
    groups = np.asarray(groups)
    index = QueryIndex(groups)
    np.testing.assert_array_equal(index.query_ids, np.unique(groups))
    np.testing.assert_array_equal(index.query_ids[index.codes], groups)
    sorted_groups = index.sort(groups)
    for q, qid in enumerate(index.query_ids):
        seg = slice(index.offsets[q], index.offsets[q + 1])
        assert (sorted_groups[seg] == qid).all()
        # rows of a query keep their input order
        assert np.all(np.diff(index.order[seg]) > 0)
    np.testing.assert_array_equal(
        index.sizes, [np.sum(groups == q) for q in index.query_ids]
    )
    values = np.arange(len(groups)) * 10
    np.testing.assert_array_equal(index.unsort(index.sort(values)), values)
    np.testing.assert_array_equal(index.sorted_codes, index.codes[index.order])
    np.testing.assert_array_equal(
        index.reduce(index.sort(np.ones(len(groups)))), index.sizes
    )


def test_query_index_random_matches_naive():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 50, size=1000)
    index = QueryIndex(groups)
    np.testing.assert_array_equal(index.order, np.argsort(groups, kind="stable"))
    np.testing.assert_array_equal(
        index.positions,
        np.concatenate([np.arange(s) for s in index.sizes]),
    )


def test_query_index_fast_path_matches_general():
    groups = np.repeat([7, 3, 9, 1], [2, 3, 1, 4])
    index = QueryIndex(groups)
    np.testing.assert_array_equal(index.order, np.argsort(groups, kind="stable"))
    np.testing.assert_array_equal(index.sizes, [4, 3, 2, 1])


@pytest.mark.parametrize(
    "groups, n_samples, match",
    [
        (None, None, "groups is required"),
        ([], None, "0 sample"),
        ([[1, 2], [3, 4]], None, "1-dimensional"),
        ([1.0, np.nan], None, "NaN"),
        ([1, 2, 3], 4, "groups has 3 entries but X has 4 rows."),
        (np.array([1, None], dtype=object), None, "None or NaN"),
    ],
)
def test_check_groups_errors(groups, n_samples, match):
    with pytest.raises(ValueError, match=match):
        check_groups(groups, n_samples)


def test_check_groups_does_not_modify_input():
    groups = np.array([[1], [2], [2]])
    check_groups(groups)
    assert groups.shape == (3, 1)


def test_stable_argsort_codes_many_queries():
    from skrank.utils._groups import _stable_argsort_codes

    rng = np.random.default_rng(1)
    codes = rng.integers(0, 200_000, size=5000)
    np.testing.assert_array_equal(
        _stable_argsort_codes(codes, 200_000), np.argsort(codes, kind="stable")
    )
