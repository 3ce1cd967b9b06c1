"""One replication's KPIs gathered a chunk of whole cases at a time, in memory flat in the horizon.

:func:`sim.metrics.summary.summarize_run` reads a replication's whole log and its whole case
table. A year at 10,000 orders a day is millions of rows and half a million cases, so the
streamed summary (:mod:`sim.metrics.stream`) feeds :class:`RepKpis` one chunk of *whole cases*
at a time instead, and what it keeps between chunks is

- counts, which add up exactly over disjoint sets of cases (cases generated, resolved, met and
  breached per category, alerts, escalations per tier, detections per mechanism, ...);
- a few numbers per case, for the KPIs that are not sums: quantiles (latencies, effort, waits)
  and means, which must see every value in the order of the case table (``np.mean`` sums in
  pairs, so another order could change the last bit), and the backlog's step function
  (occurred and closed per case). About 70 bytes a case, against some 800 for the case table
  and the rows the KPIs read;
- the few rows of rare events read as rows: escalation actions, approvals decided by a
  person, on-call work.

:meth:`RepKpis.result` puts them in case order and computes the same dict as ``summarize_run``
of the whole replication, value for value (a test holds the two paths equal with chunks small
enough that cases straddle many of them).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from sim.eventlog import EVENT_CODE, SEVERITIES, LogMeta
from sim.metrics.backlog import aging, backlog_stats, littles_law, open_interval
from sim.metrics.cases import as_category, event_codes
from sim.metrics.effort import (
    cases_with_rows,
    effort_table,
    escalation_action_rows,
    escalation_action_totals,
    work_spans,
)
from sim.metrics.handling import (
    approval_parts,
    detection_counts,
    detection_totals,
    labour_totals,
    suppression_summary,
)
from sim.metrics.latency import LATENCIES, WAIT_EPS, describe
from sim.metrics.sla import BREACHED, MET, sla_outcome
from sim.metrics.workload import agent_hours, escalation_tiers, workload_summary

#: Per-case columns kept for every case: the backlog's step function and Little's law read
#: ``start`` and ``end`` of all of them, the other KPIs the rest of the cases ``judged``
#: (occurred after the warm-up).
_PER_CASE = (
    "case_id",
    "start",
    "end",
    "judged",
    *LATENCIES,  # the four gaps, NaN where either event is missing
    "effort",  # hands-on minutes, NaN for a case with neither work nor hold
    "severity",  # final severity's code (-1: none)
    "team",  # code of the team first assigned (-1: none), into RepKpis.teams
)
#: Minutes on hold of each case judged that was put on hold (few are).
_HELD = ("case_id", "hold")


class _Columns:
    """Per-case columns as a list of chunk arrays each, joined once at the end."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.parts: dict[str, list[np.ndarray]] = {n: [] for n in names}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            # a copy: a column of a chunk's frame is a view of a block of all its float (or
            # int) columns, which a view would keep alive until the end of the replication
            self.parts[name].append(np.array(values, copy=True))

    def in_case_order(self) -> dict[str, np.ndarray]:
        """The columns joined, sorted by case_id (the case table's order), a column at a time
        (so that the peak is the kept columns plus one)."""
        parts, self.parts = self.parts, {n: [] for n in self.parts}
        order = np.argsort(_join(parts["case_id"]), kind="stable")
        out = {}
        for name in list(parts):
            out[name] = _join(parts.pop(name))[order]
        return out


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


class _Shares:
    """Met and breached counts per name of a categorical, its names in order of appearance
    (the order :func:`pandas.api.types.union_categoricals` gives the joined case table)."""

    def __init__(self) -> None:
        self.met: dict[str, int] = {}
        self.breached: dict[str, int] = {}

    def add(self, outcome: np.ndarray, group: pd.Categorical) -> None:
        codes = np.asarray(group.codes)
        size = len(group.categories)
        ok = codes >= 0
        met = np.bincount(codes[ok & (outcome == MET)], minlength=size)
        breached = np.bincount(codes[ok & (outcome == BREACHED)], minlength=size)
        for i, name in enumerate(group.categories):
            self.met[str(name)] = self.met.get(str(name), 0) + int(met[i])
            self.breached[str(name)] = self.breached.get(str(name), 0) + int(breached[i])

    def shares(self) -> dict[str, float | None]:
        out = {}
        for name, met in self.met.items():
            judged = met + self.breached[name]
            out[name] = met / judged if judged else None
        return out


