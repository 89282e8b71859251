"""
===============
A custom loss
===============

A loss is a :class:`torch.nn.Module` called on padded
``[n_queries, list_len]`` scores and labels with a boolean mask. Subclass
:class:`~skrank.losses.RankingLoss` and write only the per-list formula;
masking and reduction over lists are done for you. Losses combine with ``+``
and ``*``.

Here: a "top-1 softmax cross-entropy" that puts all target mass on the most
relevant documents of each list,

.. math::

    \\ell(s, y) = -\\sum_i \\frac{[y_i = \\max_j y_j]}{\\#\\{j : y_j = \\max y\\}}
    \\log \\frac{e^{s_i}}{\\sum_j e^{s_j}},

for lists with at least one relevant document.
"""

# %%
import torch
from sklearn.model_selection import GroupShuffleSplit

from skrank import NeuralRanker
from skrank.datasets import make_ranking
from skrank.losses import ListNet, RankingLoss
from skrank.metrics import ndcg_score


class TopOneCrossEntropy(RankingLoss):
    """Softmax cross-entropy towards the best documents of each list."""

    def per_list(self, scores, labels, mask):
        neg_inf = torch.finfo(scores.dtype).min
        scores = scores.masked_fill(~mask, neg_inf)
        labels = labels.masked_fill(~mask, -1.0)
        best = labels == labels.max(dim=1, keepdim=True).values
        target = best & mask
        target = target / target.sum(dim=1, keepdim=True).clamp(min=1)
        log_p = torch.log_softmax(scores, dim=1).masked_fill(~mask, 0.0)
        values = -(target * log_p).sum(dim=1)
        valid = (labels.max(dim=1).values > 0) & (mask.sum(dim=1) > 1)
        return values, valid


# %%
X, y, qid = make_ranking(n_queries=150, n_features=10, random_state=0)
train, test = next(GroupShuffleSplit(test_size=0.3, random_state=0).split(X, y, qid))

for name, loss in [
    ("top-1 cross-entropy", TopOneCrossEntropy()),
    ("ListNet", ListNet()),
    ("ListNet + 0.5 top-1", ListNet() + 0.5 * TopOneCrossEntropy()),
]:
    ranker = NeuralRanker(loss=loss, max_epochs=15, lr=3e-3, random_state=0)
    ranker.fit(X[train], y[train], groups=qid[train])
    ndcg = ndcg_score(y[test], ranker.predict(X[test]), qid[test], k=10)
    print(f"{name:22s} test NDCG@10 = {ndcg:.3f}")
