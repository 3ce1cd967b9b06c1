"""deploy-policy, inject, observe and cleanup on the OCA modules (tier validation, exceptions),
on the test server with its OCA option or a real Odoo 17 with them (tools/real-odoo17-oca)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from sim import eventlog
from sim.config import load_policy
from sim.odoo import cleanup, deploy, inject, observe, seed
from sim.odoo.capabilities import OCA_MODULES, detect
from sim.odoo.check import check
from sim.odoo.plan import PlannedCase, TimeMap
from sim.odoo.transport import OdooError, connect
from tests.odoo_server.live import clean, exsim_leftovers, settings_of, write_configs

pytestmark = pytest.mark.odoo_live

APPROVALS = {
    "approvals": {
        "approvers": {
            "finance_lead": {"agents": 1},
            "cfo": {"agents": 1},
            "operations_manager": {"agents": 1},
        },
        "decisions": [
            {
                "decision": "shipment_release",
                "categories": ["credit_hold"],
                "levels": [
                    {"max_value": 2000, "approver": "auto"},
                    {"max_value": 25000, "approver": "finance_lead"},
                    {"approver": "cfo"},
                ],
            },
            {
                "decision": "expedited_freight",
                "categories": ["urgent_replenishment", "picking_sla"],
                "levels": [{"max_value": 5000, "approver": "auto"}, {"approver": "cfo"}],
            },
        ],
    }
}
CATS = ["credit_hold", "urgent_replenishment", "picking_sla"]


@pytest.fixture
def t(oca_settings):
    clean(oca_settings)
    yield connect(settings_of(oca_settings))
    clean(oca_settings)


def _wait(oca_settings, seconds: float) -> None:
    """Let time pass on the server: the test server's clock, or the wall clock."""
    if oca_settings.server is not None:
        oca_settings.server.clock.advance(seconds)
    else:
        time.sleep(seconds)


def _definitions(t) -> dict[str, dict]:
    rows = t.call(
        "tier.definition",
        "search_read",
        [["name", "=like", "exsim approval %"]],
        fields=["name", "model", "definition_domain", "review_type", "reviewer_group_id"],
    )
    return {r["name"]: r for r in rows}


def test_check_lists_the_installed_oca_modules(t):
    report = check(t, ["credit_hold"])
    assert report.oca == dict.fromkeys(OCA_MODULES, True)
    assert all(": installed: " in line for line in report.oca_lines)
    assert report.writes["tier.definition"] == "ok" and report.writes["exception.rule"] == "ok"


