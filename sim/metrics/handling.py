"""What the policy's levers did: detection per mechanism, suppression, approvals, labour.

- Detection per mechanism: for every mechanism watching a category (the log's metadata says
  which, ``extra.watchers``), how many cases it caught first, how many it reported again after
  another had (duplicates), and how many of the cases it watched it never caught (missed). A
  case first caught by a reconciliation ``scan`` where a push or rule also watched is counted as
  *detected only by a fallback*.
- What detection dropped on the way (``extra.detectors``, counted by the detectors over the
  whole run, warm-up included): webhook pushes lost to a timeout, a failure or an outage, events
  dead-lettered after every retry failed, cases a time rule's window passed before they matched.
  These are the losses behind a mechanism's ``not_caught``; a reconciliation scan may still
  catch such a case.
- Suppression: notifications sent and suppressed, by reason; the suppression rate is
  suppressed / (sent + suppressed), i.e. the alert load removed.
- Approvals: requests, outcomes, auto-approvals, and the cycle time (decision - request) of
  those decided by a person.
- Labour: agent-hours on shift and their cost (``extra.cost_per_hour``) plus on-call pages and
  responder time (``extra.on_call``), hands-on hours on exceptions (the pieces of work, see
  :mod:`sim.metrics.effort`) and the utilisation they imply.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from sim.eventlog import EVENT_CODE, LogMeta
from sim.metrics.cases import as_category, codes_of
from sim.metrics.latency import describe

_DETECTION_ROWS = (EVENT_CODE["detected"], EVENT_CODE["suppressed"])


def _str(series: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The masked rows of a string column as strings ("" for null), picked by code first so
    that no object array of the whole column is built."""
    cat = as_category(series)
    names = np.array([str(c) for c in cat.cat.categories] + [""], dtype=object)
    codes = codes_of(cat)[rows]
    return names[np.where(codes < 0, len(names) - 1, codes)]


def detection_summary(df: pd.DataFrame, ev: np.ndarray, cases: pd.DataFrame, meta: LogMeta):
    """``by_mechanism`` {mech: {first, duplicate, not_caught}} and ``only_by_fallback``.

    ``not_caught`` counts the cases of the categories a mechanism watches that it never
    reported: for a primary mechanism its misses, for a reconciliation scan the cases the
    primary had already delivered (which its domain excludes).
    """
    return detection_totals(detection_counts(df, ev, cases, meta))


def detection_counts(
    df: pd.DataFrame, ev: np.ndarray, cases: pd.DataFrame, meta: LogMeta
) -> dict[str, Counter]:
    """The counts behind :func:`detection_summary`, per kind (``first``, ``duplicate``,
    ``not_caught``: per mechanism; ``fallback``), which add up over disjoint sets of cases."""
    watchers: dict[str, list[str]] = meta.extra.get("watchers", {}) if meta.extra else {}
    rows = np.isin(ev, _DETECTION_ROWS)
    detail = _str(df["detail"], rows).astype(str)
    sub = pd.DataFrame(
        {
            "case": df["case_id"].to_numpy()[rows],
            "ts": df["ts"].to_numpy()[rows],
            "actor": _str(df["actor"], rows),
            "dup": np.char.startswith(detail, "duplicate:") | (ev[rows] != _DETECTION_ROWS[0]),
        }
    )
    sub = sub[(sub["actor"] != "") & sub["case"].isin(cases["case_id"])]
    first = sub[~sub["dup"]].sort_values("ts", kind="stable").drop_duplicates("case")
    out = {
        "first": Counter({str(m): int(n) for m, n in first["actor"].value_counts().items()}),
        "duplicate": Counter(
            {str(m): int(n) for m, n in sub[sub["dup"]]["actor"].value_counts().items()}
        ),
        "not_caught": Counter(),
        "fallback": Counter(),
    }
    category = cases["category"].astype(str)
    for m in sorted({m for mechs in watchers.values() for m in mechs}):
        watched = cases["case_id"][category.isin([c for c, ms in watchers.items() if m in ms])]
        caught = sub["case"][sub["actor"] == m]
        out["not_caught"][m] += int((~watched.isin(caught)).sum())
    with_primary = [c for c, ms in watchers.items() if any(m != "scan" for m in ms)]
    backed = cases["case_id"][category.isin(with_primary)]
    fallback = first[(first["actor"] == "scan") & first["case"].isin(backed)]
    out["fallback"]["scan"] += len(fallback)
    return out


def detection_totals(counts: dict[str, Counter]) -> dict:
    """:func:`detection_summary` of (summed) :func:`detection_counts`."""
    by_mech: dict[str, dict[str, int]] = {}

    def entry(m: str) -> dict[str, int]:
        return by_mech.setdefault(m, {"first": 0, "duplicate": 0, "not_caught": 0})

    for kind in ("first", "duplicate", "not_caught"):
        for m in sorted(counts[kind]):
            entry(m)[kind] = int(counts[kind][m])
    return {"by_mechanism": by_mech, "only_by_fallback": int(counts["fallback"]["scan"])}


