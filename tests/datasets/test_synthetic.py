import numpy as np
import pytest
from sklearn.linear_model import Ridge

from skrank.datasets import make_ranking
from skrank.utils._validation import InvalidParameterError


def _naive_ndcg(y, score, groups, k=10):
    """Mean NDCG@k (exponential gain) over queries with a relevant document."""
    values = []
    for q in np.unique(groups):
        rows = groups == q
        gains = 2.0 ** y[rows] - 1
        if gains.max() == 0:
            continue
        discounts = 1 / np.log2(np.arange(2, rows.sum() + 2))[:k]
        ideal = np.sort(gains)[::-1][:k] @ discounts
        ranked = gains[np.argsort(-score[rows], kind="stable")][:k]
        values.append(ranked @ discounts / ideal)
    return float(np.mean(values))


def _center_per_query(X, groups):
    means = np.zeros((groups.max() + 1, X.shape[1]))
    np.add.at(means, groups, X)
    means /= np.bincount(groups)[:, None]
    return X - means[groups]


def test_shapes_and_types():
    X, y, groups = make_ranking(n_queries=30, n_features=7, random_state=0)
    n = X.shape[0]
    assert X.shape == (n, 7) and y.shape == (n,) and groups.shape == (n,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert groups.dtype == np.int64
    sizes = np.bincount(groups)
    assert sizes.size == 30
    assert sizes.min() >= 5 and sizes.max() <= 50
    # rows of a query are contiguous and queries come in order
    np.testing.assert_array_equal(groups, np.repeat(np.arange(30), sizes))


def test_deterministic():
    a = make_ranking(n_queries=20, random_state=3)
    b = make_ranking(n_queries=20, random_state=np.random.RandomState(3))
    c = make_ranking(n_queries=20, random_state=4)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert a[0].shape != c[0].shape or not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("n_grades", [2, 3, 5, 7])
def test_label_range_and_shares(n_grades):
    _, y, _ = make_ranking(n_queries=300, n_grades=n_grades, random_state=0)
    labels = np.unique(y)
    np.testing.assert_array_equal(labels, np.arange(n_grades))
    # about 40% relevant, fewer documents at each higher grade (bar the top)
    assert 0.25 < np.mean(y >= 1) < 0.5
    counts = np.bincount(y.astype(int))
    assert np.all(np.diff(counts[:-1]) < 0)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.5, 1.0])
def test_no_relevant_fraction(fraction):
    n_queries = 200
    _, y, groups = make_ranking(
        n_queries=n_queries, no_relevant_fraction=fraction, random_state=0
    )
    has_relevant = np.zeros(n_queries, dtype=bool)
    np.logical_or.at(has_relevant, groups, y >= 1)
    assert np.sum(~has_relevant) == round(fraction * n_queries)


def test_no_relevant_fraction_with_short_lists():
    # short lists often have no relevant document by chance: they are filled up
    _, y, groups = make_ranking(
        n_queries=100, list_length=(1, 3), no_relevant_fraction=0.3, random_state=0
    )
    has_relevant = np.zeros(100, dtype=bool)
    np.logical_or.at(has_relevant, groups, y >= 1)
    assert np.sum(~has_relevant) == 30


def test_list_lengths():
    _, _, groups = make_ranking(n_queries=50, list_length=8, random_state=0)
    np.testing.assert_array_equal(np.bincount(groups), np.full(50, 8))
    _, _, groups = make_ranking(n_queries=50, list_length=(1, 1), random_state=0)
    np.testing.assert_array_equal(groups, np.arange(50))


