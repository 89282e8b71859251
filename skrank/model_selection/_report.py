"""Text and Markdown renderings of a :class:`RankerComparison`."""

import math

import numpy as np

__all__ = []

_CORRECTED = {
    "holm": "Holm-corrected",
    "bonferroni": "Bonferroni-corrected",
    "none": "uncorrected",
}
_CORRECTION = {"holm": "Holm", "bonferroni": "Bonferroni", "none": "no"}


def render(result, digits, main, compact, kind):
    """The summary (or headline) table of ``result`` as text or Markdown."""
    header, rows = (_compact_rows if compact else _full_rows)(result, digits, main)
    note = "\n".join(conclusions(result, main)) if compact else _footnote(result, main)
    if kind == "markdown":
        return _markdown_table(header, rows) + "\n\n" + note + "\n"
    return _text_table(header, rows) + ("\n\n" if compact else "\n") + note + "\n"


def _full_rows(result, digits, main):
    header = ["model"]
    for m in result.metrics:
        header += [m, f"{m} {100 * (1 - result.alpha):g}% CI"]
    header += [f"vs. {result.baseline}: diff {main}", "p (t / Wilcoxon)"]
    header += ["fit s", "predict s"]
    summaries = {m: result.summary(m) for m in result.metrics}
    tests = result.significance(main)
    rows = []
    for name in result.model_names:
        row = [name]
        for m in result.metrics:
            s = summaries[m][name]
            row.append(_mean_std(s["mean"], s["std"], digits))
            row.append(f"[{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]")
        if name == result.baseline:
            row += ["(baseline)", ""]
        else:
            t = tests[name]
            star = " *" if t["significant"] else ""
            row.append(f"{t['diff']:+.{digits}f}{star}")
            row.append(f"{_p(t['t_pvalue_adj'])} / {_p(t['wilcoxon_pvalue_adj'])}")
        s = summaries[result.metrics[0]][name]
        row += [f"{s['fit_time']:.1f}", f"{s['predict_time']:.2f}"]
        rows.append(row)
    return header, rows


def _compact_rows(result, digits, main):
    tests = result.significance(main)
    summaries = {m: result.summary(m) for m in result.metrics}
    header = ["model", *[m.upper() for m in result.metrics]]
    header.append(f"vs. {result.baseline}: Δ{main.upper()} (p t-test / Wilcoxon)")
    rows = []
    for name in result.model_names:
        row = [name]
        for m in result.metrics:
            s = summaries[m][name]
            row.append(_mean_std(s["mean"], s["std"], digits))
        if name == result.baseline:
            row.append("baseline")
        else:
            t = tests[name]
            star = " *" if t["significant"] else ""
            row.append(
                f"{t['diff']:+.{digits}f} (p={_p(t['t_pvalue_adj'])} / "
                f"p={_p(t['wilcoxon_pvalue_adj'])}){star}"
            )
        rows.append(row)
    return header, rows


def _queries_note(result, main):
    """How many distinct queries count, of how many records."""
    _, base = result.query_scores(result.baseline, main)
    n_ok = int(np.sum(~np.isnan(base)))
    n_records = result.query_ids.shape[0]
    text = f"{n_ok} of {result.n_unique_queries} distinct held-out queries"
    if n_records != result.n_unique_queries:
        text += (
            f" ({n_records} query tests over {result.n_splits} splits, averaged "
            "per query first)"
        )
    return text


def _footnote(result, main):
    return (
        f"Mean ± std over {result.n_splits} split(s); "
        f"CI: {100 * (1 - result.alpha):g}% "
        f"t-interval over the {_queries_note(result, main)} that count (queries "
        f"without a relevant document are skipped unless no_relevant is set). "
        f"p: two-sided paired t-test / Wilcoxon "
        f"signed-rank on per-query {main} differences to {result.baseline!r}, "
        f"{_CORRECTED[result.correction]} over "
        f"{max(len(result.model_names) - 1, 0)} comparisons; "
        f"* = both below {result.alpha:g}. Times: total seconds over all splits."
    )


