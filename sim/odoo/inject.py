"""Playing a scenario into Odoo: the planned cases become real records, in time order.

The ``Injector`` takes the plan (``plan.py``), a *pacer* that decides when each batch goes
out, and the master data of ``seed``; each batch is split by category and handed to that
category's recipe (``recipes.py``), then every record made is tagged through ``ir.model.data``
as ``exsim.case_<rep>_<id>_<model>``. Pacers:

- ``SpeedPacer``: simulated time compressed K times (``--speed K``): a case that occurred at
  minute m goes out m/K minutes after the start; everything due is sent in one batch;
- ``RatePacer``: a fixed R records/s (``--rate R``), batches of up to ``max_batch``;
- any iterable of batches (the test server's clock-driven pacer lives with the tests).

Faults are handled by kind. A transient fault (timeout, reset, HTTP 5xx) re-runs the batch's
recipe after a backoff with jitter: recipes are idempotent by key, so a create whose reply
was lost is found, not repeated. Odoo's refusals (AccessError, UserError, ValidationError)
stop the run with the category and case named. ``--resume`` skips cases whose matching record
is already tagged and lets the recipes finish half-made ones. The run's anchor and speed are
kept in the system parameter ``exsim.inject.run`` for ``observe``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sim.odoo.mapping import pattern_for
from sim.odoo.plan import PlannedCase, TimeMap
from sim.odoo.recipes import Tags, recipe_for, suffix
from sim.odoo.seed import MODULE, MasterData
from sim.odoo.transport import Backoff, OdooError, TransientError, Transport, call_retrying

RUN_PARAM = "exsim.inject.run"
TIERS = ("strategic", "key", "standard")


class InjectError(Exception):
    """Injection stopped: Odoo refused a call, or transient faults did not go away."""


@dataclass
class InjectStats:
    cases: int = 0
    skipped: int = 0
    batches: int = 0
    records: int = 0
    retries: int = 0
    wall_s: float = 0.0
    per_category: dict[str, int] = field(default_factory=dict)


class SpeedPacer:
    """Send each case ``occurred / speed`` minutes after ``start`` (a monotonic time)."""

    def __init__(
        self,
        speed: float,
        max_batch: int = 200,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.speed, self.max_batch, self.clock, self.sleep = speed, max_batch, clock, sleep

    def __call__(self, cases: list[PlannedCase]) -> Iterator[list[PlannedCase]]:
        start = self.clock()
        i = 0
        while i < len(cases):
            due_at = start + cases[i].occurred * 60.0 / self.speed
            wait = due_at - self.clock()
            if wait > 0:
                self.sleep(wait)
            elapsed_min = (self.clock() - start) / 60.0 * self.speed
            j = i + 1
            while j < len(cases) and j - i < self.max_batch and cases[j].occurred <= elapsed_min:
                j += 1
            yield cases[i:j]
            i = j


class RatePacer:
    """Send ``rate`` records per second, in batches of up to ``max_batch``."""

    def __init__(
        self,
        rate: float,
        max_batch: int = 200,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.batch = max(1, min(max_batch, int(rate)))

    def __call__(self, cases: list[PlannedCase]) -> Iterator[list[PlannedCase]]:
        start = self.clock()
        for i in range(0, len(cases), self.batch):
            wait = start + i / self.rate - self.clock()
            if wait > 0:
                self.sleep(wait)
            yield cases[i : i + self.batch]


class Injector:
    """Creates the records of planned cases through one transport."""

    def __init__(
        self,
        transport: Transport,
        master: MasterData,
        time_map: TimeMap,
        backoff: Backoff | None = None,
    ) -> None:
        self.transport = transport
        self.master = master
        self.time = time_map
        self.backoff = backoff or Backoff()
        self.stats = InjectStats()
        self.uom = self.ref("uom", "product_uom_unit")
        self.locations = {
            "customer": self.ref("stock", "stock_location_customers"),
            "supplier": self.ref("stock", "stock_location_suppliers"),
        }

    # -- calls -----------------------------------------------------------------------------
    def ref(self, module: str, name: str) -> int:
        rows = self.read(
            "ir.model.data",
            "search_read",
            [["module", "=", module], ["name", "=", name]],
            fields=["res_id"],
        )
        if not rows:
            raise InjectError(f"external id {module}.{name} not found in the database")
        return rows[0]["res_id"]

    def read(self, model: str, method: str, *args, **kwargs):
        """A read: idempotent, retried on transient faults."""
        return call_retrying(self.transport, self.backoff, model, method, *args, **kwargs)

    def create(self, model: str, vals_list: list[dict], context: dict | None = None) -> list[int]:
        """A batched create: one call, never retried blindly (the recipe re-checks by key)."""
        kwargs = {"context": context} if context else {}
        ids = self.transport.call(model, "create", vals_list, **kwargs)
        self.stats.records += len(vals_list)
        return ids

    def write_call(self, model: str, method: str, ids: list[int]) -> None:
        self.transport.call(model, method, ids)

    def partner(self, case: PlannedCase) -> int:
        return self.master.partners[case.tier if case.tier in TIERS else "standard"]

    # -- tags ------------------------------------------------------------------------------
    def tagged(self, rep: int | None = None) -> set[str]:
        prefix = "case_" if rep is None else f"case_{rep}_"
        rows = self.read(
            "ir.model.data",
            "search_read",
            [["module", "=", MODULE], ["name", "=like", prefix + "%"]],
            fields=["name"],
        )
        return {r["name"] for r in rows}

    def _tag(self, tags: Tags) -> None:
        have = {
            r["name"]
            for r in self.read(
                "ir.model.data",
                "search_read",
                [["module", "=", MODULE], ["name", "in", list(tags)]],
                fields=["name"],
            )
        }
        new = [
            {"module": MODULE, "name": n, "model": m, "res_id": i, "noupdate": True}
            for n, (m, i) in tags.items()
            if n not in have
        ]
        if new:
            self.transport.call("ir.model.data", "create", new)

    # -- running ---------------------------------------------------------------------------
    def inject_batch(self, cases: list[PlannedCase]) -> None:
        """Make and tag the records of one batch (any mix of categories)."""
        by_category: dict[str, list[PlannedCase]] = {}
        for c in cases:
            by_category.setdefault(c.category, []).append(c)
        for category, group in by_category.items():
            make = recipe_for(category)
            for attempt in range(self.backoff.attempts):
                try:
                    self._tag(make(self, group))
                    break
                except TransientError as exc:
                    if attempt == self.backoff.attempts - 1:
                        raise InjectError(
                            f"{category}: gave up after {attempt + 1} attempts: {exc}"
                        ) from None
                    self.stats.retries += 1
                    self.backoff.sleep(self.backoff.delay(attempt))
                except OdooError as exc:
                    ids = ", ".join(str(c.case_id) for c in group[:5])
                    raise InjectError(
                        f"Odoo refused creating {category} cases (rep {group[0].rep}, "
                        f"case {ids}{'...' if len(group) > 5 else ''}): {exc}"
                    ) from None
            self.stats.per_category[category] = self.stats.per_category.get(category, 0) + len(
                group
            )
        self.stats.batches += 1
        self.stats.cases += len(cases)

    def run(
        self,
        cases: list[PlannedCase],
        pacer: Callable[[list[PlannedCase]], Iterable[list[PlannedCase]]],
        resume: bool = False,
        progress: Callable[[float], None] | None = None,
    ) -> InjectStats:
        t0 = time.perf_counter()
        try:
            done = self.tagged()
        except OdooError as exc:
            raise InjectError(f"Odoo refused reading exsim's tags: {exc}") from None
        primary = {c: f"{c.tag}_{suffix(pattern_for(c.category).model)}" for c in cases}
        already = [c for c in cases if primary[c] in done]
        if already and not resume:
            raise InjectError(
                f"{len(already)} of these cases are already in Odoo "
                f"(e.g. exsim.{primary[already[0]]}); "
                "use --resume to continue, or `exsim odoo cleanup` first"
            )
        todo = [c for c in cases if primary[c] not in done]
        self.stats.skipped = len(cases) - len(todo)
        sent = 0
        for batch in pacer(todo):
            self.inject_batch(batch)
            sent += len(batch)
            if progress:
                progress(sent / max(1, len(todo)))
        self.stats.wall_s = time.perf_counter() - t0
        return self.stats


def save_run(transport: Transport, info: dict) -> None:
    transport.call("ir.config_parameter", "set_param", RUN_PARAM, json.dumps(info, sort_keys=True))


def load_run(transport: Transport) -> dict | None:
    raw = transport.call("ir.config_parameter", "get_param", RUN_PARAM)
    return json.loads(raw) if raw else None


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
