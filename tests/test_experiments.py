"""Experiments: common random numbers, CI coverage, sweeps, Pareto fronts, check and staff."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim import erlang, eventlog
from sim.cli import app
from sim.config import ConfigError, load_policy, load_scenario
from sim.experiments import (
    RequirementError,
    RunSettings,
    compare,
    evaluate,
    evaluate_policy,
    pareto_front,
    parse,
    recommend,
    sweep,
)
from sim.experiments.requirements import OPS
from sim.experiments.staffing import with_headcount
from sim.metrics import summarize_reps
from sim.policies.schema import Policy
from sim.reference import mmc
from sim.scenarios.schema import Scenario
from sim.testing import run_policy
from tests.profiles import examples

cli = CliRunner()
SERIAL = "serial"


@pytest.fixture(scope="module")
def short():
    return load_scenario("default", {"horizon_days": 2})


@pytest.fixture(scope="module")
def duel(short):
    pols = [load_policy("default"), load_policy("lean-desk")]
    return compare(short, pols, RunSettings(reps=3, seed=4, backend=SERIAL))


# -- run settings and the one evaluation path ------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (RunSettings(seed=-1), "seed: must be >= 0"),
        (RunSettings(reps=0), "reps: must be >= 1"),
        (RunSettings(workers=0), "workers: must be >= 1"),
        (RunSettings(warmup_min=2 * 1440.0), r"warm-up: must lie in \[0, 2 days\)"),
    ],
)
def test_run_settings_name_what_cannot_run(short, settings, message):
    with pytest.raises(ValueError, match=message):
        settings.check(short)
    assert RunSettings(reps=2, warmup_min=60.0).check(short).reps == 2


def test_check_and_the_qa_harness_judge_the_same_outcome(short, duel):
    """``exsim check``'s path and ``sim.testing`` fold the same runs into the same summary
    (the comparison's own summary of that policy on those settings)."""
    settings = RunSettings(reps=3, seed=4, backend=SERIAL)
    judged = evaluate_policy(short, "lean-desk", ["sla.overall>=0", "sla.overall>1"], settings)
    assert [v.passed for v in judged.verdicts] == [True, False] and not judged.passed
    outcome = run_policy(short, "lean-desk", reps=3, seed=4, backend=SERIAL)
    assert outcome.summary == judged.summary == duel.summaries["lean-desk"]


# -- compare ----------------------------------------------------------------------------------
def test_policies_see_identical_exception_streams(duel):
    cols = ["rep", "case_id", "ts", "category", "order_value", "customer_tier", "warehouse"]
    occurred = {}
    for name, table in duel.logs.items():
        df = eventlog.to_pandas(table)
        df = df[df["event"] == "occurred"][cols].astype({"category": str, "warehouse": str})
        occurred[name] = df.sort_values(["rep", "case_id"]).reset_index(drop=True)
    a, b = occurred.values()
    assert len(a) > 100 and a["rep"].nunique() == 3
    pd.testing.assert_frame_equal(a, b)


def test_summaries_equal_summarize_reps_of_the_kept_log(duel):
    for name, table in duel.logs.items():
        assert duel.summaries[name] == summarize_reps(eventlog.to_pandas(table))


def test_paired_difference_is_the_mean_of_per_rep_differences(duel):
    base, other = duel.policies
    for kpi in ("sla.overall", "queue_wait_min.mean", "labour.cost"):
        path = kpi.split(".")

        def get(s, path=path):
            for p in path:
                s = s[p]
            return s

        d = [get(o) - get(b) for o, b in zip(duel.per_rep[other], duel.per_rep[base], strict=True)]
        row = duel.row(other, kpi)
        assert row["diff"] == pytest.approx(np.mean(d))
        assert row["diff_lo"] <= row["diff"] <= row["diff_hi"]
        assert np.isnan(duel.row(base, kpi)["diff"])
    # lean-desk staffs fewer agent-hours on the same horizon: a certain, significant saving
    cost = duel.row(other, "labour.cost")
    assert cost["diff"] < 0 and cost["significant"]


def test_write_gives_run_directories_and_comparison(duel, tmp_path):
    out = duel.write(tmp_path / "cmp")
    for name in duel.policies:
        files = {p.name for p in (out / name).iterdir()}
        assert files == {"events.parquet", "summary.json", "scenario.yaml", "policy.yaml"}
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["policy"] == name and summary["reps"] == 3
        assert summary["sla"]["overall"] == duel.summaries[name]["sla"]["overall"]
        assert len(eventlog.read_log(out / name / "events.parquet")) == summary["events"]
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["policy"]) == set(duel.policies)
    assert json.loads((out / "comparison.json").read_text())["baseline"] == "default"


