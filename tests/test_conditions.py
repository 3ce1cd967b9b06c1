"""Severity rules' conditions copied into plain values judge every case as the policy states."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.case import Case
from sim.eventlog import SEVERITY_RANK
from sim.policies.conditions import Check
from sim.policies.schema import Condition, SeverityPolicy
from sim.policies.severity import RuleScorer, scorer

NAMES = ["stock_shortage", "credit_hold", "strategic", "key", "north", "WH-1", "high"]
bounds = st.one_of(st.none(), st.floats(-100, 20_000, allow_nan=False))
lists = st.one_of(st.none(), st.lists(st.sampled_from(NAMES), max_size=3))
conditions = st.builds(
    Condition,
    category=lists,
    customer_tier=st.one_of(
        st.none(), st.lists(st.sampled_from(["strategic", "key", "standard"]), max_size=2)
    ),
    site=lists,
    warehouse=lists,
    order_value_min=bounds,
    order_value_max=bounds,
    hours_to_promise_max=bounds,
    sla_minutes_left_max=bounds,
    recorded_severity=st.one_of(
        st.none(), st.lists(st.sampled_from(["low", "medium", "high"]), max_size=2)
    ),
)
maybe = st.one_of(st.none(), st.sampled_from(NAMES + ["standard"]))
numbers = st.one_of(st.just(math.nan), st.floats(-1e4, 1e5, allow_nan=False))


def stated(cond: Condition, case: Case, now: float) -> bool:
    """The condition as the policy schema states it, read field by field from the model."""
    checks = [
        cond.category is None or case.category in cond.category,
        cond.customer_tier is None or case.tier in cond.customer_tier,
        cond.site is None or case.site in cond.site,
        cond.warehouse is None or case.warehouse in cond.warehouse,
        cond.recorded_severity is None or case.recorded_severity in cond.recorded_severity,
        cond.order_value_min is None or case.value >= cond.order_value_min,
        cond.order_value_max is None or case.value <= cond.order_value_max,
        cond.hours_to_promise_max is None
        or (case.promise - now) / 60.0 <= cond.hours_to_promise_max,
        cond.sla_minutes_left_max is None or case.due - now <= cond.sla_minutes_left_max,
    ]
    return all(checks)


@settings(max_examples=200, deadline=None)
@given(
    cond=conditions,
    category=st.sampled_from(NAMES),
    tier=maybe,
    site=maybe,
    warehouse=maybe,
    recorded=maybe,
    value=numbers,
    promise=numbers,
    due=st.floats(0, 1e4),
    now=st.floats(0, 1e4),
)
def test_a_check_holds_exactly_when_the_condition_does(
    cond, category, tier, site, warehouse, recorded, value, promise, due, now
):
    case = Case(0, category, 0.0, 1.0, value, tier, warehouse, site, due)
    case.promise = promise
    case.recorded_severity = recorded
    assert Check(cond).holds(case, now) == stated(cond, case, now)


@settings(max_examples=100, deadline=None)
@given(
    conds=st.lists(conditions, min_size=1, max_size=4),
    value=numbers,
    tier=maybe,
)
def test_the_rules_scorer_gives_the_first_rule_that_holds(conds, value, tier):
    policy = SeverityPolicy(
        default="low",
        rules=[
            {"id": f"r{i}", "when": c.model_dump(), "severity": "high"} for i, c in enumerate(conds)
        ],
    )
    case = Case(0, "stock_shortage", 0.0, 1.0, value, tier, "WH-1", "north", 60.0)
    first = next((i for i, c in enumerate(conds) if stated(c, case, 0.0)), None)
    if first is None:
        expected = (SEVERITY_RANK["low"], "default", 0.0)
    else:
        expected = (SEVERITY_RANK["high"], f"rule:r{first}", 0.0)
    assert scorer(policy, None)(case, 0.0) == expected
    assert RuleScorer(policy)(case, 0.0) == expected
