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

from sim.experiments.pareto import pareto_front as experiments_front
from sim.reports.style import PALETTE, figure, styled


def pareto_front(
    points: pd.DataFrame, x: str, y: str, x_better: str = "lower", y_better: str = "higher"
) -> pd.DataFrame:
    """The non-dominated rows of ``points``, sorted by ``x`` (see ``sim.experiments.pareto``)."""
    front = experiments_front(
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
    name (lo, hi) columns of confidence intervals to draw as whiskers.
    """
    front = pareto_front(points, x, y, x_better, y_better)
    fig = figure(7.5, 5.0)
    ax = fig.add_subplot()
    xs, ys = points[x].to_numpy(float), points[y].to_numpy(float)

    def whiskers(cols: tuple[str, str] | None, center: np.ndarray):
        if cols is None:
            return None
        lo, hi = (points[c].to_numpy(float) for c in cols)
        return np.nan_to_num(np.vstack([center - lo, hi - center]).clip(0))

    ax.errorbar(
        xs,
        ys,
        xerr=whiskers(xerr, xs),
        yerr=whiskers(yerr, ys),
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
    if label is not None:
        for _, row in points.iterrows():
            ax.annotate(
                str(row[label]),
                (row[x], row[y]),
                xytext=(5, 4),
                textcoords="offset points",
                fontsize=8,
            )
    ax.set_xlabel(xlabel or f"{x} ({x_better} is better)")
    ax.set_ylabel(ylabel or f"{y} ({y_better} is better)")
    ax.legend(loc="best")
    ax.set_title(title or "Trade-off across the sweep (Pareto front)")
    return fig