def conclusions(result, main):
    """Sentences naming the significant differences to the baseline."""
    tests = result.significance(main)
    better = [n for n, t in tests.items() if t["significant"] and t["diff"] > 0]
    worse = [n for n, t in tests.items() if t["significant"] and t["diff"] < 0]
    lines = []
    for word, names in (("better", better), ("worse", worse)):
        if names:
            lines.append(
                f"Significantly {word} than {result.baseline} on {main}: "
                + ", ".join(f"{n} ({tests[n]['diff']:+.3f})" for n in names)
                + "."
            )
    if not tests:
        lines.append(f"Only one model ({result.baseline}): nothing was tested.")
    elif not better and not worse:
        lines.append(
            f"No model differs significantly from {result.baseline} on {main}."
        )
    if tests:
        n_tests = len(tests)
        lines.append(
            f"Significant (*) means both the paired t-test and the Wilcoxon "
            f"signed-rank test over the {_queries_note(result, main)} that have "
            f"a relevant document give p < {result.alpha:g} after "
            f"{_CORRECTION[result.correction]} correction for {n_tests} "
            f"comparison{'s' if n_tests != 1 else ''}."
        )
    lines.append(
        f"Scores: mean ± std over {result.n_splits} split"
        f"{'s' if result.n_splits != 1 else ''}."
    )
    return lines


def report(result, title, notes, main):
    """A Markdown report: notes, headline table, conclusions, full table."""
    lines = [f"# {title}", ""]
    lines += [f"- {note}" for note in notes]
    lines += ["", "## Summary", "", render(result, 3, main, True, "markdown")]
    lines += ["## Details", "", render(result, 3, main, False, "markdown")]
    return "\n".join(lines)


def _mean_std(mean, std, digits):
    if math.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _p(p):
    if math.isnan(p):
        return "n/a"
    if p < 1e-4:
        return "<1e-4"
    return f"{p:.4f}" if p < 0.01 else f"{p:.3f}"


def _markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _text_table(header, rows):
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def frame(result, kind):
    """:meth:`RankerComparison.to_frame`: a pandas DataFrame of ``kind``."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover
        raise ImportError("to_frame requires pandas: pip install pandas") from exc
    if kind == "per_query":
        parts = []
        for name in result.model_names:
            data = {"model": name, "query_id": result.query_ids, "split": result.splits}
            data.update(result.scores[name])
            parts.append(pd.DataFrame(data))
        return pd.concat(parts, ignore_index=True)
    if kind not in ("summary", "tests"):
        raise ValueError(
            f"kind must be 'summary', 'per_query' or 'tests'. Got {kind!r} instead."
        )
    rows = []
    for m in result.metrics:
        table = result.summary(m) if kind == "summary" else result.significance(m)
        for name, fields in table.items():
            row = {"model": name, "metric": m}
            row.update({k: v for k, v in fields.items() if k != "split_means"})
            rows.append(row)
    return pd.DataFrame(rows)


def as_dict(result):
    """:meth:`RankerComparison.to_dict`: plain, JSON-serialisable types only."""
    summary = {
        m: {
            name: {
                k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in s.items()
            }
            for name, s in result.summary(m).items()
        }
        for m in result.metrics
    }
    return {
        "models": result.model_names,
        "metrics": list(result.metrics),
        "baseline": result.baseline,
        "correction": result.correction,
        "alpha": result.alpha,
        "n_splits": result.n_splits,
        "n_unique_queries": result.n_unique_queries,
        "summary": _json_safe(summary),
        "tests": _json_safe({m: result.significance(m) for m in result.metrics}),
        "per_query": {
            "query_id": result.query_ids.tolist(),
            "split": result.splits.tolist(),
            "scores": _json_safe(
                {
                    name: {m: v.tolist() for m, v in ms.items()}
                    for name, ms in result.scores.items()
                }
            ),
        },
        "fit_time": {k: v.tolist() for k, v in result.fit_time.items()},
        "predict_time": {k: v.tolist() for k, v in result.predict_time.items()},
    }


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return None if math.isnan(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
