"""Query weights for NeuralRanker: ``sample_weight`` constant within a query.

A ranking loss compares the documents of a query, so a weight that varies
inside a query has no meaning shared by the pointwise, pairwise and listwise
families; NeuralRanker takes ``sample_weight`` as **query weights**: every
row of a query carries its query's weight. Queries of weight 0 are dropped
before batching (the model is the one trained without them); the others
weigh their list's loss, ``w_q / mean(w)`` times, in the mean over the lists
of a batch.
"""

import torch

from ..utils._groups import check_query_weights as query_weights

__all__ = ["check_query_weights", "supports_query_weights", "weighted_loss"]


def check_query_weights(sample_weight, index):
    """Validate per-row weights and turn them into per-query weights.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,)
        One weight per row, finite, >= 0, constant within each query.
    index : QueryIndex
        The query index of the rows.

    Returns
    -------
    keep : ndarray of bool of shape (n_samples,) or None
        Rows of queries with a positive weight (None: all of them).
    weights : ndarray of shape (n_kept_queries,) or None
        Positive query weights divided by their mean, in query order of the
        kept rows; None when they are all equal (an unweighted fit).
    """
    low = query_weights(sample_weight, index)
    if not (low > 0).any():
        raise ValueError("sample_weight is zero for every query: nothing to train on.")
    keep = None
    if (low == 0).any():
        keep = (low > 0)[index.codes]
        low = low[low > 0]
    if (low == low[0]).all():
        return keep, None
    return keep, low / low.mean()


def supports_query_weights(loss):
    """Whether ``loss`` gives per-list values (``per_list``), terms included."""
    terms = getattr(loss, "terms", None)
    if terms is not None:
        return all(supports_query_weights(term) for _, term in terms)
    return hasattr(loss, "per_list") and getattr(loss, "reduction", "mean") in (
        "mean",
        "sum",
    )


def weighted_loss(loss, scores, labels, mask, weights):
    """``loss`` with each list's value multiplied by its query weight.

    The mean (or sum, following the loss's ``reduction``) runs over the lists
    that contribute, as in the unweighted loss.
    """
    terms = getattr(loss, "terms", None)
    if terms is not None:
        return sum(
            w * weighted_loss(term, scores, labels, mask, weights) for w, term in terms
        )
    values, valid = loss.per_list(scores, labels.to(scores.dtype), mask)
    values = torch.where(valid, values * weights.to(values), torch.zeros_like(values))
    if getattr(loss, "reduction", "mean") == "sum":
        return values.sum()
    return values.sum() / valid.sum().clamp(min=1)
