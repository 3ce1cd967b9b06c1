"""Shared fixtures: small scenarios and policies built in code, and the Odoo test server.

The suite runs on pytest-xdist with ``--dist loadscope``: each test module goes whole to one
worker, so a module-scoped fixture (a set of runs, a report, a browser page) is built once,
not once per worker. Modules are handed out in the order of :data:`LONGEST_FIRST` (measured
CPU seconds and waits), then the rest in collection order: the long ones start at once and the
short ones fill in at the end, so no worker is left running a long module alone.
"""

from __future__ import annotations

import pytest

from sim.config import load_policy, load_scenario

pytest_plugins = ["tests.odoo_server.plugin"]

#: Test modules that take longest, longest first (measured on 2 cores; a renamed or new module
#: simply runs in collection order after these).
LONGEST_FIRST = (
    "test_odoo_load.py",  # Locust master and two workers for a bounded run: ~25 s wall
    "test_ui.py",  # a browser against `exsim ui`, four what-if runs
    "test_reports.py",
    "test_safety.py",
    "test_operations.py",
    "test_invariants.py",
    "test_replay.py",
    "test_notebooks.py",
    "test_experiments.py",
    "test_report_load.py",
    "test_backends.py",
    "test_metrics.py",
    "test_calibrate.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis profiles (tests/profiles.py): ``quick`` unless ``--hypothesis-profile`` names
    another, which Hypothesis's own plugin loads after this."""
    from tests import profiles

    profiles.register()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest modules first (a stable sort: the order within a module is kept)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def default_scenario():
    return load_scenario("default")


@pytest.fixture(scope="session")
def default_policy():
    return load_policy("default")
