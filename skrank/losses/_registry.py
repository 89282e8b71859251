"""String names of losses and their families, in the style of ``get_scorer``."""

import inspect

__all__ = [
    "FAMILIES",
    "get_loss",
    "get_loss_family",
    "get_loss_names",
    "register_loss",
]

#: The loss families, in the order documentation lists them.
FAMILIES = ("pointwise", "pairwise", "listwise", "other")

_LOSSES = {}  # name -> (class, family)


def register_loss(name, *, family="other"):
    """Class decorator: make a loss class available as ``get_loss(name)``.

    Parameters
    ----------
    name : str
        The registry name (lowercase by convention).
    family : {"pointwise", "pairwise", "listwise", "other"}, default="other"
        The family the loss belongs to, as :func:`get_loss_family` reports it
        (the command line and the documentation group losses by it).

    Returns
    -------
    decorator : callable
        Registers the class and returns it unchanged.

    Examples
    --------
    >>> from skrank.losses import RankingLoss, get_loss, register_loss
    >>> @register_loss("my_zero_loss", family="pointwise")
    ... class ZeroLoss(RankingLoss):
    ...     def per_list(self, scores, labels, mask):
    ...         return (scores * 0).sum(-1), mask.any(-1)
    >>> type(get_loss("my_zero_loss")).__name__
    'ZeroLoss'
    >>> get_loss_family("my_zero_loss")
    'pointwise'
    >>> _ = _LOSSES.pop("my_zero_loss")  # keep the doctest side-effect free
    """
    if not isinstance(name, str):
        raise TypeError(f"Loss name must be a str. Got {type(name).__name__} instead.")
    _check_family(family, "register_loss")

    def decorator(cls):
        if name in _LOSSES and _LOSSES[name][0] is not cls:
            raise ValueError(f"A loss named {name!r} is already registered.")
        _LOSSES[name] = (cls, family)
        return cls

    return decorator


def _check_family(family, caller):
    if family not in FAMILIES:
        raise ValueError(
            f"The 'family' parameter of {caller} must be a str among "
            f"{{{', '.join(repr(f) for f in FAMILIES)}}}. Got {family!r} instead."
        )


def _family_of(loss):
    """The family of a loss name, class or instance; None if not registered."""
    if isinstance(loss, str):
        return _LOSSES[loss][1] if loss in _LOSSES else None
    cls = loss if isinstance(loss, type) else type(loss)
    return next((family for c, family in _LOSSES.values() if c is cls), None)


def _entry(name):
    if not isinstance(name, str):
        raise TypeError(f"Loss name must be a str. Got {type(name).__name__} instead.")
    try:
        return _LOSSES[name]
    except KeyError:
        raise ValueError(
            f"{name!r} is not a valid loss name. Valid names are: "
            f"{', '.join(get_loss_names())}."
        ) from None


def get_loss_names(family=None):
    """Return the names of the registered losses, sorted.

    Parameters
    ----------
    family : {"pointwise", "pairwise", "listwise", "other"}, default=None
        Only the losses of this family; None for all.

    Returns
    -------
    list of str
        Names accepted by :func:`get_loss`.

    Examples
    --------
    >>> from skrank.losses import get_loss_names
    >>> "ranknet" in get_loss_names()
    True
    >>> get_loss_names("pointwise")
    ['huber', 'mae', 'mse', 'ordinal', 'sigmoid_bce']
    """
    if family is not None:
        _check_family(family, "get_loss_names")
    return sorted(n for n, (_, f) in _LOSSES.items() if family in (None, f))


def get_loss_family(name):
    """Return the family of the loss registered as ``name``.

    Parameters
    ----------
    name : str
        A name from :func:`get_loss_names`.

    Returns
    -------
    family : {"pointwise", "pairwise", "listwise", "other"}
        How the loss compares documents: each on its own (pointwise), in pairs
        (pairwise) or a whole list at once (listwise); "other" for losses
        registered without a family.

    Examples
    --------
    >>> from skrank.losses import get_loss_family
    >>> get_loss_family("lambdarank")
    'pairwise'
    """
    return _entry(name)[1]


def get_loss(name, **params):
    """Return a new instance of the loss registered as ``name``.

    Parameters
    ----------
    name : str
        A name from :func:`get_loss_names`.
    **params
        Hyper-parameters passed to the loss class.

    Returns
    -------
    loss : RankingLoss
        A fresh loss instance.

    Examples
    --------
    >>> from skrank.losses import get_loss
    >>> get_loss("ranknet", sigma=2.0)
    RankNet(...)
    """
    cls = _entry(name)[0]
    try:
        inspect.signature(cls).bind(**params)
    except TypeError as exc:
        raise TypeError(f"Invalid parameters for loss {name!r}: {exc}") from None
    return cls(**params)
