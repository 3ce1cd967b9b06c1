"""The command line as a user meets it: exit codes, JSON summary, files written or not at all."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from sim import config
from sim.cli import app
from sim.eventlog import read_log

runner = CliRunner()

SUMMARY_KEYS = {
    "scenario",
    "policy",
    "seed",
    "days",
    "reps",
    "cases",
    "sla",
    "queue_wait_min",
    "time_to_resolve_min",
    "waited_fraction",
    "detection_latency_min",
    "backlog",
    "escalations",
    "events",
    "wall_s",
}


def test_run_json_has_the_contract_fields(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "--days", "2", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) >= SUMMARY_KEYS
    assert set(summary["cases"]) >= {"generated", "resolved", "open"}
    assert set(summary["sla"]) >= {"overall", "by_category", "by_severity"}
    for key in ("queue_wait_min", "time_to_resolve_min"):
        assert set(summary[key]) >= {"mean", "p50", "p90", "p99"}
    assert set(summary["detection_latency_min"]) >= {"mean", "p90"}
    assert set(summary["backlog"]) >= {"mean", "max"}
    assert summary["days"] == 2 and summary["reps"] == 1
    # files agree with what was printed
    assert json.loads((out / "summary.json").read_text()) == summary
    log = read_log(out / "events.parquet")
    assert len(log) == summary["events"]
    assert (log.event == "occurred").sum() == summary["cases"]["generated"]


def test_run_with_reps_reports_confidence_intervals(tmp_path):
    result = runner.invoke(
        app,
        [
            "run",
            "--days",
            "1",
            "--reps",
            "3",
            "--workers",
            "1",
            "--json",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert s["reps"] == 3
    lo, hi = s["ci95"]["sla"]["overall"]
    assert lo <= s["sla"]["overall"] <= hi
    assert set(read_log(tmp_path / "r" / "events.parquet")["rep"].unique()) == {0, 1, 2}


def test_run_prints_a_table(tmp_path):
    result = runner.invoke(app, ["run", "--days", "1", "--out", str(tmp_path / "t")])
    assert result.exit_code == 0
    assert "SLA attainment" in result.stdout and "queue wait" in result.stdout


def test_bad_policy_exits_2_and_writes_nothing(tmp_path):
    doc = yaml.safe_load(config.library("policies")["default"].read_text())
    doc["staffing"]["teams"]["finance"]["shifts"][0]["agents"] = -2
    bad = tmp_path / "policy.yaml"
    bad.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "--policy", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "staffing.teams.finance.shifts[0].agents: must be >= 1" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_existing_output_survives_a_failed_write(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert runner.invoke(app, ["run", "--days", "1", "--out", str(out)]).exit_code == 0
    before = (out / "summary.json").read_text()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("sim.cli.core._dump", boom)  # fails after events.parquet is placed
    result = runner.invoke(app, ["run", "--days", "2", "--out", str(out)])
    assert result.exit_code != 0
    assert (out / "summary.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_validate_and_listings(tmp_path):
    good = config.library("scenarios")["default"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("categories: {x: {rate_per_hour: 1}}\n")
    ok = runner.invoke(app, ["validate", str(good)])
    assert ok.exit_code == 0 and "ok" in ok.stdout
    res = runner.invoke(app, ["validate", str(good), str(bad)])
    assert res.exit_code == 2
    assert "bad.yaml: categories.x.handling_min: required field is missing" in res.stderr
    listing = runner.invoke(app, ["scenarios"])
    assert listing.exit_code == 0 and "default" in listing.stdout
    assert runner.invoke(app, ["policies"]).exit_code == 0
    assert "case_id" in runner.invoke(app, ["schema"]).stdout


#: A whole process each (~0.7 s CPU to start exsim): one refusal from the configuration and one
#: from the command line run by default, the other two in CI's slow step (the in-process tests
#: above check every message).
WHOLE_PROCESS = pytest.mark.slow


@pytest.mark.parametrize(
    "args",
    [
        ["run", "no-such-scenario"],
        pytest.param(["run", "--days", "-1"], marks=WHOLE_PROCESS),
        pytest.param(["run", "--reps", "0"], marks=WHOLE_PROCESS),
        ["run", "--seed", "abc"],
    ],
)
def test_console_script_bad_arguments_exit_2_without_traceback(tmp_path, args):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args, "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip()
    assert not (tmp_path / "o").exists()


def test_every_running_verb_takes_the_same_run_flags():
    """The run flags are defined once (sim.cli.runflags): each verb that runs the model offers
    them with the same meaning; only the experiments choose a backend."""
    import inspect

    from sim.cli import core, experiments
    from sim.cli.runflags import RunFlags

    shared = ["reps", "days", "seed", "warmup_days", "workers"]
    for verb in (core.run, experiments.compare, experiments.sweep, experiments.check):
        params = inspect.signature(verb).parameters
        assert all(p in params for p in shared), verb.__name__
        assert ("backend" in params) == (verb is not core.run)
    helps = {
        name: str(inspect.signature(v).parameters["seed"].annotation.__metadata__[0].help)
        for name, v in (("run", core.run), ("staff", experiments.staff))
    }
    assert helps["run"] == helps["staff"]
    assert RunFlags(days=2).scenario("default").horizon_days == 2
