"""Charts over the run's calendar: the backlog by category and the ageing of open cases.

Both are averaged over replications (each replication is the same weeks replayed with other
luck), drawn against wall-clock dates, and shade the hours when the desk is thinly staffed (from
the staffing record in the log, :mod:`sim.metrics.staffing`), so that a backlog building up
overnight and draining in the morning reads as what it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.eventlog import LogMeta
from sim.metrics import backlog_series, case_table
from sim.metrics.backlog import AGE_BANDS, open_interval
from sim.metrics.cases import log_meta
from sim.metrics.staffing import has_staffing, on_duty
from sim.reports.style import OFF_DUTY, OTHER, color, date_axis, dates, figure, styled

#: Grid step (minutes) on which staffing is sampled for shading.
STAFF_STEP_MIN = 15.0


def agents_on_duty(meta: LogMeta, step_min: float = STAFF_STEP_MIN):
    """(grid, agents on duty) summed over the teams, from the log's staffing record."""
    grid = np.arange(0.0, meta.horizon_min + step_min, step_min)
    return grid, on_duty(meta, grid)


def _who(meta: LogMeta) -> str:
    """'scenario default, policy lean-desk': which name is which, said in words."""
    return f"scenario {meta.scenario}" + (f", policy {meta.policy}" if meta.policy else "")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[i, j) index ranges where ``mask`` holds."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def shade_staffing(ax: Axes, meta: LogMeta) -> list[Patch]:
    """Shade when nobody is on duty (solid grey) and hatch when fewer than half the peak staff
    are (diagonal lines), so the two read apart in colour, in greyscale and on paper.

    Returns legend handles for what was shaded.
    """
    if not has_staffing(meta):
        return []
    grid, on = agents_on_duty(meta)
    peak = on.max() if on.size else 0.0
    handles = []
    for mask, look, label in (
        (on == 0, {"facecolor": OFF_DUTY, "alpha": 0.35}, "nobody on duty"),
        (
            (on > 0) & (on < 0.5 * peak),
            {"facecolor": "none", "edgecolor": OFF_DUTY, "hatch": "///", "alpha": 0.8},
            "under half of peak staff",
        ),
    ):
        spans = _runs(mask)
        for i, j in spans:
            t0, t1 = grid[i], min(grid[j] if j < grid.size else grid[-1], meta.horizon_min)
            ax.axvspan(*dates(np.array([t0, t1]), meta), lw=0, **look)
        if spans:
            handles.append(Patch(label=label, lw=0, **look))
    return handles


@styled
def backlog_chart(
    df: pd.DataFrame,
    step_min: float = 60.0,
    top: int = 6,
    title: str | None = None,
) -> Figure:
    """Open cases over time, stacked by category (mean over replications).

    The ``top`` categories by mean backlog get their own colour; the rest are "other". The
    thinly staffed hours are shaded when the log carries its staffing record.
    """
    meta = log_meta(df)
    series = backlog_series(df, step_min=step_min, by="category")
    n_reps = max(series["rep"].nunique(), 1)
    wide = series.pivot_table(
        index="ts", columns="category", values="open", aggfunc="sum", observed=False
    )
    wide = wide.fillna(0.0) / n_reps
    order = wide.mean().sort_values(ascending=False).index
    keep = [c for c in order[:top] if wide[c].max() > 0]
    rest = [c for c in order if c not in keep]
    layers = [wide[c].to_numpy() for c in keep]
    labels, colors = [str(c) for c in keep], [color(i) for i in range(len(keep))]
    if rest and wide[rest].to_numpy().max() > 0:
        layers.append(wide[rest].sum(axis=1).to_numpy())
        labels.append(f"other ({len(rest)} categories)")
        colors.append(OTHER)

    fig = figure(10, 4.4)
    ax = fig.add_subplot()
    handles = shade_staffing(ax, meta)
    x = dates(wide.index.to_numpy(float), meta)
    if layers:
        ax.stackplot(x, *layers, labels=labels, colors=colors, alpha=0.9, step="post", lw=0)
    ax.set_xlim(x[0], x[-1]) if len(x) > 1 else None
    ax.set_ylim(bottom=0)
    date_axis(ax)
    ax.set_ylabel("open cases (count, mean over replications)")
    ax.set_title(title or f"Backlog by category — {_who(meta)}")
    items, names = ax.get_legend_handles_labels()
    ax.legend(
        items + handles,
        names + [h.get_label() for h in handles],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    return fig


def open_by_age(df: pd.DataFrame, step_min: float = 60.0) -> pd.DataFrame:
    """Open cases on a time grid by age band (mean over replications): ``ts`` x bands."""
    meta = log_meta(df)
    grid = np.arange(0.0, meta.horizon_min + step_min * 1e-9, step_min)
    cases = case_table(df)
    start, end = open_interval(cases)
    reps = cases["rep"].to_numpy()
    counts = np.zeros((grid.size, len(AGE_BANDS)))
    lowers = [0.0] + [upper for _, upper in AGE_BANDS[:-1]]
    for rep in np.unique(reps):
        s, e = start[reps == rep], end[reps == rep]
        ok = np.isfinite(s)
        s, e = s[ok], e[ok]
        for lo in range(0, grid.size, 256):  # chunks keep the grid x cases matrix small
            t = grid[lo : lo + 256, None]
            open_now = (s <= t) & (e > t)
            age = np.where(open_now, t - s, np.nan)
            for k, ((_, upper), lower) in enumerate(zip(AGE_BANDS, lowers, strict=True)):
                counts[lo : lo + 256, k] += ((age >= lower) & (age < upper)).sum(axis=1)
    n_reps = max(len(np.unique(reps)), 1)
    return pd.DataFrame(
        counts / n_reps, index=pd.Index(grid, name="ts"), columns=[label for label, _ in AGE_BANDS]
    )


@styled
def aging_chart(df: pd.DataFrame, step_min: float = 60.0, title: str | None = None) -> Figure:
    """Open cases over time by how long they have been open (mean over replications).

    The oldest bands on top: a growing dark band means cases are being left behind, even
    when the total backlog looks steady.
    """
    meta = log_meta(df)
    bands = open_by_age(df, step_min)
    fig = figure(10, 4.0)
    ax = fig.add_subplot()
    handles = shade_staffing(ax, meta)
    x = dates(bands.index.to_numpy(float), meta)
    shades = ["#C6DBEF", "#9ECAE1", "#6BAED6", "#3182BD", "#08519C"]
    ax.stackplot(
        x,
        *[bands[c].to_numpy() for c in bands.columns],
        labels=[f"open {c}" for c in bands.columns],
        colors=shades,
        step="post",
        lw=0,
    )
    if len(x) > 1:
        ax.set_xlim(x[0], x[-1])
    ax.set_ylim(bottom=0)
    date_axis(ax)
    ax.set_ylabel("open cases (count, mean over replications)")
    ax.set_title(title or f"Ageing of open cases — {_who(meta)}")
    items, names = ax.get_legend_handles_labels()
    ax.legend(
        items[::-1] + handles,
        names[::-1] + [h.get_label() for h in handles],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    return fig
