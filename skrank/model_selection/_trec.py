"""TREC run and qrels text of a comparison's held-out predictions."""

import numpy as np

__all__ = ["ranx_pair", "trec_qrels", "trec_run"]


def _check(predictions):
    if predictions is None:
        raise ValueError(
            "This comparison holds no per-document predictions (it was built "
            "without them); run compare_rankers to get TREC files."
        )


def _rows_of_split(predictions, split):
    """Positions into the held-out predictions: one split, or all if disjoint."""
    splits = predictions["splits"]
    if split is not None:
        n_splits = int(splits.max()) + 1 if splits.size else 0
        if not 0 <= split < n_splits:
            raise ValueError(
                f"split must be in [0, {n_splits - 1}]. Got {split!r} instead."
            )
        return np.flatnonzero(splits == split)
    rows = predictions["rows"]
    if np.unique(rows).shape[0] != rows.shape[0]:
        raise ValueError(
            "Some documents were tested in several splits (repeated or "
            "overlapping cross-validation), so one run cannot hold them: pass "
            "split=i for the run of split i."
        )
    return np.arange(rows.shape[0])


def _docno(rows):
    return np.char.add("d", rows.astype(str))


def _run_rows(predictions, model, split):
    """``qid, docno, rank, score`` of one model's held-out documents, ranked."""
    _check(predictions)
    if model not in predictions["scores"]:
        raise ValueError(
            f"Unknown model {model!r}. Known models: {list(predictions['scores'])}."
        )
    keep = _rows_of_split(predictions, split)
    qid = predictions["groups"][keep]
    scores = predictions["scores"][model][keep]
    docno = _docno(predictions["rows"][keep])
    # rank by decreasing score within each query; docno breaks ties, as
    # trec_eval does (it re-sorts by score, then docno, descending).
    order = np.lexsort((docno, -scores, qid.astype(str)))
    qid, scores, docno = qid[order], scores[order], docno[order]
    starts = np.flatnonzero(np.r_[True, qid[1:] != qid[:-1]])
    rank = np.arange(qid.shape[0]) - np.repeat(
        starts, np.diff(np.r_[starts, qid.shape[0]])
    )
    return qid, docno, rank + 1, scores


def _qrels_rows(predictions, split):
    """``qid, docno, label`` (integer labels) of the held-out documents."""
    _check(predictions)
    keep = _rows_of_split(predictions, split)
    rows = predictions["rows"][keep]
    order = np.lexsort((rows, predictions["groups"][keep].astype(str)))
    labels = predictions["y"][keep][order]
    if not np.array_equal(labels, np.round(labels)):
        raise ValueError(
            "TREC qrels hold integer labels; this comparison has fractional "
            f"labels (e.g. {labels[labels != np.round(labels)][0]:g})."
        )
    qid = predictions["groups"][keep][order]
    return qid, _docno(rows[order]), labels.astype(np.int64)


def trec_run(predictions, model, *, split=None, run_name=None):
    """``qid Q0 docno rank score run`` lines of one model's held-out scores."""
    name = str(run_name or model).replace(" ", "_")
    return "".join(
        f"{q} Q0 {d} {r} {s:.9g} {name}\n"
        for q, d, r, s in zip(*_run_rows(predictions, model, split), strict=True)
    )


def trec_qrels(predictions, *, split=None):
    """``qid 0 docno label`` lines of the held-out documents' labels."""
    return "".join(
        f"{q} 0 {d} {label}\n"
        for q, d, label in zip(*_qrels_rows(predictions, split), strict=True)
    )


def ranx_pair(predictions, model, *, split=None):
    """ranx ``(Qrels, Run)`` of the rows that trec_qrels and trec_run write."""
    try:
        from ranx import Qrels, Run
    except ImportError:
        raise ImportError("to_ranx needs ranx: pip install ranx") from None
    qrels, run = {}, {}
    for q, doc, label in zip(*_qrels_rows(predictions, split), strict=True):
        qrels.setdefault(str(q), {})[str(doc)] = int(label)
    qid, docno, _, scores = _run_rows(predictions, model, split)
    for q, doc, score in zip(qid, docno, scores, strict=True):
        run.setdefault(str(q), {})[str(doc)] = float(score)
    return Qrels(qrels), Run(run, name=str(model))