def test_approval_matrix_becomes_tier_reviews_on_injected_orders(t, tmp_path, oca_settings):
    """Each non-auto level is a tier definition on the order model the category's documents
    are (a transfer category is reported, not deployed); an order in a level's value band gets
    that level's review requested instead of being confirmed, one under the auto threshold is
    confirmed; approving and rejecting are read back as the simulator logs approvals."""
    policy = load_policy(write_configs(tmp_path)[1], APPROVALS)
    out = deploy.deploy_policy(t, policy, CATS)
    defs = _definitions(t)
    assert sorted(defs) == [
        "exsim approval expedited_freight 1 cfo",
        "exsim approval shipment_release 1 finance_lead",
        "exsim approval shipment_release 2 cfo",
    ]
    assert defs["exsim approval shipment_release 1 finance_lead"]["model"] == "sale.order"
    assert defs["exsim approval expedited_freight 1 cfo"]["model"] == "purchase.order"
    assert {d["review_type"] for d in defs.values()} == {"group"}
    assert out.unsupported == [
        "approval_expedited_freight_picking_sla (stock.picking: tier validation covers sale "
        "and purchase orders)"
    ]
    master = seed.seed(t)
    anchor = inject.utc_now() - timedelta(minutes=10)
    tm = TimeMap(anchor)
    values = {1: 1500.0, 2: 5000.0, 3: 30000.0}
    cases = [PlannedCase(21, i, "credit_hold", 0.0, 0.0, v, "key") for i, v in values.items()]
    cases.append(PlannedCase(21, 4, "urgent_replenishment", 0.0, 0.0, 9000.0, None))
    inject.Injector(t, master, tm).run(cases, lambda cs: [cs])
    orders = {
        o["name"]: o
        for o in t.call(
            "sale.order",
            "search_read",
            [["name", "=like", "exsim/credit_hold/21/%"]],
            fields=["name", "state", "review_ids"],
        )
    }
    assert orders["exsim/credit_hold/21/1"]["state"] == "sale"  # auto-approved band
    assert not orders["exsim/credit_hold/21/1"]["review_ids"]
    for i in (2, 3):
        assert orders[f"exsim/credit_hold/21/{i}"]["state"] == "draft"
    reviews = t.call(
        "tier.review",
        "search_read",
        [["model", "in", ["sale.order", "purchase.order"]]],
        fields=["name", "model", "res_id", "status"],
    )
    by_doc = {(r["model"], r["res_id"]): r["name"] for r in reviews}
    assert by_doc["sale.order", orders["exsim/credit_hold/21/2"]["id"]].endswith("1 finance_lead")
    assert by_doc["sale.order", orders["exsim/credit_hold/21/3"]["id"]].endswith("2 cfo")
    assert len(reviews) == 3 and {r["status"] for r in reviews} == {"pending"}
    _wait(oca_settings, 2.0)
    t.call("sale.order", "validate_tier", [orders["exsim/credit_hold/21/2"]["id"]])
    t.call("sale.order", "reject_tier", [orders["exsim/credit_hold/21/3"]["id"]])
    # the approved order can now be confirmed (by whoever releases it), the rejected not
    t.call("sale.order", "action_confirm", [orders["exsim/credit_hold/21/2"]["id"]])
    with pytest.raises(OdooError, match="validation process is still open"):
        t.call("sale.order", "action_confirm", [orders["exsim/credit_hold/21/3"]["id"]])
    states = {
        o["name"]: o["state"]
        for o in t.call(
            "sale.order",
            "search_read",
            [["name", "=like", "exsim/credit_hold/21/%"]],
            fields=["name", "state"],
        )
    }
    assert states["exsim/credit_hold/21/2"] == "sale"
    assert states["exsim/credit_hold/21/3"] == "draft"
    run = {"anchor": anchor.isoformat(), "speed": 1.0}
    log = eventlog.to_pandas(observe.observe(t, run))
    ap = log[log["event"].isin(["approval_requested", "approved", "rejected"])]
    got = sorted(
        (int(r.case_id), str(r.event), str(r.team), str(r.detail)) for r in ap.itertuples()
    )
    assert got == [
        (2, "approval_requested", "finance_lead", "shipment_release"),
        (2, "approved", "finance_lead", "nan"),
        (3, "approval_requested", "cfo", "shipment_release"),
        (3, "rejected", "cfo", "nan"),
        (4, "approval_requested", "cfo", "expedited_freight"),
    ]
    from sim.metrics import summarize_reps

    kpis = summarize_reps(log)["approvals"]  # the live run's KPIs count them like the sim's
    assert (kpis["requested"], kpis["approved"], kpis["rejected"], kpis["pending"]) == (3, 1, 1, 1)
    asked = ap[(ap["case_id"] == 2) & (ap["event"] == "approval_requested")]["ts"].iloc[0]
    approved = ap[(ap["case_id"] == 2) & (ap["event"] == "approved")]["ts"].iloc[0]
    assert approved - asked >= 1.5 / 60  # minutes: the review waited for its reviewer
    # cleanup leaves nothing of the run: documents, their reviews, definitions, groups
    order_ids = [o["id"] for o in orders.values()]
    report = cleanup.cleanup(t)
    assert not report.failed
    assert set(exsim_leftovers(t).values()) == {0}, exsim_leftovers(t)
    assert not _definitions(t)
    assert not t.call("res.groups", "search", [["name", "=like", "exsim approver %"]])
    assert not t.call(
        "tier.review", "search", [["model", "=", "sale.order"], ["res_id", "in", order_ids]]
    )
    assert not t.call("tier.review", "search", [["name", "=like", "exsim approval %"]])


def test_redeploy_of_a_changed_threshold_is_a_diff(t, tmp_path):
    policy = load_policy(write_configs(tmp_path)[1], APPROVALS)
    deploy.deploy_policy(t, policy, CATS)
    again = deploy.deploy_policy(t, policy, CATS)
    assert not (again.created or again.updated or again.removed)
    changed = APPROVALS["approvals"] | {
        "decisions": [
            APPROVALS["approvals"]["decisions"][0]
            | {
                "levels": [
                    {"max_value": 2000, "approver": "auto"},
                    {"max_value": 50000, "approver": "finance_lead"},
                    {"approver": "cfo"},
                ]
            }
        ]
    }
    policy2 = load_policy(write_configs(tmp_path)[1], {"approvals": changed})
    dry = deploy.deploy_policy(t, policy2, CATS, dry_run=True)
    assert sorted(dry.updated) == [
        "approval_shipment_release_sale_order_1",
        "approval_shipment_release_sale_order_2",
    ]
    assert dry.removed == ["approval_expedited_freight_purchase_order_1"]
    assert [line.split(" ")[2] for line in dry.diff if line.startswith("~")] == [
        "definition_domain",
        "definition_domain",
    ]
    assert len(_definitions(t)) == 3  # the dry run changed nothing
    done = deploy.deploy_policy(t, policy2, CATS)
    assert done.diff == dry.diff
    defs = _definitions(t)
    assert len(defs) == 2
    band = defs["exsim approval shipment_release 1 finance_lead"]["definition_domain"]
    assert "('amount_untaxed', '<=', 50000.0)" in band
    assert (
        "('amount_untaxed', '>', 50000.0)"
        in (defs["exsim approval shipment_release 2 cfo"]["definition_domain"])
    )


