"""Model files that load without running code: tensors plus JSON.

A pickle (or joblib) file can run any code when it is loaded, so it is only
safe from a trusted source. :func:`save_ranker` writes a fitted
:class:`NeuralRanker` as a torch file holding nothing but tensors, strings and
numbers: the scorer's ``state_dict``, and the estimator's parameters and
fitted attributes as a JSON string. :func:`load_ranker` reads it with
``torch.load(weights_only=True)``, which refuses anything else, and rebuilds
classes only from a fixed list (skrank's scorers, ``torch.optim``, losses by
registry name) or from the classes the caller passes.
"""

import hashlib
import json
import os
import tempfile
from numbers import Integral, Real

import numpy as np
import torch

from ._modules import AttentionScorer, MLPScorer
from ._neural_ranker import NeuralRanker

__all__ = ["load_ranker", "save_ranker"]

_FORMAT = "skrank.NeuralRanker"
#: 5: the ranker scores with some of its members (``member_weights_``, set
#: by ``member_selection``), or ``member_selection`` is not its default
#: "auto" (a parameter older skrank does not know). Older skrank would score
#: with every member, or fail on the parameter: it refuses the file instead.
#: 4: the input transformation may be ``"scaled_log1p"``, with each
#: feature's unit (older skrank cannot apply it, so it refuses the file). A
#: file is written in the lowest version that holds it: 3 without units.
#: 3: MLPScorer has ``n_bins`` (the piecewise-linear encoding). 2: every
#: parameter and every argument of the scorer's constructor is recorded,
#: defaults included, so a file does not depend on the defaults of the skrank
#: that loads it. 1 left parameters at their defaults out.
_VERSION = 5
#: Scorer arguments of each older format version whose defaults (or
#: existence) changed since: files of that version load with these values.
_OLD_MODULE_DEFAULTS = {
    1: {MLPScorer: {"dropout": 0.0, "n_bins": 0}},
    2: {MLPScorer: {"n_bins": 0}},
}
_SCORERS = {f"skrank.estimators.{c.__name__}": c for c in (MLPScorer, AttentionScorer)}


def _class_path(obj):
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _scorer_path(module):
    cls = module if isinstance(module, type) else type(module)
    for path, scorer in _SCORERS.items():
        if cls is scorer:
            return path
    return _class_path(module)


