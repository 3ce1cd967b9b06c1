"""What the terminal says: run, compare, sweep, staff, validate and help tell the truth at a
glance, on an 80-column terminal (the CLI runner's width)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.cli.tables import num, short_names, target_status
from sim.experiments.requirements import Verdict, parse

cli = CliRunner()


def _ok(args: list[str]):
    res = cli.invoke(app, args)
    assert res.exit_code == 0, res.output
    return res.stdout


def test_run_names_scenario_and_policy_and_shows_detection_and_business(tmp_path) -> None:
    args = ["run", "baseline", "--policy", "odoo-rules", "--days", "1", "--reps", "2"]
    text = _ok([*args, "--workers", "1", "--out", str(tmp_path / "r")])
    assert "scenario baseline, policy odoo-rules" in text
    for row in ("missed detections", "late orders", "blocked shipment value", "expedite cost"):
        assert row in text, row
    # every interval in the table is within what its quantity can be
    intervals = re.findall(r"\[(-?[\d,.]+)(%?) – (-?[\d,.]+)%?\]", text)
    assert len(intervals) >= 20  # one per KPI row
    for lo, pct, hi in intervals:
        lo, hi = (float(v.replace(",", "")) for v in (lo, hi))
        assert 0 <= lo <= hi and (not pct or hi <= 100)


def test_injected_run_has_no_business_section(tmp_path) -> None:
    text = _ok(["run", "default", "--days", "1", "--out", str(tmp_path / "r")])
    assert "missed detections" in text and "business outcomes" not in text
    # the header: which is the scenario and which the policy, "1 day", and no wrapped line
    head = text.splitlines()[:2]
    assert head[0].strip() == "scenario default, policy default", head
    assert head[1].strip() == "1 day, seed 1", head


def test_help_shows_no_bool_type_and_version_prints(tmp_path) -> None:
    import typer.main

    commands = list(typer.main.get_command(app).commands)
    assert "run" in commands and "staff" in commands
    for name in [None, *commands]:
        text = _ok([name, "--help"] if name else ["--help"])
        assert "<bool>" not in text, name
    assert re.fullmatch(r"exsim \S+\n", _ok(["--version"]))
    run_help = re.sub(r"[\s│]+", " ", _ok(["run", "--help"]))
    assert "left out of the KPIs" in run_help and "runs/SCENARIO--POLICY" in run_help


def test_validate_names_the_kind_and_follows_extends(tmp_path: Path) -> None:
    patched = tmp_path / "short.yaml"
    patched.write_text("extends: baseline\npatch:\n  operations.demand.orders_per_day: 50\n")
    chained = tmp_path / "chained.yaml"
    chained.write_text("extends: short.yaml\ndescription: a variant of a variant\n")
    policy = tmp_path / "p.yaml"
    policy.write_text("extends: lean-desk\n")
    # long paths wrap anywhere on an 80-column terminal: compare without whitespace
    text = re.sub(r"\s+", "", _ok(["validate", str(patched), str(chained), str(policy)]))
    assert f"{patched}(scenario)" in text and f"{chained}(scenario)" in text
    assert f"{policy}(policy)" in text and "policie)" not in text


def test_compare_explains_its_marks() -> None:
    args = ["compare", "default", "-p", "default", "-p", "lean-desk", "--days", "1"]
    text = _ok([*args, "--reps", "2", "--workers", "1"])
    assert "Δ vs default (reference, paired)" in re.sub(r"\s+", " ", text)
    assert "*: significant, but the KPI has no better direction" in re.sub(r"\s+", " ", text)


def test_sweep_table_fits_80_columns_without_cutting_numbers() -> None:
    args = ["sweep", "default", "--days", "1", "--reps", "2", "--backend", "serial"]
    args += ["--param", "detection.picking_sla.scan.interval_min=15,30"]
    args += ["--param", "staffing.teams.warehouse.shifts[0].agents=1,2"]
    text = _ok(args)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "interval_min = detection.picking_sla.scan.interval_min" in text
    assert not re.search(r"│\s+(15|30|1|2)\.0\s+│", text)  # whole numbers print as such


def test_calibrate_tables_fit_80_columns_without_cutting_numbers(tmp_path) -> None:
    from sim import config, runner
    from sim.exports import export

    scenario = config.load_scenario("default", {"horizon_days": 3})  # every category: 8+ cases
    log = runner.run(scenario, config.load_policy("default"), runner.RunSettings(seed=4)).frame()
    history = export(log, tmp_path / "days.jsonocel")
    text = _ok(["calibrate", str(history), "-o", str(tmp_path / "fit.yaml"), "--reps", "1"])
    assert "fitted categories" in text and "picking_sla" in text  # the wide table is there
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for lo, hi in re.findall(r"(\d+\.\d+)–(\d+\.\d+)", text):  # rate intervals, whole
        assert float(lo) <= float(hi)


def test_numbers_and_short_names() -> None:
    assert num(15.0) == "15" and num(0.5, "%") == "50.0%" and num(2.345) == "2.35"
    paths = ["a.scan.interval_min", "b.scan.interval_min", "staffing.x.agents"]
    assert short_names(paths) == {
        "a.scan.interval_min": "a.scan.interval_min",
        "b.scan.interval_min": "b.scan.interval_min",
        "staffing.x.agents": "agents",
    }


def test_a_target_met_only_on_the_mean_says_so() -> None:
    req = parse("sla.overall>=0.9")
    assert "met on the mean, not on the whole 95% CI" in target_status(
        Verdict(req, 0.9023, 0.847, 0.957, True)
    )
    assert target_status(Verdict(req, 0.95, 0.92, 0.98, True)).endswith("[green]met[/]")
    assert "NOT met" in target_status(Verdict(req, 0.85, 0.8, 0.9, False))


@pytest.mark.parametrize("write_unmet", [False, True])
def test_staff_with_an_unreachable_target_writes_nothing_unless_asked(tmp_path, write_unmet):
    out = tmp_path / "staffed.yaml"
    args = ["staff", "default", "--days", "1", "--reps", "1", "--backend", "serial"]
    args += ["--target", "cases.open<=-1", "--max-steps", "1", "--out", str(out)]
    res = cli.invoke(app, args + (["--write-unmet"] if write_unmet else []))
    assert res.exit_code == 1, res.output
    text = re.sub(r"\s+", " ", res.stdout)
    assert "NOT met" in text and "target NOT met" in text
    assert out.exists() == write_unmet
    assert ("not written" in text) != write_unmet


def test_each_replication_keeps_its_own_business_outcomes(tmp_path) -> None:
    """A log of several replications summarises each with its own outcomes (not the first's),
    so the run table's intervals for late orders or blocked value are real ones."""
    from sim import config, runner
    from sim.eventlog import LogMeta, read_log
    from sim.metrics import summarize, summarize_reps

    scenario = config.load_scenario("baseline", {"horizon_days": 2})
    policy = config.load_policy("default")
    for stream in (None, tmp_path / "log.parquet"):
        result = runner.run(
            scenario, policy, runner.RunSettings(seed=3, reps=3, workers=1), stream_to=stream
        )
        log = result.frame() if stream is None else read_log(stream)
        alone = [
            LogMeta.from_bytes(
                runner.simulate(scenario, policy, seed=3, rep=r, reps=3).schema.metadata[b"exsim"]
            ).extra["operations"]
            for r in range(3)
        ]
        for r, own in enumerate(alone):
            one = log[log["rep"] == r]
            one.attrs = log.attrs
            got = summarize(one)["operations"]
            assert got["orders"] == own["orders"] and got["costs"] == own["costs"]
        values = [a["blocked_value"]["mean"] for a in alone]
        assert len(set(values)) > 1  # the replications differ, so must the summary's interval
        lo, hi = summarize_reps(log)["ci95"]["operations"]["blocked_value"]["mean"]
        assert lo < hi


def test_check_says_when_a_requirement_passes_on_the_mean_only() -> None:
    import json

    base = ["check", "default", "--days", "1", "--reps", "3", "--backend", "serial"]
    doc = json.loads(_ok([*base, "--require", "backlog.mean>=0", "--json"]))
    (req,) = doc["requirements"]
    mean, (lo, _hi) = req["observed"], req["ci95"]
    assert lo < mean
    text = _ok([*base, "--require", f"backlog.mean>={(lo + mean) / 2}"])
    assert "pass on the mean, not the whole CI" in re.sub(r"\s+", " ", text.replace("│", ""))
    text = _ok([*base, "--require", f"backlog.mean>={lo - abs(lo) - 1}"])  # below the CI
    assert "pass on the mean" not in text and "pass" in text
