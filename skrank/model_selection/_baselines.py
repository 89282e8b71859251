"""Named non-neural baselines for comparisons (``skrank compare --baselines``)."""

from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

from ._adapters import GroupSizeRanker

__all__ = []

BASELINES = {
    "ridge": "regression",
    "hgb": "regression",
    "lgbm": "GBDT ranker",
    "xgb": "GBDT ranker",
}


def make_baseline(name, *, random_state=None, early_stopping_rounds=None):
    """A fresh baseline by name; ``BASELINES[name]`` is its kind.

    ``ridge`` and ``hgb`` (HistGradientBoostingRegressor) regress the labels;
    ``lgbm`` and ``xgb`` are LightGBM's and XGBoost's rankers wrapped in
    :class:`GroupSizeRanker`, early-stopping after ``early_stopping_rounds``
    rounds without gain on the validation queries when that is set (they then
    need validation queries). A missing package raises ``ImportError``.
    """
    if name == "ridge":
        return Ridge()
    if name == "hgb":
        return HistGradientBoostingRegressor(random_state=random_state)
    rounds = early_stopping_rounds
    if name == "lgbm":
        from lightgbm import LGBMRanker

        stop = {} if rounds is None else {"early_stopping_round": rounds}
        return GroupSizeRanker(
            LGBMRanker(random_state=random_state, verbose=-1, **stop)
        )
    if name == "xgb":
        from xgboost import XGBRanker

        stop = {} if rounds is None else {"early_stopping_rounds": rounds}
        ranker = XGBRanker(objective="rank:ndcg", random_state=random_state, **stop)
        return GroupSizeRanker(ranker)
    raise ValueError(f"Unknown baseline {name!r}. Known: {', '.join(BASELINES)}.")