def test_cleanup_removes_only_exsims_definitions_and_rules(t, tmp_path):
    """A tier definition and an exception rule made by hand survive exsim's cleanup."""
    model = t.call("ir.model", "search", [["model", "=", "sale.order"]])[0]
    mine = t.call(
        "tier.definition",
        "create",
        [{"name": "hand-made review", "model_id": model, "definition_domain": "[]"}],
    )
    rule = t.call(
        "exception.rule",
        "create",
        [
            {
                "name": "hand-made rule",
                "model": "sale.order",
                "exception_type": "by_domain",
                "domain": "[('id', '=', 0)]",
                "active": True,
            }
        ],
    )
    try:
        policy = load_policy(write_configs(tmp_path)[1], APPROVALS)
        deploy.deploy_policy(t, policy, CATS)
        exsim_rule = t.call(
            "exception.rule",
            "create",
            [
                {
                    "name": "exsim exception_rule credit_hold",
                    "model": "sale.order",
                    "exception_type": "by_domain",
                    "domain": "[('name', '=like', 'exsim/credit_hold/%')]",
                }
            ],
        )  # as a deployment whose tag was lost: found by its name
        assert len(_definitions(t)) == 3
        report = cleanup.cleanup(t)
        assert not report.failed
        assert report.deleted["tier.definition"] == 3 and report.deleted["exception.rule"] == 1
        assert not _definitions(t)
        assert not t.call("res.groups", "search", [["name", "=like", "exsim approver %"]])
        assert t.call("tier.definition", "search", [["id", "in", mine]]) == mine
        assert t.call("exception.rule", "search", [["id", "in", rule + exsim_rule]]) == rule
    finally:
        t.call("tier.definition", "unlink", mine)
        t.call("exception.rule", "unlink", rule)


def test_capabilities_name_the_documents_the_modules_cover(t):
    caps = detect(t)
    assert caps.tier_models == {"sale.order", "purchase.order"}
    assert caps.exception_models == {"sale.order", "purchase.order", "stock.picking"}


def test_exception_rule_blocks_the_confirmation_and_is_read_as_a_detection(t, tmp_path):
    """``exception_rule`` on credit holds: an exception.rule on sale orders (the pattern's
    condition without the state, scoped to exsim's cases); injected orders stay drafts with the
    exception linked; a waiver confirms one; observe reads both as detections by
    exception_rule at their occurrence (the rule is checked at the injector's confirm)."""
    policy = load_policy(
        write_configs(tmp_path)[1],
        {"detection": {"credit_hold": {"exception_rule": {"is_blocking": False}}}},
    )
    out = deploy.deploy_policy(t, policy, ["credit_hold"])
    assert out.created == ["exception_rule_credit_hold"] and not out.notes
    rule = t.call(
        "exception.rule",
        "search_read",
        [["name", "=", "exsim exception_rule credit_hold"]],
        fields=["model", "exception_type", "domain", "is_blocking"],
    )[0]
    assert (rule["model"], rule["exception_type"]) == ("sale.order", "by_domain")
    assert rule["domain"] == (
        "[['partner_id.credit_limit', '>', 0], ['name', '=like', 'exsim/credit_hold/%']]"
    )
    master = seed.seed(t)
    anchor = inject.utc_now() - timedelta(minutes=5)
    cases = [PlannedCase(22, i, "credit_hold", 0.0, 0.0, 100.0, "key") for i in (1, 2)]
    inject.Injector(t, master, TimeMap(anchor)).run(cases, lambda cs: [cs])
    orders = t.call(
        "sale.order",
        "search_read",
        [["name", "=like", "exsim/credit_hold/22/%"]],
        fields=["name", "state", "exception_ids"],
        order="name",
    )
    assert [o["state"] for o in orders] == ["draft", "draft"]
    assert all(o["exception_ids"] == [rule["id"]] for o in orders)
    waived = orders[1]["id"]
    t.call("sale.order", "action_ignore_exceptions", [waived])
    t.call("sale.order", "action_confirm", [waived])
    log = eventlog.to_pandas(observe.observe(t, {"anchor": anchor.isoformat(), "speed": 1.0}))
    occurred = log[log["event"] == "occurred"].set_index("case_id")["ts"]
    det = log[log["event"] == "detected"].set_index("case_id")
    assert sorted(det.index) == [1, 2]
    assert set(det["actor"].astype(str)) == {"exception_rule"}
    assert ((det["ts"] - occurred[det.index]).abs() < 0.1).all()  # within 6 s