def test_heavy_tailed_lengths():
    kwargs = {"n_queries": 2000, "n_features": 2, "list_length": (1, 500)}
    _, _, groups = make_ranking(random_state=0, **kwargs)
    uniform = np.bincount(groups)
    _, _, groups = make_ranking(heavy_tailed=True, random_state=0, **kwargs)
    heavy = np.bincount(groups)
    assert heavy.min() >= 1 and heavy.max() <= 500
    assert heavy.min() == 1 and heavy.max() >= 450  # the whole range is used
    # many short lists, a few long ones holding much of the documents
    assert np.median(heavy) < 40 < np.median(uniform)
    assert heavy.mean() > 2 * np.median(heavy)
    longest = np.sort(heavy)[-len(heavy) // 10 :]
    assert longest.sum() > 0.35 * heavy.sum()
    assert np.sort(uniform)[-len(uniform) // 10 :].sum() < 0.2 * uniform.sum()


def test_shuffle():
    X, y, groups = make_ranking(n_queries=20, random_state=0)
    Xs, ys, gs = make_ranking(n_queries=20, shuffle=True, random_state=0)
    assert np.count_nonzero(np.diff(gs)) > 19  # rows are no longer contiguous
    order = np.lexsort((Xs[:, 0], gs))
    reference = np.lexsort((X[:, 0], groups))
    np.testing.assert_array_equal(Xs[order], X[reference])
    np.testing.assert_array_equal(ys[order], y[reference])
    np.testing.assert_array_equal(gs[order], groups[reference])


def test_n_informative_is_clipped():
    X, _, _ = make_ranking(n_queries=5, n_features=2, n_informative=5, random_state=0)
    assert X.shape[1] == 2
    X, _, _ = make_ranking(n_queries=5, n_features=1, n_informative=1, random_state=0)
    assert X.shape[1] == 1


def test_ridge_learns_something_but_not_everything():
    X, y, groups = make_ranking(n_queries=300, random_state=0)
    train = groups < 200
    test = ~train
    random_score = np.random.default_rng(0).normal(size=test.sum())
    ridge = Ridge().fit(X[train], y[train])
    ndcg_random = _naive_ndcg(y[test], random_score, groups[test])
    ndcg_ridge = _naive_ndcg(y[test], ridge.predict(X[test]), groups[test])
    ndcg_true = _naive_ndcg(y[test], y[test], groups[test])
    assert ndcg_true == 1.0
    assert ndcg_random + 0.05 < ndcg_ridge < 0.8
    # What a pointwise regressor gets wrong: the same Ridge fitted on features
    # centred per query (only within-query differences, as a ranking loss
    # sees them) ranks clearly better.
    Xc = _center_per_query(X, groups)
    ridge_within = Ridge().fit(Xc[train], y[train])
    ndcg_within = _naive_ndcg(y[test], ridge_within.predict(Xc[test]), groups[test])
    assert ndcg_within > ndcg_ridge + 0.1


def test_without_query_effect_pooled_and_within_agree():
    X, y, groups = make_ranking(n_queries=300, query_effect=0.0, random_state=0)
    train = groups < 200
    test = ~train
    Xc = _center_per_query(X, groups)
    pooled = Ridge().fit(X[train], y[train]).predict(X[test])
    within = Ridge().fit(Xc[train], y[train]).predict(Xc[test])
    assert (
        abs(
            _naive_ndcg(y[test], pooled, groups[test])
            - _naive_ndcg(y[test], within, groups[test])
        )
        < 0.03
    )


def test_noise_makes_the_task_harder():
    scores = []
    for noise in (0.0, 2.0):
        X, y, groups = make_ranking(
            n_queries=300, noise=noise, query_effect=0.0, random_state=0
        )
        train = groups < 200
        pred = Ridge().fit(X[train], y[train]).predict(X[~train])
        scores.append(_naive_ndcg(y[~train], pred, groups[~train]))
    assert scores[0] > scores[1] + 0.1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_queries": 0}, "The 'n_queries' parameter of make_ranking must be an int"),
        ({"n_features": 1.5}, "The 'n_features' parameter of make_ranking"),
        ({"n_informative": 0}, "The 'n_informative' parameter of make_ranking"),
        (
            {"n_grades": 1},
            r"The 'n_grades' parameter of make_ranking must be an int "
            r"in the range \[2, inf\). Got 1 instead.",
        ),
        ({"noise": -1.0}, "The 'noise' parameter"),
        ({"query_effect": -0.1}, "The 'query_effect' parameter"),
        ({"no_relevant_fraction": 1.5}, "The 'no_relevant_fraction' parameter"),
        ({"list_length": 0}, "The 'list_length' parameter"),
        ({"list_length": [5, 10]}, "The 'list_length' parameter"),
        ({"heavy_tailed": "yes"}, "The 'heavy_tailed' parameter"),
        ({"shuffle": 1.0}, "The 'shuffle' parameter"),
        ({"random_state": "seed"}, "The 'random_state' parameter"),
    ],
)
def test_parameter_validation(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        make_ranking(**kwargs)


@pytest.mark.parametrize("list_length", [(0, 5), (6, 5), (1, 2, 3), (1.0, 5)])
def test_bad_list_length_tuple(list_length):
    with pytest.raises(
        ValueError,
        match=r"list_length must be an int >= 1 or a tuple \(min, max\) of ints "
        r"with 1 <= min <= max. Got",
    ):
        make_ranking(list_length=list_length)
