"""How query ids (and a validation set) reach an estimator's ``fit`` and ``predict``.

One rule for every part of skrank that calls a user's estimator (the scorers,
:func:`~skrank.model_selection.compare_rankers`): an estimator receives
``groups`` (or ``eval_set``) when the method that would take it *names* that
parameter. For a :class:`~sklearn.pipeline.Pipeline` the method looked at is
the last step's; the pipeline forwards the value to it, by metadata routing
when that is enabled, else by the ``step__param`` form of ``fit`` (and
scikit-learn's own forwarding of ``predict`` parameters).

Nothing here knows a skrank estimator by class: a LightGBM wrapper, a user's
context-aware model or :class:`~skrank.NeuralRanker` are treated alike.
"""

import inspect

__all__ = ["final_step", "fit_params", "names_param", "predict_params"]


def names_param(method, name):
    """True when ``name`` is an explicitly named parameter of ``method``.

    ``**kwargs`` does not count: a method that only swallows keywords has not
    asked for ``name``.
    """
    try:
        param = inspect.signature(method).parameters.get(name)
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return param is not None and param.kind in (
        param.POSITIONAL_OR_KEYWORD,
        param.KEYWORD_ONLY,
    )


def _takes(estimator, method, name):
    """``method`` names ``name``, or ``estimator`` requests it for ``fit``."""
    if names_param(method, name):
        return True
    try:  # a class-level request: __metadata_request__fit = {name: True}
        requests = estimator.get_metadata_routing().fit.requests
    except (AttributeError, TypeError, ValueError):
        return False
    return requests.get(name) is True


def final_step(estimator):
    """``(step_name, step)`` of a pipeline's last step, or ``(None, estimator)``."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        name, step = steps[-1]
        return name, step
    return None, estimator


def fit_params(estimator, groups, eval_set=None, sample_weight=None):
    """Keyword arguments that give ``estimator.fit`` its query ids.

    Parameters
    ----------
    estimator : estimator object
        The (unfitted) estimator or pipeline.
    groups : ndarray of shape (n_samples,)
        The query id of each training row.
    eval_set : tuple (X_val, y_val, groups_val), default=None
        Validation queries. Passed only to an estimator (not a pipeline, whose
        transformers would not see them) whose ``fit`` names ``eval_set`` or
        that requests it at class level (``__metadata_request__fit =
        {"eval_set": True}``).
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the training rows, passed when ``fit`` names
        ``sample_weight``.

    Returns
    -------
    params : dict
        ``{"groups": ..., "eval_set": ..., "sample_weight": ...}`` as far as
        ``fit`` takes them, prefixed ``step__`` for a pipeline when metadata
        routing is off.
    """
    step, final = final_step(estimator)
    fit = getattr(final, "fit", None)
    params = {}
    if fit is not None and names_param(fit, "groups"):
        params["groups"] = groups
    if step is None and eval_set is not None and _takes(final, fit, "eval_set"):
        params["eval_set"] = eval_set
    if sample_weight is not None and fit is not None:
        if names_param(fit, "sample_weight"):
            params["sample_weight"] = sample_weight
    if step is None or not params:
        return params
    from sklearn import get_config

    if get_config().get("enable_metadata_routing", False):
        return params  # the pipeline routes what its last step requests
    return {f"{step}__{key}": value for key, value in params.items()}


def predict_params(estimator, groups):
    """Keyword arguments that give ``estimator.predict`` its query ids.

    ``{"groups": groups}`` when ``groups`` is not None and the (last step's)
    ``predict`` names ``groups`` (a context-aware ranker), else ``{}``.
    """
    if groups is None:
        return {}
    _, final = final_step(estimator)
    predict = getattr(final, "predict", None)
    if predict is not None and names_param(predict, "groups"):
        return {"groups": groups}
    return {}
