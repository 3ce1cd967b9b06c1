"""pytest fixtures: an Odoo to test against -- the in-process test server, or a real one.

Register with ``pytest_plugins = ["tests.odoo_server.plugin"]``.

- ``odoo_settings`` (session): when EXSIM_ODOO_URL, EXSIM_ODOO_DB, EXSIM_ODOO_USER and
  EXSIM_ODOO_PASSWORD are all set, that real server (which must have the system parameter
  ``exsim.test_database`` = ``1``: tests write to it); otherwise a fresh ``OdooTestServer``
  started for the session, as the Odoo version ``EXSIM_TEST_ODOO_VERSION`` names (17, 18 or
  19; 17 by default).  ``is_fake`` tells which; ``server`` is the test server or None;
  ``api_key`` the key for JSON-2 (the test server's own on 19, or ``EXSIM_ODOO_API_KEY``).
- ``oca_settings`` (session): an Odoo with the OCA exception and tier-validation modules
  (``oca.MODULES``): the real server when it has them installed (``tools/real-odoo17-oca``;
  skips otherwise), else a test server started with ``oca=True``.  ``odoo_settings`` is the
  same server when ``EXSIM_TEST_ODOO_OCA=1`` (the whole suite with the modules installed).
- ``odoo_major``: the server's major version, read from the server (``common.version``).
- ``odoo``: a logged-in ``odoorpc.ODOO`` for those settings (one per test).
- ``fake_odoo``: the test server itself; skips the test on a real server (clock control...).
- ``advance_time``: ``advance_time(seconds)`` moves "now" forward on both paths -- the test
  server's clock is advanced instantly; on a real server it *sleeps* (keep it to a few
  seconds; to reach further into the past on a real server, write record dates back instead).
- marker ``odoo_live``: tests that must pass on the test server in each version mode and on a
  real Odoo 17, 18 or 19.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import odoorpc
import pytest

from .server import OdooTestServer

ENV_VARS = ("EXSIM_ODOO_URL", "EXSIM_ODOO_DB", "EXSIM_ODOO_USER", "EXSIM_ODOO_PASSWORD")
API_KEY_VAR = "EXSIM_ODOO_API_KEY"


@dataclass
class OdooSettings:
    url: str
    db: str
    user: str
    password: str
    is_fake: bool
    server: OdooTestServer | None = None
    api_key: str | None = None

    def connect(self) -> odoorpc.ODOO:
        parsed = urlparse(self.url)
        protocol = "jsonrpc+ssl" if parsed.scheme == "https" else "jsonrpc"
        client = odoorpc.ODOO(
            parsed.hostname,
            protocol=protocol,
            port=parsed.port or (443 if protocol.endswith("ssl") else 80),
            timeout=60,
        )
        client.login(self.db, self.user, self.password)
        return client


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "odoo_live: runs against the Odoo test server and, when EXSIM_ODOO_* are "
        "set, against that real Odoo (17, 18 or 19) too",
    )


@pytest.fixture(scope="session")
def odoo_settings() -> Iterator[OdooSettings]:
    values = [os.environ.get(v) for v in ENV_VARS]
    if all(values):
        settings = OdooSettings(*values, is_fake=False, api_key=os.environ.get(API_KEY_VAR))
        client = settings.connect()
        if client.env["ir.config_parameter"].get_param("exsim.test_database") != "1":
            pytest.exit(
                f"{settings.url} db {settings.db} lacks the system parameter "
                "exsim.test_database = 1; refusing to write to it",
                returncode=2,
            )
        yield settings
        return
    server = OdooTestServer().start()
    try:
        yield OdooSettings(
            server.url, server.db_name, "admin", "admin", True, server, server.api_key
        )
    finally:
        server.stop()


@pytest.fixture(scope="session")
def oca_settings(odoo_settings: OdooSettings) -> Iterator[OdooSettings]:
    from .oca import MODULES

    if not odoo_settings.is_fake:
        client = odoo_settings.connect()
        installed = client.execute_kw(
            "ir.module.module",
            "search_count",
            [[("name", "in", list(MODULES)), ("state", "=", "installed")]],
        )
        if installed < len(MODULES):
            pytest.skip("the real server lacks the OCA modules (tools/real-odoo17-oca)")
        yield odoo_settings
        return
    if odoo_settings.server.oca:
        yield odoo_settings
        return
    server = OdooTestServer(oca=True).start()
    try:
        yield OdooSettings(
            server.url, server.db_name, "admin", "admin", True, server, server.api_key
        )
    finally:
        server.stop()


@pytest.fixture(scope="session")
def odoo_major(odoo_settings: OdooSettings) -> int:
    """The major version the server reports (``server_version_info[0]``)."""
    client = odoo_settings.connect()
    return int(
        client.json("/jsonrpc", {"service": "common", "method": "version", "args": []})["result"][
            "server_version_info"
        ][0]
    )


@pytest.fixture
def odoo(odoo_settings: OdooSettings) -> odoorpc.ODOO:
    return odoo_settings.connect()


@pytest.fixture
def fake_odoo(odoo_settings: OdooSettings) -> Iterator[OdooTestServer]:
    if not odoo_settings.is_fake:
        pytest.skip("needs the exsim Odoo test server (clock control)")
    yield odoo_settings.server
    odoo_settings.server.clock.resume()


@pytest.fixture
def advance_time(odoo_settings: OdooSettings) -> Iterator[Callable[[float], None]]:
    server = odoo_settings.server

    def advance(seconds: float) -> None:
        if server is not None:
            server.clock.advance(seconds)
        else:
            time.sleep(seconds)

    yield advance
    if server is not None:
        server.clock.resume()
