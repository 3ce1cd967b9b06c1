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
def test_fit_never_crashes_and_picks_the_lowest_admissible_aic(values) -> None:
    fit = fit_positive(values)
    assert fit is not None and fit.n == len(values)
    fit.distribution()  # always a valid scenario distribution
    if fit.candidates:
        ok = [c for c in fit.candidates if c.dist not in fit.rejected]
        if ok:
            assert fit.dist == min(ok, key=lambda c: c.aic).dist
            assert abs(fit.mean / fit.sample_mean - 1) <= 0.2 + 1e-9
        else:
            assert fit.dist == "empirical" and fit.rejected


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
    scen = load_scenario("default", {"horizon_days": 3})  # every category occurs 8+ times
    log = to_pandas(Simulation(scen, default_policy, seed=4).run().table())
    path = export(log, tmp_path / "days.jsonocel")
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


# -- a realistic service-desk export: drifting volume, heavy tails, time zones ----------------
@pytest.fixture(scope="module")
def desk_history():
    from replay import map_frame, parse_mapping
    from replay.synthetic import SERVICE_DESK_MAPPING, service_desk_export

    df, _ = map_frame(service_desk_export(seed=7), parse_mapping(SERVICE_DESK_MAPPING), "sd.csv")
    return history_of(df)


@pytest.fixture(scope="module")
def desk_validation(desk_history):
    from replay.validation import validate
    from sim.config import load_policy

    cal = calibrate(desk_history, name="desk")
    return cal, validate(cal, desk_history, load_policy("service-desk"), seed=2, reps=3)


def test_drifting_volume_is_fitted_and_reproduced_week_by_week(desk_validation) -> None:
    cal, report = desk_validation
    vol = cal.report["volume"]
    assert vol["model"] != "constant"
    assert vol["aic"][vol["model"]] < vol["aic"]["constant"] - 50
    factors = next(iter(cal.scenario.categories.values())).volume.factors
    assert factors[-2] > 2.5 * factors[0]  # the generator's rate grows fivefold
    weekly = report["weekly_arrivals"]
    # stated distance: simulated weekly arrivals within 20% of history on average
    assert weekly["mean_abs_pct_error"] < 0.20
    h, s = np.array(weekly["history"]), np.array(weekly["simulated_mean"])
    assert s[-6:-1].sum() == pytest.approx(h[-6:-1].sum(), rel=0.1)  # the busy last weeks


def test_a_constant_rate_stays_constant(fitted) -> None:
    """The module's history (four weeks at the default scenario's constant rates)."""
    assert fitted.report["volume"]["model"] == "constant"


def test_fits_far_from_the_sample_are_refused_for_the_empirical_sample() -> None:
    rng = np.random.default_rng(1)
    # minutes for most tickets, weeks for a few: the lognormal MLE mean is far from the mean
    x = np.r_[rng.lognormal(3, 1, 2000), rng.uniform(1e4, 2e5, 40)]
    fit = fit_positive(x)
    assert fit.dist == "empirical" and set(fit.rejected) == {"lognormal", "gamma", "exponential"}
    assert "mean" in fit.rejected["lognormal"] and "refused" in fit.note
    dist = fit.distribution()
    assert dist.dist == "empirical" and dist.quantiles[0] == pytest.approx(x.min(), rel=1e-3)
    assert fit.mean == pytest.approx(x.mean(), rel=0.1)
    from sim.generators.distributions import Sampler

    draw = Sampler(dist, np.random.default_rng(2))
    drawn = np.array([draw() for _ in range(20000)])
    assert drawn.max() <= x.max() and drawn.min() >= x.min()  # bounded by what was seen
    assert drawn.mean() == pytest.approx(fit.mean, rel=0.1)
    ok = fit_positive(rng.lognormal(3, 0.8, 2000))
    assert ok.dist == "lognormal" and not ok.rejected


def test_effort_and_log_distances_are_reported(desk_validation) -> None:
    _, report = desk_validation
    assert report["effort_min"]["ks"] < 0.05  # hands-on effort: work intervals, fitted
    dist = report["log_distances"]
    assert set(dist) >= {
        "absolute_event_distribution_h",
        "circadian_event_distribution_h",
        "relative_event_distribution_h",
        "case_arrival_distribution_h",
        "cycle_time_distribution_h",
    }
    # stated distances over a 120-day history: arrivals land within two days on average
    assert dist["case_arrival_distribution_h"] < 48
    assert dist["circadian_event_distribution_h"] < 3
    # with the recorded waits fitted as holds, cycle times come within a few hours
    assert dist["cycle_time_distribution_h"] < 8
    months = report["cycle_time_by_month"]
    assert [m["month"] for m in months][:2] == ["2025-01", "2025-02"]
    assert all(m["n_history"] > 0 for m in months)


def test_volume_factors_shape_injected_arrivals(truth, default_policy) -> None:
    from sim.scenarios.schema import Volume

    cat = truth.categories["picking_sla"]
    steps = Volume(period_days=7, factors=[0.5, 1.5, 0.0, 1.0])
    scen = truth.model_copy(
        update={
            "horizon_days": 28,
            "categories": {"picking_sla": cat.model_copy(update={"volume": steps})},
        }
    )
    log = to_pandas(Simulation(scen, default_policy, seed=3).run().table())
    occ = log.loc[log["event"] == "occurred", "ts"].to_numpy()
    weeks = np.bincount((occ // (7 * 1440)).astype(int), minlength=4)
    assert weeks[2] == 0
    assert weeks[1] > 2 * weeks[0] and weeks[3] > weeks[0]


def test_cli_calibrate_score_prints_windows_and_writes_nothing(tmp_path: Path) -> None:
    from replay.synthetic import SERVICE_DESK_MAPPING, DeskShape, service_desk_export

    path = tmp_path / "desk.csv.gz"
    service_desk_export(seed=4, shape=DeskShape(days=42)).to_csv(path, index=False)
    import yaml

    mapping = tmp_path / "desk.yaml"
    mapping.write_text(yaml.safe_dump(SERVICE_DESK_MAPPING))
    out = tmp_path / "fit.yaml"
    base = ["calibrate", str(path), "-m", str(mapping), "-p", "service-desk", "--reps", "1"]
    res = runner.invoke(app, [*base, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "arrivals per week" in res.stdout and "cycle time per month" in res.stdout
    assert "volume over time" in res.stdout and "log distance" in res.stdout
    before = sorted(p.name for p in tmp_path.iterdir())
    res = runner.invoke(app, [*base, "--score", str(out), "--json"])
    assert res.exit_code == 0, res.output
    import json

    scored = json.loads(res.stdout)["validation"]
    assert scored["scenario"] == "fit" and scored["weekly_arrivals"]["history"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    res = runner.invoke(app, [*base, "--score", "no-such-scenario"])
    assert res.exit_code == 2 and "no-such-scenario" in res.stderr


def test_waits_and_reopens_are_fitted(desk_history, desk_validation) -> None:
    cal, _ = desk_validation
    cases = desk_history.cases
    for name, cat in cal.scenario.categories.items():
        sub = cases[cases["category"] == name]
        assert cat.hold.prob == pytest.approx(sub["hold_min"].notna().mean(), abs=1e-3)
        assert 0 < cat.hold.at_fraction < 1
        assert 0.02 < cat.reopen.prob < 0.15  # the generator reopens 7% of resolved tickets
