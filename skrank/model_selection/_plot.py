"""The figure of a :class:`RankerComparison` (matplotlib, imported on use)."""

import numpy as np

__all__ = []


def plot_comparison(result, metric, figsize):
    """Box plots of per-query scores and sorted per-query differences."""
    try:
        import matplotlib
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover
        raise ImportError("plot requires matplotlib: pip install matplotlib") from exc
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=figsize)
    data = []
    for name in result.model_names:
        _, v = result.query_scores(name, metric)
        data.append(v[~np.isnan(v)])
    positions = np.arange(1, len(data) + 1)
    major, minor = (int(v) for v in matplotlib.__version__.split(".")[:2])
    horizontal = (
        {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}
    )
    ax1.boxplot(data, positions=positions, showfliers=False, **horizontal)
    ax1.plot([d.mean() if d.size else np.nan for d in data], positions, "o", color="C3")
    ax1.set_yticks(positions, result.model_names)
    ax1.invert_yaxis()
    ax1.set_xlabel(f"per-query {metric}")
    ax1.set_title(f"{metric} over held-out queries")
    diffs = result.differences(metric)
    tests = result.significance(metric)
    for i, (name, d) in enumerate(diffs.items()):
        if not d.size:
            continue
        x = np.linspace(0, 100, d.shape[0])
        star = "*" if tests[name]["significant"] else ""
        ax2.plot(
            x,
            np.sort(d),
            color=f"C{i % 10}",
            label=f"{name} ({tests[name]['diff']:+.3f}{star})",
        )
    ax2.axhline(0, color="black", linewidth=0.8)
    ax2.set_xlabel("queries, sorted by difference (%)")
    ax2.set_ylabel(f"{metric} minus {result.baseline}")
    ax2.set_title(f"per-query difference to {result.baseline}")
    if diffs:
        ax2.legend(fontsize="small")
    fig.tight_layout()
    return fig
