"""String names of losses, in the style of ``sklearn.metrics.get_scorer``."""

import inspect

__all__ = ["get_loss", "get_loss_names", "register_loss"]

_LOSSES = {}


def register_loss(name):
    """Class decorator: make a loss class available as ``get_loss(name)``.

    Parameters
    ----------
    name : str
        The registry name (lowercase by convention).

    Returns
    -------
    decorator : callable
        Registers the class and returns it unchanged.

    Examples
    --------
    >>> from skrank.losses import RankingLoss, get_loss, register_loss
    >>> @register_loss("my_zero_loss")
    ... class ZeroLoss(RankingLoss):
    ...     def per_list(self, scores, labels, mask):
    ...         return (scores * 0).sum(-1), mask.any(-1)
    >>> type(get_loss("my_zero_loss")).__name__
    'ZeroLoss'
    >>> _ = _LOSSES.pop("my_zero_loss")  # keep the doctest side-effect free
    """

    def decorator(cls):
        if name in _LOSSES and _LOSSES[name] is not cls:
            raise ValueError(f"A loss named {name!r} is already registered.")
        _LOSSES[name] = cls
        return cls

    return decorator


def get_loss_names():
    """Return the names of all registered losses, sorted.

    Returns
    -------
    list of str
        Every name accepted by :func:`get_loss`.

    Examples
    --------
    >>> from skrank.losses import get_loss_names
    >>> "ranknet" in get_loss_names()
    True
    """
    return sorted(_LOSSES)


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
    if not isinstance(name, str):
        raise TypeError(f"Loss name must be a str. Got {type(name).__name__} instead.")
    try:
        cls = _LOSSES[name]
    except KeyError:
        raise ValueError(
            f"{name!r} is not a valid loss name. Valid names are: "
            f"{', '.join(get_loss_names())}."
        ) from None
    try:
        inspect.signature(cls).bind(**params)
    except TypeError as exc:
        raise TypeError(f"Invalid parameters for loss {name!r}: {exc}") from None
    return cls(**params)
