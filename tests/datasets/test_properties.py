"""Property-based tests of the loaders: dump with scikit-learn, load, same data."""

import gzip
import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import dump_svmlight_file

from skrank.datasets import load_svmlight_ranking

FAST = settings(max_examples=30, derandomize=True, deadline=None)


@st.composite
def ranking_data(draw):
    n = draw(st.integers(1, 12))
    n_features = draw(st.integers(1, 6))
    # values exact in %.16g text: multiples of 1/4 in a small range
    cells = st.integers(-40, 40).map(lambda v: v / 4)
    X = np.array(
        draw(
            st.lists(
                st.lists(cells, min_size=n_features, max_size=n_features),
                min_size=n,
                max_size=n,
            )
        )
    )
    y = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), float)
    qid = np.array(draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n)))
    return X, y, qid


@FAST
@given(
    ranking_data(),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_dump_load_same_data(data, newline, bom, compress, float32):
    X, y, qid = data
    buffer = io.BytesIO()
    dump_svmlight_file(
        X, y, buffer, query_id=qid, zero_based=True, comment="made by hypothesis"
    )
    content = buffer.getvalue().replace(b"\n", newline.encode())
    if bom:
        content = b"\xef\xbb\xbf" + content
    if compress:
        content = gzip.compress(content)
    dtype = np.float32 if float32 else np.float64
    X_got, y_got, groups = load_svmlight_ranking(
        io.BytesIO(content), n_features=X.shape[1], zero_based=True, dtype=dtype
    )
    assert X_got.dtype == dtype and X_got.shape == X.shape
    np.testing.assert_array_equal(X_got.toarray(), X.astype(dtype))
    np.testing.assert_array_equal(y_got, y)
    np.testing.assert_array_equal(groups, qid)
    dense, _, _ = load_svmlight_ranking(
        io.BytesIO(content), n_features=X.shape[1], zero_based=True, dense=True
    )
    np.testing.assert_array_equal(dense, X)