@pytest.mark.slow
def test_confidence_intervals_cover_the_erlang_c_wait():
    """20 independent replicated experiments of an M/M/c: the analytic Wq lies in most CIs."""
    lam, service, c = 30.0, 3.0, 2
    scenario, policy = mmc(lam, service, c, days=3)
    wq = erlang.mean_wait(lam / 60, 1 / service, c)
    covered = 0
    for seed in range(20):
        res = compare(
            scenario,
            [policy],
            RunSettings(reps=5, seed=1000 + seed, warmup_min=240.0, backend=SERIAL),
            keep_logs=False,
        )
        row = res.row(policy.name, "queue_wait_min.mean")
        covered += row["lo"] <= wq <= row["hi"]
    assert covered >= 15, covered


# -- sweep ------------------------------------------------------------------------------------
def test_sweep_grid_and_parameters_take_effect(short):
    params = {
        "staffing.teams.warehouse.shifts[0].agents": [1, 3],
        "detection.picking_sla.scan.interval_min": [15, 120],
        "scenario.horizon_days": [1, 2],
    }
    sw = sweep(short, load_policy("default"), params, RunSettings(reps=2, seed=2, backend=SERIAL))
    assert len(sw.results) == 16 and len(sw.points) == 8
    grid = sw.points[list(params)].drop_duplicates()
    assert len(grid) == 8
    pts = sw.points.set_index(list(params))
    # more warehouse agents cost more; a longer horizon costs more; scans every 2 h detect later
    assert (
        pts.xs(3, level=0)["labour.cost"].values > pts.xs(1, level=0)["labour.cost"].values
    ).all()
    assert (
        pts.xs(2, level=2)["labour.cost"].values > pts.xs(1, level=2)["labour.cost"].values
    ).all()
    slow, fast = pts.xs(120, level=1), pts.xs(15, level=1)
    assert (
        slow["detection_latency_min.mean"].values > fast["detection_latency_min.mean"].values
    ).all()
    for col in ("sla.overall", "sla.overall_lo", "sla.overall_hi", "alerts_per_agent_hour"):
        assert col in sw.points
    front = sw.pareto(x="labour.cost", y="sla.overall")
    assert 1 <= len(front) <= 8


def test_sweep_write_round_trips(short, tmp_path):
    sw = sweep(
        short, "default", {"queue.discipline": ["fifo", "edf"]}, RunSettings(reps=1, backend=SERIAL)
    )
    for name in ("r.parquet", "r.csv"):
        path = sw.write(tmp_path / name)
        back = pd.read_parquet(path) if name.endswith("parquet") else pd.read_csv(path)
        assert list(back.columns) == list(sw.results.columns) and len(back) == 2


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("staffing.teams.warehouse.agents", "staffing.teams.warehouse"),
        ("staffing.teams.warehous.shifts[0].agents", "warehous"),
        ("staffing.teams.warehouse.shifts[7].agents", "shifts[7]"),
        ("staffing.teams.warehouse.shifts.agents", "list"),
        ("queue.discipline.kind", "queue.discipline"),
    ],
)
def test_sweep_paths_that_do_not_fit_name_the_parameter(short, path, fragment):
    with pytest.raises(ConfigError) as err:
        sweep(short, "default", {path: [3]}, RunSettings(reps=1, backend=SERIAL))
    msg = str(err.value)
    assert path in msg and fragment in msg and "\n" not in msg


