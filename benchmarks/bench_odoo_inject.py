"""Batched versus one-record-per-call creates, in the same run.

Creates N sale orders one per ``create`` call, then N in batched calls (``--batch`` per call),
and prints both rates and their ratio (exsim's injector batches; the target is >= 10x). Runs
against the repository's Odoo test server by default (started as a process of its own,
``python -m tests.odoo_server``: a benchmark imports nothing from the tests), or a real Odoo
when EXSIM_ODOO_URL, _DB, _USER and _PASSWORD are set (the database must carry
exsim.test_database = 1). Everything created is tagged and removed by ``cleanup`` at the end.

    python benchmarks/bench_odoo_inject.py [-n 200] [--batch 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.odoo import cleanup, seed  # noqa: E402
from sim.odoo.guard import require_test_database  # noqa: E402
from sim.odoo.settings import Settings, resolve  # noqa: E402
from sim.odoo.transport import connect  # noqa: E402


def orders(master, n: int, offset: int) -> list[dict]:
    return [
        {
            "name": f"exsim/bench/0/{offset + i}",
            "partner_id": master.partners["key"],
            "order_line": [(0, 0, {"product_id": master.stocked, "product_uom_qty": 1.0})],
        }
        for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--batch", type=int, default=200)
    args = ap.parse_args()
    server = None
    if all(
        os.environ.get(v)
        for v in ("EXSIM_ODOO_URL", "EXSIM_ODOO_DB", "EXSIM_ODOO_USER", "EXSIM_ODOO_PASSWORD")
    ):
        settings = resolve()
    else:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.odoo_server"],
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.PIPE,
            text=True,
        )
        url, db = server.stdout.readline().split()
        settings = Settings(url, db, "admin", "admin")
    t = connect(settings)
    if server:
        from sim.odoo.guard import mark_test_database

        mark_test_database(t)  # our own throw-away test server
    require_test_database(t)
    master = seed.seed(t)
    ids: list[int] = []
    t0 = time.perf_counter()
    for vals in orders(master, args.n, 0):
        ids += t.call("sale.order", "create", [vals])
    single = args.n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(0, args.n, args.batch):
        ids += t.call(
            "sale.order", "create", orders(master, min(args.batch, args.n - i), args.n + i)
        )
    batched = args.n / (time.perf_counter() - t0)
    tags = [
        {
            "module": "exsim",
            "name": f"bench_{i}",
            "model": "sale.order",
            "res_id": i,
            "noupdate": True,
        }
        for i in ids
    ]
    t.call("ir.model.data", "create", tags)
    cleanup.cleanup(t)
    where = "test server" if server else settings.url
    print(f"{where}: {args.n} sale orders")
    print(f"  one per create call : {single:8.1f} orders/s")
    print(f"  {args.batch} per create call : {batched:8.1f} orders/s")
    print(f"  ratio               : {batched / single:8.1f}x (target >= 10x)")
    if server:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
