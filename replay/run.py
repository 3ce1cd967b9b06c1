"""Replaying history through candidate policies, next to what actually happened.

For each candidate policy the recorded cases occur again (``replay.world``) in a scenario
built from the log itself: its anchor as start, its horizon, its categories with handling
distributions fitted from the log (used only where a case's effort is unknown). Each policy
runs ``reps`` replications on the same seed, so policies face identical drawn efforts and
differ only by what they do. The *as-is* outcome is the log summarised as it stands, with
the same metrics, so the columns of the comparison are like for like. The assumptions that
make the comparison fair (or not) travel with every summary under ``replay.assumptions``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from replay.calibrate import calibrate, handling_distributions
from replay.desk import desk_stats
from replay.history import History
from replay.world import history_world
from sim import eventlog, runner
from sim.metrics import case_table, summarize_reps
from sim.policies.schema import Policy
from sim.run_summary import build_summary
from sim.runner import RunResult, write_run_dir
from sim.scenarios.schema import Scenario

Progress = Callable[[float], None]
AS_IS = "as-is"


@dataclass
class PolicyRun:
    policy: Policy
    result: RunResult
    summary: dict[str, Any]


@dataclass
class ReplayOutcome:
    history: History
    scenario: Scenario
    as_is: dict[str, Any]
    as_is_log: pd.DataFrame
    runs: dict[str, PolicyRun] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)

    def summaries(self) -> dict[str, dict[str, Any]]:
        """Run name -> summary, the as-is outcome first."""
        return {AS_IS: self.as_is, **{name: run.summary for name, run in self.runs.items()}}


def replay_horizon(history: History) -> float:
    """Minutes the replay runs: the log's horizon, and past its last case's occurrence.

    A CSV or a mapped export has no horizon of its own: it ends at its last event, which may
    be the occurrence of a case with no other row. The engine runs up to (not including) its
    horizon, so that case needs one more minute to be replayed at all.
    """
    last = float(history.cases["occurred"].max()) if len(history.cases) else 0.0
    return max(history.horizon_min, last + 1.0)


def replay_scenario(history: History, name: str = "history") -> Scenario:
    """The scenario a replay runs in: the log's start, horizon and fitted categories."""
    scenario = calibrate(history, name=name).scenario
    days = replay_horizon(history) / 1440.0
    # the world is the record: no drawn holds, reopens or volume (the history world sets a
    # case's recorded wait itself; arrivals are the recorded ones)
    fixed = {"hold": None, "reopen": None, "volume": None}
    cats = {n: c.model_copy(update=fixed) for n, c in scenario.categories.items()}
    return scenario.model_copy(
        update={"horizon_days": days, "description": "replayed history", "categories": cats}
    )


#: The lifecycle order the as-is log must respect: each stage's first time is not later than
#: the first time of any stage after it.
LIFECYCLE = ("occurred", "detected", "assigned", "work_started", "resolved")


