"""Replaying a realistic service-desk export: as-is numbers equal an independent pandas
computation of the same file, and every friction a real incident log showed has a test."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from replay import ReplayInputError, load_log, map_frame, parse_mapping
from replay.history import history_of
from replay.run import AS_IS, replay
from replay.synthetic import SERVICE_DESK_MAPPING, DeskShape, service_desk_export
from sim.cli import app
from sim.config import load_policy
from sim.eventlog import to_pandas
from sim.metrics import case_table

runner = CliRunner()
MAPPING = parse_mapping(SERVICE_DESK_MAPPING, "service_desk.yaml")
ZONE = SERVICE_DESK_MAPPING["timezone"]


@pytest.fixture(scope="module")
def export_rows() -> pd.DataFrame:
    return service_desk_export(seed=7)


@pytest.fixture(scope="module")
def export_file(export_rows, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("desk") / "incidents.csv.gz"
    export_rows.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def mapping_file(tmp_path_factory) -> Path:
    import yaml

    path = tmp_path_factory.mktemp("map") / "service_desk.yaml"
    path.write_text(yaml.safe_dump(SERVICE_DESK_MAPPING), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def history(export_file):
    log, _ = load_log(export_file, MAPPING)
    return history_of(log)


@pytest.fixture(scope="module")
def replayed(history):
    return replay(history, [load_policy("service-desk")], seed=3, reps=2)


# -- the independent computation: pandas on the raw export, no exsim code --------------------
def pandas_desk(raw: pd.DataFrame) -> dict:
    df = raw.drop_duplicates().copy()
    df["t"] = pd.to_datetime(df["Timestamp"], utc=True, format="ISO8601")
    df["s"] = df["Status"].str.strip().str.casefold()
    df = df.sort_values(["Incident ID", "t"], kind="stable")
    start = df.groupby("Incident ID")["t"].min()
    res = df[df["s"] == "resolved"].groupby("Incident ID")["t"]
    first_res, n_res = res.min(), res.size()
    ttr = (first_res - start.loc[first_res.index]).dt.total_seconds() / 60
    reo = df[df["s"] == "reopened"]
    back = reo[reo["t"].to_numpy() > first_res.reindex(reo["Incident ID"]).to_numpy()]
    reopened = set(back["Incident ID"]) | set(n_res[n_res > 1].index)
    # holds: from a 'wait' row to the next in progress / resolved / closed row of the case
    end_of_log = df["t"].max()
    holds = {}
    for cid, g in df[df["s"].isin(["wait", "in progress", "resolved", "closed"])].groupby(
        "Incident ID"
    ):
        since, total, held = None, 0.0, False
        for t, s in zip(g["t"], g["s"], strict=True):
            if s == "wait":
                held = True
                since = since or t
            elif since is not None:
                total += (t - since).total_seconds() / 60
                since = None
        if since is not None:
            total += (end_of_log - since).total_seconds() / 60
        if held:
            holds[cid] = total
    hold = np.array(list(holds.values()))
    return {
        "cases": int(df["Incident ID"].nunique()),
        "resolved": len(first_res),
        "ttr_p50": float(np.percentile(ttr, 50)),
        "ttr_p90": float(np.percentile(ttr, 90)),
        "reopened": len(reopened),
        "reopen_rate": len(reopened) / len(first_res),
        "held": len(hold),
        "hold_mean": float(hold.mean()),
        "hold_p90": float(np.percentile(hold, 90)),
    }


def test_as_is_statistics_equal_an_independent_pandas_computation(
    export_rows, history, replayed
) -> None:
    want = pandas_desk(export_rows)
    desk = replayed.as_is["replay"]["desk"]
    assert desk["cases"] == want["cases"] == replayed.as_is["cases"]["generated"]
    assert desk["resolved"] == want["resolved"] == replayed.as_is["cases"]["resolved"]
    assert desk["resolved_share"] == want["resolved"] / want["cases"]
    exact = pytest.approx  # float minutes against float seconds: equal to rounding
    assert desk["time_to_resolve_min"]["p50"] == exact(want["ttr_p50"], rel=1e-9)
    assert desk["time_to_resolve_min"]["p90"] == exact(want["ttr_p90"], rel=1e-9)
    ttr = replayed.as_is["time_to_resolve_min"]
    assert ttr["p50"] == exact(want["ttr_p50"], rel=1e-9)
    assert ttr["p90"] == exact(want["ttr_p90"], rel=1e-9)
    assert desk["reopened"] == want["reopened"] > 0
    assert desk["reopen_rate"] == exact(want["reopen_rate"])
    assert desk["held"] == want["held"] > 0
    assert desk["hold_min"]["mean"] == exact(want["hold_mean"], rel=1e-9)
    assert desk["hold_min"]["p90"] == exact(want["hold_p90"], rel=1e-9)
    # the summary's own effort block (sim.metrics.effort) reads the replayed log the same way
    effort = replayed.as_is["effort"]
    assert effort["held"] == want["held"]
    assert effort["hold_min"]["mean"] == exact(want["hold_mean"], rel=1e-9)
    assert effort["reopen_rate"] == exact(want["reopen_rate"])


# -- frictions of the real log, one test each ---------------------------------------------------
def _log(rows: list[tuple], **mapping) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", "when", "status", "sub", "level", "impact"])
    spec = {
        "columns": {
            "case_id": "id",
            "timestamp": "when",
            "activity": ["status", "sub"],
            "level": "level",
            "severity": "impact",
        },
        "activities": {
            "Queued": "assigned",
            "Accepted": None,
            "In Progress": "work_started",
            "Wait": "on_hold",
            "Resolved": "resolved",
            "Reopened": "reopened",
        },
        "levels": ["L1", "L2", "L3"],
        "timezone": ZONE,
        **mapping,
    }
    df, _ = map_frame(frame, parse_mapping(spec, "desk.yaml"), "desk.csv")
    return df


def _t(hhmm: str, day: int = 6) -> str:
    return f"2025-01-{day:02d} {hhmm}"  # naive local time (Monday 6 January 2025)


def test_effort_is_time_in_working_states_not_elapsed_time() -> None:
    df = _log(
        [
            ("A", _t("09:00"), "Queued", None, "L1", "High"),
            ("A", _t("09:30"), "In Progress", None, "L1", "High"),
            ("A", _t("09:40"), "Wait", "Customer", "L1", "High"),  # 10 min of work
            ("A", _t("10:00", 8), "In Progress", None, "L1", "High"),
            ("A", _t("10:20", 8), "Resolved", None, "L1", "High"),  # 20 more
        ]
    )
    cases = history_of(df).cases
    assert cases["effort"].iloc[0] == pytest.approx(30.0)
    elapsed = cases["resolved"].iloc[0] - cases["work_started"].iloc[0]
    assert elapsed > 2 * 1440  # what the old replay took as effort


def test_effort_does_not_count_the_queue_after_a_hold() -> None:
    df = _log(
        [
            ("A", _t("09:00"), "In Progress", None, "L1", None),
            ("A", _t("09:10"), "Wait", "Customer", "L1", None),
            ("A", _t("12:00"), "Customer replied", None, "L1", None),  # back in the queue
            ("A", _t("14:00"), "In Progress", None, "L1", None),
            ("A", _t("14:05"), "Resolved", None, "L1", None),
        ],
        activities={
            "In Progress": "work_started",
            "Wait": "on_hold",
            "Customer replied": "resumed",
            "Resolved": "resolved",
        },
    )
    cases = history_of(df).cases
    assert cases["effort"].iloc[0] == pytest.approx(15.0)
    assert cases["hold_min"].iloc[0] == pytest.approx(170.0)
    assert cases["hold_after"].iloc[0] == pytest.approx(10.0)


def test_recorded_waits_are_replayed_as_holds(history, replayed) -> None:
    asis = replayed.as_is["effort"]
    run = replayed.runs["service-desk"].summary["effort"]
    assert run["held"] == asis["held"] > 0  # every case that waited waits again
    assert run["hold_min"]["mean"] == pytest.approx(asis["hold_min"]["mean"], rel=0.02)
    assert run["effort_min"]["mean"] == pytest.approx(asis["effort_min"]["mean"], rel=0.02)


def test_effort_within_working_hours() -> None:
    rows = [
        ("A", _t("17:00"), "In Progress", None, "L1", None),
        ("A", _t("09:30", 7), "Resolved", None, "L1", None),  # overnight, worked through
    ]
    plain = history_of(_log(rows)).cases["effort"].iloc[0]
    hours = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}]
    within = history_of(_log(rows, working_hours=hours)).cases["effort"].iloc[0]
    assert plain == pytest.approx(16.5 * 60)
    assert within == pytest.approx(60 + 90)  # 17:00-18:00 and 08:00-09:30 local


def test_a_case_that_never_shows_work_has_unknown_effort_and_says_so(default_policy) -> None:
    df = _log(
        [
            ("A", _t("09:00"), "Queued", None, "L1", None),
            ("A", _t("11:00"), "Resolved", None, "L1", None),
        ]
    )
    history = history_of(df)
    assert np.isnan(history.cases["effort"].iloc[0])
    outcome = replay(history, [default_policy], seed=1)
    notes = " ".join(outcome.assumptions)
    assert "never show work starting" in notes and "elapsed time is never taken" in notes


def test_a_case_starts_at_its_first_row_even_an_ignored_one() -> None:
    df = _log(
        [
            ("A", _t("08:00"), "Accepted", None, "L1", None),  # ignored, but it is the start
            ("A", _t("09:00"), "Queued", None, "L1", None),
            ("A", _t("10:00"), "Resolved", None, "L1", None),
        ]
    )
    case = history_of(df).cases.iloc[0]
    assert case["resolved"] - case["occurred"] == pytest.approx(120.0)


def test_statuses_levels_impact_and_creation_map_to_exsim_events() -> None:
    df = _log(
        [
            ("A", _t("08:00"), "Queued", None, "L1", "Major"),
            ("A", _t("08:10"), "In Progress", None, "L1", "Major"),
            ("A", _t("08:20"), "Wait", "Vendor", "L1", "Major"),
            ("A", _t("09:20"), "In Progress", "Working", "L1", "Major"),  # falls back to status
            ("A", _t("09:30"), "Queued", None, "L2", "Major"),  # level up: escalation
            ("A", _t("10:30"), "Queued", None, "L1", "Major"),  # level down: reassignment
            ("A", _t("11:00"), "Resolved", None, "L1", "Major"),
            ("A", _t("12:00"), "Reopened", None, "L1", "Major"),
        ],
        severity_map={"Major": "critical"},
        source_detects=True,
    )
    rows = df.sort_values("ts", kind="stable")
    events = rows["event"].astype(str).tolist()
    assert events[:2] == ["occurred", "detected"]
    assert {"on_hold", "resumed", "reopened", "reassigned"} <= set(events)
    moves = rows[rows["event"] == "reassigned"]
    assert moves["detail"].tolist() == ["escalation: L1 -> L2", "level: L2 -> L1"]
    assert moves["team"].tolist() == ["L2", "L1"]
    resumed = rows[rows["event"] == "resumed"]["ts"].tolist()
    assert resumed == rows[rows["event"] == "work_started"]["ts"].tolist()[1:]
    assert set(rows["severity"].astype(str)) == {"critical"}
    assert df.attrs["meta"].extra["replay"]["timezone"] == ZONE


def test_source_detection_means_no_missed_detections(replayed) -> None:
    assert replayed.as_is["missed_detections"] == 0


def test_as_is_never_negative_and_inconsistent_orders_are_counted(replayed) -> None:
    for kpi in ("queue_wait_min", "detection_latency_min", "time_to_resolve_min"):
        low = replayed.as_is[kpi]
        assert low["n"] == 0 or low["p50"] >= 0
    cases = case_table(replayed.as_is_log)
    assert ((cases["work_started"] - cases["assigned"]).dropna() >= 0).all()
    bad = replayed.as_is["replay"]["inconsistent_order"]
    assert bad.get("assigned after a later stage", 0) > 0
    assert any("inconsistent" in n for n in replayed.assumptions)


def test_recorded_severity_reaches_policy_rules(history) -> None:
    policy = load_policy("service-desk")
    outcome = replay(history, [policy], seed=1)
    log = to_pandas(outcome.runs[policy.name].result.table)
    classified = log[log["event"] == "classified"]
    by_rule = classified["detail"].astype(str)
    recorded = history.cases.set_index("case_id")["recorded_severity"]
    assert (by_rule == "rule:major-impact").sum() == (recorded == "critical").sum() > 0
    got = classified.loc[by_rule == "rule:major-impact", "severity"].astype(str)
    assert set(got) == {"critical"}


def test_counterfactuals_resolve_a_plausible_share(replayed) -> None:
    run = replayed.runs["service-desk"].summary
    asis = replayed.as_is
    assert run["cases"]["generated"] == asis["cases"]["generated"]
    assert run["cases"]["resolved"] >= 0.9 * asis["cases"]["resolved"]
    assert asis["labour"]["cost"] is None and asis["labour"]["agent_hours"] is None
    desk = asis["replay"]["desk"]
    # hands-on hours are the work intervals, far below the elapsed hours
    elapsed_h = asis["time_to_resolve_min"]["mean"] * asis["cases"]["resolved"] / 60
    assert asis["labour"]["work_hours"] == pytest.approx(
        desk["effort_min"]["mean"] * desk["effort_known"] / 60
    )
    assert asis["labour"]["work_hours"] < 0.2 * elapsed_h


def test_since_until_select_whole_cases(export_rows) -> None:
    df, report = map_frame(export_rows, MAPPING, "x.csv", since="2025-03-03", until="2025-03-10")
    full, _ = map_frame(export_rows, MAPPING, "x.csv")
    ids = df.attrs["meta"].extra["source_case_ids"]["0"]
    t = pd.to_datetime(export_rows["Timestamp"], utc=True, format="ISO8601")
    first = t.groupby(export_rows["Incident ID"]).min()
    lo = pd.Timestamp("2025-03-03", tz=ZONE)
    hi = pd.Timestamp("2025-03-10", tz=ZONE)
    assert set(ids) == set(first[(first >= lo) & (first < hi)].index)
    # whole cases: the rows after --until of the selected cases are kept
    assert df["ts"].max() > (hi - lo).total_seconds() / 60
    assert report.dropped["case outside --since/--until"] > 0
    assert pd.Timestamp(df.attrs["meta"].start) == lo
    assert len(full) > len(df)
    with pytest.raises(ReplayInputError, match="--until: must be after --since"):
        map_frame(export_rows, MAPPING, "x.csv", since="2025-03-10", until="2025-03-03")


def test_gzip_csv_is_read_and_a_damaged_one_is_a_clear_error(export_file, tmp_path) -> None:
    df, report = load_log(export_file, MAPPING)
    assert report.format == "csv" and len(df) > 1000
    bad = tmp_path / "broken.csv.gz"
    bad.write_bytes(gzip.compress(b"Incident ID,Timestamp\nA,2025")[:20])
    with pytest.raises(ReplayInputError, match="broken.csv.gz"):
        load_log(bad, MAPPING)


def test_the_last_case_of_a_csv_is_replayed(default_policy, tmp_path) -> None:
    rows = [
        (f"C{i}", _t(f"{8 + i // 60:02d}:{i % 60:02d}"), "Queued", None, "L1", None)
        for i in range(5)
    ]
    df = _log(rows)  # the last case's only row is the log's last timestamp
    outcome = replay(history_of(df), [default_policy], seed=1)
    assert outcome.runs["default"].summary["cases"]["generated"] == 5
    assert outcome.as_is["cases"]["generated"] == 5


def test_calibrated_profiles_speak_the_source_time_zone(history) -> None:
    from replay.calibrate import calibrate

    cal = calibrate(history)
    assert cal.scenario.start.utcoffset() is not None
    assert pd.Timestamp(cal.scenario.start).tz_convert(ZONE).hour == 0
    hourly = np.array(cal.scenario.profiles["all"].hourly)
    # the office opens at 08:00 local: 07:00 is quiet, 17:00 busy (in UTC both are office)
    assert hourly[7] < 0.5 * hourly[17]


# -- reports on a replay ------------------------------------------------------------------------
def test_exsim_report_on_a_replay_is_paired(export_file, mapping_file, tmp_path) -> None:
    out = tmp_path / "rp"
    args = ["replay", str(export_file), "-m", str(mapping_file), "-p", "service-desk"]
    res = runner.invoke(app, [*args, "--reps", "2", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    summaries = json.loads(res.stdout)
    assert summaries[AS_IS]["labour"]["cost"] is None
    html = tmp_path / "report.html"
    res = runner.invoke(
        app, ["report", str(out / AS_IS), "--compare", str(out / "service-desk"), "-o", str(html)]
    )
    assert res.exit_code == 0, res.output
    text = html.read_text(encoding="utf-8")
    assert "do not replay the same exceptions" not in text + res.output
    assert "Welch" not in text

    from sim.reports.comparison import compare_runs
    from sim.reports.rundir import load_run_dir

    cmp = compare_runs([load_run_dir(out / AS_IS), load_run_dir(out / "service-desk")])
    assert cmp.paired and not cmp.warnings
    cost = cmp.cells["labour.cost"][0]
    assert not np.isfinite(cost.mean)  # unknown, not 0
    assert cmp.cells["sla.overall"][1].n == 2


def test_funnel_counts_on_a_mapped_log_without_details(history) -> None:
    from sim.reports.charts.workload import funnel_counts

    log = history.log.assign(detail=pd.Categorical([None] * len(history.log)))
    counts = funnel_counts(log)
    assert counts["detected"] == history.log["case_id"].nunique()


def test_generator_is_deterministic_and_drifts() -> None:
    a = service_desk_export(seed=3, shape=DeskShape(days=28))
    b = service_desk_export(seed=3, shape=DeskShape(days=28))
    pd.testing.assert_frame_equal(a, b)
    big = service_desk_export(seed=3)
    t = pd.to_datetime(big["Timestamp"], utc=True, format="ISO8601")
    first = t.groupby(big["Incident ID"]).min()
    weeks = first.dt.tz_convert(ZONE).dt.to_period("W").value_counts().sort_index()
    assert weeks.iloc[-4:].mean() > 2.5 * weeks.iloc[:4].mean()


def test_cli_since_until_for_files(export_file, mapping_file, tmp_path) -> None:
    out = tmp_path / "w"
    base = ["replay", str(export_file), "-m", str(mapping_file), "-p", "service-desk"]
    window = ["--since", "2025-04-01", "--until", "2025-04-08"]
    res = runner.invoke(app, [*base, *window, "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    cases = json.loads(res.stdout)[AS_IS]["cases"]["generated"]
    assert 0 < cases < 400
    assert "case outside --since/--until" in res.stderr
    res = runner.invoke(app, [*base, "--since", "April", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--since: 'April' is not an ISO date" in res.stderr
    assert "\n" not in res.stderr.strip() and not (tmp_path / "x").exists()


MIRROR = """
extends: service-desk
name: mirror
staffing:
  teams:
    service_desk:
      shifts:
        - {{name: always, start: "00:00", end: "24:00", agents: {agents}}}
