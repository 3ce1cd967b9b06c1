"""Seeding and injection against an Odoo 17 (the test server, or a real one with -m odoo_live).

Seed is idempotent; every category's recipe makes the record its pattern describes (model,
state, trigger date, case key) and tags it; a killed injection resumes without duplicates.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from sim.odoo import inject, mapping, seed
from sim.odoo.plan import Clear, PlannedCase, TimeMap
from sim.odoo.transport import connect
from tests.odoo_server.live import clean, settings_of

pytestmark = pytest.mark.odoo_live


@pytest.fixture
def t(odoo_settings):
    clean(odoo_settings)
    yield connect(settings_of(odoo_settings))
    clean(odoo_settings)


def _cases(categories, rep=7, start=0):
    return [
        PlannedCase(rep, start + i, c, 5.0 * i, 5.0 * i - 45.0, 250.0, "key")
        for i, c in enumerate(categories)
    ]


def test_seed_is_idempotent(t):
    first = seed.seed(t)
    count = t.call("ir.model.data", "search_count", [["module", "=", "exsim"]])
    second = seed.seed(t)
    assert first.created and not second.created
    assert t.call("ir.model.data", "search_count", [["module", "=", "exsim"]]) == count
    assert second.partners == first.partners and second.stocked == first.stocked
    qty = t.call("product.product", "read", [first.stocked], ["qty_available"])[0]
    assert qty["qty_available"] >= seed.STOCK_ON_HAND


def test_inject_creates_each_category_record(t):
    master = seed.seed(t)
    tm = TimeMap(inject.utc_now() - timedelta(hours=2))
    cases = _cases(sorted(mapping.PATTERNS))
    stats = inject.Injector(t, master, tm).run(cases, lambda cs: [cs])
    assert stats.cases == len(cases) and stats.batches == 1
    for c in cases:
        p = mapping.pattern_for(c.category)
        found = t.call(p.model, "search", p.rule_domain())
        tags = t.call(
            "ir.model.data",
            "search_read",
            [["module", "=", "exsim"], ["name", "=", f"{c.tag}_{p.model.replace('.', '_')}"]],
            fields=["res_id"],
        )
        assert len(tags) == 1, c.category
        assert tags[0]["res_id"] in found, f"{c.category}: record does not match its pattern"
        if p.trigger_field in ("scheduled_date", "date_planned", "commitment_date"):
            row = t.call(p.model, "read", [tags[0]["res_id"]], [p.trigger_field])[0]
            assert row[p.trigger_field] == tm.odoo(c.trigger), c.category


def test_killed_inject_resumes_without_duplicates(t):
    master = seed.seed(t)
    tm = TimeMap(inject.utc_now())
    cats = ["picking_sla", "stock_shortage", "inbound_delay", "master_data_gap"] * 3
    cases = _cases(cats, rep=8)

    def dies_after_two(cs):
        yield cs[:3]
        yield cs[3:5]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        inject.Injector(t, master, tm).run(cases, dies_after_two)
    # the process also died between a create and its tag: an untagged order exists
    half = cases[5]  # a stock_shortage case
    t.call(
        "sale.order",
        "create",
        [
            {
                "name": mapping.case_key(half.category, 8, half.case_id),
                "partner_id": master.partners["key"],
                "order_line": [(0, 0, {"product_id": master.unstocked, "product_uom_qty": 1.0})],
            }
        ],
    )
    with pytest.raises(inject.InjectError, match="1 not tagged: an aborted run.*--resume"):
        inject.Injector(t, master, tm).run(cases, lambda cs: [cs])
    stats = inject.Injector(t, master, tm).run(cases, lambda cs: [cs], resume=True)
    assert stats.skipped == 5
    for c in cases:
        p = mapping.pattern_for(c.category)
        key = mapping.case_key(c.category, 8, c.case_id)
        assert len(t.call(p.model, "search", [[p.key_path, "=", key]])) == 1, key
    orders = t.call(
        "sale.order",
        "search_read",
        [["name", "=", mapping.case_key(half.category, 8, half.case_id)]],
        fields=["state"],
    )
    assert [o["state"] for o in orders] == ["sale"]
    tags = t.call(
        "ir.model.data", "search_count", [["module", "=", "exsim"], ["name", "=like", "case_8_%"]]
    )
    # stock_shortage cases carry two tags (order and delivery)
    assert tags == len(cases) + cats.count("stock_shortage")


def test_self_clearing_is_played_into_odoo(t):
    """A case the simulator lets clear by itself stops matching its pattern in Odoo at its
    clearing time, whatever record it is; the others still match."""
    master = seed.seed(t)
    tm = TimeMap(inject.utc_now() - timedelta(hours=2))
    cats = sorted(mapping.PATTERNS)
    cases = [
        PlannedCase(9, i, c, 5.0 * i, 5.0 * i - 45.0, 250.0, "key", 5.0 * i + 3.0)
        for i, c in enumerate(cats)
    ]
    kept = _cases(["picking_sla", "inbound_delay", "master_data_gap"], rep=9, start=100)
    batches = []

    def one_by_one(items):
        for item in items:
            batches.append(item)
            yield [item]

    stats = inject.Injector(t, master, tm).run(cases + kept, one_by_one)
    assert stats.cleared == len(cases) and stats.cases == len(cases) + len(kept)
    # each clearing goes out after its case was made, at its own time
    order = [(type(b).__name__, b.at) for b in batches]
    assert order == sorted(order, key=lambda x: x[1])
    assert [b for b in batches if isinstance(b, Clear)][0].case.case_id == 0
    for c in cases + kept:
        p = mapping.pattern_for(c.category)
        key = mapping.case_key(c.category, 9, c.case_id)
        matching = t.call(p.model, "search", [*p.rule_domain(), [p.key_path, "=", key]])
        assert bool(matching) == (c.cleared is None), c.category


def test_speed_pacer_resumes_from_the_saved_anchor():
    """A run resumed 10 wall minutes after its anchor, at speed 60: what fell due meanwhile
    (minutes < 600) goes out at once, a case at minute 900 five wall minutes later."""
    anchor = inject.utc_now()
    clock = [0.0]
    sleeps = []

    def sleep(s):
        sleeps.append(s)
        clock[0] += s

    cases = [
        PlannedCase(7, i, "picking_sla", m, m, 1.0, None) for i, m in enumerate((10, 590, 900))
    ]
    pacer = inject.SpeedPacer(
        60.0,
        clock=lambda: clock[0],
        sleep=sleep,
        start=anchor,
        now=lambda: anchor + timedelta(minutes=10),
    )
    batches = [[c.case_id for c in b] for b in pacer(cases)]
    assert batches == [[0, 1], [2]]
    assert sleeps == [pytest.approx(300.0)]


def test_ramp_steps_get_the_cases_they_announce(t):
    """A ramp needing more cases than the plan has gets copies under further replication
    numbers (new keys), each step exactly rate x step_s cases; too few cases is an error."""
    from sim.odoo.loadtest import RampError, cases_for_ramp, ramp_test

    master = seed.seed(t)
    plan = _cases(["master_data_gap", "picking_sla"], rep=11)
    ramp = cases_for_ramp(plan, [20.0, 40.0], 0.1)
    assert len(ramp) == 6 and len({c.tag for c in ramp}) == 6
    with pytest.raises(RampError, match="needs 6 cases and the plan has 2"):
        ramp_test(inject.Injector(t, master, TimeMap(inject.utc_now())), plan, [20, 40], 0.1)
    steps = ramp_test(inject.Injector(t, master, TimeMap(inject.utc_now())), ramp, [20, 40], 0.1)
    assert [s.cases for s in steps] == [2, 4]
    assert [s.records for s in steps] == [2, 4]  # one partner, one transfer per case
    assert t.call("ir.model.data", "search_count", [["name", "=like", "case_%"]]) == 6


def test_probe_catches_a_pass_of_the_cron_thread():
    """The probe makes a deployed job due and reports the ``lastcall`` of the pass that ran
    it; with no job deployed, or no pass within the timeout, the phase is unknown."""
    from datetime import datetime

    from sim.odoo.deploy import probe_cron_wake

    class Odoo:
        def __init__(self, jobs, runs_after):
            self.jobs, self.runs_after, self.reads, self.written = jobs, runs_after, 0, None

        def call(self, model, method, *args, **kwargs):
            if model == "ir.model.data":
                return self.jobs if args[0][0][2] == "exsim" else []
            if method == "write":
                self.written = args[1]["nextcall"]
                return True
            self.reads += 1
            ran = self.written and self.reads > self.runs_after
            return [{"lastcall": "2026-12-01 16:25:11" if ran else "2026-12-01 16:03:07"}]

    clock = [datetime(2026, 12, 1, 16, 25, 8)]

    def sleep(s):
        clock[0] += timedelta(seconds=s)

    scan = [{"name": "scan_picking_sla", "model": "ir.cron", "res_id": 5}]
    odoo = Odoo(scan, runs_after=3)
    assert probe_cron_wake(odoo, lambda: clock[0], sleep) == datetime(2026, 12, 1, 16, 25, 11)
    assert odoo.written == "2026-12-01 16:25:08"  # the job was made due at once
    assert probe_cron_wake(Odoo([], 0), lambda: clock[0], sleep) is None
    assert probe_cron_wake(Odoo(scan, 10**6), lambda: clock[0], sleep, timeout_s=5) is None