# -- Pareto -----------------------------------------------------------------------------------
def test_pareto_front_on_a_hand_made_frame():
    frame = pd.DataFrame(
        {
            "name": ["a", "b", "c", "d", "e", "f"],
            "alerts": [1.0, 2.0, 2.0, 3.0, 4.0, np.nan],
            "sla": [0.80, 0.90, 0.85, 0.90, 0.99, 1.0],
        }
    )
    front = pareto_front(frame, "alerts", "sla")
    assert list(front["name"]) == ["a", "b", "e"]  # c dominated by b, d by b, f has no x
    cost_first = pareto_front(frame, "alerts", "sla", minimize_x=False, maximize_y=False)
    assert list(cost_first["name"]) == ["e", "d", "c", "a"]


def _dominated(p, q):
    return q[0] <= p[0] and q[1] >= p[1] and (q[0] < p[0] or q[1] > p[1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=25))
def test_pareto_front_is_exactly_the_undominated_points(points):
    frame = pd.DataFrame(points, columns=["x", "y"]).astype(float)
    got = set(pareto_front(frame, "x", "y").index)
    want = {i for i, p in enumerate(points) if not any(_dominated(p, q) for q in points)}
    assert got == want


# -- requirements and check -------------------------------------------------------------------
@settings(max_examples=examples(200), deadline=None)
@given(st.text(max_size=30))
def test_requirement_parser_accepts_or_rejects_cleanly(text):
    try:
        req = parse(text)
    except RequirementError as exc:
        assert "\n" not in str(exc) and str(exc)
    else:
        assert req.op in OPS and np.isfinite(req.value)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["sla.overall", "missed_detections", "queue_wait_min.p90", "a_b.c-d"]),
    st.sampled_from(list(OPS)),
    st.floats(-1e6, 1e6, allow_nan=False),
)
def test_requirement_round_trip_and_semantics(path, op, value):
    req = parse(f"{path} {op} {value!r}")
    assert (req.path, req.op, req.value) == (path, op, value)
    summary = {
        "sla": {"overall": 0.5},
        "missed_detections": 0,
        "queue_wait_min": {"p90": 7.0},
        "a_b": {"c-d": 1.0},
    }
    (verdict,) = evaluate(summary, [req])
    assert verdict.passed == OPS[op](verdict.observed, value)


def test_unknown_or_group_paths_are_requirement_errors():
    summary = {"sla": {"overall": 0.9, "by_category": {"x": None}}}
    for bad in ("sla.overal>=0.9", "sla>=0.9", "nope==0"):
        with pytest.raises(RequirementError):
            evaluate(summary, [parse(bad)])
    (undefined,) = evaluate(summary, [parse("sla.by_category.x>=0")])
    assert undefined.observed is None and not undefined.passed


def test_on_ci_a_requirement_must_hold_for_the_whole_interval():
    summary = {
        "sla": {"overall": 0.95},
        "queue_wait_min": {"mean": 30.0},
        "escalations": 3,
        "ci95": {"sla": {"overall": [0.91, 0.98]}, "queue_wait_min": {"mean": [20.0, 40.0]}},
    }
    reqs = [parse(r) for r in ("sla.overall>=0.93", "queue_wait_min.mean<=35")]
    on_mean = evaluate(summary, reqs)
    on_ci = evaluate(summary, reqs, on_ci=True)
    assert all(v.passed for v in on_mean)
    assert not any(v.passed for v in on_ci)  # 0.91 < 0.93 and 40 > 35
    assert [v.judged_on for v in on_ci] == ["ci_lo", "ci_hi"]
    loose = evaluate(summary, [parse("sla.overall>=0.9"), parse("queue_wait_min.mean<45")], True)
    assert all(v.passed for v in loose)
    (no_ci,) = evaluate(summary, [parse("escalations<=5")], on_ci=True)
    assert no_ci.observed == 3 and not no_ci.passed  # no interval: cannot be shown to hold
    with pytest.raises(RequirementError):
        evaluate(summary, [parse("escalations==3")], on_ci=True)


