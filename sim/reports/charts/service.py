"""Charts of the service the desk gave: SLA attainment, and how long detection and resolution
took, compared across policies.

SLA bars come from run summaries (so their error bars are the summaries' 95% intervals over
replications); the latency curves come from the logs, pooling every case of every replication
into one empirical distribution per policy.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.eventlog import SEVERITIES
from sim.metrics import case_table
from sim.reports.style import color, figure, percent_axis, styled


def _leaf(tree: dict | None, *path: str):
    node = tree
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _bars(ax: Axes, summaries: Mapping[str, dict], group: str, keys: list[str]) -> None:
    """Horizontal grouped bars of ``sla.<group>.<key>`` per run, with CI whiskers."""
    n = max(len(summaries), 1)
    height = 0.8 / n
    y = np.arange(len(keys))
    for i, (label, summary) in enumerate(summaries.items()):
        values = np.array([_leaf(summary, "sla", group, k) for k in keys], dtype=float)
        ci = [_leaf(summary, "ci95", "sla", group, k) for k in keys]
        lo = np.array([c[0] if c and c[0] is not None else np.nan for c in ci], dtype=float)
        hi = np.array([c[1] if c and c[1] is not None else np.nan for c in ci], dtype=float)
        lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)  # a share stays within 0-100%
        err = np.vstack([np.clip(values - lo, 0, None), np.clip(hi - values, 0, None)])
        pos = y - 0.4 + height * (i + 0.5)
        ax.barh(pos, np.nan_to_num(values), height=height * 0.92, color=color(i), label=label)
        if np.isfinite(err).any():
            ax.errorbar(values, pos, xerr=np.nan_to_num(err), fmt="none", ecolor="#333", lw=0.8)
    ax.set_yticks(y, keys)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.02)
    percent_axis(ax, "x")
    ax.set_xlabel("SLA attainment (% of judged cases met)")


@styled
def sla_chart(summaries: Mapping[str, dict], title: str | None = None) -> Figure:
    """SLA attainment by category and by severity, one bar per run (summary.json dicts).

    Whiskers are the 95% confidence intervals over replications when the run had several,
    clipped to 0-100% (a share cannot leave it, however few the replications).
    """
    cats = sorted({k for s in summaries.values() for k in (_leaf(s, "sla", "by_category") or {})})
    present = {k for s in summaries.values() for k in (_leaf(s, "sla", "by_severity") or {})}
    sevs = [s for s in reversed(SEVERITIES) if s in present]
    fig = figure(10, 1.2 + 0.28 * max(len(cats), len(sevs)) * max(len(summaries), 1) ** 0.5)
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    _bars(left, summaries, "by_category", cats)
    left.set_title("by category")
    left.set_ylabel("exception category")
    _bars(right, summaries, "by_severity", sevs)
    right.set_title("by severity (final)")
    right.set_ylabel("severity")
    if len(summaries) > 1:  # below the panels, where it covers no bar
        handles, labels = left.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), title="policy")
    fig.suptitle(title or "SLA attainment (resolved by the deadline)", fontweight="bold")
    return fig


#: The latencies drawn by :func:`latency_cdf_chart`: name -> (from event, to event, label).
CDF_LATENCIES: dict[str, tuple[str, str, str]] = {
    "detection_latency_min": ("occurred", "detected", "detection latency"),
    "time_to_resolve_min": ("occurred", "resolved", "time to resolve"),
}


def ecdf(values: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted finite values and the share of ``total`` cases at or below each.

    Dividing by all cases (not only those that got there) keeps the curve honest: it tops
    out at the share that was ever detected or resolved.
    """
    x = np.sort(values[np.isfinite(values)])
    return x, np.arange(1, x.size + 1) / max(total, 1)


@styled
def latency_cdf_chart(logs: Mapping[str, pd.DataFrame], title: str | None = None) -> Figure:
    """Cumulative distributions of detection latency and time to resolve, one line per run.

    Read a curve at x = 60 min for "share of cases detected within the hour"; a curve to the
    left is faster. The x axis is linear up to 1 minute and logarithmic beyond (symlog), since
    detection is often instant while resolution takes hours.
    """
    fig = figure(10, 4.0)
    axes = fig.subplots(1, len(CDF_LATENCIES), sharey=True)
    tables = {label: case_table(df) for label, df in logs.items()}
    for ax, (_name, (a, b, what)) in zip(axes, CDF_LATENCIES.items(), strict=True):
        for i, (label, cases) in enumerate(tables.items()):
            gap = cases[b].to_numpy(float) - cases[a].to_numpy(float)
            x, y = ecdf(gap, len(cases))
            if x.size:
                ax.step(np.r_[0.0, x], np.r_[0.0, y], where="post", color=color(i), label=label)
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlim(left=0)
        ax.set_ylim(0, 1.02)
        percent_axis(ax, "y")
        ax.set_xlabel(f"{what} (minutes, log scale)")
        ax.set_title(what)
    axes[0].set_ylabel("share of cases (%)")
    axes[-1].legend(loc="lower right", title="policy" if len(logs) > 1 else None)
    fig.suptitle(title or "Detection latency and time to resolve (CDF)", fontweight="bold")
    return fig
