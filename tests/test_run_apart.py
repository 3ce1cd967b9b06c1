"""A log streamed to a file is simulated in a worker process (sim/runner.py), so the summary
that reads it next starts from a clean heap: the same log, its progress shown as it goes."""

from __future__ import annotations

import gc
import os

from sim import eventlog, runner
from sim.config import load_policy, load_scenario


def test_a_streamed_run_simulates_in_a_worker_and_writes_the_same_log(tmp_path, monkeypatch):
    scen, pol = load_scenario("default", {"horizon_days": 2}), load_policy("default")
    pids = tmp_path / "pids"
    simulate_to = runner.simulate_to

    def noting_the_process(*args, **kwargs):
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\n")
        return simulate_to(*args, **kwargs)

    monkeypatch.setattr(runner, "simulate_to", noting_the_process)
    path = tmp_path / "events.parquet"
    result = runner.run(scen, pol, runner.RunSettings(seed=4), stream_to=path)
    simulated_in = [int(p) for p in pids.read_text().split()]
    assert simulated_in and os.getpid() not in simulated_in
    in_memory = runner.run(scen, pol, runner.RunSettings(seed=4))
    streamed = eventlog.read_table(path)
    assert streamed.num_rows == in_memory.table.num_rows > 0
    for name in streamed.column_names:
        assert streamed[name].to_pylist() == in_memory.table[name].to_pylist(), name
    assert result.meta == in_memory.meta
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.parquet", "pids"]


def test_a_streamed_run_reports_its_progress_while_the_worker_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "PROGRESS_POLL_S", 0.005)
    scen, pol = load_scenario("default", {"horizon_days": 60}), load_policy("default")
    seen: list[float] = []
    runner.run(
        scen,
        pol,
        runner.RunSettings(seed=1, reps=2, workers=1),
        progress=seen.append,
        stream_to=tmp_path / "events.parquet",
    )
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert any(0.0 < share < 0.5 for share in seen), seen  # within the first replication


def test_where_workers_are_not_forked_one_worker_simulates_in_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "forks", lambda: False)  # e.g. macOS, Windows: spawned workers
    pids = tmp_path / "pids"
    simulate_to = runner.simulate_to

    def noting_the_process(*args, **kwargs):
        pids.write_text(str(os.getpid()))
        return simulate_to(*args, **kwargs)

    monkeypatch.setattr(runner, "simulate_to", noting_the_process)
    scen, pol = load_scenario("default", {"horizon_days": 1}), load_policy("default")
    path = tmp_path / "events.parquet"
    result = runner.run(scen, pol, runner.RunSettings(seed=4), stream_to=path)
    assert int(pids.read_text()) == os.getpid()
    assert result.rows == eventlog.read_table(path).num_rows > 0


def test_a_full_disk_in_the_worker_is_the_same_one_line_error_and_leaves_nothing(
    tmp_path, monkeypatch
):
    import errno

    from typer.testing import CliRunner

    from sim.cli import app

    def disk_full(self, batch):
        raise OSError(errno.ENOSPC, "No space left on device", "/data/out")

    monkeypatch.setattr(eventlog.ParquetSink, "write", disk_full)  # forked: the worker's too
    result = CliRunner().invoke(app, ["run", "--days", "6", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "/data/out: no space left on device" in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_worker_frees_a_replications_garbage_before_its_next(tmp_path):
    """Worker processes run replication after replication: what one left in reference cycles
    is collected before the next starts (not the last: the worker then ends)."""
    scen, pol = load_scenario("default", {"horizon_days": 2}), load_policy("default")
    gc.collect()
    gc.disable()  # only the runner's own collections below
    try:
        runner._one_to((tmp_path / "r0.parquet", scen, pol, 1, 0, 2))
        left_by_a_first_replication = gc.collect()
        runner._one_to((tmp_path / "r1.parquet", scen, pol, 1, 1, 2))
        left_by_the_last = gc.collect()
    finally:
        gc.enable()
    assert left_by_the_last > 0  # a replication does leave cyclic garbage
    assert left_by_a_first_replication == 0
