"""An Odoo-compatible JSON-RPC (and, as 19, JSON-2) server for exsim's tests, as Odoo 17, 18
or 19 (``OdooTestServer(version=...)`` or ``EXSIM_TEST_ODOO_VERSION``; no real Odoo in CI).

Start one with ``OdooTestServer().start()`` (or the pytest fixtures in ``plugin.py``) and
drive it with the real ``odoorpc`` client.  Modules, one mechanism each:

- ``server``: HTTP + JSON-RPC dispatch, sessions, test endpoints;
- ``errors``: Odoo exceptions and their JSON-RPC error objects;
- ``db``: in-memory tables with per-call rollback; ``schema``: fields from fields.json;
- ``orm``: search/read/create/write/unlink...; ``domain``: domains; ``grouping``: read_group;
- ``models``: master data and metadata; ``stock``/``workflows``: inventory, sales, purchase;
- ``mail``: chatter tracking; ``automation``/``actions``: automation rules, server actions, cron;
- ``safe_eval``: server-action code run as Odoo's ``safe_eval``; ``json2``: the JSON-2 API;
- ``oca``, ``exceptions``, ``tiers``: the OCA exception and tier-validation modules, served with
  ``OdooTestServer(oca=True)`` or ``EXSIM_TEST_ODOO_OCA=1``;
- ``clock``: the controllable "now"; ``seed``: the fresh database; ``plugin``: pytest fixtures.
"""

from .clock import Clock
from .server import OdooTestServer

__all__ = ["Clock", "OdooTestServer"]
