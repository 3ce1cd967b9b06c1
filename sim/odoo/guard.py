"""The test-database guard: exsim writes only where someone said it may.

A live run creates orders, pickings, automation rules and crons; pointed at a production
database by mistake it would do real damage. So every command that writes first checks the
system parameter ``exsim.test_database`` (Settings > Technical > System Parameters) and
refuses unless it is ``1``. ``exsim odoo mark-test-db --yes-this-is-a-test-database`` sets it;
nothing in exsim sets it implicitly, and ``cleanup`` leaves it in place.
"""

from __future__ import annotations

from sim.odoo.transport import Transport

PARAM = "exsim.test_database"


class GuardError(Exception):
    """The database is not marked as a test database: nothing may be written."""


def is_test_database(transport: Transport) -> bool:
    return str(transport.call("ir.config_parameter", "get_param", PARAM) or "") == "1"


def require_test_database(transport: Transport) -> None:
    """Raise GuardError unless the database carries ``exsim.test_database = 1``."""
    if not is_test_database(transport):
        s = getattr(transport, "settings", None)
        where = f"{s.url} db {s.db}" if s is not None else "this database"
        raise GuardError(
            f"{where} is not marked as a test database (system parameter {PARAM} != 1); "
            "refusing to write. If it really is a disposable test database, run "
            "`exsim odoo mark-test-db --yes-this-is-a-test-database`"
        )


def mark_test_database(transport: Transport) -> None:
    transport.call("ir.config_parameter", "set_param", PARAM, "1")