class RepKpis:
    """The KPIs of one replication, fed chunks of whole cases (:meth:`add`), read once
    (:meth:`result`)."""

    def __init__(self, meta: LogMeta, warmup: float) -> None:
        horizon = meta.horizon_min
        if not 0 <= warmup <= horizon:
            raise ValueError(f"warmup_min must lie in [0, horizon={horizon}], got {warmup}")
        self.meta, self.warmup = meta, warmup
        self.rep: int | None = None  # known from the first row
        self.rotas: dict[str, dict] = (meta.extra or {}).get("on_call", {})
        self.counts: Counter = Counter()
        self.by_category, self.by_severity = _Shares(), _Shares()
        self.cases, self.held = _Columns(_PER_CASE), _Columns(_HELD)
        self.teams: dict[str, int] = {}
        self.by_tier: Counter = Counter()
        self.tiers: set[str] = set()
        self.detection: dict[str, Counter] = {}
        self.reasons: Counter = Counter()  # suppression reasons
        self.hold_reasons: Counter = Counter()
        self.approvals: Counter = Counter()
        self.cycles: list[pd.Series] = []
        self.actions: list[pd.DataFrame] = []
        self.pages: Counter = Counter()
        self.on_call_work: dict[str, list[pd.DataFrame]] = {name: [] for name in self.rotas}
        self.rows = 0  # rows fed so far (on-call work is ordered by time, then row)

    def add(self, df: pd.DataFrame, cases: pd.DataFrame) -> None:
        """One chunk: ``df`` holds every row of the cases of ``cases`` (its case table)."""
        meta, warmup, horizon = self.meta, self.warmup, self.meta.horizon_min
        ev = event_codes(df)
        if self.rep is None and len(df):
            self.rep = int(df["rep"].iloc[0])
        c = self.counts
        after = cases["occurred"].to_numpy() >= warmup
        gen = cases if after.all() else cases[after]

        resolved = gen["resolved"].notna().to_numpy()
        c["generated"] += len(gen)
        c["resolved"] += int(resolved.sum())
        detections = gen["n_detected"].to_numpy()
        c["missed"] += int((detections == 0).sum())
        c["duplicates"] += int(np.maximum(detections - 1, 0).sum())
        outcome = sla_outcome(gen["resolved"].to_numpy(), gen["due"].to_numpy(), horizon)
        c.update({f"sla{k}": int(n) for k, n in enumerate(np.bincount(outcome, minlength=4))})
        self.by_category.add(outcome, gen["category"].array)
        self.by_severity.add(outcome, gen["severity"].array)

        work = workload_summary(df, ev, meta, warmup)
        for key in ("events", "alerts", "escalations"):
            c[key] += work[key]
        self.by_tier.update(work["escalations_by_tier"])
        self.tiers.update(escalation_tiers(df, ev))  # warm-up included, as in memory

        table = effort_table(df, ev, horizon)
        merged = cases[["rep", "case_id"]].merge(table, on=["rep", "case_id"], how="left")
        ids = cases["case_id"].to_numpy(np.int64)
        start, end = open_interval(cases)
        self.cases.add(
            case_id=ids,
            start=start,
            end=end,
            judged=after,
            **{n: cases[b].to_numpy() - cases[a].to_numpy() for n, (a, b) in LATENCIES.items()},
            effort=merged["effort"].to_numpy(float),
            severity=np.asarray(cases["severity"].array.codes, dtype=np.int8),
            team=self._first_team(df, ev, cases),
        )
        held = after & (merged["holds"].fillna(0).to_numpy() > 0)
        self.held.add(case_id=ids[held], hold=merged["hold"].to_numpy(float)[held])
        reopened = cases_with_rows(df, ev == EVENT_CODE["reopened"], gen)
        reassigned = cases_with_rows(df, ev == EVENT_CODE["reassigned"], gen)
        c["reopened"] += int(reopened.sum())
        c["reopened_resolved"] += int((reopened & resolved).sum())
        c["fixed_first_time"] += int((~reopened & ~reassigned & resolved).sum())
        rows = ev == EVENT_CODE["on_hold"]
        reasons = as_category(df["detail"])[rows].astype(str).value_counts()
        self.hold_reasons.update({str(k): int(n) for k, n in reasons.items()})

        for kind, counts in detection_counts(df, ev, gen, meta).items():
            self.detection.setdefault(kind, Counter()).update(counts)
        sup = suppression_summary(df, ev, warmup)
        c["notified"] += sup["notified"]
        c["suppressed"] += sup["suppressed"]
        self.reasons.update(sup["by_reason"])
        approvals, cycle = approval_parts(df, ev, gen)
        self.approvals.update(approvals)
        if len(cycle):
            self.cycles.append(cycle)
        actions = escalation_action_rows(df, gen)
        if len(actions):
            self.actions.append(actions)
        if self.rotas:
            self._on_call(df, ev)
        self.rows += len(df)

    def _first_team(self, df: pd.DataFrame, ev: np.ndarray, cases: pd.DataFrame) -> np.ndarray:
        """Per case, the code of the team on its first ``assigned`` row (-1: none)."""
        rows = ev == EVENT_CODE["assigned"]
        first = (
            pd.DataFrame(
                {
                    "case_id": df["case_id"].to_numpy()[rows],
                    "team": as_category(df["team"])[rows].astype(object).to_numpy(),
                }
            )
            .drop_duplicates("case_id")
            .set_index("case_id")["team"]
        )
        names = first.reindex(cases["case_id"].to_numpy()).to_numpy()
        code = self.teams.setdefault
        found = [code(n, len(self.teams)) if isinstance(n, str) else -1 for n in names]
        return np.array(found, dtype=np.int32)

    def _on_call(self, df: pd.DataFrame, ev: np.ndarray) -> None:
        team = as_category(df["team"])
        paged = (ev == EVENT_CODE["notified"]) & (df["ts"].to_numpy(float) >= self.warmup)
        names = team.astype(object).to_numpy()[paged]
        self.pages.update(str(n) for n in names if isinstance(n, str))
        work, _ = work_spans(df, ev)
        work = work[work["t0"] >= self.warmup]
        for name in self.rotas:
            mine = work[work["actor"].str.startswith(f"{name}/")]
            piece = pd.DataFrame(
                {"t0": mine["t0"], "pos": mine["pos"] + self.rows, "min": mine["t1"] - mine["t0"]}
            )
            self.on_call_work[name].append(piece)

    def result(self) -> dict:
        """The replication's KPIs, as :func:`sim.metrics.summary.summarize_run` gives them."""
        from sim.metrics.summary import jsonable, with_meta

        meta, warmup, horizon, c = self.meta, self.warmup, self.meta.horizon_min, self.counts
        judged = self.cases.in_case_order()
        start, end = judged.pop("start"), judged.pop("end")
        backlog = backlog_stats(start, end, warmup, horizon)
        mask = judged.pop("judged").astype(bool)
        if not mask.all():
            judged = {name: values[mask] for name, values in judged.items()}
        hold = self.held.in_case_order()["hold"]
        resolved = np.isfinite(judged["time_to_resolve_min"])
        wait = judged["queue_wait_min"]
        finite_wait = wait[np.isfinite(wait)]
        on_call = self._on_call_result()
        effort = judged["effort"]
        work_hours = float(pd.Series(effort[~np.isnan(effort)]).sum()) / 60.0
        effort = np.nan_to_num(effort, nan=0.0)
        n_resolved = int(resolved.sum())
        actions = pd.concat(self.actions, ignore_index=True) if self.actions else None
        if actions is not None:
            actions = actions.sort_values(["label", "rep", "case_id"], ignore_index=True)
        cycles = pd.concat(self.cycles).sort_index() if self.cycles else pd.Series([], dtype=float)
        sla_counts = [c[f"sla{k}"] for k in range(4)]
        judged_sla = sla_counts[MET] + sla_counts[BREACHED]
        hours = agent_hours(meta, warmup)
        out = {
            "cases": {
                "generated": c["generated"],
                "resolved": c["resolved"],
                "open": c["generated"] - c["resolved"],
            },
            "sla": {
                "overall": sla_counts[MET] / judged_sla if judged_sla else None,
                "by_category": self.by_category.shares(),
                "by_severity": self.by_severity.shares(),
                "met": sla_counts[MET],
                "breached": sla_counts[BREACHED],
                "pending": sla_counts[2],
                "no_due": sla_counts[3],
            },
            **{name: describe(judged[name]) for name in LATENCIES},
            "waited_fraction": (
                float((finite_wait > WAIT_EPS).mean()) if finite_wait.size else None
            ),
            "queue_wait": self._wait_by(wait, judged["severity"], judged["team"]),
            "backlog": backlog,
            "aging_open": aging(start, end, horizon),
            "escalations": c["escalations"],
            "escalations_by_tier": dict(self.by_tier),
            "escalation_actions": (
                {} if actions is None else escalation_action_totals(actions, horizon)
            ),
            "alerts": c["alerts"],
            "alerts_per_agent_hour": c["alerts"] / hours if hours > 0 else None,
            "littles_law": littles_law(backlog["mean"], start, end, warmup, horizon),
            "events": c["events"],
            "missed_detections": c["missed"],
            "duplicates": c["duplicates"],
            "detection": detection_totals(
                {k: self.detection.get(k, Counter()) for k in _DETECTION_KINDS}
            ),
            "suppression": {
                "notified": c["notified"],
                "suppressed": c["suppressed"],
                "by_reason": dict(sorted(self.reasons.items())),
                "rate": (
                    c["suppressed"] / (c["notified"] + c["suppressed"])
                    if c["notified"] + c["suppressed"]
                    else None
                ),
            },
            "approvals": {
                **{k: self.approvals[k] for k in _APPROVAL_COUNTS},
                "cycle_time_min": describe(cycles.to_numpy()),
            },
            "labour": labour_totals(meta, warmup, work_hours, on_call),
            "on_call": on_call,
            "effort": {
                "effort_min": describe(effort[resolved]),
                "hold_min": describe(hold),
                "elapsed_min": describe(judged["time_to_resolve_min"]),
                "held": len(hold),
                "hold_reasons": dict(sorted(self.hold_reasons.items())),
                "reopened": c["reopened"],
                "reopen_rate": c["reopened_resolved"] / n_resolved if n_resolved else None,
                "first_time_fix_rate": (c["fixed_first_time"] / n_resolved if n_resolved else None),
            },
        }
        return jsonable(with_meta(out, meta, self.rep))

    def _wait_by(self, wait: np.ndarray, severity: np.ndarray, team: np.ndarray) -> dict:
        """:func:`sim.metrics.effort.wait_by` from the per-case columns."""
        names = list(self.teams)
        out: dict[str, dict] = {"by_severity": {}, "by_team": {}}
        for key, codes, labels in (
            ("by_severity", severity, {i: s for i, s in enumerate(SEVERITIES)}),
            ("by_team", team, {self.teams[n]: n for n in sorted(names)}),
        ):
            for code, label in labels.items():
                mine = codes == code
                if mine.any():
                    stats = describe(wait[mine])
                    out[key][label] = {k: stats[k] for k in ("mean", "p90", "n")}
        return out

    def _on_call_result(self) -> dict:
        out = {}
        for name, rates in self.rotas.items():
            parts = self.on_call_work[name]
            work = pd.concat(parts, ignore_index=True) if parts else None
            minutes = 0.0
            if work is not None and len(work):
                work = work.sort_values(["t0", "pos"], kind="stable")
                minutes = float(work["min"].sum())
            pages = int(self.pages[name])
            hours = minutes / 60.0
            cost = pages * rates.get("cost_per_page", 0.0) + hours * rates.get("cost_per_hour", 0.0)
            out[name] = {"pages": pages, "hours": hours, "cost": cost}
        return out


_DETECTION_KINDS = ("first", "duplicate", "not_caught", "fallback")
_APPROVAL_COUNTS = ("requested", "approved", "rejected", "auto_approved", "pending")
