"""The parts of a Locust load test that do not need Locust: the plan file, the partition of
cases across workers, and the reading of Locust's CSV stats next to exsim's observed log.

``exsim odoo load`` writes a *plan file* (the planned cases, the seeded master data, the run's
anchor, the target rate) that every Locust worker reads (``sim/odoo/locust.py``). Each case
belongs to exactly one worker, chosen from its case key (``owner``: CRC-32 of the key modulo
the number of workers, the same in every process and on every machine, unlike Python's salted
``hash``), and within a worker to whichever user takes it first from the worker's queue, so no
case is created twice however the users are spread over the workers.

After the run, Locust's ``--csv`` files give the RPC figures (``request_stats``: per
``model.method``, count, failures, p50/p95/p99) and the load profile (``load_profile``: the
user count and request rate second by second); ``steps`` puts them next to the observed log:
per load step (a user count), how many cases occurred, how many an automation caught, how
late (detection latency in wall seconds: the load test runs at speed 1), and the RPC p95 Locust
measured meanwhile (the median of its rolling p95 over the step's seconds).
"""

from __future__ import annotations

import csv
import json
import zlib
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.odoo.masterdata import Seeded
from sim.odoo.plan import PlannedCase
from sim.odoo.seed import SeededRecords

PLAN_ENV = "EXSIM_LOAD_PLAN"  # the plan file's path, for the Locust processes


def owner(key: str, workers: int) -> int:
    """The worker (0 .. workers-1) that creates the case with case key ``key``."""
    return zlib.crc32(key.encode()) % max(1, workers)


def write_plan(
    path: Path,
    cases: list[PlannedCase],
    master: SeededRecords,
    run: dict,
    rate: float,
    workers: int,
    background: bool,
) -> None:
    path.write_text(
        json.dumps(
            {
                "cases": [asdict(c) for c in cases],
                "master": asdict(master),
                "run": run,
                "rate": rate,
                "workers": workers,
                "background": background,
            }
        ),
        encoding="utf-8",
    )


def read_plan(path: Path) -> dict:
    plan = json.loads(Path(path).read_text(encoding="utf-8"))
    plan["cases"] = [PlannedCase(**c) for c in plan["cases"]]
    m = plan["master"]
    raw = m.pop("bulk", None)
    bulk = Seeded(**raw) if raw else None
    plan["master"] = SeededRecords(**m, bulk=bulk)
    return plan


def _num(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def request_stats(stats_csv: Path) -> list[dict]:
    """Locust's ``<prefix>_stats.csv`` as one dict per request name (and ``Aggregated``)."""
    if not stats_csv.is_file():
        return []
    with stats_csv.open(encoding="utf-8") as fh:
        return [
            {
                "type": r["Type"],
                "name": r["Name"],
                "count": int(r["Request Count"]),
                "failures": int(r["Failure Count"]),
                "p50_ms": _num(r["50%"]),
                "p95_ms": _num(r["95%"]),
                "p99_ms": _num(r["99%"]),
                "rps": _num(r["Requests/s"]),
            }
            for r in csv.DictReader(fh)
        ]


def load_profile(history_csv: Path) -> pd.DataFrame:
    """Locust's ``<prefix>_stats_history.csv``, aggregated rows: ``t`` (epoch s), ``users``,
    ``rps``, ``p95_ms`` (over the run so far, as Locust reports it)."""
    cols = ["t", "users", "rps", "p95_ms"]
    if not history_csv.is_file():
        return pd.DataFrame(columns=cols)
    df = pd.read_csv(history_csv)
    df = df[df["Name"] == "Aggregated"]
    out = pd.DataFrame(
        {
            "t": df["Timestamp"].astype(float),
            "users": df["User Count"].astype(int),
            "rps": pd.to_numeric(df["Requests/s"], errors="coerce"),
            "p95_ms": pd.to_numeric(df["95%"], errors="coerce"),
        }
    )
    return out.sort_values("t").reset_index(drop=True)


def steps(log: pd.DataFrame, profile: pd.DataFrame, anchor: str, speed: float = 1.0) -> list[dict]:
    """Detection latency per load step: each observed case is put in the step (user count)
    Locust was at when the case occurred; per step, cases, detected, missed share and the
    detection latency (p50/p95, wall seconds). A case occurring before Locust's first sample
    counts in the first step."""
    occ = log[log["event"] == "occurred"].drop_duplicates(["rep", "case_id"])
    det = (
        log[log["event"] == "detected"]
        .sort_values("ts")
        .drop_duplicates(["rep", "case_id"])
        .set_index(["rep", "case_id"])["ts"]
    )
    if occ.empty:
        return []
    t0 = datetime.fromisoformat(anchor).timestamp()
    # observe's minutes are since the anchor (naive UTC) at the run's speed
    wall = t0 + occ["ts"].astype(float).to_numpy() * 60.0 / speed
    if profile.empty:
        users = np.zeros(len(occ), dtype=int)
    else:
        idx = np.searchsorted(profile["t"].to_numpy(), wall, side="right") - 1
        users = profile["users"].to_numpy()[np.clip(idx, 0, None)]
    rows: dict[int, list[float]] = {}
    counts: dict[int, int] = {}
    for u, rep, cid, ts in zip(users, occ["rep"], occ["case_id"], occ["ts"], strict=True):
        counts[int(u)] = counts.get(int(u), 0) + 1
        d = det.get((rep, cid))
        lat = rows.setdefault(int(u), [])
        if d is not None:
            lat.append((float(d) - float(ts)) * 60.0 / speed)
    rpc_p95 = profile.groupby("users")["p95_ms"].median() if not profile.empty else {}
    out = []
    for u in sorted(counts):
        lat = np.array(rows[u])
        out.append(
            {
                "users": u,
                "cases": counts[u],
                "detected": len(lat),
                "miss_share": 1.0 - len(lat) / counts[u],
                "detect_p50_s": float(np.percentile(lat, 50)) if len(lat) else None,
                "detect_p95_s": float(np.percentile(lat, 95)) if len(lat) else None,
                "rpc_p95_ms": _finite(rpc_p95.get(u) if len(rpc_p95) else None),
            }
        )
    return out


def _finite(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def behind_at(
    step_rows: list[dict], factor: float = 2.0, floor_s: float = 2.0, miss_margin: float = 0.2
) -> int | None:
    """The first user count at which the automations fall behind, measured as detection
    lateness: its p95 detection latency is over ``floor_s`` seconds and more than ``factor``
    times the first step's, or it misses ``miss_margin`` more of its cases than the first step
    did (a short run's misses are mostly time rules and scans not yet due, the same share at
    every step). None when they kept up throughout."""
    base = next((s for s in step_rows if s["detect_p95_s"] is not None), None)
    if base is None:
        return None
    for s in step_rows:
        lat = s["detect_p95_s"]
        if s["miss_share"] > base["miss_share"] + miss_margin:
            return s["users"]
        if lat is not None and lat > floor_s and lat > factor * base["detect_p95_s"]:
            return s["users"]
    return None
