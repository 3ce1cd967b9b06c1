"""The summary streamed from a log file, a chunk of whole cases at a time, is the in-memory one.

``exsim run`` summarises the Parquet log it streamed without ever reading it whole; these
tests hold that path to the in-memory :func:`summarize_reps` on the very same file, with
batches small enough that cases straddle many of them.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim import eventlog, runner
from sim.config import load_policy, load_scenario
from sim.metrics import stream, summarize_reps
from sim.metrics.stream import summarize_file, whole_case_chunks
from sim.policies.schema import Policy
from sim.scenarios.schema import Scenario


@pytest.fixture(scope="module")
def injected_log(tmp_path_factory):
    """Three replications of the default injected scenario, streamed to one file."""
    path = tmp_path_factory.mktemp("log") / "events.parquet"
    scen = load_scenario("default", {"horizon_days": 4})
    runner.run(
        scen, load_policy("default"), runner.RunSettings(seed=3, reps=3, workers=1), stream_to=path
    )
    return path


@pytest.fixture(scope="module")
def operations_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "events.parquet"
    scen = load_scenario("baseline", {"horizon_days": 3})
    runner.run(scen, load_policy("default"), runner.RunSettings(seed=5), stream_to=path)
    return path


@pytest.fixture(scope="module")
def levers_log(tmp_path_factory):
    """Holds, reopens, a reassigning, severity-raising and paging escalation ladder: the KPIs
    that read rows (effort, holds, escalation actions, on-call work) see every row they need."""
    path = tmp_path_factory.mktemp("log") / "events.parquet"
    work = {"dist": "exponential", "mean": 25}
    hold = {
        "prob": 0.3,
        "at_fraction": 0.5,
        "waits": {"supplier": {"weight": 1, "duration_min": {"dist": "constant", "mean": 200}}},
    }
    reopen = {"prob": 0.3, "after_min": {"dist": "constant", "mean": 300}, "rework_fraction": 0.5}
    scen = Scenario.model_validate(
        {
            "name": "levers",
            "horizon_days": 4,
            "categories": {
                "picking_sla": {"rate_per_hour": 3.0, "handling_min": work, "hold": hold},
                "credit_hold": {"rate_per_hour": 1.0, "handling_min": work, "reopen": reopen},
            },
        }
    )
    ladder = [
        {"after_min": 30, "notify": "lead", "actions": [{"reassign": {"to": "second"}}]},
        {"after_min": 60, "actions": [{"page": {"on_call": "duty"}}]},
        {"after_min": 90, "actions": [{"raise_severity": {"levels": 1}}]},
    ]
    duty = {"response_min": {"dist": "constant", "mean": 20}, "cost_per_hour": 60}
    pol = Policy.model_validate(
        {
            "routing": {"default": "desk"},
            "staffing": {"teams": {"desk": {"agents": 1}, "second": {"agents": 2}}},
            "sla": {"default_min": 120},
            "escalation": {"ladders": {"medium": ladder}, "on_call": {"duty": duty}},
        }
    )
    runner.run(scen, pol, runner.RunSettings(seed=2, reps=2, workers=1), stream_to=path)
    return path


#: Each log is read in this many batches: enough that many cases straddle a batch boundary,
#: few enough that the cost per batch does not dominate the test.
BATCHES = 8


@pytest.fixture
def small_batches(monkeypatch):
    """Shrink the reader's batches so that ``path`` is read in :data:`BATCHES` of them."""

    def split(path) -> int:
        rows = pq.ParquetFile(path).metadata.num_rows
        monkeypatch.setattr(stream, "BATCH_ROWS", max(1, rows // BATCHES))
        return rows

    return split


@pytest.mark.parametrize("warmup", [0.0, 1440.0])
@pytest.mark.parametrize("log", ["injected_log", "operations_log", "levers_log"])
def test_streamed_summary_is_the_in_memory_summary(log, warmup, request, small_batches):
    path = request.getfixturevalue(log)
    small_batches(path)
    expected = summarize_reps(eventlog.read_log(path), warmup)
    assert summarize_file(path, warmup) == expected
    if log == "levers_log":  # the levers did act, so their KPIs were compared
        assert expected["effort"]["held"] > 0 and expected["effort"]["reopened"] > 0
        actions = {"tier1:reassign", "tier2:page", "tier3:raise_severity"}
        assert actions <= set(expected["escalation_actions"])
        assert expected["on_call"]["duty"]["hours"] > 0


def test_chunks_hold_whole_cases_and_every_row_once(injected_log, small_batches):
    small_batches(injected_log)
    seen: set[tuple[int, int]] = set()
    rows = []
    for chunk, _ in whole_case_chunks(injected_log, ["rep", "case_id", "ts"]):
        keys = set(zip(chunk["rep"].to_pylist(), chunk["case_id"].to_pylist(), strict=True))
        assert not keys & seen  # a case never continues in a later chunk
        seen |= keys
        rows.append(chunk.to_pandas())
    got = pd.concat(rows, ignore_index=True)
    whole = eventlog.read_log(injected_log)[["rep", "case_id", "ts"]]
    order = ["rep", "case_id", "ts"]
    pd.testing.assert_frame_equal(
        got.sort_values(order, ignore_index=True), whole.sort_values(order, ignore_index=True)
    )
    assert len(seen) > 100 and len(got) >= BATCHES * stream.BATCH_ROWS and len(rows) > BATCHES // 2


@pytest.mark.parametrize("workers", [1, 2])
def test_replications_streamed_to_files_join_into_the_in_memory_log(tmp_path, workers):
    scen, pol = load_scenario("default", {"horizon_days": 2}), load_policy("default")
    path = tmp_path / "events.parquet"
    streamed = runner.run(
        scen, pol, runner.RunSettings(seed=9, reps=3, workers=workers), stream_to=path
    )
    in_memory = runner.run(scen, pol, runner.RunSettings(seed=9, reps=3, workers=1))
    assert streamed.table is None and streamed.path == path
    assert streamed.meta == in_memory.meta and streamed.rows == in_memory.rows
    assert list(tmp_path.iterdir()) == [path]  # the replication files are gone

    def plain(df: pd.DataFrame) -> pd.DataFrame:
        return df.astype({c: object for c in eventlog.STRING_COLUMNS})

    pd.testing.assert_frame_equal(
        plain(eventlog.read_log(path)), plain(eventlog.to_pandas(in_memory.table))
    )


@pytest.mark.parametrize("large", [True, False])
def test_a_streamed_replication_frees_a_large_world_before_returning(tmp_path, monkeypatch, large):
    """A world counted as large (threshold 0) is collected by ``simulate_to`` itself; a small
    one is left to the collector (it may or may not be gone: the collector's own schedule)."""
    built = []

    def keep(*args, **kwargs):
        sim = runner.Simulation(*args[:2], seed=args[2], rep=args[3], reps=args[4])
        built.append(weakref.ref(sim.env))  # the world's clock: compiled classes take no weakref
        return sim

    monkeypatch.setattr(runner, "replication", keep)
    monkeypatch.setattr(runner, "COLLECT_BLOCKS", 0 if large else 10**12)
    scen, pol = load_scenario("default", {"horizon_days": 1}), load_policy("default")
    gc.disable()  # no automatic collection: only simulate_to's own can free the cyclic world
    try:
        meta = runner.simulate_to(tmp_path / "r.parquet", scen, pol, 3, 0, 1)
        freed = built[0]() is None
    finally:
        gc.enable()
    assert meta.seed == 3 and (tmp_path / "r.parquet").exists()
    assert freed is large


def test_a_log_without_rows_summarises_like_the_in_memory_path(tmp_path):
    meta = eventlog.LogMeta(start="2024-01-01T00:00:00", horizon_min=100.0)
    path = eventlog.write_table(
        eventlog.SCHEMA.empty_table().replace_schema_metadata(eventlog.schema_metadata(meta)),
        tmp_path / "empty.parquet",
    )
    assert summarize_file(path) == summarize_reps(eventlog.read_log(path))


def test_a_parquet_file_that_is_no_exsim_log_is_refused(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": np.arange(3)}), path)
    with pytest.raises(ValueError, match="not an exsim event log"):
        summarize_file(path)


def test_what_a_replication_keeps_between_chunks_owns_its_memory(operations_log, small_batches):
    """Per-case numbers are copied out of each chunk's frame: a view of one of its columns would
    keep the chunk's whole block of columns alive until the replication ends."""
    from sim.metrics.cases import case_table
    from sim.metrics.chunked import RepKpis

    small_batches(operations_log)
    meta = eventlog.read_log(operations_log).attrs["meta"]
    kpis = RepKpis(meta, 0.0)
    for chunk, _ in whole_case_chunks(operations_log):
        df = stream._frame(chunk, meta)
        kpis.add(df, case_table(df))
    kept = [a for cols in (kpis.cases, kpis.held) for parts in cols.parts.values() for a in parts]
    assert len(kept) > 20 and all(a.base is None for a in kept)
    got, expected = kpis.result(), summarize_file(operations_log)  # one replication
    assert got == {key: expected[key] for key in got}
