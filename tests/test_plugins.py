"""Plug-ins: a user's package adds parts through entry points, and YAML names them."""

from __future__ import annotations

import sys
import textwrap

import pytest

from sim import config, plugins
from sim.metrics import summarize
from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario
from tests.helpers import run_log

PACKAGE = '''
"""A tiny exsim plug-in package, as a user would write one."""
from pydantic import BaseModel, Field


class CallCustomerParams(BaseModel):
    role: str = "account_manager"


class CallCustomer:
    """An escalation action: the account manager calls the customer, and the case goes up."""

    params = CallCustomerParams

    def __init__(self, port, spec):
        self.port, self.role = port, spec.role

    def __call__(self, case, detail):
        self.port.record(case, "notified", detail=detail, team=self.role)
        return self.port.raise_severity(case, 1, False, detail)


class EveryCaseParams(BaseModel):
    delay_min: float = Field(ge=0)


class FixedDelay:
    """A detection mechanism: notices every case a fixed time after it occurs."""

    params = EveryCaseParams

    def __init__(self, port, category, spec, stream):
        self.port, self.delay = port, spec.delay_min

    def watch(self, case):
        self.port.schedule(self.delay, lambda c: self.port.detect(c, "fixed_delay"), case)


def by_value(case):
    """A queue discipline: the most valuable case first."""
    return -case.value


class Coin:
    """A severity scorer: heads critical, tails low, from its own named stream."""

    params = None

    def __init__(self, port, policy, params):
        self.stream = port.stream("severity/coin")

    def __call__(self, case, now):
        return (3 if self.stream.random() < 0.5 else 0), "coin", 0.0
'''

ENTRY_POINTS = """
[exsim.escalation_actions]
call_customer = exsim_tiny:CallCustomer

[exsim.mechanisms]
fixed_delay = exsim_tiny:FixedDelay

[exsim.disciplines]
by_value = exsim_tiny:by_value

[exsim.scorers]
coin = exsim_tiny:Coin

[exsim.decisions]
credit_note = exsim_tiny:CallCustomerParams
"""


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """``exsim_tiny`` installed the way pip leaves a package: module plus dist-info."""
    (tmp_path / "exsim_tiny.py").write_text(textwrap.dedent(PACKAGE))
    info = tmp_path / "exsim_tiny-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: exsim-tiny\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for kind, name in (
        ("escalation_actions", "call_customer"),
        ("mechanisms", "fixed_delay"),
        ("disciplines", "by_value"),
        ("scorers", "coin"),
        ("decisions", "credit_note"),
    ):
        plugins._REGISTRY[kind].pop(name, None)
    sys.modules.pop("exsim_tiny", None)


POLICY = """
name: with-plugins
detection:
  "*": {fixed_delay: {delay_min: 7}}
severity:
  default: low
routing: {default: desk}
staffing: {teams: {desk: {agents: 1}}}
queue: {discipline: by_value}
escalation:
  ladders:
    low:
      - {after_min: 30, actions: [{call_customer: {role: key_account}}]}
approvals:
  approvers: {lead: {agents: 1}}
  decisions:
    - {decision: credit_note, categories: [credit_hold], levels: [{approver: auto}]}
"""


def _scenario() -> Scenario:
    cat = {
        "rate_per_hour": 2.5,
        "handling_min": {"dist": "exponential", "mean": 20},
        "order_value": {"dist": "lognormal", "mean": 1000, "cv": 1.0},
    }
    return Scenario.model_validate(
        {"name": "p", "horizon_days": 3, "categories": {"credit_hold": cat}}
    )


def test_a_package_adds_parts_that_yaml_names(installed, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    policy = config.load_policy(str(path))
    assert "call_customer" in plugins.names("escalation_actions")
    df = run_log(_scenario(), policy)
    s = summarize(df)
    detected = df[df.event == "detected"]
    assert set(detected.actor.astype(str)) == {"fixed_delay"}  # the plug-in mechanism
    occurred = df[df.event == "occurred"].set_index("case_id").ts
    lag = detected.ts.to_numpy() - occurred.loc[detected.case_id].to_numpy()
    assert lag == pytest.approx(7.0)
    acted = s["escalation_actions"]["tier1:call_customer"]
    assert acted["cases"] > 10  # the plug-in action ran, through the port
    calls = df[(df.event == "notified") & (df.detail.astype(str) == "tier1:call_customer")]
    assert set(calls.team.astype(str)) == {"key_account"}
    raised = df[(df.event == "classified") & (df.detail.astype(str) == "tier1:call_customer")]
    assert (raised.severity.astype(str) == "medium").all() and len(raised) == acted["cases"]
    assert s["approvals"]["auto_approved"] > 0  # the plug-in decision type
    # the plug-in discipline orders the queue: waiting cases start most valuable first
    assert s["queue_wait"]["by_severity"]["low"]["n"] > 0


def test_a_plugin_scorer_draws_from_its_own_named_stream(installed):
    doc = {
        "routing": {"default": "desk"},
        "staffing": {"teams": {"desk": {"agents": 3}}},
        "severity": {"scorer": {"coin": None}},
    }
    df = run_log(_scenario(), Policy.model_validate(doc))
    sev = df[df.event == "classified"].severity.astype(str)
    assert set(sev) == {"critical", "low"}
    assert 0.35 < (sev == "critical").mean() < 0.65
    again = run_log(_scenario(), Policy.model_validate(doc))
    assert (again[again.event == "classified"].severity.astype(str).to_numpy() == sev).all()


def test_plugin_settings_are_validated_like_any_field(installed, tmp_path):
    bad = POLICY.replace("delay_min: 7", "delay_min: -1")
    path = tmp_path / "policy.yaml"
    path.write_text(bad)
    with pytest.raises(config.ConfigError, match=r"fixed_delay.delay_min"):
        config.load_policy(str(path))


def test_unknown_names_list_what_is_known_and_where_to_add_one():
    doc = {
        "routing": {"default": "desk"},
        "staffing": {"teams": {"desk": {"agents": 1}}},
        "detection": {"*": {"carrier_pigeon": {}}},
    }
    with pytest.raises(ValueError, match=r"unknown mechanism 'carrier_pigeon'.*exsim.mechanisms"):
        Policy.model_validate(doc)


def test_operations_mode_refuses_a_category_its_world_cannot_make(tmp_path):
    doc = {
        "name": "ops",
        "mode": "operations",
        "categories": {"alien_invasion": {"handling_min": {"dist": "exponential", "mean": 5}}},
    }
    with pytest.raises(ValueError, match="categories.alien_invasion: the operations world"):
        Scenario.model_validate(doc)
