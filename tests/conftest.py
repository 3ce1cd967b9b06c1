"""Shared fixtures: small scenarios and policies built in code, and the Odoo test server."""

from __future__ import annotations

import pytest

from sim.config import load_policy, load_scenario

pytest_plugins = ["tests.odoo_server.plugin"]


@pytest.fixture(scope="session")
def default_scenario():
    return load_scenario("default")


@pytest.fixture(scope="session")
def default_policy():
    return load_policy("default")
