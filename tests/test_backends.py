"""Backends give identical answers: serial, local processes and a local Dask cluster."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.config import load_policy, load_scenario
from sim.experiments import BackendError, RunSettings, compare, map_runs, sweep
from sim.experiments.jobs import Unit

PARAMS = {"detection.picking_sla.scan.interval_min": [15, 60], "queue.discipline": ["fifo", "edf"]}


@pytest.fixture(scope="module")
def small():
    """One day of the default world: identical answers do not need a longer run."""
    return load_scenario("default", {"horizon_days": 1}), load_policy("default")


@pytest.fixture(scope="module")
def dask_address():
    """A local cluster of one worker process: the units cross a process boundary and come back
    through Dask's futures (each spawned worker imports Dask and exsim anew: ~2 s CPU apiece)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def _sweep(small, backend, workers=None):
    scen, pol = small
    return sweep(scen, pol, PARAMS, RunSettings(reps=2, seed=3, backend=backend, workers=workers))


def test_sweep_identical_across_backends(small, dask_address):
    serial = _sweep(small, "serial")
    procs = _sweep(small, "processes", workers=2)
    dask = _sweep(small, dask_address)
    assert len(serial.results) == 8
    pd.testing.assert_frame_equal(serial.results, procs.results)
    pd.testing.assert_frame_equal(serial.results, dask.results)
    pd.testing.assert_frame_equal(serial.points, dask.points)


def test_compare_tables_and_logs_identical_across_backends(small, dask_address):
    scen, pol = small
    lean = load_policy("lean-desk")
    runs = {
        b: compare(scen, [pol, lean], RunSettings(reps=3, seed=5, backend=b, workers=2))
        for b in ("serial", "processes", dask_address)
    }
    base = runs["serial"]
    for other in (runs["processes"], runs[dask_address]):
        pd.testing.assert_frame_equal(base.table, other.table)
        for name in base.logs:
            assert base.logs[name].equals(other.logs[name])


def test_worker_count_does_not_change_results(small):
    scen, pol = small
    units = [Unit(r % 2, scen, pol, RunSettings(seed=11, reps=4), r) for r in range(4)]
    one = map_runs(units, RunSettings(backend="processes", workers=1))
    two = map_runs(list(reversed(units)), RunSettings(backend="processes", workers=2))[::-1]
    assert [o.summary for o in one] == [o.summary for o in two]


def test_progress_reports_finished_runs(small):
    scen, pol = small
    seen: list[float] = []
    settings = RunSettings(seed=1, reps=3, backend="serial")
    map_runs([Unit(0, scen, pol, settings, r) for r in range(3)], settings, seen.append)
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])


@pytest.mark.parametrize("bad", ["threads", "", "tcp//nohost", 42])
def test_unknown_backend_is_a_clear_error(small, bad):
    scen, pol = small
    with pytest.raises(BackendError, match="backend"):
        map_runs([Unit(0, scen, pol, RunSettings(), 0)], RunSettings(backend=bad))
