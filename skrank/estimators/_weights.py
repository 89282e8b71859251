"""Query weights for NeuralRanker: ``sample_weight`` constant within a query.

A ranking loss compares the documents of a query, so a weight that varies
inside a query has no meaning shared by the pointwise, pairwise and listwise
families; NeuralRanker takes ``sample_weight`` as **query weights**: every
row of a query carries its query's weight. Queries of weight 0 are dropped
before batching (the model is the one trained without them); the others
weigh their list's loss, ``w_q / mean(w)`` times, in the mean over the lists
of a batch.
"""

import numpy as np
import torch
from sklearn.utils import check_array, column_or_1d

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
    w = column_or_1d(
        check_array(
            sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
        ),
        input_name="sample_weight",
    )
    if w.shape[0] != index.n_samples:
        raise ValueError(
            f"sample_weight has {w.shape[0]} entries but X has {index.n_samples} rows."
        )
    if (w < 0).any():
        raise ValueError(
            f"sample_weight must be >= 0. Got a minimum of {w.min():g} instead."
        )
    starts = index.offsets[:-1]
    ws = w[index.order]
    low = np.minimum.reduceat(ws, starts)
    high = np.maximum.reduceat(ws, starts)
    if (low != high).any():
        q = int(np.flatnonzero(low != high)[0])
        qid = index.query_ids[q]
        qid = qid.item() if isinstance(qid, np.generic) else qid
        raise ValueError(
            "sample_weight must be constant within each query: NeuralRanker "
            "takes it as query weights (its losses compare the documents of a "
            "query, so per-document weights have no meaning common to the loss "
            f"families). Query {qid!r} has weights from {low[q]:g} "
            f"to {high[q]:g}."
        )
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
