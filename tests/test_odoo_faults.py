"""RPC faults during injection (queued on the test server): retried or reported as designed."""

from __future__ import annotations

import pytest

from sim.odoo import inject, mapping, seed
from sim.odoo.plan import PlannedCase, TimeMap
from sim.odoo.settings import Settings
from sim.odoo.transport import Backoff, TransientError, classify, connect
from tests.odoo_server.live import clean, settings_of


@pytest.fixture
def t(fake_odoo, odoo_settings):
    clean(odoo_settings)
    fake_odoo.faults.clear()
    yield connect(settings_of(odoo_settings))
    fake_odoo.faults.clear()
    clean(odoo_settings)


def _injector(t, sleeps, budget_s=0.0):
    return inject.Injector(
        t,
        seed.seed(t),
        TimeMap(inject.utc_now()),
        Backoff(attempts=4, base_s=0.01, sleep=sleeps.append),
        retry_budget_s=budget_s,
    )


CASES = [PlannedCase(5, i, "stock_shortage", float(i), float(i), 100.0, "key") for i in range(6)]


def _count(t, key_prefix="exsim/stock_shortage/5/"):
    return len(t.call("sale.order", "search", [["name", "=like", key_prefix + "%"]]))


@pytest.mark.parametrize("kind", ["reset_after", "reset", "http500"])
def test_lost_create_is_retried_without_duplicates(fake_odoo, t, kind):
    sleeps: list[float] = []
    injector = _injector(t, sleeps)
    fake_odoo.faults.append({"kind": kind, "method": "create"})
    stats = injector.run(CASES, lambda cs: [cs])
    assert stats.retries == 1 and len(sleeps) == 1
    assert _count(t) == len(CASES)  # a committed create whose reply was lost is not repeated
    states = t.call(
        "sale.order",
        "search_read",
        [["name", "=like", "exsim/stock_shortage/5/%"]],
        fields=["state"],
    )
    assert {s["state"] for s in states} == {"sale"}


def test_reads_are_retried_with_growing_jittered_backoff(fake_odoo, t):
    sleeps: list[float] = []
    injector = _injector(t, sleeps)
    fake_odoo.faults.extend([{"kind": "http500", "method": "search_read"}] * 3)
    injector.run(CASES[:2], lambda cs: [cs])
    assert len(sleeps) == 3 and injector.backoff.retried == 3
    assert all(0 <= s <= 0.01 * 2**k for k, s in enumerate(sleeps))


def test_persistent_faults_give_up_with_a_clear_error(fake_odoo, t):
    injector = _injector(t, [])
    fake_odoo.faults.extend([{"kind": "http500", "method": "create"}] * 10)
    with pytest.raises(inject.InjectError, match=r"gave up after 4 attempts.*--resume"):
        injector.run(CASES[:2], lambda cs: [cs])


def test_a_restart_is_ridden_through_within_the_retry_budget(fake_odoo, t):
    """Odoo down for longer than the attempts alone would cover (here 12 refused connections
    in a row): the budget of waiting time keeps the run going, and nothing is duplicated."""
    sleeps: list[float] = []
    injector = _injector(t, sleeps, budget_s=600.0)  # waits are recorded, not slept
    injector.backoff.base_s = 2.0
    fake_odoo.faults.extend([{"kind": "reset", "method": "create"}] * 12)
    stats = injector.run(CASES, lambda cs: [cs])
    assert stats.retries == 12 and stats.cases == len(CASES)
    assert _count(t) == len(CASES)
    short = _injector(t, [], budget_s=1.0)
    short.backoff.base_s = 2.0
    fake_odoo.faults.extend([{"kind": "reset", "method": "search_read"}] * 200)
    with pytest.raises(inject.InjectError, match="--resume"):
        short.run(CASES[:1], lambda cs: [cs])
    fake_odoo.faults.clear()


def test_odoo_refusal_stops_at_once(fake_odoo, odoo_settings, t):
    injector = _injector(t, [])
    demo = connect(
        Settings(
            odoo_settings.url,
            odoo_settings.db,
            "demo",
            "demo",
            timeout_s=10,
            api_key=fake_odoo.user_api_key(6),  # JSON-2 on 19: demo's own key
        )
    )
    injector.transport = demo  # a user without the rights exsim needs
    with pytest.raises(inject.InjectError, match="refused.*AccessError"):
        injector.run(CASES[:2], lambda cs: [cs])
    assert injector.stats.retries == 0 and _count(t) == 0


def test_timeout_is_transient(fake_odoo, odoo_settings):
    fast = connect(
        Settings(
            odoo_settings.url,
            odoo_settings.db,
            "admin",
            odoo_settings.password,
            timeout_s=0.3,
            api_key=odoo_settings.api_key,
        )
    )
    fake_odoo.faults.append({"kind": "delay", "seconds": 1.0, "method": "search_count"})
    with pytest.raises(TransientError, match="timed out"):
        fast.call("res.partner", "search_count", [])
    assert not isinstance(classify(ValueError("x")), TransientError)
    assert mapping.parse_key("exsim/picking_sla/0/12") == ("picking_sla", 0, 12)
