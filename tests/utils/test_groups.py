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
        ([1, 2, 3], 4, r"^groups has 3 entries but X has 4 rows\.$"),
        (np.array([1, None], dtype=object), None, "None or NaN"),
    ],
)
def test_check_groups_errors(groups, n_samples, match):
    with pytest.raises(ValueError, match=match):
        check_groups(groups, n_samples)


def test_check_groups_names_the_other_array():
    with pytest.raises(
        ValueError, match=r"^groups has 2 entries but y_true has 3 entries\.$"
    ):
        check_groups([1, 2], 3, other_name="y_true")
    with pytest.raises(ValueError, match=r"^qid has 2 entries but y has 3 entries"):
        check_groups([1, 2], 3, input_name="qid", other_name="y")
    with pytest.raises(ValueError, match=r"^groups has 2 entries but y has 3 entries"):
        QueryIndex([1, 2], 3, other_name="y")


def test_argsort_within():
    groups = np.array([2, 1, 2, 1, 2, 3])
    values = np.array([0.5, 3.0, 0.5, -1.0, 9.0, 4.0])
    index = QueryIndex(groups)
    up = index.argsort_within(values)
    np.testing.assert_array_equal(up, [3, 1, 0, 2, 4, 5])
    down = index.argsort_within(values, descending=True, stable=True)
    np.testing.assert_array_equal(down, [1, 3, 4, 0, 2, 5])
    # rows of each segment belong to the query of sorted_codes
    np.testing.assert_array_equal(index.codes[down], index.sorted_codes)
    # +-inf sort like any value, and the padding never leaks in
    inf = index.argsort_within([np.inf, -np.inf, np.inf, np.inf, 0.0, 1.0])
    np.testing.assert_array_equal(inf, [1, 3, 4, 0, 2, 5])
    with pytest.raises(ValueError, match="values contains NaN"):
        index.argsort_within([np.nan] * 6)
    with pytest.raises(ValueError, match=r"values must have shape \(6,\)"):
        index.argsort_within([1.0, 2.0])


def test_argsort_within_long_lists_matches_lexsort():
    rng = np.random.default_rng(3)
    sizes = [1, 2, 5, 17, 64, 65, 300]
    groups = rng.permutation(np.repeat(np.arange(len(sizes)) * 3, sizes))
    values = np.round(rng.normal(size=groups.shape[0]), 1)
    index = QueryIndex(groups)
    got = index.argsort_within(values, descending=True, stable=True)
    np.testing.assert_array_equal(got, np.lexsort((-values, groups)))
    loose = index.argsort_within(values, descending=True)
    np.testing.assert_array_equal(values[loose], values[got])


def test_rows_of_queries():
    index = QueryIndex([7, 9, 7, 8, 9, 9])  # sorted: 7 7 | 8 | 9 9 9
    np.testing.assert_array_equal(index.rows([2, 0]), [3, 4, 5, 0, 1])
    np.testing.assert_array_equal(index.rows([1]), [2])
    assert index.rows([]).shape == (0,)
    values = np.arange(6) * 10
    np.testing.assert_array_equal(
        index.sort(values)[index.rows([2])], values[index.codes == 2]
    )


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
