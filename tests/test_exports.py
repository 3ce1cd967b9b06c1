"""Exports: each format written from a realistic log and checked with an independent reader."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.eventlog import EVENT_CODE, EventLog, LogMeta, concat, read_log, to_pandas
from sim.exports import export, format_of, to_csv, to_ocel, to_parquet, to_xes

XES_NS = "{http://www.xes-standard.org/}"
CATEGORIES = ("stock_shortage", "picking_sla", "carrier_delay", "credit_hold")
TEAMS = ("warehouse_ops", "logistics", "finance & credit")
SITES = {"WH-North": "Hamburg", "WH-South": "München", "WH-<East>": "Wien"}


def sample_log(n_cases: int = 300, seed: int = 7, reps: int = 1) -> pd.DataFrame:
    """A log shaped like a simulation's: recorded in time order, ties, nulls, odd strings."""
    rng = np.random.default_rng(seed)
    meta = LogMeta(
        start="2024-03-04T06:00:00+01:00",
        horizon_min=0.0,
        scenario="round-trip",
        seed=seed,
        reps=reps,
        capacity_min={"logistics": 480.0},
    )
    tables = []
    for rep in range(reps):
        log = EventLog(meta, rep=rep, chunk_rows=500)
        rows = []
        for _ in range(n_cases):
            wh = str(rng.choice(list(SITES)))
            parent = int(rng.integers(0, log.n_cases)) if log.n_cases and rng.random() < 0.1 else -1
            t = float(rng.uniform(0, 7 * 24 * 60))
            # a third of the records started matching late (backdated trigger), a few have none
            u = rng.random()
            trigger = t - float(rng.exponential(120.0)) if u < 0.3 else t if u < 0.9 else np.nan
            # most have a date promised to the customer, some none
            promise = t + float(rng.gamma(2.0, 1440.0)) if rng.random() < 0.7 else np.nan
            case = log.open_case(
                category=str(rng.choice(CATEGORIES)),
                order_value=float(rng.lognormal(7, 1)) if rng.random() < 0.8 else float("nan"),
                tier=str(rng.choice(["strategic", "key", "standard"]))
                if rng.random() < 0.7
                else None,
                warehouse=wh,
                site=SITES[wh],
                parent=parent,
                trigger=trigger,
                promise=promise,
            )
            sev = int(rng.integers(0, 4))
            team = log.code(str(rng.choice(TEAMS)))
            agent = log.code(f"agent-{int(rng.integers(0, 9))}")
            due = t + 240.0
            steps = [
                ("occurred", -1, 0, log.code("system"), log.code("stock.move"), np.nan),
                (
                    "detected",
                    -1,
                    0,
                    log.code("scheduled_action"),
                    log.code('rule "R7" <late>'),
                    np.nan,
                ),
                ("classified", sev, 0, log.code("system"), 0, due),
                ("assigned", sev, team, log.code("system"), 0, due),
            ]
            if rng.random() < 0.3:
                steps.append(
                    (
                        "escalated",
                        min(sev + 1, 3),
                        team,
                        log.code("system"),
                        log.code("tier 2"),
                        due,
                    )
                )
            steps += [
                ("work_started", sev, team, agent, 0, due),
                ("resolved", sev, team, agent, log.code("réservé ✓"), due),
                ("closed", sev, team, agent, 0, due),
            ]
            for k, (name, s, tm, actor, detail, d) in enumerate(steps):
                if k not in (0, 2):  # occurred/detected and detected/classified can tie
                    t += float(rng.exponential(30.0))
                rows.append((t, case, EVENT_CODE[name], s, tm, actor, detail, d))
        for row in sorted(rows, key=lambda r: r[0]):
            t, case, ev, s, tm, actor, detail, d = row
            log.record(t, case, ev, severity=s, team=tm, actor=actor, detail=detail, due=d)
        tables.append(log.table())
    table = concat(tables, meta) if reps > 1 else tables[0]
    df = to_pandas(table)
    df.attrs["meta"].horizon_min = float(df["ts"].max())
    return df


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return sample_log()


def test_format_is_picked_by_extension(tmp_path: Path) -> None:
    assert format_of("a.CSV") == "csv"
    assert format_of("a.ocel.json") == format_of("b.jsonocel") == format_of("c.json") == "ocel"
    assert format_of(tmp_path / "x.xes") == "xes"
    with pytest.raises(ValueError, match=r"x\.txt: unknown export format"):
        export(pd.DataFrame(), tmp_path / "x.txt")
    with pytest.raises(ValueError, match="unknown export format 'pdf'"):
        export(pd.DataFrame(), tmp_path / "x.csv", fmt="pdf")


