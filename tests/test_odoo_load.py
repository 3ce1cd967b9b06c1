"""``exsim odoo load``: exsim's planned cases played by Locust users (master + 2 workers on
loopback) against the Odoo test server; every planned case made exactly once, Locust's
request stats and detection latency per load step in the run directory's summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.config import load_policy, load_scenario
from sim.odoo import deploy
from sim.odoo.guard import mark_test_database
from sim.odoo.inject import FIRST_MADE
from sim.odoo.loadrun import behind_at, owner, read_plan, steps, write_plan
from sim.odoo.mapping import pattern_for
from sim.odoo.masterdata import Seeded
from sim.odoo.plan import PlannedCase
from sim.odoo.seed import SeededRecords
from sim.odoo.transport import connect
from tests.odoo_server.live import clean, settings_of

ROOT = Path(__file__).resolve().parent.parent


@given(st.text(min_size=1, max_size=40), st.integers(1, 64))
def test_each_case_key_has_one_owner(key, workers):
    """The partition is a function of the key alone (no salted hash): every process agrees."""
    w = owner(key, workers)
    assert 0 <= w < workers and owner(key, workers) == w


def test_plan_file_round_trips(tmp_path):
    """What the workers read is what the load verb planned, master data at scale included."""
    cases = [PlannedCase(0, 1, "picking_sla", 1.0, 0.5, 10.0, "key", 3.0)]
    master = SeededRecords({"key": 7}, stocked=3, bulk=Seeded(customers={"key": [1, 2]}))
    write_plan(tmp_path / "p.json", cases, master, {"anchor": "x"}, 2.0, 2, True)
    plan = read_plan(tmp_path / "p.json")
    assert plan["cases"] == cases and plan["master"] == master
    master.bulk = None
    write_plan(tmp_path / "p.json", cases, master, {"anchor": "x"}, 2.0, 2, True)
    assert read_plan(tmp_path / "p.json")["master"] == master


def _log(rows):
    return pd.DataFrame(rows, columns=["rep", "case_id", "ts", "event"])


def test_steps_put_cases_at_the_load_they_met():
    """Cases are grouped by the user count Locust had when they occurred; a slower detection
    at the second step is where the automations fall behind."""
    anchor = "2026-01-05T00:00:00"
    t0 = pd.Timestamp(anchor).timestamp()
    profile = pd.DataFrame({"t": [t0, t0 + 10], "users": [2, 8], "rps": 0.0, "p95_ms": [40, 90]})
    s = 1 / 60  # one wall second in minutes (speed 1)
    log = _log(
        [
            (0, 1, 1 * s, "occurred"),
            (0, 1, 1.5 * s, "detected"),
            (0, 2, 2 * s, "occurred"),
            (0, 2, 2.5 * s, "detected"),
            (0, 3, 12 * s, "occurred"),
            (0, 3, 17 * s, "detected"),
            (0, 4, 13 * s, "occurred"),
            (0, 5, 14 * s, "occurred"),
            (0, 5, 14.5 * s, "detected"),
        ]
    )
    rows = steps(log, profile, anchor)
    assert [(r["users"], r["cases"], r["detected"]) for r in rows] == [(2, 2, 2), (8, 3, 2)]
    assert rows[0]["detect_p50_s"] == pytest.approx(0.5)
    assert rows[1]["detect_p50_s"] == pytest.approx(2.75)
    assert rows[1]["miss_share"] == pytest.approx(1 / 3)
    assert [r["rpc_p95_ms"] for r in rows] == [40, 90]
    assert behind_at(rows) == 8  # p95 4.8 s against 0.5 s
    assert behind_at(rows[:1]) is None
    # a lateness under the floor is keeping up, unless the step misses more of its cases
    assert behind_at(rows, floor_s=10, miss_margin=0.5) is None
    assert behind_at(rows, floor_s=10, miss_margin=0.3) == 8


@pytest.mark.slow  # three processes and a 12 s bounded run: CI runs it in its second step
@pytest.mark.odoo_live
def test_locust_master_and_two_workers_make_every_case_once(odoo_settings, tmp_path):
    clean(odoo_settings)
    t = connect(settings_of(odoo_settings))
    mark_test_database(t)  # the test server is one (a real server must be marked already)
    sc, pol = load_scenario("default"), load_policy("default")
    deploy.deploy_policy(t, pol, list(sc.categories), 1.0)
    out = tmp_path / "run"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "EXSIM_ODOO_URL": odoo_settings.url,
        "EXSIM_ODOO_DB": odoo_settings.db,
        "EXSIM_ODOO_USER": odoo_settings.user,
        "EXSIM_ODOO_PASSWORD": odoo_settings.password,
    }
    # A real Odoo (one worker thread) takes seconds per confirmed order and probes its fields on
    # each worker's first call: there the bounded run is longer and slower, without background.
    pace = (
        ["--run-time", "12", "--rate", "3", "--background"]
        if odoo_settings.is_fake
        else ["--run-time", "60", "--rate", "0.5"]
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sim", "odoo", "load", "default", "--days", "1"]
            + ["--policy", "default", "--users", "4", "--spawn-rate", "1"]
            + pace
            + ["--workers", "2", "--out", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        summary = json.loads((out / "summary.json").read_text())
        load = summary["load"]
        planned = load["planned_cases"]
        assert len(planned) >= 10
        # every planned case made exactly once: one record per idempotency key in Odoo...
        found: Counter = Counter()
        for cat in {k.split("/")[1] for k in planned}:
            model, field = FIRST_MADE[pattern_for(cat).recipe]
            keys = [k for k in planned if k.split("/")[1] == cat]
            for r in t.call(model, "search_read", [[field, "in", keys]], fields=[field]):
                found[r[field]] += 1
        assert found == Counter(planned)
        # ... and one primary tag per case (tags are exsim.case_<rep>_<id>_<model>)
        tags = t.call(
            "ir.model.data",
            "search_read",
            [["module", "=", "exsim"], ["name", "=like", "case_%"]],
            fields=["name"],
        )
        cases_tagged = {"_".join(r["name"].split("_")[1:3]) for r in tags}
        assert cases_tagged == {"_".join(k.split("/")[2:4]) for k in planned}
        # Locust's stats: every case one successful request, RPCs per model.method
        req = {r["name"]: r for r in load["requests"]}
        made = sum(r["count"] for n, r in req.items() if n.startswith("case."))
        assert made == len(planned)
        assert sum(r["failures"] for n, r in req.items() if n.startswith("case.")) == 0
        assert req["ir.model.data.create"]["count"] >= 1
        assert req["Aggregated"]["p95_ms"] > 0
        if odoo_settings.is_fake:
            assert "sale.order.action_confirm" in req  # the background sellers ran
        # both workers played their share (the partition by case key)
        assert {owner(k, 2) for k in planned} == {0, 1}
        # the observed log, with detection latency per load step
        assert summary["source"] == "odoo" and "cases" in summary and "technical" in summary
        log = pd.read_parquet(out / "events.parquet")
        assert (log["event"] == "occurred").sum() == len(planned)
        assert load["steps"] and sum(s["cases"] for s in load["steps"]) == len(planned)
        assert any(s["detected"] and s["detect_p50_s"] is not None for s in load["steps"])
        assert load["profile"] and max(p["users"] for p in load["profile"]) == 4
        assert (out / "locust_stats.csv").is_file()
    finally:
        clean(odoo_settings)