def dropped_summary(meta: LogMeta) -> dict[str, dict[str, int]]:
    """Per mechanism, its counters summed over the categories it watched, e.g.
    ``{"webhook": {"lost": 12, "dead_lettered": 1}, "time_rule": {"missed": 3}}``."""
    out: dict[str, dict[str, int]] = {}
    for mech, by_category in sorted(((meta.extra or {}).get("detectors") or {}).items()):
        totals = out.setdefault(mech, {})
        for counts in by_category.values():
            for name, n in counts.items():
                totals[name] = totals.get(name, 0) + int(n)
    return out


def suppression_summary(df: pd.DataFrame, ev: np.ndarray, t0: float) -> dict:
    window = df["ts"].to_numpy(float) >= t0
    sent = int((window & (ev == EVENT_CODE["notified"])).sum())
    rows = window & (ev == EVENT_CODE["suppressed"])
    reasons = pd.Series(_str(df["detail"], rows)).str.split(":").str[0]
    by_reason = {str(k): int(v) for k, v in reasons.value_counts().sort_index().items()}
    suppressed = int(rows.sum())
    total = sent + suppressed
    return {
        "notified": sent,
        "suppressed": suppressed,
        "by_reason": by_reason,
        "rate": suppressed / total if total else None,
    }


def approval_summary(df: pd.DataFrame, ev: np.ndarray, cases: pd.DataFrame) -> dict:
    counts, cycle = approval_parts(df, ev, cases)
    return {**counts, "cycle_time_min": describe(cycle.to_numpy())}


def approval_parts(df: pd.DataFrame, ev: np.ndarray, cases: pd.DataFrame):
    """The counts of :func:`approval_summary` (which add up over disjoint sets of cases) and
    the cycle time of each case a person decided, indexed by case_id (sorted)."""
    ids = np.unique(cases["case_id"].to_numpy())
    case = df["case_id"].to_numpy()
    # only the approval rows are looked up among the cases judged (not every row of the log)
    mine = np.isin(ev, [EVENT_CODE[e] for e in ("approval_requested", "approved", "rejected")])
    mine[mine] = np.isin(case[mine], ids)
    ts = df["ts"].to_numpy(float)
    req = mine & (ev == EVENT_CODE["approval_requested"])
    decided = mine & np.isin(ev, (EVENT_CODE["approved"], EVENT_CODE["rejected"]))
    asked = pd.Series(ts[req], index=case[req]).groupby(level=0).min()
    answer = pd.Series(ts[decided], index=case[decided]).groupby(level=0).min()
    both = asked.index.intersection(answer.index)
    auto = decided.copy()
    auto[decided] = _str(df["actor"], decided) == "auto"
    by_person = both.difference(pd.Index(case[auto]))
    counts = {
        "requested": int(req.sum()),
        "approved": int((mine & (ev == EVENT_CODE["approved"])).sum()),
        "rejected": int((mine & (ev == EVENT_CODE["rejected"])).sum()),
        "auto_approved": int(auto.sum()),
        "pending": int(len(asked.index.difference(answer.index))),
    }
    return counts, answer[by_person] - asked[by_person]


def labour_summary(
    cases: pd.DataFrame, meta: LogMeta, t0: float, effort: pd.DataFrame, on_call: dict
) -> dict:
    """Agent-hours on shift and their cost, plus on-call cost; hands-on ``work_hours`` of the
    cases judged (``effort``: :func:`sim.metrics.effort.effort_table`, finished work only)."""
    mine = effort.merge(cases[["rep", "case_id"]], on=["rep", "case_id"], how="inner")
    return labour_totals(meta, t0, float(mine["effort"].sum()) / 60.0, on_call)


def labour_totals(meta: LogMeta, t0: float, work_hours: float, on_call: dict) -> dict:
    """:func:`labour_summary` given the hands-on ``work_hours`` of the cases judged."""
    t1 = meta.horizon_min
    share = max(t1 - t0, 0.0) / t1 if t1 > 0 else 0.0
    costs = (meta.extra or {}).get("cost_per_hour", {})
    hours = {team: minutes / 60.0 * share for team, minutes in meta.capacity_min.items()}
    cost = sum(h * costs.get(team, 0.0) for team, h in hours.items())
    cost += sum(rota["cost"] for rota in on_call.values())
    total = sum(hours.values())
    return {
        "agent_hours": total,
        "cost": cost,
        "work_hours": work_hours,
        "utilisation": work_hours / total if total else None,
    }