def test_parquet_keeps_rows_and_meta(log: pd.DataFrame, tmp_path: Path) -> None:
    path = export(log, tmp_path / "log.parquet")
    back = read_log(path)
    pd.testing.assert_frame_equal(back, log, check_categorical=False)
    assert back.attrs["meta"] == log.attrs["meta"]
    assert not list(tmp_path.glob("*.partial"))


def test_csv_has_schema_columns_and_wall_clock(log: pd.DataFrame, tmp_path: Path) -> None:
    path = to_csv(log, tmp_path / "log.csv")
    raw = pd.read_csv(path, float_precision="round_trip")  # pandas 2 parses loosely by default
    assert list(raw.columns[:-1]) == list(log.columns) and raw.columns[-1] == "time"
    np.testing.assert_array_equal(raw["ts"].to_numpy(), log["ts"].to_numpy())  # exact floats
    np.testing.assert_array_equal(raw["trigger_ts"].to_numpy(), log["trigger_ts"].to_numpy())
    np.testing.assert_array_equal(raw["promise_ts"].to_numpy(), log["promise_ts"].to_numpy())
    wall = pd.to_datetime(raw["time"], format="ISO8601", utc=True)
    start = pd.Timestamp("2024-03-04T05:00:00Z")
    minutes = (wall - start) / pd.Timedelta(minutes=1)
    np.testing.assert_allclose(minutes, log["ts"], atol=1e-6)


def test_xes_is_well_formed_and_case_centric(log: pd.DataFrame, tmp_path: Path) -> None:
    path = to_xes(log, tmp_path / "log.xes")
    root = ET.parse(path).getroot()
    assert root.tag == f"{XES_NS}log" and root.get("xes.version") == "1849-2016"
    prefixes = {e.get("prefix") for e in root.iter(f"{XES_NS}extension")}
    assert {"concept", "time", "org"} <= prefixes
    traces = root.findall(f"{XES_NS}trace")
    assert len(traces) == log["case_id"].nunique()
    n_events = sum(len(t.findall(f"{XES_NS}event")) for t in traces)
    assert n_events == len(log)
    first = traces[0]
    keys = {a.get("key"): a.get("value") for a in first if a.tag != f"{XES_NS}event"}
    assert keys["concept:name"] == "0" and keys["category"] in CATEGORIES
    values = [float(a.get("value")) for a in root.iter(f"{XES_NS}float")]
    assert len(values) == log.drop_duplicates("case_id")["order_value"].notna().sum()
    stamp = first.find(f"{XES_NS}event/{XES_NS}date[@key='time:timestamp']").get("value")
    assert stamp.endswith("+01:00")
    details = {a.get("value") for a in root.iter(f"{XES_NS}string") if a.get("key") == "detail"}
    assert 'rule "R7" <late>' in details and "réservé ✓" in details


def _minutes_since_start(stamps: list[str | None], start: str) -> np.ndarray:
    wall = pd.to_datetime(pd.Series(stamps, dtype=object), format="ISO8601", utc=True)
    return ((wall - pd.Timestamp(start)) / pd.Timedelta(minutes=1)).to_numpy(float)


@pytest.mark.parametrize("key", ["trigger", "promise"])
def test_case_dates_are_case_attributes_in_xes_and_ocel(
    log: pd.DataFrame, tmp_path: Path, key: str
) -> None:
    cases = log.drop_duplicates("case_id").set_index("case_id")[f"{key}_ts"]
    first_ts = log.groupby("case_id")["ts"].min()
    assert cases.isna().any() and cases.notna().any()
    if key == "trigger":  # some backdated
        assert (cases < first_ts.loc[cases.index]).any()
    root = ET.parse(to_xes(log, tmp_path / "log.xes")).getroot()
    xes: dict[int, str | None] = {}
    for trace in root.iter(f"{XES_NS}trace"):
        name = int(trace.find(f"{XES_NS}string[@key='concept:name']").get("value"))
        date = trace.find(f"{XES_NS}date[@key='{key}']")  # a trace attribute, not an event's
        xes[name] = None if date is None else date.get("value")
    doc = json.loads(to_ocel(log, tmp_path / "log.jsonocel").read_text(encoding="utf-8"))
    case_type = next(t for t in doc["objectTypes"] if t["name"] == "case")
    assert {"name": key, "type": "time"} in case_type["attributes"]
    ocel: dict[int, str | None] = {}
    for obj in doc["objects"]:
        if obj["type"] == "case":
            attrs = {a["name"]: a["value"] for a in obj["attributes"]}
            ocel[int(obj["id"])] = attrs.get(key)
    start = "2024-03-04T05:00:00Z"
    for found in (xes, ocel):
        ids = sorted(found)
        assert ids == sorted(cases.index)
        got = _minutes_since_start([found[i] for i in ids], start)
        want = cases.loc[ids].to_numpy(float)
        assert np.array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], atol=1e-6)


