"""The figure of a :class:`RankerComparison` (matplotlib, imported on use)."""

import numpy as np

from ._stats import t_interval

__all__ = []


def _colors(n):
    """``n`` distinct colours: tab10, tab20, then evenly spaced on a colormap."""
    import matplotlib

    if n <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [matplotlib.colormaps["tab20"](i) for i in range(n)]
    return [matplotlib.colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]


def plot_comparison(result, metric, figsize):
    """Forest plot of differences to the baseline, and sorted per-query curves."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover
        raise ImportError("plot requires matplotlib: pip install matplotlib") from exc
    diffs = result.differences(metric)
    tests = result.significance(metric)
    # sorted by mean difference, best at the top
    names = sorted(
        diffs, key=lambda n: np.inf if not diffs[n].size else -tests[n]["diff"]
    )
    colors = dict(zip(names, _colors(len(names)), strict=True))
    fig, (forest, curves) = plt.subplots(
        1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 1.3]}
    )
    level = 1 - result.alpha
    for row, name in enumerate(names):
        mean, half, _ = t_interval(diffs[name], result.alpha)
        significant = tests[name]["significant"]
        forest.errorbar(
            mean,
            row,
            xerr=[[half], [half]] if np.isfinite(half) else None,
            fmt="o",
            color=colors[name],
            markerfacecolor=colors[name] if significant else "white",
            capsize=3,
        )
    forest.axvline(0, color="black", linewidth=0.8)
    forest.set_yticks(
        range(len(names)),
        [f"{n} *" if tests[n]["significant"] else n for n in names],
    )
    forest.invert_yaxis()
    forest.set_xlabel(f"mean {metric} minus {result.baseline} ({level:.0%} CI)")
    forest.set_title(f"difference to {result.baseline} (* significant)")
    for name in names:
        d = diffs[name]
        if d.size:
            curves.plot(
                np.linspace(0, 100, d.shape[0]),
                np.sort(d),
                color=colors[name],
                linewidth=1.2 if len(names) <= 10 else 0.8,
                label=name,
            )
    curves.axhline(0, color="black", linewidth=0.8)
    curves.set_xlabel("queries, sorted by difference (%)")
    curves.set_ylabel(f"per-query {metric} minus {result.baseline}")
    curves.set_title("per-query differences")
    if names:  # outside the axes, so it never covers the curves
        curves.legend(
            fontsize="small",
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            ncol=1 if len(names) <= 15 else 2,
        )
    fig.tight_layout()
    return fig
