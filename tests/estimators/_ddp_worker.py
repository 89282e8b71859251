"""One process of a data-parallel fit, run by test_distributed.py under torchrun.

``python -m torch.distributed.run --nproc-per-node 2 ... _ddp_worker.py OUT``
trains an :class:`~skrank.estimators.AcceleratedNeuralRanker` on CPU (gloo)
and writes, per rank, the training queries it saw in each epoch, its test
NDCG, its validation history (``OUT/rank{r}.json``) and its weights
after ``fit`` and after a further ``partial_fit`` (``OUT/weights{r}.pt``,
``OUT/partial{r}.pt``). The test imports :func:`data` and :data:`PARAMS` to
fit the one-process reference.
"""

import json
import pathlib
import sys

import numpy as np
import torch
from skorch.callbacks import Callback

from skrank.datasets import make_ranking

#: Per-process settings: the global batch is batch_size x number of processes.
PARAMS = dict(
    batch_size=8,
    max_epochs=40,
    lr=5e-3,
    patience=40,
    random_state=0,
    validation_fraction=0.1,  # the test checks validation is the same everywhere
    module__hidden_sizes=(8,),
    module__n_members=1,
    module__n_bins=4,  # the encoding's edges must agree across processes
    input_transform=None,
    lr_schedule=None,
)


def data():
    """(X, y, qid) for training and for testing (disjoint queries)."""
    X, y, qid = make_ranking(
        n_queries=400, n_features=6, list_length=(5, 20), random_state=0
    )
    train = qid < 240
    return (X[train], y[train], qid[train]), (X[~train], y[~train], qid[~train])


class RecordQueries(Callback):
    """The dataset's query numbers of every training batch, epoch by epoch."""

    def initialize(self):
        self.epochs_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epochs_.append([])

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.epochs_[-1].extend(batch[0].queries.tolist())


def main(out):
    from accelerate import Accelerator

    from skrank.estimators import AcceleratedNeuralRanker
    from skrank.metrics import ndcg_score

    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    (X, y, qid), (X_test, y_test, qid_test) = data()
    record = RecordQueries()
    ranker = AcceleratedNeuralRanker(
        accelerator=accelerator, callbacks=[("record", record)], **PARAMS
    )
    ranker.fit(X, y, qid)
    rank = accelerator.process_index
    report = {
        "world_size": accelerator.num_processes,
        "backend": str(accelerator.state.backend),
        "queries": list(record.epochs_),
        "valid_ndcg": [row.get("valid_ndcg") for row in ranker.history],
        "ndcg": float(ndcg_score(y_test, ranker.predict(X_test), qid_test, k=10)),
    }
    out = pathlib.Path(out)
    torch.save(ranker.module_.state_dict(), out / f"weights{rank}.pt")
    # more training on the unwrapped module must still synchronise
    ranker.set_params(max_epochs=2).partial_fit(X, y, qid)
    report["queries_partial_fit"] = record.epochs_[len(report["queries"]) :]
    torch.save(ranker.module_.state_dict(), out / f"partial{rank}.pt")
    (out / f"rank{rank}.json").write_text(json.dumps(report))
    accelerator.wait_for_everyone()
    accelerator.end_training()


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(sys.argv[1])
