"""exsim's injector as a Locust user: the scenario's planned cases played by Locust users.

Run by ``exsim odoo load`` (``locust -f sim/odoo/locust.py``, master and workers); the plan
file it wrote is named by the ``EXSIM_LOAD_PLAN`` variable and Odoo's connection by the usual
``EXSIM_ODOO_*`` variables. Each worker takes the cases whose case key it owns
(``loadrun.owner``: a deterministic partition, so no case is made twice across workers) into
one queue shared by its users; a case falls due at ``i / rate`` seconds after the worker's
first user started (``i`` its place in the whole plan, self-clearings included, as
``inject --rate`` paces them), and whichever user is free creates it
through the same ``Injector`` as ``exsim odoo inject``: the same recipes, tags
(``exsim.case_<rep>_<id>_<model>``) and idempotency keys, the same retries. A case's
self-clearing goes out when due and after its case was made.

Every RPC is reported to Locust as a request named ``model.method`` (type ``rpc``), and each
whole case as ``case.<category>`` (type ``case``), so Locust's stats, CSV files and web UI
show count, failures and percentiles per call. With ``background`` in the plan, users that
have no case due behave like Odoo users (as OdooLocust's seller does): read products and
orders, create a sale order and confirm it (each tagged ``exsim.load_...`` so ``exsim odoo
cleanup`` removes it).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import deque
from datetime import datetime
from typing import Any

import gevent
from locust import User, constant, task

from sim.odoo import inject as inj
from sim.odoo.loadrun import PLAN_ENV, owner, read_plan
from sim.odoo.mapping import case_key
from sim.odoo.plan import Clear, PlannedCase, TimeMap
from sim.odoo.seed import MODULE
from sim.odoo.settings import resolve
from sim.odoo.transport import connect


class ReportingTransport:
    """A transport that reports every call to Locust as a request event ``model.method``."""

    def __init__(self, inner, events) -> None:
        self.inner, self.events = inner, events
        self.settings = inner.settings
        self.calls = inner.calls

    def login(self) -> int:
        return self.inner.login()

    def version(self) -> dict:
        return self.inner.version()

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        exc: Exception | None = None
        try:
            return self.inner.call(model, method, *args, **kwargs)
        except Exception as e:
            exc = e
            raise
        finally:
            self.events.request.fire(
                request_type="rpc",
                name=f"{model}.{method}",
                response_time=(time.perf_counter() - t0) * 1000.0,
                response_length=0,
                exception=exc,
                context={},
            )


class WorkerQueue:
    """This worker's share of the plan, released in due order."""

    def __init__(self, plan: dict, worker: int) -> None:
        workers, rate = int(plan["workers"]), float(plan["rate"])
        self.items: deque = deque()
        items: list = [*plan["cases"]]
        items += [Clear(c, c.cleared) for c in plan["cases"] if c.cleared is not None]
        items.sort(key=lambda x: (x.at, isinstance(x, Clear), _case(x).case_id))
        for i, x in enumerate(items):  # as inject --rate paces them: the i-th at i / rate
            c = _case(x)
            if owner(case_key(c.category, c.rep, c.case_id), workers) == worker:
                self.items.append((i / rate, x))
        self.start: float | None = None
        self.made: set[PlannedCase] = set()

    def take(self) -> tuple[Any, float]:
        """The next due item (or None) and how long until one may be due."""
        now = time.monotonic()
        if self.start is None:
            self.start = now
        if not self.items:
            return None, 1.0
        due, item = self.items[0]
        wait = self.start + due - now
        if wait > 0:
            return None, wait
        if isinstance(item, Clear) and item.case not in self.made:
            return None, 0.05  # its case is still being made by another user
        self.items.popleft()
        return item, 0.0


def _case(x) -> PlannedCase:
    return x.case if isinstance(x, Clear) else x


_PLAN: dict | None = None
_QUEUE: WorkerQueue | None = None


def _shared(worker: int) -> tuple[dict, WorkerQueue]:
    global _PLAN, _QUEUE
    if _QUEUE is None:
        _PLAN = read_plan(os.environ[PLAN_ENV])
        _QUEUE = WorkerQueue(_PLAN, worker)
    return _PLAN, _QUEUE


class ExsimUser(User):
    """One Locust user playing its worker's share of exsim's planned cases."""

    wait_time = constant(0)

    def on_start(self) -> None:
        worker = getattr(self.environment.runner, "worker_index", 0)
        self.plan, self.queue = _shared(worker)
        run = self.plan["run"]
        self.transport = ReportingTransport(connect(resolve()), self.environment.events)
        self.injector = inj.Injector(
            self.transport,
            self.plan["master"],
            TimeMap(datetime.fromisoformat(run["anchor"]), float(run["speed"])),
        )
        self.rng = random.Random(f"{worker}-{id(self)}")

    @task
    def play(self) -> None:
        item, wait = self.queue.take()
        if item is None:
            if self.plan["background"] and wait > 0.2:
                self.background()
            else:
                gevent.sleep(min(wait, 0.5))
            return
        t0 = time.perf_counter()
        exc: Exception | None = None
        try:
            self.injector.inject_batch([item])
            if isinstance(item, PlannedCase):
                self.queue.made.add(item)
        except inj.InjectError as e:
            exc = e
        kind = "clear" if isinstance(item, Clear) else "case"
        self.environment.events.request.fire(
            request_type=kind,
            name=f"{kind}.{item.category}",
            response_time=(time.perf_counter() - t0) * 1000.0,
            response_length=0,
            exception=exc,
            context={},
        )

    def background(self) -> None:
        """What an Odoo user does meanwhile: browse, or sell and confirm (OdooLocust's seller)."""
        t = self.transport
        roll = self.rng.random()
        try:
            if roll < 0.5:
                t.call("product.product", "search_read", [], fields=["name"], limit=20)
            elif roll < 0.8:
                t.call("sale.order", "search_read", [], fields=["name", "state"], limit=20)
            else:
                master = self.plan["master"]
                partner = master.partners.get("standard") or next(iter(master.partners.values()))
                so = t.call(
                    "sale.order",
                    "create",
                    [
                        {
                            "partner_id": partner,
                            "order_line": [
                                [0, 0, {"product_id": master.stocked, "product_uom_qty": 1}]
                            ],
                        }
                    ],
                )
                so_id = so[0] if isinstance(so, list) else so
                t.call(
                    "ir.model.data",
                    "create",
                    [
                        {
                            "module": MODULE,
                            "name": f"load_{uuid.uuid4().hex[:12]}_sale_order",
                            "model": "sale.order",
                            "res_id": so_id,
                            "noupdate": True,
                        }
                    ],
                )
                t.call("sale.order", "action_confirm", [so_id])
        except Exception:  # noqa: BLE001 - already reported to Locust as a failed request
            gevent.sleep(0.1)
