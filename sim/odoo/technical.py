"""Technical metrics of a live run: scheduled jobs, webhooks and RPC, next to the business KPIs.

Detection in Odoo runs on machinery that can lag or fail quietly, so ``observe`` reports it:

- *scheduled jobs* (exsim's scans and Odoo's shared time-rule job): interval, ``lastcall``,
  ``nextcall`` and whether active, from ``ir.cron`` (18 adds ``failure_count`` and
  ``first_failure_date``: a job failing five times in a row is switched off); from Odoo's log
  file, when given, each run's start, duration and failure, and its wake-up lag (start minus
  the time it was due, the run's anchor plus whole intervals), the delay the simulator's
  ``lag_min`` models. Odoo 17 logs "Starting job `name`." / "Job `name` done." (durations come
  from the timestamps), 18 "Job 'name' (id) starting" / "... done in 0.024s"; an ERROR line
  during a run marks it failed. Log timestamps are read as UTC (the server's clock);
- *webhooks*: deliveries the receiver logged; calls Odoo logged as timed out or failed;
- *RPC*: the latency and errors of every call the injection made (kept in the run's system
  parameter by ``inject``).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np

from sim.odoo.seed import MODULE, xmlids
from sim.odoo.transport import CallStat, Transport

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) (\d+) (\w+) \S+ (\S+): (.*)$")
START = (re.compile(r"^Starting job `(.+)`\.\s*$"), re.compile(r"^Job '(.+)' \(\d+\) starting"))
DONE = (re.compile(r"^Job `(.+)` done\.\s*$"), re.compile(r"^Job '(.+)' \(\d+\) done in"))
CHECK_JOB = "ir_cron_data_base_automation_check"
CRON_FIELDS = ("cron_name", "interval_number", "interval_type", "lastcall", "nextcall", "active")
OPTIONAL_FIELDS = ("failure_count", "first_failure_date")
UNIT_MIN = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080}


def rpc_stats(calls: list[CallStat]) -> dict:
    """Latency percentiles (ms), calls and errors of a transport's calls."""
    if not calls:
        return {"calls": 0}
    ms = np.array([c.latency_s for c in calls]) * 1000.0
    return {
        "calls": len(calls),
        "errors": int(sum(not c.ok for c in calls)),
        "records": int(sum(c.n for c in calls)),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
    }


def jobs(transport: Transport) -> dict[str, dict]:
    """exsim's scheduled actions and Odoo's time-rule job, as ``ir.cron`` has them now."""
    ids = [
        r["res_id"]
        for r in transport.call(
            "ir.model.data",
            "search_read",
            [["module", "=", MODULE], ["model", "=", "ir.cron"]],
            fields=["res_id"],
        )
    ]
    check = xmlids(transport, [CHECK_JOB], module="base_automation").get(CHECK_JOB)
    if check:
        ids.append(check)
    if not ids:
        return {}
    have = transport.call("ir.cron", "fields_get", [], attributes=["type"])
    fields = [*CRON_FIELDS, *(f for f in OPTIONAL_FIELDS if f in have)]
    rows = transport.call("ir.cron", "read", ids, fields)
    return {r["cron_name"]: {k: r[k] for k in fields if k != "cron_name"} for r in rows}


def parse_log(path: Path, names: set[str] | None = None, since: datetime | None = None) -> dict:
    """Runs of scheduled jobs in an Odoo log file: ``{name: [(start, seconds, failed)]}``.

    Also counts webhook calls Odoo logged as timed out or failed (``webhook_failures``)."""
    runs: dict[str, list[tuple[datetime, float | None, bool]]] = defaultdict(list)
    current: dict[str, tuple[str, datetime, bool]] = {}  # pid -> (job, start, failed)
    webhook_failures = 0
    with Path(path).open(errors="replace") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            stamp = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(
                microsecond=int(m.group(2)) * 1000
            )
            if since is not None and stamp < since:
                continue
            pid, level, logger, text = m.group(3), m.group(4), m.group(5), m.group(6)
            if "Webhook call" in text and ("timed out" in text or "failed" in text):
                webhook_failures += 1
            if logger.endswith("ir_cron"):
                started = next((r.match(text) for r in START if r.match(text)), None)
                if started:
                    current[pid] = (started.group(1), stamp, False)
                    continue
                done = next((r.match(text) for r in DONE if r.match(text)), None)
                if done and pid in current and current[pid][0] == done.group(1):
                    name, start, failed = current.pop(pid)
                    if names is None or name in names:
                        runs[name].append((start, (stamp - start).total_seconds(), failed))
                    continue
            if level in ("ERROR", "CRITICAL") and pid in current:
                name, start, _ = current[pid]
                current[pid] = (name, start, True)
    for name, start, _ in current.values():  # a run that never logged its end
        if names is None or name in names:
            runs[name].append((start, None, True))
    return {"runs": dict(runs), "webhook_failures": webhook_failures}


def wake_lags_s(starts: list[datetime], anchor: datetime, interval_s: float) -> list[float]:
    """How late each run started after its due time (anchor + whole intervals), seconds."""
    return [((s - anchor).total_seconds()) % interval_s for s in starts if s >= anchor]


def wake_fit(lags_by_job: dict[str, list[float]]) -> dict | None:
    """The cron thread's lag as a line over its passes: ``lag0_s + k * drift_s`` for the
    k-th run of each job (least squares, pooled over jobs). None without two runs."""
    xs = [k for lags in lags_by_job.values() for k in range(len(lags))]
    ys = [v for lags in lags_by_job.values() for v in lags]
    if len(set(xs)) < 2:
        return None
    slope, intercept = np.polyfit(np.array(xs, float), np.array(ys, float), 1)
    return {
        "lag0_s": round(float(max(intercept, 0.0)), 2),
        "drift_s": round(float(max(slope, 0.0)), 3),
    }


def technical_summary(
    transport: Transport,
    run: dict,
    odoo_log: Path | None = None,
    webhooks: Path | None = None,
) -> dict:
    """The ``technical`` block of a live run's summary."""
    anchor = datetime.fromisoformat(run["anchor"])
    crons = jobs(transport)
    out: dict = {"jobs": crons}
    if odoo_log is not None:
        parsed = parse_log(odoo_log, set(crons), since=anchor)
        lags_by_job: dict[str, list[float]] = {}
        for name, info in crons.items():
            mine = parsed["runs"].get(name, [])
            secs = [d for _, d, _ in mine if d is not None]
            info["runs"] = len(mine)
            info["failures"] = sum(failed for *_, failed in mine)
            info["run_s_mean"] = round(float(np.mean(secs)), 3) if secs else None
            info["run_s_max"] = round(float(np.max(secs)), 3) if secs else None
            interval_s = info["interval_number"] * UNIT_MIN.get(info["interval_type"], 1) * 60
            lags = wake_lags_s([s for s, _, _ in mine], anchor, interval_s)
            lags_by_job[name] = lags
            info["wake_lag_s_p50"] = round(float(np.median(lags)), 1) if lags else None
            info["wake_lag_s_max"] = round(float(np.max(lags)), 1) if lags else None
        out["webhook_failures_logged"] = parsed["webhook_failures"]
        out["wake_fit"] = wake_fit(lags_by_job)
    if webhooks is not None and Path(webhooks).is_file():
        lines = [ln for ln in Path(webhooks).read_text().splitlines() if ln.strip()]
        out["webhook_deliveries"] = sum(
            1 for ln in lines if datetime.fromisoformat(json.loads(ln)["at"]) >= anchor
        )
    out["rpc_inject"] = run.get("rpc", {"calls": 0})
    return out