CHECK = ["check", "default", "--days", "1", "--backend", "serial"]


@pytest.mark.parametrize(
    ("reqs", "code"),
    [
        (["sla.overall>=0", "escalations>=0"], 0),
        (["sla.overall>=0", "cases.generated<1"], 1),
        (["sla.overal>=0.9"], 2),
        (["sla.overall>>0.9"], 2),
        (["sla.overall>=ninety"], 2),
        (["sla>=0.9"], 2),
    ],
)
def test_check_exit_codes(reqs, code):
    args = [*CHECK]
    for r in reqs:
        args += ["--require", r]
    result = cli.invoke(app, args)
    assert result.exit_code == code, result.output
    if code == 2:
        assert "error:" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output


def test_check_ci_judges_the_wilson_bound_of_one_run():
    mean = cli.invoke(app, [*CHECK, "--json", "-r", "sla.overall>=0.85"])
    doc = json.loads(mean.stdout)
    (req,) = doc["requirements"]
    lo, hi = req["ci95"]
    assert 0.0 <= lo < req["observed"] <= hi <= 1.0
    between = f"sla.overall>={(lo + req['observed']) / 2:.4f}"  # passes on the mean only
    assert cli.invoke(app, [*CHECK, "-r", between]).exit_code == 0
    strict = cli.invoke(app, [*CHECK, "--ci", "--json", "-r", between])
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["requirements"][0]["judged_on"] == "ci_lo"


