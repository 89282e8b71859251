"""Property-based tests of the query index (hypothesis, derandomized)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skrank.utils import QueryIndex

FAST = settings(max_examples=30, derandomize=True, deadline=None)

ids = st.one_of(
    st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=30),
    st.lists(st.integers(0, 4), min_size=1, max_size=30),
    st.lists(st.text(max_size=3), min_size=1, max_size=30),
    st.lists(
        st.floats(allow_nan=False, allow_infinity=True, width=64),
        min_size=1,
        max_size=30,
    ),
    st.lists(st.booleans(), min_size=1, max_size=30),
)


@FAST
@given(ids, st.randoms(use_true_random=False))
def test_query_index_round_trips(groups, rnd):
    groups = np.asarray(groups)
    n = groups.shape[0]
    index = QueryIndex(groups)
    np.testing.assert_array_equal(index.query_ids, np.unique(groups))
    np.testing.assert_array_equal(index.query_ids[index.codes], groups)
    # offsets and sizes agree, and cut the sorted rows into queries
    assert index.offsets[0] == 0 and index.offsets[-1] == n
    np.testing.assert_array_equal(np.diff(index.offsets), index.sizes)
    assert (index.sizes > 0).all() and index.sizes.sum() == n
    np.testing.assert_array_equal(index.sort(index.codes), index.sorted_codes)
    np.testing.assert_array_equal(index.order, np.argsort(index.codes, kind="stable"))
    # sort and unsort are inverse permutations
    values = np.arange(n) * 3 + 1
    np.testing.assert_array_equal(index.unsort(index.sort(values)), values)
    np.testing.assert_array_equal(index.sort(index.unsort(values)), values)
    # positions count rows inside each query
    for q in range(index.n_queries):
        seg = slice(index.offsets[q], index.offsets[q + 1])
        np.testing.assert_array_equal(index.positions[seg], np.arange(index.sizes[q]))
    # rows() of every query, in any order, lists each query's rows
    queries = list(range(index.n_queries))
    rnd.shuffle(queries)
    rows = index.rows(queries)
    np.testing.assert_array_equal(
        index.sorted_codes[rows], np.repeat(queries, index.sizes[queries])
    )
    assert np.array_equal(np.sort(rows), np.arange(n))
    # the within-query sort agrees with a lexsort, both directions
    keys = np.array(
        [rnd.choice([-np.inf, -1.0, 0.0, 0.5, 2.0, np.inf]) for _ in range(n)]
    )
    np.testing.assert_array_equal(
        index.argsort_within(keys, stable=True), np.lexsort((keys, index.codes))
    )
    down = index.argsort_within(keys, descending=True)
    np.testing.assert_array_equal(keys[down], keys[np.lexsort((-keys, index.codes))])
    np.testing.assert_array_equal(index.codes[down], index.sorted_codes)
