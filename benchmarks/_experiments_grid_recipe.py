"""Round 18: the recipe page's grid search, as a user would run it.

The recipe page says: when a GBDT beats the defaults on your validation data,
grid-search ``module__alternate_bins`` and ``input_transform``. This runs
exactly that on the training part of a data set, with nothing but
scikit-learn's tools: ``GridSearchCV(NeuralRanker(random_state=seed), grid,
cv=GroupKFold(3), scoring=ndcg_scorer)`` with metadata routing passing
``groups``. The search sees the training part only; the chosen model (refit
on the whole training part) is scored once on the test part, beside
``NeuralRanker()`` and LightGBM early-stopped on the validation part (as in
``bench_quality.py``). One JSON row per (data set, seed).

    OMP_NUM_THREADS=1 SKRANK_CACHE=... python benchmarks/_experiments_grid_recipe.py \
        tree_raw,mq1 0,1,2 results/grid_recipe.jsonl
"""

import json
import sys
import time
from pathlib import Path

import sklearn
import torch
from sklearn.model_selection import GridSearchCV, GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _experiments_quality import fit_lgbm, load

from skrank.estimators import NeuralRanker
from skrank.metrics import ndcg_score, ndcg_scorer

GRID = {
    "module__alternate_bins": [True, False],
    "input_transform": ["log1p", "standard"],
}


def main(names, seeds, out):
    torch.set_num_threads(1)
    for name in names:
        train, vali, test = load(name)
        lgbm = fit_lgbm(train, vali, 0)
        lgbm_test = ndcg_score(test[1], lgbm.predict(test[0]), test[2], k=10)
        for seed in seeds:
            t0 = time.perf_counter()
            with sklearn.config_context(enable_metadata_routing=True):
                search = GridSearchCV(
                    NeuralRanker(random_state=seed),
                    GRID,
                    cv=GroupKFold(3),
                    scoring=ndcg_scorer,
                ).fit(*train[:2], groups=train[2])
            search_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            default = NeuralRanker(random_state=seed).fit(*train)
            default_s = time.perf_counter() - t0
            row = {
                "data": name,
                "seed": seed,
                "best_params": search.best_params_,
                "cv": {
                    json.dumps(p, sort_keys=True): round(float(s), 4)
                    for p, s in zip(
                        search.cv_results_["params"],
                        search.cv_results_["mean_test_score"],
                        strict=True,
                    )
                },
                "search_s": round(search_s, 1),
                "default_s": round(default_s, 1),
                "test_search": float(
                    ndcg_score(test[1], search.predict(test[0]), test[2], k=10)
                ),
                "test_default": float(
                    ndcg_score(test[1], default.predict(test[0]), test[2], k=10)
                ),
                "test_lgbm": float(lgbm_test),
            }
            print(json.dumps(row), flush=True)
            with Path(out).open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(
        sys.argv[1].split(","),
        [int(s) for s in sys.argv[2].split(",")],
        sys.argv[3],
    )
