"""The trade-off chart of a sweep: service against load, and the Pareto front.

Every policy variant is a point (say alerts per agent-hour against SLA attainment). A point is
*dominated* when another is at least as good on both axes and better on one; the ones left are
the Pareto front, the only variants worth arguing about. Which direction is "better" is given
per axis (fewer alerts, more SLA).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.metrics.kpis import kpi
from sim.pareto import pareto_front as non_dominated
from sim.reports.style import PALETTE, figure, percent_axis, styled


def pareto_front(
    points: pd.DataFrame, x: str, y: str, x_better: str = "lower", y_better: str = "higher"
) -> pd.DataFrame:
    """The non-dominated rows of ``points``, sorted by ``x`` (see :mod:`sim.pareto`)."""
    front = non_dominated(
        points, x, y, minimize_x=x_better == "lower", maximize_y=y_better == "higher"
    )
    return front.sort_values(x)


@styled
def pareto_chart(
    points: pd.DataFrame,
    x: str,
    y: str,
    label: str | None = None,
    x_better: str = "lower",
    y_better: str = "higher",
    xlabel: str | None = None,
    ylabel: str | None = None,
    xerr: tuple[str, str] | None = None,
    yerr: tuple[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Scatter of sweep points with the Pareto front drawn through the non-dominated ones.

    ``label`` names a column to annotate points with (e.g. the swept value); ``xerr``/``yerr``
    name (lo, hi) columns of confidence intervals to draw as whiskers. An axis whose KPI is a
    share (``sla.overall``) is drawn in percent and never runs past 100%, whiskers included;
    a count or a time never below 0.
    """
    front = pareto_front(points, x, y, x_better, y_better)
    fig = figure(7.5, 5.0)
    ax = fig.add_subplot()
    xs, ys = points[x].to_numpy(float), points[y].to_numpy(float)

    def whiskers(cols: tuple[str, str] | None, center: np.ndarray, column: str):
        if cols is None:
            return None
        lo, hi = (points[c].to_numpy(float) for c in cols)
        lo, hi = kpi(column).clip(lo, hi)
        return np.nan_to_num(np.vstack([center - lo, hi - center]).clip(0))

    ax.errorbar(
        xs,
        ys,
        xerr=whiskers(xerr, xs, x),
        yerr=whiskers(yerr, ys, y),
        fmt="o",
        color="#999",
        ms=6,
        lw=0.8,
        label="dominated variant",
        zorder=2,
    )
    ax.plot(
        front[x], front[y], "-o", color=PALETTE[3], ms=8, lw=1.6, label="Pareto front", zorder=3
    )
    for axis, column, values in (("x", x, xs), ("y", y, ys)):
        _keep_in_range(ax, axis, column, values)
    if label is not None:
        _label_points(fig, ax, xs, ys, [str(v) for v in points[label]])
    ax.set_xlabel(xlabel or f"{x} ({x_better} is better)")
    ax.set_ylabel(ylabel or f"{y} ({y_better} is better)")
    ax.legend(loc="best")
    ax.set_title(title or "Trade-off across the sweep (Pareto front)")
    return fig


#: Where a label may sit around its point (offset points, alignment), tried in this order.
_LABEL_SPOTS = (
    ((5, 4), "left", "bottom"),
    ((5, -4), "left", "top"),
    ((-5, 4), "right", "bottom"),
    ((-5, -4), "right", "top"),
    ((0, 9), "center", "bottom"),
    ((0, -9), "center", "top"),
)


def _label_points(fig, ax, xs: np.ndarray, ys: np.ndarray, labels: list[str]) -> None:
    """Annotate points so that no two labels overlap.

    Points drawn at the same spot share one label ("15 / 30"); each label then takes the first
    spot around its point whose box meets no label placed before it. A label that fits nowhere
    is left out rather than drawn over another (its point is still on the chart).
    """
    groups: dict[tuple[float, float], list[str]] = {}
    for px, py, text in zip(xs, ys, labels, strict=True):
        if np.isfinite(px) and np.isfinite(py):
            groups.setdefault((round(float(px), 9), round(float(py), 9)), []).append(text)
    renderer = fig.canvas.get_renderer()
    placed = []
    for (px, py), texts in groups.items():
        for offset, ha, va in _LABEL_SPOTS:
            note = ax.annotate(
                " / ".join(texts),
                (px, py),
                xytext=offset,
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=8,
            )
            box = note.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            note.remove()


def _keep_in_range(ax, axis: str, column: str, values: np.ndarray) -> None:
    """Axis limits within the range of the KPI (a share: at most 100%, shown in percent)."""
    k = kpi(column)
    get, set_ = (ax.get_xlim, ax.set_xlim) if axis == "x" else (ax.get_ylim, ax.set_ylim)
    lo, hi = get()
    if k.unit == "%" and np.nanmax(values, initial=0.0) <= 1.0:
        set_(max(lo, 0.0), min(hi, 1.0))
        percent_axis(ax, axis)
    elif k.unit in ("count", "min", "currency", "1/h") and lo < 0 <= np.nanmin(values, initial=0):
        set_(0.0, hi)
