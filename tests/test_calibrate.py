"""Calibration: scenarios fitted to history recover what generated it, and validate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from replay.calibrate import calibrate
from replay.fit import fit_positive
from replay.history import history_of
from replay.profiles import exposure_hours, fit_profile, rate_given
from sim.cli import app
from sim.config import load_scenario
from sim.engine import Simulation
from sim.eventlog import to_pandas
from sim.exports import export

runner = CliRunner()


@pytest.fixture(scope="module")
def truth():
    return load_scenario("default", {"horizon_days": 28})


@pytest.fixture(scope="module")
def fitted(truth, default_policy):
    log = to_pandas(Simulation(truth, default_policy, seed=21).run().table())
    return calibrate(history_of(log), name="fitted")


def test_rates_and_handling_are_recovered_within_their_intervals(truth, fitted) -> None:
    report = fitted.report["categories"]
    assert set(report) == set(truth.categories)
    covered = 0
    for name, cat in truth.categories.items():
        r = report[name]
        lo, hi = r["rate_ci95"]
        covered += lo <= cat.rate_per_hour <= hi
        fit = r["handling"]["fit"]
        assert fit["mean_ci95"][0] * 0.9 <= cat.handling_min.mean <= fit["mean_ci95"][1] * 1.1
    # twelve 95% intervals: three or more misses would happen by chance about 2% of the time
    assert covered >= len(truth.categories) - 2
    # with hundreds of cases the lognormal generating the effort wins on AIC
    big = [n for n, r in report.items() if r["cases"] > 400]
    assert big and all(report[n]["handling"]["chosen"]["dist"] == "lognormal" for n in big)
    for n in big:
        assert fitted.scenario.categories[n].handling_min.cv == pytest.approx(
            truth.categories[n].handling_min.cv, rel=0.15
        )


def test_profiles_and_backdating_are_recovered(truth, fitted) -> None:
    cat = fitted.scenario.categories["picking_sla"]
    true_profile = truth.profiles[truth.categories["picking_sla"].profile]
    got = fitted.scenario.profiles[cat.profile]
    assert np.corrcoef(got.hourly, true_profile.hourly)[0, 1] > 0.9
    assert np.corrcoef(got.weekly, true_profile.weekly)[0, 1] > 0.9
    age = fitted.report["categories"]["picking_sla"]["trigger_age"]
    share = age["backdated"] / age["known"]
    assert share == pytest.approx(truth.categories["picking_sla"].trigger_age.prob, abs=0.05)


# -- properties ---------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1e-3, 1e5), min_size=1, max_size=60))
def test_fit_never_crashes_and_picks_the_lowest_aic(values) -> None:
    fit = fit_positive(values)
    assert fit is not None and fit.n == len(values)
    fit.distribution()  # always a valid scenario distribution
    if fit.candidates:
        assert fit.dist == min(fit.candidates, key=lambda c: c.aic).dist


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 20_000, exclude_max=True), max_size=80),
    st.floats(60, 20_000),
    st.integers(0, 6),
    st.integers(0, 23),
)
def test_fitted_profile_expects_the_observed_count(ts, horizon, day, hour) -> None:
    from datetime import datetime

    start = datetime(2024, 1, 1 + day, hour)
    ts = [t for t in ts if t < horizon]
    assert exposure_hours(horizon, start).sum() == pytest.approx(horizon / 60)
    profile, rate = fit_profile(np.array(ts), horizon, start)
    assert rate == pytest.approx(rate_given(len(ts), profile, horizon, start))
    expo = exposure_hours(horizon, start).reshape(7, 24)
    shape = np.outer(profile.weekly, profile.hourly)
    expected = (expo * shape).sum() * rate / shape.mean()
    assert expected == pytest.approx(len(ts), abs=1e-6)


# -- the command line --------------------------------------------------------------------------
def test_cli_calibrate_writes_a_valid_scenario_and_prints_distances(
    default_policy, tmp_path: Path
) -> None:
    scen = load_scenario("default", {"horizon_days": 7})
    log = to_pandas(Simulation(scen, default_policy, seed=4).run().table())
    path = export(log, tmp_path / "week.jsonocel")
    out = tmp_path / "fitted.yaml"
    res = runner.invoke(app, ["calibrate", str(path), "-o", str(out), "--reps", "2"])
    assert res.exit_code == 0, res.output
    assert "Wasserstein" in res.stdout and "KS" in res.stdout
    fitted = load_scenario(out)
    assert set(fitted.categories) == set(scen.categories)
    res = runner.invoke(
        app, ["calibrate", str(path), "-o", str(tmp_path / "j.yaml"), "--reps", "1", "--json"]
    )
    import json

    payload = json.loads(res.stdout)
    assert payload["validation"]["cycle_time_min"]["ks"] is not None
    assert 0 <= payload["validation"]["arrivals"]["hour_of_day"]["total_variation"] <= 1


def test_cli_calibrate_bad_input_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "fitted.yaml"
    res = runner.invoke(app, ["calibrate", str(tmp_path / "nope.xes"), "-o", str(out)])
    assert res.exit_code == 2 and "nope.xes: no such file" in res.stderr
    assert not out.exists() and not list(tmp_path.iterdir())
