"""Replay: recorded histories through candidate policies, next to the as-is outcome."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from replay import load_log
from replay.history import history_of
from replay.run import AS_IS, as_is_log, replay
from replay.world import history_world
from sim.cli import app
from sim.config import load_policy, load_scenario
from sim.engine import Simulation
from sim.eventlog import to_pandas
from sim.exports import export
from sim.metrics import case_table, get_path, summarize_reps
from sim.scenarios.schema import Distribution
from tests.profiles import examples

DATA = Path(__file__).parent / "data" / "replay"
runner = CliRunner()


@pytest.fixture(scope="module")
def simulated(default_policy) -> pd.DataFrame:
    """A week of the default world under the default policy: the 'history'."""
    scenario = load_scenario("default", {"horizon_days": 7})
    return to_pandas(Simulation(scenario, default_policy, seed=11).run().table())


@pytest.fixture(scope="module")
def replays(simulated, default_policy, tmp_path_factory):
    """The history exported to a file (by name: its format), read back and replayed under its
    own policy (seed 5, two replications); each made once, read by the tests below."""
    made: dict = {}

    def replayed(name: str):
        if name not in made:
            log, _ = load_log(export(simulated, tmp_path_factory.mktemp("export") / name))
            history = history_of(log)
            made[name] = history, replay(history, [default_policy], seed=5, reps=2)
        return made[name]

    return replayed


# -- round trip: the same policy on its own history gives back the same outcome -------------
@pytest.mark.parametrize("name", ["h.parquet", "h.csv", "h.xes", "h.jsonocel"])
def test_replaying_a_log_with_its_own_policy_reproduces_it(
    simulated: pd.DataFrame, replays, name: str
) -> None:
    _, outcome = replays(name)
    original = summarize_reps(simulated)
    again = outcome.runs["default"].summary
    assert again["cases"]["generated"] == original["cases"]["generated"]
    for path, tol in (
        ("cases.resolved", 0.02),
        ("detection_latency_min.mean", 0.05),
        ("time_to_resolve_min.mean", 0.05),
        ("backlog.mean", 0.05),
    ):
        want, got = get_path(original, path), get_path(again, path)
        assert got == pytest.approx(want, rel=tol), path
    assert again["sla"]["overall"] == pytest.approx(original["sla"]["overall"], abs=0.02)
    # the as-is column is the log itself, measured the same way (a CSV has no horizon: it ends
    # at the last event, so a few open cases are still pending rather than breached)
    tol = 0.01 if name.endswith(".csv") else 1e-12
    assert outcome.as_is["sla"]["overall"] == pytest.approx(original["sla"]["overall"], abs=tol)
    assert outcome.as_is["cases"] == original["cases"]


def test_a_leaner_policy_changes_the_outcome_but_not_the_world(simulated, default_policy):
    lean = load_policy("lean-desk")
    outcome = replay(history_of(simulated), [default_policy, lean], seed=2)
    base, other = outcome.runs["default"], outcome.runs["lean-desk"]
    cases = [case_table(to_pandas(r.result.table)) for r in (base, other)]
    hist = history_of(simulated).cases.sort_values("case_id")
    for c in cases:  # identical exceptions, in the same order, at the same times
        assert c["occurred"].tolist() == pytest.approx(hist["occurred"].tolist())
        assert c["category"].astype(str).tolist() == hist["category"].tolist()
    assert base.summary["labour"]["agent_hours"] != other.summary["labour"]["agent_hours"]
    assert "replay" in other.summary and other.summary["replay"]["assumptions"]


@pytest.mark.parametrize("name", ["h.parquet", "h.xes"])
def test_a_replayed_case_keeps_its_promise(simulated: pd.DataFrame, replays, name: str) -> None:
    recorded = simulated.drop_duplicates("case_id").set_index("case_id")["promise_ts"]
    assert recorded.notna().any() and recorded.isna().any()
    history, outcome = replays(name)
    again = to_pandas(outcome.runs["default"].result.table)
    assert again.rep.nunique() == 2
    again = again[again.rep == 1]  # each replication keeps it: the second one here
    got = again.drop_duplicates("case_id").sort_values("case_id")["promise_ts"].to_numpy(float)
    hist = history.cases.sort_values(["occurred", "case_id"], kind="stable")
    want = hist["promise"].to_numpy(float)
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0, equal_nan=True)
    np.testing.assert_allclose(want, recorded.loc[hist["case_id"]].to_numpy(float), atol=1e-6)


def test_recorded_effort_is_the_hands_on_time(default_policy) -> None:
    scenario = load_scenario(
        "default",
        {
            "horizon_days": 3,
            "categories.stock_shortage.handling_min": {"dist": "constant", "mean": 17},
        },
    )
    log = to_pandas(Simulation(scenario, default_policy, seed=3).run().table())
    cases = history_of(log).cases
    effort = cases.loc[cases["category"] == "stock_shortage", "effort"].dropna()
    assert len(effort) > 20 and np.allclose(effort, 17.0)


def test_unknown_effort_is_drawn_reproducibly_from_a_named_stream(default_policy) -> None:
    log, _ = load_log(DATA / "odoo_exceptions.csv", DATA / "odoo_exceptions.mapping.yaml")
    history = history_of(log)
    assert history.cases["effort"].isna().all()  # the export never says when work started
    a = replay(history, [default_policy], seed=4, reps=2)
    b = replay(history, [default_policy], seed=4, reps=2)
    c = replay(history, [default_policy], seed=5, reps=2)
    table = [o.runs["default"].result.table for o in (a, b, c)]
    assert table[0].equals(table[1])
    assert not table[0].equals(table[2])
    assert any("draw from their category's fitted distribution" in n for n in a.assumptions)


def test_as_is_deadlines_come_from_the_policy_when_the_log_has_none(default_policy) -> None:
    log, _ = load_log(DATA / "odoo_exceptions.csv", DATA / "odoo_exceptions.mapping.yaml")
    history = history_of(log)
    outcome = replay(history, [default_policy], seed=1)
    assert outcome.as_is["replay"]["sla_from"] == "default"
    assert any("SLA targets" in n for n in outcome.as_is["replay"]["assumptions"])
    cases = case_table(as_is_log(history, default_policy))
    for row in cases.itertuples():
        sev = None if pd.isna(row.severity) else str(row.severity)
        target = default_policy.sla.target(row.category, sev)
        assert row.due == pytest.approx(row.occurred + target)
    # the case with only a 'resolved' row still counts, occurring at its first event
    assert outcome.as_is["cases"]["generated"] == log["case_id"].nunique()


# -- the history world, as a property -----------------------------------------------------------
_case = st.tuples(
    st.floats(0, 2000, allow_nan=False),  # occurred
    st.sampled_from(["stock_shortage", "picking_sla", "credit_hold"]),
    st.one_of(st.none(), st.floats(0.5, 300)),  # effort (None: unknown)
    st.one_of(st.none(), st.floats(0, 600)),  # trigger age
    st.one_of(st.none(), st.floats(0, 6000)),  # minutes to the promise (None: none)
)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_case, min_size=1, max_size=30))
def test_every_historical_case_occurs_once_as_recorded(default_policy, rows) -> None:
    occurred = np.array([r[0] for r in rows])
    cases = pd.DataFrame(
        {
            "case_id": np.arange(len(rows)),
            "occurred": occurred,
            "category": [r[1] for r in rows],
            "effort": [np.nan if r[2] is None else r[2] for r in rows],
            "order_value": np.nan,
            "customer_tier": None,
            "warehouse": "WH",
            "site": "main",
            "trigger": [
                o - (0 if r[3] is None else r[3]) for o, r in zip(occurred, rows, strict=True)
            ],
            "promise": [
                np.nan if r[4] is None else o + r[4] for o, r in zip(occurred, rows, strict=True)
            ],
            "cleared_after": np.nan,
            "parent_case_id": pd.array([pd.NA] * len(rows), dtype="Int64"),
        }
    )
    handling = {c: Distribution(dist="exponential", mean=20) for c in set(cases["category"])}
    scenario = load_scenario("default", {"horizon_days": 2})
    sim = Simulation(scenario, default_policy, seed=1, world=history_world(cases, handling))
    log = to_pandas(sim.run().table())
    got = case_table(log)
    assert len(got) == len(rows)
    order = cases.sort_values(["occurred", "case_id"], kind="stable")
    assert got["occurred"].tolist() == pytest.approx(order["occurred"].tolist())
    assert got["category"].astype(str).tolist() == order["category"].tolist()
    trig = log.drop_duplicates("case_id").sort_values("case_id")["trigger_ts"].to_numpy()
    assert trig == pytest.approx(order["trigger"].to_numpy())
    promise = log.drop_duplicates("case_id").sort_values("case_id")["promise_ts"].to_numpy()
    np.testing.assert_allclose(promise, order["promise"].to_numpy(), equal_nan=True)
    done = got.dropna(subset=["work_started", "resolved"])
    known = order["effort"].to_numpy()[done.index]
    spent = (done["resolved"] - done["work_started"]).to_numpy()
    mask = np.isfinite(known)
    assert spent[mask] == pytest.approx(known[mask])


# -- the command line --------------------------------------------------------------------------
def test_cli_replay_writes_one_run_dir_per_policy_and_as_is(simulated, tmp_path: Path) -> None:
    log = export(simulated, tmp_path / "week.xes")
    out = tmp_path / "out"
    args = ["replay", str(log), "-p", "default", "-p", "lean-desk", "--out", str(out), "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    summaries = json.loads(res.stdout)
    assert list(summaries) == [AS_IS, "default", "lean-desk"]
    for name in summaries:
        files = {p.name for p in (out / name).iterdir()}
        assert files == {"events.parquet", "summary.json", "scenario.yaml", "policy.yaml"}
        on_disk = json.loads((out / name / "summary.json").read_text())
        assert on_disk["replay"]["assumptions"] == summaries[name]["replay"]["assumptions"]
    res = runner.invoke(app, ["replay", str(log), "--out", str(tmp_path / "t")])
    assert res.exit_code == 0 and "as-is" in res.stdout and "assumptions" in res.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.csv"], "missing.csv: no such file"),
        (["{data}/odoo_exceptions.csv"], "not an exsim log"),
        (
            ["{data}/odoo_exceptions.csv", "-m", "{data}/bad_activity.mapping.yaml"],
            "bad_activity.mapping.yaml: activities.Picked",
        ),
        (["{data}/wms_audit.xes", "-p", "no-such-policy"], "no-such-policy: no such file"),
        ([], "missing LOG"),
        (["--odoo"], "--odoo needs --since and --until"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_nothing_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    full = ["replay", *[a.format(data=DATA) for a in args], "--out", str(out)]
    res = runner.invoke(app, full)
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert message in err and "\n" not in err and "Traceback" not in res.output
    assert not out.exists()


# -- history pulled from a live Odoo (the test server), read-only ------------------------------
def _stocked(odoo, name: str, qty: float) -> int:
    product = odoo.env["product.product"].create(
        {"name": name, "detailed_type": "product", "list_price": 10.0}
    )
    if qty:
        wh = odoo.env["stock.warehouse"].search_read([("code", "=", "WH")], ["lot_stock_id"])
        quant = (
            odoo.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": product,
                    "location_id": wh[0]["lot_stock_id"][0],
                    "inventory_quantity": qty,
                }
            )
        )
        odoo.execute_kw("stock.quant", "action_apply_inventory", [[quant]])
    return product


def test_pull_history_from_odoo_turns_records_into_cases(odoo, advance_time) -> None:
    from replay.odoo_history import READ_METHODS, pull_history

    now = odoo.env["res.partner"].read(
        [odoo.env["res.partner"].create({"name": "replay clock"})], ["write_date"]
    )[0]["write_date"]
    t0 = datetime.strptime(now, "%Y-%m-%d %H:%M:%S")
    customer = odoo.env["res.partner"].create({"name": "replay customer"})
    stocked, empty = _stocked(odoo, "replay widget", 10), _stocked(odoo, "replay gadget", 0)
    orders = odoo.env["sale.order"]
    ready, short = (
        orders.create(
            {
                "partner_id": customer,
                "order_line": [(0, 0, {"product_id": p, "product_uom_qty": 1})],
            }
        )
        for p in (stocked, empty)
    )
    odoo.execute_kw("sale.order", "action_confirm", [[ready, short]])
    (p_ready,) = orders.read([ready], ["picking_ids"])[0]["picking_ids"]
    # the delivery was due three hours ago: it became Ready after its date had passed
    late = (t0 - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")
    odoo.env["stock.picking"].write([p_ready], {"scheduled_date": late})
    advance_time(600)
    odoo.env["mail.activity"].create(
        {
            "res_model_id": odoo.env["ir.model"].search([("model", "=", "stock.picking")])[0],
            "res_id": p_ready,
            "summary": "late delivery",
            "user_id": odoo.env.uid,
        }
    )
    advance_time(1800)
    odoo.execute_kw("stock.picking", "button_validate", [[p_ready]])

    calls: list[tuple[str, str]] = []
    execute = odoo.execute_kw

    def spy(model, method, args=None, kwargs=None):
        calls.append((model, method))
        return execute(model, method, args or [], kwargs or {})

    odoo.execute_kw = spy
    log = pull_history(odoo, t0 - timedelta(days=1), t0 + timedelta(days=1))
    assert calls and all(method in READ_METHODS for _, method in calls)
    cases = history_of(log).cases
    ids = dict(zip(log.attrs["meta"].extra["source_case_ids"]["0"], range(len(cases)), strict=True))
    sla = cases[cases["case_id"] == ids[f"{_name(odoo, p_ready)}#picking_sla"]].iloc[0]
    t0_min = 24 * 60
    assert sla["occurred"] == pytest.approx(t0_min, abs=1)  # became Ready at t0
    assert sla["trigger"] == pytest.approx(t0_min - 180, abs=1)  # backdated to its date
    assert sla["detected"] == pytest.approx(t0_min + 10, abs=1)  # the activity
    assert sla["resolved"] == pytest.approx(t0_min + 40, abs=1)  # validated
    (p_short,) = orders.read([short], ["picking_ids"])[0]["picking_ids"]
    shortage = f"{_name(odoo, p_short)}#stock_shortage"
    assert shortage in ids
    assert np.isnan(cases.loc[cases["case_id"] == ids[shortage], "resolved"].iloc[0])


def _name(odoo, picking: int) -> str:
    return odoo.env["stock.picking"].read([picking], ["name"])[0]["name"]
