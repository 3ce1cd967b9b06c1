"""The event-log recorder: what goes in comes out, whatever the chunking."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.eventlog import (
    COLUMNS,
    EVENTS,
    OCCURRED,
    SEVERITIES,
    EventLog,
    LogMeta,
    ParquetSink,
    read_log,
    to_pandas,
)

META = LogMeta(start="2026-01-05T00:00:00", horizon_min=1000.0, scenario="s", policy="p")

rows = st.lists(
    st.tuples(
        st.integers(0, 9),  # case
        st.floats(0, 1000),  # ts
        st.integers(0, len(EVENTS) - 1),  # event
        st.integers(-1, len(SEVERITIES) - 1),  # severity
        st.sampled_from([None, "desk", "lead"]),
        st.sampled_from([None, "desk/a/1", "scan"]),
        st.sampled_from([None, "rule:x", "tier1"]),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(rows=rows, chunk=st.integers(1, 20), spill=st.integers(1, 8))
def test_rows_round_trip_whatever_the_chunk_size(rows, chunk, spill):
    log = EventLog(META, chunk_rows=chunk, spill_rows=spill)
    for c in range(10):
        log.open_case(
            f"cat{c % 3}",
            float(c) if c % 2 else math.nan,
            "key" if c % 2 else None,
            "WH",
            "north",
            parent=c - 1 if c > 5 else -1,
            trigger=float(-c),
            cause=f"order:{c}" if c % 4 == 0 else None,
        )
    for case, ts, ev, sev, team, actor, detail in rows:
        log.record(ts, case, ev, sev, log.code(team), log.code(actor), log.code(detail), 5.0)
        log.open_case("extra") if log.pending_rows >= chunk else None  # flush points, as the engine
    df = to_pandas(log.table())
    assert list(df.columns) == [c.name for c in COLUMNS]
    df = df[df.case_id < 10].reset_index(drop=True)
    assert len(df) == len(rows)

    def text(value):
        return (
            None
            if value is None or (isinstance(value, float) and math.isnan(value))
            else str(value)
        )

    caused = {c for c in range(10) if c % 4 == 0}  # cases whose cause is still to be used
    for i, (case, ts, ev, sev, team, actor, detail) in enumerate(rows):
        r = df.iloc[i]
        assert (r.case_id, r.ts, r.event) == (case, ts, EVENTS[ev])
        assert text(r.severity) == (SEVERITIES[sev] if sev >= 0 else None)
        assert text(r.team) == team and text(r.actor) == actor
        cause = None
        if ev == OCCURRED and case in caused:  # a case's cause rides on its (first) occurred row
            caused.remove(case)
            cause = f"order:{case}"
        assert text(r.detail) == (cause or detail)
        assert r.trigger_ts == -case and r.category == f"cat{case % 3}"
        assert text(r.customer_tier) == ("key" if case % 2 else None)
        assert (r.parent_case_id == case - 1) if case > 5 else pd.isna(r.parent_case_id)


def test_causes_are_dropped_once_their_occurred_row_is_in():
    """A case's cause is needed only for its occurred row: the recorder does not keep one string
    per case for the whole run (operations mode opens half a million cases a year)."""
    log = EventLog(META, chunk_rows=1000, spill_rows=64)
    for c in range(5000):
        cid = log.open_case("stock_shortage", cause=f"order:{c}")
        log.record(float(c), cid, OCCURRED)
        log.record(float(c), cid, OCCURRED + 1)
        assert log.held_causes <= 64 + 1
    details = log.table().column("detail").to_pylist()
    assert details[0::2] == [f"order:{c}" for c in range(5000)]
    assert log.held_causes == 0


def test_unique_causes_are_not_interned(tmp_path):
    """A year of operations has far more causes than the 2^18 interned names a log allows."""
    meta = LogMeta(start="2026-01-05T00:00:00", horizon_min=1.0)
    sink = ParquetSink(tmp_path / "e.parquet", meta)
    log = EventLog(meta, sink=sink, chunk_rows=50_000)
    n = 300_000
    for c in range(n):
        cid = log.open_case("stock_shortage", cause=f"order:{c}")
        log.record(0.0, cid, OCCURRED)
    log.flush()
    meta.extra["operations"] = {"orders": n}
    sink.close(meta)
    df = read_log(tmp_path / "e.parquet")
    assert len(df) == n and df.detail.iloc[-1] == f"order:{n - 1}"
    # final metadata written at close wins over the header's copy
    assert df.attrs["meta"].extra["operations"] == {"orders": n}
    assert pq.ParquetFile(tmp_path / "e.parquet").metadata.num_row_groups == 6
