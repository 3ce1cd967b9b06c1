"""Serve the Odoo test server from a process of its own, for benchmarks and manual trials.

    python -m tests.odoo_server            # prints "URL DB" on one line, serves until killed
    EXSIM_TEST_ODOO_OCA=1 python -m tests.odoo_server   # with the OCA modules (``oca.py``)

Benchmarks start it this way (``benchmarks/bench_odoo_inject.py``) so that no code outside
the tests imports from them. Log in as admin/admin; mark the database as a test database
(``sim.odoo.guard.mark_test_database``) before exsim writes to it.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

from tests.odoo_server import OdooTestServer


def main() -> None:
    server = OdooTestServer().start()
    print(server.url, server.db_name, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops it as SIGTERM does
        done.wait()
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