def _encode(value):
    """A JSON-able form of a parameter value, or raise TypeError."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v) for k, v in value.items()}}
    raise TypeError(type(value).__name__)


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "tuple" in value:
            return tuple(_decode(v) for v in value["tuple"])
        return {k: _decode(v) for k, v in value["dict"].items()}
    return value


def _loss_name(loss):
    """The registry name of a loss given as a name or a registered class."""
    from ..losses import get_loss

    if isinstance(loss, str):
        return loss
    if isinstance(loss, type):
        from ..losses import get_loss_names

        for name in get_loss_names():
            if type(get_loss(name)) is loss:
                return name
    return None


def save_ranker(ranker, path):
    """Save a fitted :class:`NeuralRanker` to a file that loads without code.

    The file holds the scorer's weights (tensors) and, as JSON, the ranker's
    parameters that are plain values (numbers, strings, tuples, ...), the
    scorer class, the loss by registry name, the optimizer class, and the
    fitted ``n_features_in_``, ``feature_names_in_`` and history. Callbacks
    and other parameters that are objects are not saved (they matter for
    training, not for prediction). The file is written to a temporary name
    and renamed, so an interrupted save leaves any previous file intact, and
    it carries a SHA-256 of its content, which :func:`load_ranker` checks (a
    damaged file is refused, not loaded with other weights).

    Parameters
    ----------
    ranker : NeuralRanker
        A fitted ranker.
    path : str or path-like
        The file to write (by convention ``.pt``).

    See Also
    --------
    load_ranker : Load the file back.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from skrank.estimators import NeuralRanker, load_ranker, save_ranker
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 3)), rng.integers(0, 3, 40)
    >>> groups = np.repeat(np.arange(4), 10)
    >>> ranker = NeuralRanker(max_epochs=2, random_state=0).fit(X, y, groups)
    >>> path = os.path.join(tempfile.mkdtemp(), "ranker.pt")
    >>> save_ranker(ranker, path)
    >>> again = load_ranker(path)
    >>> bool(np.allclose(again.predict(X), ranker.predict(X)))
    True
    """
    if not isinstance(ranker, NeuralRanker):
        raise TypeError(
            f"save_ranker saves a NeuralRanker. Got {type(ranker).__name__} instead."
        )
    ranker.check_is_fitted()
    defaults = NeuralRanker().get_params(deep=False)
    params, dropped = {}, []
    values = {**_module_arguments(ranker.module), **ranker.get_params(deep=False)}
    for name, value in values.items():
        if name.startswith("_") or name in ("module", "loss", "optimizer"):
            continue
        if name not in defaults and "__" not in name:
            # a subclass's own parameter (e.g. AcceleratedNeuralRanker's
            # accelerator): the file reloads as a plain NeuralRanker
            dropped.append(name)
            continue
        try:
            params[name] = _encode(value)
        except TypeError:  # an object: only a changed one is worth a record
            if value is not defaults.get(name, object()):
                dropped.append(name)
    optimizer = ranker.optimizer
    config = {
        "params": params,
        "dropped": sorted(dropped),
        "module": _scorer_path(ranker.module),
        "loss": _loss_name(ranker.loss),
        "loss_class": _class_path(ranker.loss),
        "optimizer": optimizer.__name__
        if isinstance(optimizer, type)
        and getattr(torch.optim, optimizer.__name__, 0) is optimizer
        else None,
        "n_features_in": int(ranker.n_features_in_),
        "feature_names_in": None
        if getattr(ranker, "feature_names_in_", None) is None
        else [str(n) for n in ranker.feature_names_in_],
        "best_epoch": getattr(ranker, "best_epoch_", None),
        "feature_penalty": None
        if getattr(ranker, "feature_penalty_", None) is None
        else [float(v) for v in ranker.feature_penalty_],
        "history": _history(ranker),
    }
    from .. import __version__

    transform = _transform_state(getattr(ranker, "input_transform_", None))
    weights = getattr(ranker, "member_weights_", None)
    # the default member_selection is left out of files every skrank reads
    if params.get("member_selection") == "auto":
        del params["member_selection"]
    if weights is not None or "member_selection" in params:
        version = 5
    else:
        version = 4 if transform and "unit" in transform else 3
    content = {
        "format": _FORMAT,
        # the lowest version that holds the file: older skrank reads it
        "version": version,
        "skrank_version": __version__,
        "config": json.dumps(config),
        "state_dict": {
            k: v.detach().cpu() for k, v in ranker.module_.state_dict().items()
        },
        "output_offset": getattr(ranker, "output_offset_", None),
        "input_transform": transform,
    }
    if weights is not None:
        content["member_weights"] = [float(w) for w in weights]
    content["sha256"] = _checksum(content)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".skrank-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(content, f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _feed(digest, value):
    """Add a content value (tensors, str, numbers, None, dicts, lists) to a hash."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().cpu().contiguous().reshape(-1)
        digest.update(f"T{flat.dtype}{tuple(value.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        digest.update(f"D{len(value)}".encode())
        for key in sorted(value):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"L{len(value)}".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def _checksum(content):
    """SHA-256 of a file's content: torch.load does not check its archive's CRCs."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in content.items() if k != "sha256"})
    return digest.hexdigest()


def _module_arguments(module):
    """``module__<name>: default`` for every argument of a scorer class.

    The arguments NeuralRanker fills in from the data (``n_features``,
    ``n_outputs``) are left out; so is everything of a module instance.
    """
    if not isinstance(module, type):
        return {}
    import inspect

    try:
        signature = inspect.signature(module)
    except (TypeError, ValueError):
        return {}
    return {
        f"module__{name}": p.default
        for name, p in signature.parameters.items()
        if name not in ("n_features", "n_outputs")
        and p.default is not p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _tensor(values):
    return None if values is None else torch.as_tensor(np.asarray(values, np.float64))


def _transform_state(transform):
    """The fitted input transformation as tensors (None: no transformation)."""
    if transform is None:
        return None
    from sklearn.preprocessing import StandardScaler

    from ..preprocessing import SymmetricLog1p

    if type(transform) not in (SymmetricLog1p, StandardScaler):
        raise ValueError(
            f"save_ranker cannot store the input transformation "
            f"{type(transform).__name__} without pickling code: only "
            "input_transform=None, 'scaled_log1p', 'log1p' or 'standard' are "
            "saved. Apply your transformer in a Pipeline before the ranker, or "
            "use pickle for files you keep yourself."
        )
    # a StandardScaler with with_mean=False keeps mean_ but does not centre
    centred = getattr(transform, "with_mean", True)
    state = {
        "kind": "log1p" if isinstance(transform, SymmetricLog1p) else "standard",
        "mean": _tensor(transform.mean_ if centred else None),
        "scale": _tensor(transform.scale_),
    }
    unit = getattr(transform, "unit_", None)
    if unit is not None:  # "scaled_log1p": each feature's unit
        state.update(kind="scaled_log1p", unit=_tensor(unit))
    return state


def _restore_transform(ranker, state):
    """Set ``input_transform_`` from :func:`_transform_state`'s output."""
    if state is None:
        ranker.input_transform_ = None
        return
    from ._neural_ranker import _make_input_transform

    mean, scale = state["mean"], state["scale"]
    transform = _make_input_transform(state["kind"], sparse=mean is None)
    transform.n_features_in_ = ranker.n_features_in_
    transform.mean_ = None if mean is None else mean.numpy()
    transform.scale_ = None if scale is None else scale.numpy()
    if state["kind"] in ("scaled_log1p", "log1p"):
        unit = state.get("unit")  # absent from files of earlier versions
        transform.unit_ = None if unit is None else unit.numpy()
    if state["kind"] == "standard":
        transform.var_ = None if scale is None else transform.scale_**2
        transform.n_samples_seen_ = 1
    ranker.input_transform_ = transform


def _history(ranker):
    try:
        return json.loads(json.dumps(ranker.history.to_list()))
    except (TypeError, ValueError):  # pragma: no cover - a callback stored objects
        return None


def _not_a_model(path, why):
    return ValueError(
        f"{os.fspath(path)!r} is not a skrank model file ({why}). Model files are "
        "written by skrank.estimators.save_ranker."
    )


def load_ranker(path, *, module=None, loss=None, device="cpu"):
    """Load a :class:`NeuralRanker` saved by :func:`save_ranker`, running no code.

    The file is read with ``torch.load(weights_only=True)``: it can hold
    tensors and plain values only, never code. Classes are taken from a fixed
    list: skrank's scorers (:class:`MLPScorer`, :class:`AttentionScorer`),
    ``torch.optim`` optimizers and losses by registry name. A ranker built
    with another scorer or loss needs that class passed as ``module`` or
    ``loss``.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_ranker`.
    module : torch module class or instance, default=None
        The scorer, when the file's is not one of skrank's.
    loss : str, loss class, loss instance or callable, default=None
        The loss, when the file's was not given by a registry name or class.
    device : str or torch.device, default="cpu"
        Where the loaded scorer lives.

    Returns
    -------
    ranker : NeuralRanker
        The fitted ranker, ready to predict.

    See Also
    --------
    save_ranker : Write such a file.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from skrank.estimators import NeuralRanker, load_ranker, save_ranker
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 3)), rng.integers(0, 3, 40)
    >>> ranker = NeuralRanker(max_epochs=2).fit(X, y, np.repeat(np.arange(4), 10))
    >>> path = os.path.join(tempfile.mkdtemp(), "ranker.pt")
    >>> save_ranker(ranker, path)
    >>> load_ranker(path).n_features_in_
    3
    """
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises many kinds on foreign files
        raise _not_a_model(path, f"{type(exc).__name__} on loading") from None
    if not isinstance(content, dict) or content.get("format") != _FORMAT:
        raise _not_a_model(path, "no skrank model header")
    if not isinstance(content.get("version"), int) or content["version"] > _VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} is a skrank model file of format version "
            f"{content.get('version')!r}, newer than this skrank reads ({_VERSION}): "
            "upgrade skrank."
        )
    # files written before the checksum (skrank 0.2.0 dev) have none
    if "sha256" in content and content["sha256"] != _checksum(content):
        raise ValueError(
            f"{os.fspath(path)!r} is damaged: its weights or settings do not "
            "match the checksum saved with them (a disk or copy error). Save the "
            "ranker again, or restore the file from a copy."
        )
    try:
        config = json.loads(content["config"])
        state_dict = content["state_dict"]
        params = {k: _decode(v) for k, v in config["params"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise _not_a_model(path, f"damaged content: {exc!r}") from None

    if module is None:
        module = _SCORERS.get(config["module"])
        if module is None:
            raise ValueError(
                f"The model in {os.fspath(path)!r} uses the scorer "
                f"{config['module']}, which is not one of skrank's: pass it as "
                "load_ranker(path, module=...) (a file never names code to run)."
            )
    if loss is None:
        loss = config["loss"]
        if loss is None:
            raise ValueError(
                f"The model in {os.fspath(path)!r} was trained with the loss "
                f"{config['loss_class']}, which has no skrank registry name: pass "
                "it as load_ranker(path, loss=...)."
            )
    if config.get("optimizer") is not None:
        optimizer = getattr(torch.optim, config["optimizer"], None)
        if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
            params["optimizer"] = optimizer
    params["device"] = device
    # the defaults of the file's time, where they changed since
    old_defaults = _OLD_MODULE_DEFAULTS.get(content["version"], {})
    for name, value in old_defaults.get(module, {}).items():
        params.setdefault(f"module__{name}", value)
    ranker = NeuralRanker(module, loss=loss, **params)
    ranker.n_features_in_ = config["n_features_in"]
    if config.get("feature_names_in") is not None:
        ranker.feature_names_in_ = np.asarray(config["feature_names_in"], dtype=object)
    ranker.initialize()
    ranker.__dict__.pop("_module_data_init", None)  # the file's state is it
    try:
        ranker.module_.load_state_dict(state_dict)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"The weights in {os.fspath(path)!r} do not fit the scorer "
            f"{type(ranker.module_).__name__}: {exc}"
        ) from None
    ranker.module_.to(ranker.device)
    _restore_transform(ranker, content.get("input_transform"))
    offset = content.get("output_offset")
    ranker.output_offset_ = offset if isinstance(offset, torch.Tensor) else None
    weights = content.get("member_weights")
    ranker.member_weights_ = None if weights is None else np.asarray(weights)
    if config.get("best_epoch") is not None:
        ranker.best_epoch_ = config["best_epoch"]
    # the penalty of continued training (partial_fit, warm_start)
    penalty = config.get("feature_penalty")
    ranker.feature_penalty_ = None if penalty is None else np.asarray(penalty)
    if config.get("history") is not None:
        from skorch.history import History

        ranker.history_ = History(config["history"])
    return ranker
