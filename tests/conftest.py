"""Shared fixtures: small scenarios and policies built in code, and the Odoo test server.

The suite runs on pytest-xdist with ``--dist loadscope``: each test module goes whole to one
worker, so a module-scoped fixture (a set of runs, a report, a browser page) is built once,
not once per worker. Modules are handed out in the order of :data:`LONGEST_FIRST` (measured
CPU seconds and waits), then the rest in collection order: the long ones start at once and the
short ones fill in at the end, so no worker is left running a long module alone.
"""

from __future__ import annotations

import gc

import pytest

pytest_plugins = ["tests.odoo_server.plugin"]

#: Test modules that take longest, longest first (CPU seconds measured on 2 cores, 2026-12-02:
#: 20 s down to 3 s; a renamed or new module simply runs in collection order after these).
LONGEST_FIRST = (
    "test_reports.py",  # three runs, a compare run, two reports
    "test_safety.py",
    "test_replay.py",
    "test_experiments.py",
    "test_operations.py",
    "test_replay_desk.py",
    "test_calibrate.py",
    "test_invariants.py",  # every shipped scenario x policy
    "test_odoo_live.py",
    "test_backends.py",  # a one-process dask cluster
    "test_terminal.py",
    "test_report_load.py",
    "test_ui.py",
    "test_stream_summary.py",
    "test_metrics.py",
    "test_receiver.py",
    "test_config.py",
    "test_replay_io.py",
    "test_mmc.py",
    "test_cli.py",
    "test_odoo_masterdata.py",
    "test_odoo_load.py",  # its Locust run is slow-only (CI's second step)
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis profiles (tests/profiles.py): ``quick`` unless ``--hypothesis-profile`` names
    another, which Hypothesis's own plugin loads after this."""
    from tests import profiles

    profiles.register()


def pytest_unconfigure(config: pytest.Config) -> None:
    """At the end of a session pytest collects garbage five times over, to run finalizers and
    report any exception they raise; in a worker's heap each pass walks every object (about a
    second in all). One pass here finds the same garbage, then the survivors are frozen out of
    the collector's way: pytest's own passes see only what those finalizers create."""
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest modules first (a stable sort: the order within a module is kept)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def default_scenario():
    from sim.config import load_scenario  # imported here: xdist's controller never needs it

    return load_scenario("default")


@pytest.fixture(scope="session")
def default_policy():
    from sim.config import load_policy

    return load_policy("default")
