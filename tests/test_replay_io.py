"""Replay input: exsim's own exports read back exactly; messy real-world exports mapped with
every row accounted for; garbage never crashes the mapper."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import replay
from replay import ReplayInputError, load_log, map_frame, parse_mapping
from sim.eventlog import EVENT_CODE, LogMeta, empty_frame
from sim.exports import export
from tests.profiles import examples

DATA = Path(__file__).parent / "data" / "replay"


def _load_sample_log():
    """The realistic log builder of test_exports (tests/ is not a package, and a conftest
    is another engineer's file, so it is loaded by path)."""
    spec = importlib.util.spec_from_file_location(
        "exsim_test_exports", Path(__file__).with_name("test_exports.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sample_log


sample_log = _load_sample_log()
SORT = ["rep", "case_id", "ts", "_code"]


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    out = df.assign(_code=df["event"].astype(str).map(EVENT_CODE))
    return out.sort_values(SORT, kind="stable").drop(columns="_code").reset_index(drop=True)


def _values(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s.astype(object)]


def _kinds(df: pd.DataFrame) -> list[str]:
    return ["category" if isinstance(d, pd.CategoricalDtype) else str(d) for d in df.dtypes]


def _same_rows(back: pd.DataFrame, log: pd.DataFrame, exact: bool) -> None:
    a, b = _sorted(back), _sorted(log)
    assert len(a) == len(b)
    for col in ("ts", "due_ts"):
        np.testing.assert_allclose(a[col], b[col], atol=0 if exact else 1e-6, rtol=0)
    rest = [c for c in a.columns if c not in ("ts", "due_ts")]
    pd.testing.assert_frame_equal(a[rest], b[rest], check_categorical=False)


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return sample_log(300)


# -- exsim's own files need no mapping ---------------------------------------------------------
@pytest.mark.parametrize("name", ["log.csv", "log.parquet", "log.xes", "log.jsonocel"])
def test_exsim_exports_round_trip(log: pd.DataFrame, tmp_path: Path, name: str) -> None:
    back, report = load_log(export(log, tmp_path / name))
    assert report.native and report.rows_read == report.rows_kept == len(log)
    assert not report.dropped and not report.warnings
    _same_rows(back, log, exact=name.endswith((".csv", ".parquet")))
    assert _kinds(back) == _kinds(empty_frame(log.attrs["meta"]))
    # the per-case dates survive every format (XES/OCEL carry them as wall-clock times)
    for col in ("trigger_ts", "promise_ts"):
        got, want = _sorted(back)[col].to_numpy(float), _sorted(log)[col].to_numpy(float)
        assert np.isfinite(want).any() and np.isnan(want).any()
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=0, equal_nan=True)
    meta = back.attrs["meta"]
    assert meta.start == log.attrs["meta"].start
    if not name.endswith(".csv"):  # CSV has no room for the rest of the meta
        assert meta == log.attrs["meta"]


def test_exsim_csv_without_the_newer_columns_reads_them_as_null(
    log: pd.DataFrame, tmp_path: Path
) -> None:
    path = export(log, tmp_path / "log.csv")
    old = pd.read_csv(path, dtype=str).drop(columns=["trigger_ts", "promise_ts"])
    old.to_csv(tmp_path / "old.csv", index=False)
    back, report = load_log(tmp_path / "old.csv")
    assert report.native and report.rows_kept == len(log)
    assert back["trigger_ts"].isna().all() and back["promise_ts"].isna().all()


def test_replications_round_trip(tmp_path: Path) -> None:
    log = sample_log(30, reps=2)
    for name in ("r.xes", "r.jsonocel", "r.csv"):
        back, _ = load_log(export(log, tmp_path / name))
        _same_rows(back, log, exact=name.endswith(".csv"))


@pytest.mark.parametrize("name", ["log.xes", "log.jsonocel", "log.csv"])
def test_exsim_exports_through_a_mapping(log: pd.DataFrame, tmp_path: Path, name: str) -> None:
    """Read as a foreign log would be: dense ids, anchor from the mapping, same events."""
    path = export(log, tmp_path / name)
    columns = {
        "case_id": "case:concept:name",
        "timestamp": "time:timestamp",
        "activity": "concept:name",
        "category": "case:category",
        "team": "org:group",
        "actor": "org:resource",
        "severity": "severity",
    }
    if name.endswith(".jsonocel"):
        columns["team"], columns["actor"] = "object:team", "actor"
    columns["trigger"], columns["promise"] = "case:trigger", "case:promise"
    if name.endswith(".csv"):
        columns = {
            "case_id": "case_id",
            "timestamp": "time",
            "activity": "event",
            "category": "category",
            "team": "team",
            "actor": "actor",
            "severity": "severity",
            "parent": "parent_case_id",
        }
    mapping = parse_mapping({"columns": columns, "start": log.attrs["meta"].start})
    back, report = load_log(path, mapping)
    assert not report.native and report.rows_kept == len(log) and not report.dropped
    ids = report.case_ids
    assert ids["source_case_id"].tolist() == [str(i) for i in sorted(log["case_id"].unique())]
    a, b = _sorted(back), _sorted(log)
    np.testing.assert_allclose(a["ts"], b["ts"], atol=1e-6, rtol=0)
    for col in ("event", "category", "severity", "actor"):
        assert _values(a[col]) == _values(b[col]), col
    team = _values(b["team"])
    if name.endswith(".jsonocel"):  # OCEL team object ids are prefixed
        team = [None if t is None else f"team:{t}" for t in team]
    assert _values(a["team"]) == team
    assert back.attrs["meta"].source == "replay"
    assert back.attrs["meta"].extra["source_case_ids"]["0"][:3] == ["0", "1", "2"]
    if name.endswith(".csv"):
        assert a["parent_case_id"].equals(b["parent_case_id"])
    else:  # per-case dates: wall-clock times in XES/OCEL, read against the mapping's start
        for col in ("trigger_ts", "promise_ts"):
            got, want = a[col].to_numpy(float), b[col].to_numpy(float)
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=0, equal_nan=True)


# -- hand-written fixtures in the style of real exports ----------------------------------------
def test_messy_csv_export() -> None:
    df, report = load_log(DATA / "odoo_exceptions.csv", DATA / "odoo_exceptions.mapping.yaml")
    assert report.rows_read == 13 and report.rows_kept == 7 == len(df)
    assert report.dropped == {
        "malformed line": 1,
        "missing case id": 1,
        "unknown activity": 1,
        "ignored activity": 1,
        "unparseable timestamp": 1,
        "duplicate event": 1,
    }
    assert report.rows_read == report.rows_kept + report.rows_dropped
    assert report.warnings == {"unknown severity": 1, "unparseable order_value": 1}
    assert report.examples["unparseable timestamp"][0]["timestamp"] == "not a date"
    assert report.examples["unknown activity"][0]["activity"] == "Customer called"
    # ids in natural (string) order; the originals are kept
    assert report.case_ids["source_case_id"].tolist() == ["10", "EX-1001", "EX-1002"]
    meta = df.attrs["meta"]
    # minute 0 is the first case's midnight in the mapping's zone, on its clock
    assert meta.start == "2024-05-06T00:00:00+02:00" and meta.horizon_min == 840.0
    assert meta.extra["replay"]["timezone"] == "Europe/Berlin"
    ex1001 = df[df["case_id"] == 1]
    # +02:00, Z and naive Berlin time (CEST) all land on the same UTC clock
    assert ex1001["ts"].tolist() == [480.0, 485.0, 490.0, 540.0]
    assert ex1001["event"].tolist() == ["occurred", "detected", "assigned", "resolved"]
    assert set(ex1001["severity"]) == {"high"} and set(ex1001["category"]) == {"Stock shortage"}
    assert ex1001["order_value"].tolist() == [1234.5] * 4  # decimal comma
    assert df.loc[df["case_id"] == 0, "ts"].tolist() == [840.0]  # 06.05.2024 14:00 dayfirst
    assert df["severity"].isna().sum() == 1  # P9 is not in the severity map
    assert "duplicate event: 1" in report.summary()


def test_hand_written_xes() -> None:
    df, report = load_log(DATA / "wms_audit.xes", DATA / "wms_audit.mapping.yaml")
    assert (report.rows_read, report.rows_kept) == (7, 5)
    assert report.dropped == {"unknown activity": 1, "unparseable timestamp": 1}
    first = df[df["case_id"] == 0]
    assert first["event"].tolist() == ["occurred", "detected", "assigned", "resolved"]
    np.testing.assert_allclose(first["ts"], [420.0, 422.5, 435.0, 480.0 + 0.123 / 60])
    assert (
        first["team"].iloc[-1] == "Outbound & Shipping" and first["actor"].iloc[-1] == "Zoë Müller"
    )
    assert first["order_value"].iloc[0] == 830.0 and first["category"].iloc[0] == "Picking SLA"


def test_hand_written_ocel_flattens_on_the_case_object_type() -> None:
    df, report = load_log(DATA / "dock_events.jsonocel", DATA / "dock_events.mapping.yaml")
    assert (report.rows_read, report.rows_kept) == (4, 3)  # ev1 touches two exceptions
    assert report.dropped == {"missing case id": 1}  # the truck event has no exception
    assert report.case_ids["source_case_id"].tolist() == ["exc-1", "exc-2"]
    exc1 = df[df["case_id"] == 0]
    assert exc1["event"].tolist() == ["occurred", "resolved"] and exc1["ts"].tolist() == [360, 450]
    assert exc1["team"].tolist()[-1] == "Dock team" and exc1["severity"].iloc[0] == "high"
    assert df.loc[df["case_id"] == 1, "category"].iloc[0] == "damaged goods"  # latest value


def test_xes_written_by_pm4py_needs_no_mapping(log: pd.DataFrame, tmp_path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    start = pd.Timestamp(log.attrs["meta"].start)
    frame = pd.DataFrame(
        {
            "case:concept:name": log["case_id"].astype(str),
            "concept:name": log["event"].astype(str),
            "time:timestamp": start + pd.to_timedelta(log["ts"], unit="min"),
            "org:group": log["team"].astype(object),
        }
    )
    path = tmp_path / "pm4py.xes"
    pm4py.write_xes(frame, str(path))
    back, report = load_log(path)
    assert not report.native and report.rows_kept == len(log)
    assert back["event"].astype(str).value_counts().equals(log["event"].astype(str).value_counts())


# -- errors speak the user's file and field ----------------------------------------------------
def test_mapping_errors_name_file_and_field(tmp_path: Path) -> None:
    with pytest.raises(ReplayInputError) as err:
        load_log(DATA / "odoo_exceptions.csv", DATA / "bad_activity.mapping.yaml")
    assert str(err.value).startswith(
        "bad_activity.mapping.yaml: activities.Picked: 'picked_up' is not an exsim event"
    )
    assert err.value.exit_code == 2 and "\n" not in str(err.value)
    bad = tmp_path / "m.yaml"
    bad.write_text("columns: {case_id: Case ID, timestamp: Time Stamp, activity: Nope}\n")
    with pytest.raises(ReplayInputError, match=r"^m.yaml: columns.activity: column 'Nope' is not"):
        load_log(DATA / "odoo_exceptions.csv", bad)
    bad.write_text("columns: [oops\n")
    with pytest.raises(ReplayInputError, match=r"^m.yaml: not valid YAML \(line 2\)"):
        load_log(DATA / "odoo_exceptions.csv", bad)
    bad.write_text("columns: {case_id: a, timestamp: b, activity: c}\ntimezon: UTC\n")
    with pytest.raises(ReplayInputError, match=r"^m.yaml: timezon: unknown field"):
        load_log(DATA / "odoo_exceptions.csv", bad)


def test_unusable_logs_are_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ReplayInputError, match="empty.csv: the file is empty"):
        load_log(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text("Case ID;Activity;Time Stamp\n")
    with pytest.raises(ReplayInputError, match=r"h.csv: no usable rows \(0 read"):
        load_log(header_only, DATA / "odoo_exceptions.mapping.yaml")
    useless = tmp_path / "u.csv"
    useless.write_text("Case ID;Activity;Time Stamp\n1;Lunch;2024-01-01\n2;;\n")
    mapping = parse_mapping(
        {"columns": {"case_id": "Case ID", "timestamp": "Time Stamp", "activity": "Activity"}}
    )
    with pytest.raises(ReplayInputError, match=r"no usable rows \(2 read; unknown activity: 2\)"):
        load_log(useless, mapping)
    for name, text in (("x.xes", "<log><trace>"), ("x.json", "{]"), ("x.json", "[1, 2]")):
        (tmp_path / name).write_text(text)
        with pytest.raises(ReplayInputError, match=name.replace(".", r"\.")):
            load_log(tmp_path / name)
    with pytest.raises(ReplayInputError, match="no such file"):
        load_log(tmp_path / "missing.parquet")
    with pytest.raises(ReplayInputError, match="unknown log format"):
        load_log(tmp_path / "log.docx")


# -- properties: the mapper never crashes and never loses count --------------------------------
_MESS = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "occurred",
            "Detected ",
            "RESOLVED",
            "2024-03-31T02:30:00",
            "2024-10-27 02:30",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01",
            "1e400",
            "-0",
            "NaT",
            "nan",
            "P1",
            "\x00",
            "31.12.2024 25:61",
            "2024-02-30T00:00:00Z",
            "   ",
        ]
    ),
)
_COLUMNS = ["Case", "When", "What", "Sev", "Val", "Parent", "Rep", "Due"]
_MAPPING = parse_mapping(
    {
        "columns": {
            "case_id": "case",
            "timestamp": "when",
            "activity": "what",
            "severity": "SEV",
            "order_value": "val",
            "parent": "parent",
            "rep": "rep",
            "due": "due",
        },
        "activities": {"Alarm": "detected"},
        "severity_map": {"P1": "critical"},
        "timezone": "Europe/Berlin",
    },
    "fuzz.yaml",
)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(*[_MESS] * len(_COLUMNS)), max_size=25))
def test_garbled_rows_are_mapped_or_counted(rows: list[tuple]) -> None:
    frame = pd.DataFrame(rows, columns=_COLUMNS, dtype=object)
    try:
        df, report = map_frame(frame, _MAPPING, "fuzz.csv")
    except ReplayInputError as exc:
        assert str(exc).startswith("fuzz.csv: no usable rows")
        return
    assert report.rows_read == len(rows) == report.rows_kept + report.rows_dropped
    assert len(df) == report.rows_kept + sum(report.derived.values())
    assert report.rows_kept > 0
    assert list(df.columns) == list(empty_frame(LogMeta("2024-01-01", 0)).columns)
    assert (df["ts"] >= 0).all() and np.isfinite(df["ts"]).all()
    assert df["case_id"].between(0, len(rows)).all()


@settings(max_examples=examples(60), deadline=None)
@given(st.binary(max_size=400))
def test_garbled_csv_bytes_only_raise_replay_errors(tmp_path_factory, blob: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "log.csv"
    path.write_bytes(
        b"rep,case_id,ts,event,category,severity,team,actor,detail,due_ts,"
        b"order_value,customer_tier,warehouse,site,parent_case_id\n" + blob
    )
    try:
        df, report = load_log(path)
    except ReplayInputError:
        return
    assert report.rows_read == report.rows_kept + report.rows_dropped
    assert len(df) == report.rows_kept


def test_public_api() -> None:
    assert callable(replay.load_log) and replay.ReplayReport and replay.Mapping
