"""Sim-versus-live approvals: requests, decisions and cycle time over the cases both logs hold."""

from __future__ import annotations

import math

from sim import eventlog
from sim.metrics.sim_vs_live import approvals_by_case, sim_vs_live
from sim.odoo.observe import Observed, to_table

META = eventlog.LogMeta(start="2026-01-05T00:00:00", horizon_min=600.0, source="test")


def _log(cases: dict[int, list[tuple]]):
    """A log of credit-hold cases occurring at 0, each with its approval rows."""
    observed = [
        Observed(0, cid, "credit_hold", "sale.order", cid, 0.0, 0.0, [(0.0, 0, "event_rule")])
        for cid in cases
    ]
    for c in observed:
        c.approvals = cases[c.case_id]
    return eventlog.to_pandas(to_table(observed, META))


def test_approval_cycle_time_sim_versus_live():
    sim = _log(
        {
            1: [(10.0, "approval_requested", "a", "shipment_release", "finance_lead"),
                (40.0, "approved", "finance_lead#0", None, "finance_lead")],
            2: [(5.0, "approval_requested", "a", "shipment_release", "auto"),
                (5.0, "approved", "auto", "auto", "auto")],
            3: [(0.0, "approval_requested", "a", "shipment_release", "cfo")],
            9: [(0.0, "approval_requested", "a", "shipment_release", "cfo"),
                (500.0, "approved", "cfo#0", None, "cfo")],
        }
    )  # fmt: skip
    live = _log(
        {
            1: [(0.0, "approval_requested", "Admin", "shipment_release", "finance_lead"),
                (20.0, "approved", "Admin", None, "finance_lead")],
            2: [],  # the auto level has no tier definition: no review in Odoo
            3: [(1.0, "approval_requested", "Admin", "shipment_release", "cfo"),
                (61.0, "rejected", "Admin", None, "cfo")],
        }
    )  # fmt: skip
    table = approvals_by_case(sim)
    assert math.isnan(table.loc[(0, 2), "cycle"])  # auto-approved: nobody decided
    report = sim_vs_live(sim, live)["approvals"]
    assert report["sim"] == {
        "requested": 3,
        "approved": 2,
        "rejected": 0,
        "pending": 1,
        "cycle_p50": 30.0,
        "cycle_p90": 30.0,
        "cycle_mean": 30.0,
    }  # case 9 is not in the live log
    assert report["live"]["requested"] == 2 and report["live"]["rejected"] == 1
    assert report["live"]["cycle_p50"] == 40.0 and report["live"]["cycle_mean"] == 40.0
    assert report["same_approver"] == 1.0


def test_no_review_in_odoo_means_no_approval_comparison():
    log = _log({1: []})
    assert "approvals" not in sim_vs_live(log, log)