def test_ocel_follows_the_2_0_json_layout(log: pd.DataFrame, tmp_path: Path) -> None:
    path = to_ocel(log, tmp_path / "log.jsonocel")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert {"objectTypes", "eventTypes", "objects", "events"} <= set(doc)
    assert {t["name"] for t in doc["objectTypes"]} == {"case", "team", "warehouse"}
    assert {t["name"] for t in doc["eventTypes"]} == set(log["event"].astype(str))
    ids = {o["id"] for o in doc["objects"]}
    assert len(ids) == len(doc["objects"])
    assert len(doc["events"]) == len(log)
    for event in doc["events"]:
        assert {"id", "type", "time", "attributes", "relationships"} <= set(event)
        for rel in event["relationships"]:
            assert rel["objectId"] in ids and rel["qualifier"] in {"case", "owner", "at"}
    cases = [o for o in doc["objects"] if o["type"] == "case"]
    assert len(cases) == log["case_id"].nunique()
    assert all(a["time"] for o in cases for a in o["attributes"])


def test_writers_leave_no_partial_file_on_failure(tmp_path: Path) -> None:
    bad = sample_log(5)
    bad.attrs.pop("meta")
    with pytest.raises(ValueError, match="LogMeta"):
        to_xes(bad, tmp_path / "x.xes")
    assert list(tmp_path.iterdir()) == []


def test_parquet_accepts_an_arrow_table(log: pd.DataFrame, tmp_path: Path) -> None:
    import pyarrow as pa

    from sim.exports.tabular import to_table

    table = to_table(log)
    assert isinstance(table, pa.Table)
    back = read_log(to_parquet(table, tmp_path / "t.parquet"))
    assert back.attrs["meta"] == log.attrs["meta"] and len(back) == len(log)


def test_multi_replication_traces_are_named_rep_case(tmp_path: Path) -> None:
    df = sample_log(20, reps=2)
    root = ET.parse(to_xes(df, tmp_path / "r.xes")).getroot()
    names = [
        t.find(f"{XES_NS}string[@key='concept:name']").get("value")
        for t in root.iter(f"{XES_NS}trace")
    ]
    assert len(names) == len(set(names)) == 40 and names[0] == "0:0"


def test_pm4py_reads_our_xes_and_ocel(log: pd.DataFrame, tmp_path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    xes = pm4py.read_xes(str(to_xes(log, tmp_path / "log.xes")), return_legacy_log_object=False)
    assert len(xes) == len(log)
    assert xes["case:concept:name"].nunique() == log["case_id"].nunique()
    assert set(xes["concept:name"]) == set(log["event"].astype(str))
    assert str(xes["time:timestamp"].dt.tz) == "UTC"
    trigger = xes.drop_duplicates("case:concept:name")["case:trigger"]
    assert trigger.notna().sum() == log.drop_duplicates("case_id")["trigger_ts"].notna().sum()
    promise = xes.drop_duplicates("case:concept:name")["case:promise"]
    assert promise.notna().sum() == log.drop_duplicates("case_id")["promise_ts"].notna().sum()
    ocel = pm4py.read_ocel2_json(str(to_ocel(log, tmp_path / "log.jsonocel")))
    assert len(ocel.events) == len(log)
    assert set(ocel.objects["ocel:type"]) == {"case", "team", "warehouse"}
    assert set(ocel.o2o["ocel:qualifier"]) == {"located at", "caused by"}
    rel = ocel.relations
    assert (rel["ocel:qualifier"] == "case").sum() == len(log)