queue: {{discipline: fifo}}
escalation: {{ladders: {{}}}}
sla:
  default_min: 60
  by_severity: {{critical: 45, high: 60, medium: 90, low: 120}}
"""


def test_a_policy_mirroring_the_desk_reproduces_its_sla(tmp_path) -> None:
    # a desk of two agents around the clock, first come first served, made the history
    raw = service_desk_export(seed=5, shape=DeskShape(days=56, agents=2, duplicate_prob=0))
    df, _ = map_frame(raw, MAPPING, "mirror.csv")
    policies = []
    for agents in (2, 1):
        path = tmp_path / f"mirror{agents}.yaml"
        path.write_text(MIRROR.format(agents=agents), encoding="utf-8")
        policies.append(load_policy(path))
    outcome = replay(history_of(df), policies, seed=1, reps=2)
    asis = outcome.as_is
    same, half = (outcome.runs[n].summary for n in ("mirror", "mirror-2"))
    assert asis["sla"]["met"] + asis["sla"]["breached"] > 500
    assert same["sla"]["overall"] == pytest.approx(asis["sla"]["overall"], abs=0.01)
    assert same["queue_wait_min"]["mean"] == pytest.approx(asis["queue_wait_min"]["mean"], rel=0.02)
    # the lever moves the outcome: one agent instead of two breaches far more
    assert half["sla"]["overall"] < asis["sla"]["overall"] - 0.1


def test_the_backlog_chart_of_a_replay_covers_the_whole_history(replayed) -> None:
    import matplotlib.dates as mdates

    from sim.reports.charts.timeline import backlog_chart

    meta = replayed.as_is_log.attrs["meta"]
    ax = backlog_chart(replayed.as_is_log).axes[0]
    # the axis is the source's wall clock (naive): local midnight of the first day
    lo, hi = (pd.Timestamp(mdates.num2date(x)).tz_localize(None) for x in ax.get_xlim())
    start = pd.Timestamp(meta.start).tz_localize(None)
    assert start == pd.Timestamp("2025-01-06") and abs((lo - start).total_seconds()) < 60
    end = start + pd.Timedelta(minutes=meta.horizon_min)
    assert abs((hi - end).total_seconds()) < 2 * 3600
    assert (end - start).days >= 119