def test_cleanup_leaves_no_exception_rule_blocking(t, tmp_path):
    policy = load_policy(
        write_configs(tmp_path)[1], {"detection": {"credit_hold": {"exception_rule": {}}}}
    )
    deploy.deploy_policy(t, policy, ["credit_hold"])
    report = cleanup.cleanup(t)
    assert report.deleted.get("exception.rule") == 1
    assert not t.call("exception.rule", "search", [["name", "=like", "exsim %"]])


SCENARIO_APPROVALS = """
name: live-approvals
start: 2026-01-05T08:00:00
horizon_days: 0.25
categories:
  credit_hold:
    rate_per_hour: 6
    handling_min: {mean: 5}
    order_value: {dist: lognormal, mean: 8000, cv: 1.0}
"""
POLICY_APPROVALS = """
extends: default
name: live-approvals
detection:
  "*": {event_rule: {}}
approvals:
  approvers:
    finance_lead: {agents: 50, decision_min: {dist: lognormal, mean: 20, cv: 0.8}}
    cfo: {agents: 50, decision_min: {dist: lognormal, mean: 45, cv: 0.7}}
  decisions:
    - decision: shipment_release
      categories: [credit_hold]
      reject_prob: 0.2
      levels:
        - {max_value: 2000, approver: auto}
        - {max_value: 25000, approver: finance_lead}
        - {approver: cfo}
"""


def test_simulated_approvers_on_live_reviews_give_the_predicted_cycle_time(
    oca_settings, t, tmp_path
):
    """The simulator's approvers answer the live reviews (``reviewer.play``) on the test
    server's clock: the approval cycle time observe reads back from Odoo equals the predicted
    one case by case (to Odoo's second), and sim_vs_live reports the same p50."""
    if oca_settings.server is None:
        pytest.skip("drives the test server's clock (the real-server run is a measurement)")
    from sim.config import load_scenario
    from sim.metrics.sim_vs_live import approvals_by_case, sim_vs_live
    from sim.odoo import plan, reviewer
    from tests.odoo_server.pacer import ClockPacer

    (tmp_path / "s.yaml").write_text(SCENARIO_APPROVALS)
    (tmp_path / "p.yaml").write_text(POLICY_APPROVALS)
    scenario, policy = load_scenario(tmp_path / "s.yaml"), load_policy(tmp_path / "p.yaml")
    cases, sim_df = plan.build_plan(scenario, policy, 5)
    server = oca_settings.server
    server.clock.set(scenario.start)
    try:
        master = seed.seed(t, scenario)
        deploy.deploy_policy(t, policy, ["credit_hold"])
        time_map = TimeMap(scenario.start)
        pacer = ClockPacer(server, time_map)
        decisions = reviewer.decisions_from_log(sim_df)
        assert decisions and {d.outcome for d in decisions.values()} == {"approved", "rejected"}
        done = {"approved": 0, "rejected": 0}

        def pace(items):
            """Each case in turn; the reviews due before it are answered at their time."""
            for item in items:
                while True:
                    due = reviewer.due_reviews(t, decisions, time_map)
                    first = [at for at, *_ in due if at <= time_map.at(item.at)]
                    if not first:
                        break
                    whole = first[0].replace(microsecond=0)  # the clock keeps seconds
                    whole += timedelta(seconds=1) if first[0].microsecond else timedelta(0)
                    pacer.advance_to(time_map.minutes(whole))
                    for k, n in reviewer.answer(t, due, server.clock.now()).items():
                        done[k] += n
                pacer.advance_to(item.at)
                yield [item]

        inject.Injector(t, master, time_map).run(cases, pace)
        rest = reviewer.play(
            t,
            decisions,
            time_map,
            now=server.clock.now,
            sleep=server.clock.advance,
            until=time_map.at(scenario.horizon_min + 24 * 60),
        )
        done = {k: done[k] + rest[k] for k in done}
        run = {"anchor": scenario.start.isoformat(), "speed": 1.0}
        live = eventlog.to_pandas(observe.observe(t, run))
    finally:
        server.clock.resume()
    predicted = approvals_by_case(sim_df).dropna(subset=["cycle"])
    seen = approvals_by_case(live).dropna(subset=["cycle"])
    both = predicted.join(seen, lsuffix="_sim", rsuffix="_live", how="inner")
    assert len(both) == sum(done.values()) == len(decisions)
    assert (both["outcome_sim"] == both["outcome_live"]).all()
    assert (both["approver_sim"] == both["approver_live"]).all()
    assert ((both["cycle_live"] - both["cycle_sim"]).abs() <= 1 / 60 + 1e-9).all()
    report = sim_vs_live(sim_df, live)["approvals"]
    assert abs(report["live"]["cycle_p50"] - report["sim"]["cycle_p50"]) <= 1 / 60 + 1e-9
