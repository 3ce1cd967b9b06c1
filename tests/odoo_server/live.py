"""Helpers shared by the live-backend tests: a small scenario and policy, and a whole live run
(seed, deploy, inject on the test server's clock, observe) in one call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import eventlog
from sim.config import load_policy, load_scenario
from sim.odoo import cleanup, deploy, inject, observe, plan, seed
from sim.odoo.settings import Settings
from sim.odoo.transport import connect

from .pacer import ClockPacer

SCENARIO = """
name: live-small
start: 2026-01-05T00:00:00
horizon_days: {days}
categories:
  picking_sla:
    rate_per_hour: 3
    handling_min: {{mean: 10}}
    trigger_age: {{prob: 0.5, age_min: {{dist: lognormal, mean: 90, cv: 0.5}}}}
  stock_shortage:
    rate_per_hour: 1.5
    handling_min: {{mean: 10}}
  inbound_delay:
    rate_per_hour: 1
    handling_min: {{mean: 10}}
    has_customer: false
"""
POLICY = """
extends: default
name: live-rules
detection:
  "*": {event_rule: {}}
  picking_sla: {time_rule: {delay: 30, unit: minutes, lag_min: 0}}
  inbound_delay: {scan: {interval_min: 60, threshold_min: 30, lag_min: 0}}
"""


def write_configs(tmp: Path, days: float = 0.25) -> tuple[Path, Path]:
    s, p = tmp / "live-small.yaml", tmp / "live-rules.yaml"
    s.write_text(SCENARIO.format(days=days))
    p.write_text(POLICY)
    return s, p


def settings_of(odoo_settings) -> Settings:
    return Settings(
        odoo_settings.url,
        odoo_settings.db,
        odoo_settings.user,
        odoo_settings.password,
        timeout_s=10,
        api_key=odoo_settings.api_key,
    )


@dataclass
class LiveRun:
    sim: pd.DataFrame
    live: pd.DataFrame
    cases: list


def live_run(
    odoo_settings,
    scenario_path: Path,
    policy_path: Path,
    seed_: int = 3,
    speed: float = 1.0,
    predict: bool = True,
) -> LiveRun:
    """The whole loop on the test server: its clock runs through the horizon in no time.

    At ``speed`` K the policy is deployed compressed K times, as ``deploy-policy --speed``
    does; the simulated side is the policy as Odoo runs it at that speed (``plan.at_speed``)
    unless ``predict`` is off (then the policy as written, the naive comparison)."""
    server = odoo_settings.server
    scenario, policy = load_scenario(scenario_path), load_policy(policy_path)
    live_policy = plan.at_speed(policy, speed, list(scenario.categories))[0]
    cases, sim_df = plan.build_plan(scenario, live_policy if predict else policy, seed_)
    time_map = plan.TimeMap(scenario.start, speed)
    server.clock.set(scenario.start)
    t = connect(settings_of(odoo_settings))
    master = seed.seed(t, scenario)
    deploy.deploy_policy(t, policy, list(scenario.categories), speed)
    run = {
        "anchor": scenario.start.isoformat(),
        "speed": speed,
        "scenario": scenario.name,
        "policy": policy.name,
        "seed": seed_,
        "horizon_min": scenario.horizon_min,
    }
    inject.save_run(t, run)
    deploy.align_schedules(t, run["anchor"], live_policy, speed)
    pacer = ClockPacer(server, time_map)
    inject.Injector(t, master, time_map).run(cases, pacer)
    pacer.finish(scenario.horizon_min)
    live_df = eventlog.to_pandas(observe.observe(t, run))
    return LiveRun(sim_df, live_df, cases)


def clean(odoo_settings) -> None:
    cleanup.cleanup(connect(settings_of(odoo_settings)))


def exsim_leftovers(t) -> dict[str, int]:
    """Everything that still points at exsim after a cleanup (what the issue counted)."""
    ctx = {"context": {"active_test": False}}
    left = {
        "tags": t.call("ir.model.data", "search_count", [["module", "=", "exsim"]]),
        "pickings": t.call(
            "stock.picking", "search_count", [["origin", "=like", "exsim/%"]], **ctx
        ),
        "moves": t.call("stock.move", "search_count", [["origin", "=like", "exsim/%"]]),
        "orders": t.call("sale.order", "search_count", [["name", "=like", "exsim/%"]])
        + t.call("purchase.order", "search_count", [["name", "=like", "exsim/%"]]),
        "partners": t.call("res.partner", "search_count", [["ref", "=like", "exsim/%"]], **ctx),
        "stocked archived products": len(
            [
                p
                for p in t.call(
                    "product.product",
                    "search_read",
                    [["name", "=like", "exsim %"], ["active", "=", False]],
                    fields=["qty_available"],
                    **ctx,
                )
                if p["qty_available"]
            ]
        ),
    }
    for model in ("stock.picking", "sale.order", "purchase.order"):
        ids = t.call(model, "search", [], **ctx)
        left["messages"] = left.get("messages", 0) + t.call(
            "mail.message",
            "search_count",
            [["model", "=", model], ["res_id", "not in", ids]],
        )
    return left