def order_repairs(cases: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows implied by an inconsistent order, and how many cases needed each.

    A log may show work starting before the case was queued (an agent picked it up directly
    and the queue status was set afterwards), or a resolution before any work. Measured as
    recorded, such a case has a negative queue wait. Instead the earlier stage is taken to
    have happened when the later one was first recorded (a zero wait), and the cases this
    touched are counted and reported.
    """
    rows, counts = [], {}
    later = np.full(len(cases), np.inf)
    for stage in reversed(LIFECYCLE):
        first = cases[stage].to_numpy(float)
        bad = np.isfinite(first) & (first > later)
        if bad.any():
            counts[f"{stage} after a later stage"] = int(bad.sum())
            rows.append(
                pd.DataFrame(
                    {"case_id": cases["case_id"].to_numpy()[bad], "event": stage, "ts": later[bad]}
                )
            )
        later = np.fmin(later, np.where(np.isfinite(first), first, np.inf))
    if not rows:
        return pd.DataFrame(columns=["case_id", "event", "ts"]), counts
    return pd.concat(rows, ignore_index=True), counts


def assumptions_of(history: History, sla_policy: Policy, source: dict[str, str]) -> list[str]:
    cases = history.cases
    known = int(cases["effort"].notna().sum())
    due_given = bool(history.log["due_ts"].notna().any())
    hours = history.replay_info.get("working_hours")
    within = " inside the desk's working hours" if hours else ""
    out = [
        "The world is fixed: every historical case occurs at its recorded time with its recorded"
        " category, attributes, trigger and promise dates, recorded severity and parent; only"
        " the policy is re-simulated.",
        f"Hands-on effort is the recorded time in working states (work started -> on hold,"
        f" handed over, to approval, resolved){within} for {known} of {len(cases)}"
        " cases; elapsed time is never taken as effort. The others draw from their category's"
        " fitted distribution (" + "; ".join(f"{c}: {s}" for c, s in sorted(source.items())) + ").",
        "Cases recorded as cleared by themselves clear again after the same delay; no other"
        " case is transient.",
        f"Waits on others (on hold until work starts again) are the world's: the"
        f" {int(cases['hold_min'].notna().sum()) if 'hold_min' in cases else 0} cases that"
        " waited wait again, as one hold of their summed waiting time after the hands-on"
        " minutes they had done before their first wait. Recorded reopens are not replayed:"
        " each case is resolved once (the as-is reopen rate is in replay.desk).",
        "Replicated runs differ only in the drawn efforts and in the policy's own randomness.",
    ]
    if history.work is not None and history.work.never_started:
        out.append(
            f"{history.work.never_started} cases never show work starting in the log and"
            f" {history.work.unfinished} were still being worked at its end: the log cannot"
            " tell their effort."
        )
    if history.occurred_from_first_event:
        out.append(
            f"{history.occurred_from_first_event} cases have no 'occurred' event; their first"
            " recorded row (whatever its activity) is taken as the occurrence."
        )
    if history.replay_info.get("source_detects"):
        out.append(
            "The source system is the detector: a case is detected when it is created, so the"
            " as-is has no missed detections by construction."
        )
    if history.reps_in_log > 1:
        out.append(
            f"The log holds {history.reps_in_log} replications; replication"
            f" {int(history.log['rep'].iat[0])} is the history replayed."
        )
    if due_given:
        out.append("As-is SLA deadlines are the log's own due_ts.")
    else:
        out.append(
            f"The log has no deadlines: as-is SLA deadlines are occurrence + policy"
            f" '{sla_policy.name}' SLA targets (by category and last known severity)."
        )
    if not history.meta.capacity_min:
        out.append(
            "The log has no staffing record, so the as-is agent hours, cost and alerts per"
            " agent-hour are not known."
        )
    return out


def as_is_log(history: History, sla_policy: Policy) -> pd.DataFrame:
    """The history's log ready to summarise: every case has an 'occurred' row, and deadlines
    (the log's own, else the policy's SLA targets)."""
    log = history.log
    cases = history.cases
    df = log.astype({c: object for c in eventlog.STRING_COLUMNS})
    ev = df["event"].to_numpy()
    have = set(df.loc[ev == "occurred", "case_id"].tolist())
    missing = cases[~cases["case_id"].isin(have)]
    if len(missing):
        first = df.sort_values("ts", kind="stable").drop_duplicates("case_id")
        first = first[first["case_id"].isin(missing["case_id"])].copy()
        for col in ("severity", "team", "actor", "detail"):
            first[col] = None
        first["event"] = "occurred"
        df = pd.concat([first, df], ignore_index=True)
    implied, _ = order_repairs(case_table(df_typed(df, history.meta)))
    if len(implied):
        base = df.sort_values("ts", kind="stable").drop_duplicates("case_id").set_index("case_id")
        extra = base.loc[implied["case_id"].to_numpy()].reset_index()
        extra["event"], extra["ts"] = implied["event"].to_numpy(), implied["ts"].to_numpy(float)
        extra["actor"], extra["detail"] = None, "implied by a later stage"
        df = pd.concat([df, extra[df.columns]], ignore_index=True)
    if not log["due_ts"].notna().any():
        sev = cases["severity"].astype(object)
        target = [
            sla_policy.sla.target(c, None if pd.isna(s) else str(s))
            for c, s in zip(cases["category"].astype(str), sev, strict=True)
        ]
        due = pd.Series(cases["occurred"].to_numpy(float) + np.array(target), cases["case_id"])
        df["due_ts"] = df["case_id"].map(due).to_numpy(float)
    df = df.sort_values(["case_id", "ts"], kind="stable", ignore_index=True)
    meta = eventlog.LogMeta(**{**history.meta.__dict__})
    meta.horizon_min = replay_horizon(history)
    return eventlog.to_pandas(_table(df, meta))


def df_typed(df: pd.DataFrame, meta: eventlog.LogMeta) -> pd.DataFrame:
    """A plain frame of log rows as a typed exsim log (for the case table)."""
    return eventlog.to_pandas(_table(df, meta))


def _table(df: pd.DataFrame, meta: eventlog.LogMeta) -> pa.Table:
    """A log frame as an Arrow table with exsim's schema and ``meta``."""
    plain = df[eventlog.SCHEMA.names]
    plain.attrs = {}  # the meta goes in as exsim metadata, not as pandas' JSON attrs
    table = pa.Table.from_pandas(plain, schema=eventlog.SCHEMA, preserve_index=False)
    return table.replace_schema_metadata(eventlog.schema_metadata(meta))


def as_is_summary(history: History, scenario: Scenario, log: pd.DataFrame) -> dict[str, Any]:
    metrics = summarize_reps(log)
    metrics.pop("reps", None)
    effort = history.cases["effort"].to_numpy(float)
    labour = metrics.setdefault("labour", {})
    # hands-on hours are the measured work intervals, not work_started -> resolved
    labour["work_hours"] = float(np.nansum(effort)) / 60.0
    if not history.meta.capacity_min:  # no staffing record: unknown, not zero
        labour.update({"agent_hours": None, "cost": None, "utilisation": None})
        metrics["alerts_per_agent_hour"] = None
    head = {
        "scenario": scenario.name,
        "policy": AS_IS,
        "seed": None,
        "days": scenario.horizon_days,
        "reps": 1,
        "start": history.meta.start,
        "warmup_days": 0.0,
    }
    return {**head, **metrics, "events": len(log), "wall_s": 0.0}


def replay(
    history: History,
    policies: list[Policy],
    seed: int = 1,
    reps: int = 1,
    sla_policy: Policy | None = None,
    progress: Progress | None = None,
    name: str = "history",
) -> ReplayOutcome:
    """Replay ``history`` under each policy; summaries in the standard schema."""
    if not policies:
        raise ValueError("replay needs at least one policy")
    sla_policy = sla_policy or policies[0]
    scenario = replay_scenario(history, name)
    handling, source = handling_distributions(history)
    notes = assumptions_of(history, sla_policy, source)
    info = {
        "log": (history.meta.extra or {}).get("replay", {}).get("path") or history.meta.scenario,
        "cases": len(history.cases),
        "efforts_known": int(history.cases["effort"].notna().sum()),
        "assumptions": notes,
    }
    world = history_world(history.cases, handling)
    asis_log = as_is_log(history, sla_policy)
    as_is = as_is_summary(history, scenario, asis_log)
    _, repairs = order_repairs(case_table(history.log))
    if repairs:
        notes.append(
            "The log's order of events is inconsistent for some cases ("
            + "; ".join(f"{k}: {n}" for k, n in repairs.items())
            + "); the earlier stage is taken to happen when the later one was recorded."
        )
    info["inconsistent_order"] = repairs
    as_is["replay"] = {
        **info,
        "desk": desk_stats(history),
        "sla_from": "log" if _has_due(history) else sla_policy.name,
    }
    outcome = ReplayOutcome(history, scenario, as_is, asis_log, assumptions=notes)
    total = len(policies) * reps
    done = 0
    for policy in policies:
        ran = runner.run(
            scenario,
            policy,
            runner.RunSettings(seed=seed, reps=reps, workers=1),
            progress=_share(progress, done / total, reps / total),
            world=world,
        )
        done += reps
        meta = dataclasses.replace(ran.meta, source="replay")
        result = RunResult(eventlog.concat([ran.table], meta), meta, ran.wall_s)
        summary = build_summary(result, scenario, policy)
        summary["replay"] = {**info, "sla_from": policy.name}
        outcome.runs[_unique(policy.name, outcome.runs)] = PolicyRun(policy, result, summary)
    return outcome


def _share(progress: Callable[[float], None] | None, start: float, width: float):
    """``progress`` of the whole, fed a part's own 0..1 as ``start + width * part``."""
    if progress is None:
        return None
    return lambda part: progress(start + width * part)


def _has_due(history: History) -> bool:
    return bool(history.log["due_ts"].notna().any())


def _unique(name: str, taken: dict) -> str:
    if name not in taken and name != AS_IS:
        return name
    i = 2
    while f"{name}-{i}" in taken:
        i += 1
    return f"{name}-{i}"


def _dump(model: Any) -> str:
    return yaml.safe_dump(model.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def _run_dir(files: dict[str, Callable[[Path], Any]]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.mkdir()
        for name, writer in files.items():
            writer(path / name)

    return write


def write_replay(
    out: Path, outcome: ReplayOutcome, sla_policy: Policy, force: bool = False
) -> Path:
    """``out/as-is`` and ``out/<policy>`` run directories (events.parquet, summary.json,
    scenario.yaml, policy.yaml), all written or none."""

    def text(s: str) -> Callable[[Path], Any]:
        return lambda p: p.write_text(s, encoding="utf-8")

    def summary(s: dict) -> Callable[[Path], Any]:
        return text(json.dumps(s, indent=2) + "\n")

    scenario_yaml = _dump(outcome.scenario)
    asis_table = _table(outcome.as_is_log, outcome.history.meta)
    dirs = {
        AS_IS: _run_dir(
            {
                "events.parquet": lambda p: eventlog.write_table(asis_table, p),
                "summary.json": summary(outcome.as_is),
                "scenario.yaml": text(scenario_yaml),
                # the policy whose SLA targets judged the history (when the log had none)
                "policy.yaml": text(_dump(sla_policy)),
            }
        )
    }
    for name, run in outcome.runs.items():
        dirs[name] = _run_dir(
            {
                "events.parquet": lambda p, t=run.result.table: eventlog.write_table(t, p),
                "summary.json": summary(run.summary),
                "scenario.yaml": text(scenario_yaml),
                "policy.yaml": text(_dump(run.policy)),
            }
        )
    return write_run_dir(out, dirs, force=force)