def test_check_json_with_replications():
    result = cli.invoke(app, [*CHECK, "--reps", "2", "--json", "-r", "sla.overall>=0.5"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (req,) = doc["requirements"]
    assert doc["passed"] and req["passed"] and len(req["ci95"]) == 2


def test_check_in_a_subprocess_fails_with_exit_1():
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *CHECK, "--require", "escalations<0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "FAIL" in proc.stdout


@pytest.mark.parametrize(
    "param",
    [
        "detection.picking_sla.scan.interval_min",
        "=1,2",
        "queue.discipline=",
        "a.b=1,,2",
        "queue.discipline={x: 1}",
        "staffing.teams.warehouse.agents=3",
        "no.such.path=1",
        "staffing.teams.warehouse.shifts[0].agents=0",
    ],
)
def test_garbled_sweep_params_exit_2(param):
    result = cli.invoke(
        app, ["sweep", "default", "--days", "1", "--backend", "serial", "--param", param]
    )
    assert result.exit_code == 2, result.output
    assert "error:" in result.stderr and "Traceback" not in result.output


def test_compare_cli_writes_run_dirs(tmp_path):
    out = tmp_path / "cmp"
    result = cli.invoke(
        app,
        [
            "compare",
            "default",
            "-p",
            "default",
            "-p",
            "lean-desk",
            "--days",
            "1",
            "--reps",
            "2",
            "--backend",
            "serial",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "lean-desk vs default" in result.stdout
    assert (out / "lean-desk" / "events.parquet").is_file()
    bad = cli.invoke(app, ["compare", "default", "-p", "no-such-policy", "--days", "1"])
    assert bad.exit_code == 2


# -- sim.testing --------------------------------------------------------------------------------
def test_run_policy_require_passes_and_fails_with_observed_values():
    outcome = run_policy("default", "default", days=1, reps=2, seed=1, backend=SERIAL)
    outcome.require("sla.overall>=0", "escalations>=0")
    with pytest.raises(AssertionError) as err:
        outcome.require("sla.overall>=0", "cases.generated<1", "escalations<0")
    msg = str(err.value)
    assert "2 of 3" in msg and "cases.generated<1: observed" in msg
    assert f"{outcome.value('cases.generated'):.4g}" in msg


@pytest.mark.slow  # a pytest session of its own: CI runs it in its second step
def test_exsim_fixture(tmp_path):
    """The plugin's fixture works in a QA suite of its own (a separate pytest run): installing
    exsim registers it through the pytest11 entry point, no conftest needed."""
    (tmp_path / "test_qa.py").write_text(
        "def test_it(exsim):\n"
        "    outcome = exsim.run('default', 'default', days=1, backend='serial')\n"
        "    outcome.require('cases.generated>0')\n"
    )
    proc = subprocess.run(
        # only the plugins this check needs: exsim's (autoloaded) and pytest's own
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_qa.py"]
        + [f"-pno:{p}" for p in ("xdist", "faker", "anyio", "benchmark", "locust")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


# -- staff ------------------------------------------------------------------------------------
def _desk() -> tuple[Scenario, Policy]:
    scenario = Scenario.model_validate(
        {
            "name": "two-desks",
            "horizon_days": 3,
            "categories": {
                "picking_sla": {"rate_per_hour": 6, "handling_min": {"mean": 20}},
                "credit_hold": {"rate_per_hour": 3, "handling_min": {"mean": 30}},
            },
        }
    )
    policy = Policy.model_validate(
        {
            "name": "two-desks",
            "routing": {"default": "finance", "by_category": {"picking_sla": "warehouse"}},
            "staffing": {
                "teams": {
                    "warehouse": {
                        "cost_per_hour": 30,
                        "shifts": [
                            {"name": "day", "start": "06:00", "end": "18:00", "agents": 1},
                            {"name": "night", "start": "18:00", "end": "06:00", "agents": 1},
                        ],
                    },
                    "finance": {"cost_per_hour": 50, "agents": 1},
                }
            },
            "sla": {"default_min": 90},
        }
    )
    return scenario, policy


def test_staff_recommends_a_minimal_headcount_that_meets_the_target():
    scenario, policy = _desk()
    target = "sla.overall>=0.9"
    plan = recommend(scenario, policy, [target], RunSettings(reps=2, seed=3, backend=SERIAL))
    assert plan.met
    loads = {(ld.team, ld.shift): ld for ld in plan.loads}
    assert loads[("warehouse", "day")].offered_load == pytest.approx(2.0, rel=1e-6)
    assert loads[("finance", "always")].offered_load == pytest.approx(1.5, rel=1e-6)

    def holds(headcount) -> bool:
        res = compare(
            scenario,
            [with_headcount(policy, headcount)],
            RunSettings(reps=2, seed=3, backend=SERIAL),
            keep_logs=False,
        )
        return all(v.passed for v in evaluate(next(iter(res.summaries.values())), [parse(target)]))

    assert holds(plan.headcount)
    removable = 0
    for team, counts in plan.headcount.items():
        for i, n in enumerate(counts):
            if n > 1:
                removable += 1
                fewer = {t: list(c) for t, c in plan.headcount.items()}
                fewer[team][i] -= 1
                assert not holds(fewer), (team, i, plan.headcount)
    assert removable >= 2


def test_staff_cli_json_and_policy_out(tmp_path):
    out = tmp_path / "staffed.yaml"
    result = cli.invoke(
        app,
        [
            "staff",
            "default",
            "--days",
            "2",
            "--reps",
            "1",
            "--backend",
            "serial",
            "--target",
            "sla.overall>=0.9",
            "--json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    assert doc["met"] == (result.exit_code == 0) == out.exists()  # unmet: nothing written
    if not doc["met"]:
        return
    staffed = load_policy(out)
    assert (
        doc["headcount"]["warehouse"]["early"]
        == staffed.staffing.teams["warehouse"].shifts[0].agents
    )
    assert doc["cost"] > 0
