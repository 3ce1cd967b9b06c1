"""An Odoo-17-compatible JSON-RPC server for exsim's tests (no real Odoo needed in CI).

Start one with ``OdooTestServer().start()`` (or the pytest fixtures in ``plugin.py``) and
drive it with the real ``odoorpc`` client.  Modules, one mechanism each:

- ``server``: HTTP + JSON-RPC dispatch, sessions, test endpoints;
- ``errors``: Odoo exceptions and their JSON-RPC error objects;
- ``db``: in-memory tables with per-call rollback; ``schema``: fields from fields.json;
- ``orm``: search/read/create/write/unlink...; ``domain``: domains; ``grouping``: read_group;
- ``models``: master data and metadata; ``stock``/``workflows``: inventory, sales, purchase;
- ``mail``: chatter tracking; ``automation``/``actions``: automation rules, server actions, cron;
- ``clock``: the controllable "now"; ``seed``: the fresh database; ``plugin``: pytest fixtures.
"""

from .clock import Clock
from .server import OdooTestServer

__all__ = ["Clock", "OdooTestServer"]
