"""Charts of the load on people: alerts by team and hour, and the escalation/approval funnel.

An alert is a ``notified`` or ``escalated`` row: something that interrupts a person. On an
escalated row the ``team`` column is whoever the ladder notified (a team lead, an operations
manager), so the heat map shows who gets paged as well as which desk gets notified.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.eventlog import EVENT_CODE
from sim.metrics.cases import as_category, codes_of, event_codes, log_meta
from sim.metrics.staffing import on_duty, spans
from sim.reports.style import color, figure, styled

ALERTS = (EVENT_CODE["notified"], EVENT_CODE["escalated"])
APPROVAL_STAGES = ("approval requested", "approved", "rejected")


def _minute_of_day0(df: pd.DataFrame) -> float:
    start = log_meta(df).start_datetime()
    return start.hour * 60 + start.minute + start.second / 60


def alerts_by_hour(df: pd.DataFrame) -> pd.DataFrame:
    """Alerts per team (rows) and hour of day (columns 0-23), as a mean per day and replication."""
    meta = log_meta(df)
    rows = np.isin(event_codes(df), ALERTS)
    team = as_category(df["team"]).astype(str).to_numpy()[rows]
    hour = ((df["ts"].to_numpy(float)[rows] + _minute_of_day0(df)) // 60 % 24).astype(int)
    which, teams = pd.factorize(team, sort=True)
    counts = np.bincount(which * 24 + hour, minlength=len(teams) * 24).reshape(len(teams), 24)
    table = pd.DataFrame(
        counts, index=pd.Index(teams, name="team"), columns=pd.RangeIndex(24, name="hour")
    )
    days = max(meta.horizon_min / 1440.0, 1e-9)
    return table / (days * max(df["rep"].nunique(), 1))


def agent_hours_by_hour(df: pd.DataFrame, step_min: float = 5.0) -> pd.DataFrame:
    """Agent-hours on duty per team and hour of day, as a mean per day (from the log's
    staffing record; no rows without one)."""
    meta = log_meta(df)
    grid = np.arange(0.0, meta.horizon_min, step_min)
    hour = ((grid + _minute_of_day0(df)) // 60 % 24).astype(int)
    days = max(meta.horizon_min / 1440.0, 1e-9)
    out = {}
    for name in spans(meta):
        on = on_duty(meta, grid, team=name)
        out[name] = np.bincount(hour, weights=on * step_min / 60.0, minlength=24) / days
    return pd.DataFrame(out, index=range(24)).T


#: Short colour-bar labels (the panel titles say the rest), so two bars never collide.
PANELS = (
    ("alerts per hour, mean per day", "alerts / h"),
    ("alerts per agent-hour on duty", "alerts / agent-h"),
)


@styled
def alert_load_chart(df: pd.DataFrame, title: str | None = None) -> Figure:
    """Heat map of alerts per team and hour of day and, when the log carries its staffing
    record, per agent on duty.

    The second panel divides by the agents on duty in that hour: the interruptions each person
    absorbs. Its blank cells had nobody on duty; a recipient with no
    shift at all (a team lead or manager paged by an escalation) has a blank row saying so.
    Staffed teams that received no alert are shown as rows of zeros, not left out.
    """
    load = alerts_by_hour(df)
    staffed = list(spans(log_meta(df)))
    if staffed:
        teams = list(dict.fromkeys([*load.index, *staffed]))
        load = load.reindex(teams, fill_value=0.0)
    panels = [(load, *PANELS[0])]
    if staffed and len(load):
        hours = agent_hours_by_hour(df).reindex(load.index)
        per_agent = load / hours.where(hours > 0)
        panels.append((per_agent, *PANELS[1]))
    rows = max(len(load), 1)
    fig = figure(10, 1.0 + len(panels) * (0.9 + 0.3 * rows))
    axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
    for k, (ax, (table, what, bar)) in enumerate(zip(axes, panels, strict=True)):
        data = np.ma.masked_invalid(table.to_numpy(float))
        image = ax.imshow(
            data,
            aspect="auto",
            cmap="YlOrRd",
            interpolation="nearest",
            extent=(-0.5, 23.5, len(table) - 0.5, -0.5),
        )
        ax.set_yticks(range(len(table)), [str(t) for t in table.index])
        ax.set_ylabel("team notified")
        ax.set_title(what, fontsize=10, loc="left")
        ax.grid(False)
        fig.colorbar(image, ax=ax, label=bar, pad=0.01)
        if k == 1:
            for r, team in enumerate(table.index):
                if team not in staffed:
                    ax.text(
                        11.5,
                        r,
                        "no shift on record (paged by escalation)",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="#66707a",
                    )
    axes[-1].set_xticks(range(0, 24, 2))
    axes[-1].set_xlabel("hour of day (wall clock, h)")
    meta = log_meta(df)
    fig.suptitle(
        title or f"Alert load by team and hour — scenario {meta.scenario}, policy {meta.policy}",
        fontweight="bold",
    )
    return fig


def funnel_counts(df: pd.DataFrame) -> pd.Series:
    """Cases per replication reaching each stage: detected, escalated per tier, approvals."""
    ev = event_codes(df)
    key = df["rep"].to_numpy(np.int64) * (int(df["case_id"].max()) + 1 if len(df) else 1)
    key = key + df["case_id"].to_numpy(np.int64)
    reps = max(df["rep"].nunique(), 1)

    def cases(mask: np.ndarray) -> float:
        return len(np.unique(key[mask])) / reps

    out = {"detected": cases(ev == EVENT_CODE["detected"])}
    esc = ev == EVENT_CODE["escalated"]
    # the tier is the detail up to its first ':', worked out once per distinct detail (a
    # null detail, as in a mapped log, is the tier ''), then looked up for escalated rows
    detail = as_category(df["detail"])
    tier_of = np.array([str(d).split(":")[0] for d in detail.cat.categories] + [""], dtype=object)
    tiers = np.full(len(df), "", dtype=object)
    tiers[esc] = tier_of[codes_of(detail)[esc]]  # code -1 (null) picks the trailing ''
    for tier in sorted(set(tiers[esc])):
        out[f"escalated: {tier}"] = cases(esc & (tiers == tier))
    for name in ("approval_requested", "approved", "rejected"):
        out[name.replace("_", " ")] = cases(ev == EVENT_CODE[name])
    return pd.Series(out, name="cases")


@styled
def funnel_chart(logs: Mapping[str, pd.DataFrame], title: str | None = None) -> Figure:
    """Escalation and approval funnel: how many cases reached each stage, per run.

    Stages are not nested (an approval needs no escalation), so read each bar against the
    detected cases at the top, e.g. "4% of cases needed the operations manager". Approval
    stages no run reached (policies without approvals) are left out, and the title says so.
    """
    counts = pd.DataFrame({label: funnel_counts(df) for label, df in logs.items()}).fillna(0.0)
    tiers = sorted(i for i in counts.index if i.startswith("escalated"))
    approvals = [a for a in APPROVAL_STAGES if a in counts.index and counts.loc[a].any()]
    stages = ["detected", *tiers, *approvals]
    counts = counts.reindex(stages, fill_value=0.0)
    fig = figure(9, 1.4 + 0.3 * len(stages) * max(len(logs), 1) ** 0.5)
    ax = fig.add_subplot()
    n = max(len(logs), 1)
    height = 0.8 / n
    y = np.arange(len(stages))
    for i, label in enumerate(counts.columns):
        pos = y - 0.4 + height * (i + 0.5)
        values = counts[label].to_numpy(float)
        ax.barh(pos, values, height=height * 0.92, color=color(i), label=label)
        top = values[0] if values.size and values[0] > 0 else np.nan
        for p, v in zip(pos, values, strict=True):
            share = f" ({v / top:.1%})" if np.isfinite(top) else ""
            ax.annotate(
                f"{v:,.1f}{share}",
                (v, p),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7.5,
            )
    ax.set_yticks(y, stages)
    ax.invert_yaxis()
    ax.set_xlabel("cases per replication (count)")
    ax.set_ylabel("stage")
    ax.margins(x=0.15)
    if len(logs) > 1:
        ax.legend(loc="lower right", title="policy")
    no_approvals = "" if approvals else " (no approvals: none of these runs requested one)"
    ax.set_title(title or f"Escalation and approval funnel{no_approvals}")
    return fig
