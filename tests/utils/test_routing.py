"""The one rule for what reaches fit and predict: named parameters."""

import numpy as np
import sklearn
from sklearn.base import BaseEstimator
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrank.utils._routing import fit_params, names_param, predict_params


class Named(BaseEstimator):
    def fit(self, X, y, groups=None, *, eval_set=None):
        return self

    def predict(self, X, groups=None):
        return np.zeros(len(X))


class Keywords(BaseEstimator):
    def fit(self, X, y, **kwargs):
        return self

    def predict(self, X, **kwargs):
        return np.zeros(len(X))


G = np.array([1, 1, 2])
VAL = ("X", "y", "g")


def test_named_parameters_only():
    assert names_param(Named().fit, "groups") and names_param(Named().fit, "eval_set")
    assert not names_param(Keywords().fit, "groups")
    assert not names_param(len, "groups")  # no signature
    assert fit_params(Named(), G, VAL) == {"groups": G, "eval_set": VAL}
    assert fit_params(Keywords(), G, VAL) == {}
    assert fit_params(Ridge(), G, VAL) == {}
    assert fit_params(Named(), G) == {"groups": G}
    assert predict_params(Named(), G) == {"groups": G}
    assert predict_params(Named(), None) == {}
    assert predict_params(Keywords(), G) == {}


def test_pipelines_get_groups_but_no_eval_set():
    pipe = make_pipeline(StandardScaler(), Named())
    assert fit_params(pipe, G, VAL) == {"named__groups": G}
    with sklearn.config_context(enable_metadata_routing=True):
        assert fit_params(pipe, G, VAL) == {"groups": G}
    assert predict_params(pipe, G) == {"groups": G}
    assert fit_params(make_pipeline(Ridge()), G, VAL) == {}


def test_class_level_request_for_eval_set():
    class Requests(Keywords):
        __metadata_request__fit = {"eval_set": True}  # noqa: RUF012

    assert fit_params(Requests(), G, VAL) == {"eval_set": VAL}
    assert fit_params(Requests(), G) == {}
