"""Playing a scenario into Odoo: the planned cases become real records, in time order.

The ``Injector`` takes the plan (``plan.py``), a *pacer* that decides when each batch goes
out, and the master data of ``seed``; each batch is split by category and handed to that
category's recipe (``recipes.py``), then every record made is tagged through ``ir.model.data``
as ``exsim.case_<rep>_<id>_<model>``. Pacers:

- ``SpeedPacer``: simulated time compressed K times (``--speed K``): a case that occurred at
  minute m goes out m/K minutes after the start; everything due is sent in one batch;
- ``RatePacer``: a fixed R cases/s (``--rate R``), batches of up to ``max_batch``;
- any iterable of batches (the test server's clock-driven pacer lives with the tests).

Besides creating cases, the run plays the simulator's self-clearings (``Clear``): a case the
simulation lets go away by itself stops matching its pattern in Odoo at the same minute
(``clear_cases``), or a scan would still find it there.

Faults are handled by kind. A transient fault (timeout, reset, HTTP 5xx) re-runs the batch's
recipe after a backoff with jitter, for at least ``backoff.attempts`` attempts and
``retry_budget_s`` seconds of waiting (an Odoo restart is ridden through): recipes are
idempotent by key, so a create whose reply was lost is found, not repeated. Odoo's refusals
(AccessError, UserError, ValidationError) stop the run with the category and case named.
``--resume`` skips cases whose matching record is already tagged, lets the recipes finish
half-made ones (found by case key even if their tag was lost) and keeps the run's pace from
its saved anchor. The run's anchor and speed are kept in the system parameter
``exsim.inject.run`` for ``observe``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sim.odoo.mapping import case_key, parse_key, pattern_for
from sim.odoo.plan import Clear, PlannedCase, TimeMap
from sim.odoo.recipes import Tags, recipe_for, suffix
from sim.odoo.seed import MODULE, SeededRecords
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
    cleared: int = 0
    wall_s: float = 0.0
    per_category: dict[str, int] = field(default_factory=dict)


class SpeedPacer:
    """Send each item ``at / speed`` minutes after the run's start.

    The start is the run's anchor (``start``, a wall-clock datetime) when given, so a resumed
    run carries on at the saved pace: what fell due while it was down goes out at once, the
    rest on time. Without it the start is the moment the pacing begins."""

    def __init__(
        self,
        speed: float,
        max_batch: int = 200,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        start: datetime | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.speed, self.max_batch, self.clock, self.sleep = speed, max_batch, clock, sleep
        self.anchor = start
        self.now = now or utc_now

    def __call__(self, items: list) -> Iterator[list]:
        start = self.clock()
        if self.anchor is not None:
            start -= (self.now() - self.anchor).total_seconds()
        i = 0
        while i < len(items):
            due_at = start + items[i].at * 60.0 / self.speed
            wait = due_at - self.clock()
            if wait > 0:
                self.sleep(wait)
            elapsed_min = (self.clock() - start) / 60.0 * self.speed
            j = i + 1
            while j < len(items) and j - i < self.max_batch and items[j].at <= elapsed_min:
                j += 1
            yield items[i:j]
            i = j


class RatePacer:
    """Send ``rate`` cases per second (each makes one to three records), in batches of up to
    ``max_batch``."""

    def __init__(
        self,
        rate: float,
        max_batch: int = 200,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.batch = max(1, min(max_batch, int(rate)))

    def __call__(self, items: list) -> Iterator[list]:
        start = self.clock()
        for i in range(0, len(items), self.batch):
            wait = start + i / self.rate - self.clock()
            if wait > 0:
                self.sleep(wait)
            yield items[i : i + self.batch]


class Injector:
    """Creates the records of planned cases through one transport."""

    def __init__(
        self,
        transport: Transport,
        master: SeededRecords,
        time_map: TimeMap,
        backoff: Backoff | None = None,
        retry_budget_s: float = 60.0,
    ) -> None:
        self.transport = transport
        self.retry_budget_s = retry_budget_s
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
    def _retrying(self, what: str, make: Callable[[], None]) -> None:
        """Run ``make`` (an idempotent recipe step) until it succeeds; transient faults are
        retried with backoff for at least ``backoff.attempts`` attempts and at least
        ``retry_budget_s`` seconds of waiting, so a restart of Odoo is ridden through."""
        waited = 0.0
        attempt = 0
        while True:
            try:
                make()
                return
            except TransientError as exc:
                attempt += 1
                if attempt >= self.backoff.attempts and waited >= self.retry_budget_s:
                    raise InjectError(
                        f"{what}: gave up after {attempt} attempts over {waited:.0f} s: {exc}; "
                        "when Odoo is back, run the same command with --resume to carry on"
                    ) from None
                self.stats.retries += 1
                delay = self.backoff.delay(min(attempt - 1, 16))
                waited += delay
                self.backoff.sleep(delay)

    def inject_batch(self, items: list) -> None:
        """Make and tag the records of one batch (any mix of categories), and play the
        self-clearings (``Clear``) due in it."""
        by_category: dict[str, list[PlannedCase]] = {}
        clears: list[Clear] = []
        for item in items:
            if isinstance(item, Clear):
                clears.append(item)
            else:
                by_category.setdefault(item.category, []).append(item)
        for category, group in by_category.items():
            make = recipe_for(category)
            try:
                self._retrying(
                    category, lambda make=make, group=group: self._tag(make(self, group))
                )
            except OdooError as exc:
                ids = ", ".join(str(c.case_id) for c in group[:5])
                raise InjectError(
                    f"Odoo refused creating {category} cases (rep {group[0].rep}, "
                    f"case {ids}{'...' if len(group) > 5 else ''}): {exc}"
                ) from None
            self.stats.per_category[category] = self.stats.per_category.get(category, 0) + len(
                group
            )
            self.stats.cases += len(group)
        if clears:
            try:
                self._retrying("clearing", lambda: clear_cases(self, clears))
            except OdooError as exc:
                raise InjectError(f"Odoo refused clearing cases: {exc}") from None
            self.stats.cleared += len(clears)
        self.stats.batches += 1

    def keyed(self, cases: list[PlannedCase]) -> set[tuple[int, int]]:
        """Cases whose first record exists, tagged or not (a run aborted between a create and
        its tag leaves a record that only its case key in a field names)."""
        found: set[tuple[int, int]] = set()
        by_first: dict[tuple[str, str], list[str]] = {}
        for c in cases:
            by_first.setdefault(FIRST_MADE[pattern_for(c.category).recipe], []).append(
                case_key(c.category, c.rep, c.case_id)
            )
        for (model, fname), keys in by_first.items():
            for i in range(0, len(keys), 1000):
                rows = self.read(
                    model, "search_read", [[fname, "in", keys[i : i + 1000]]], fields=[fname]
                )
                for r in rows:
                    parsed = parse_key(r[fname] or "")
                    if parsed:
                        found.add((parsed[1], parsed[2]))
        return found

    def run(
        self,
        cases: list[PlannedCase],
        pacer: Callable[[list], Iterable[list]],
        resume: bool = False,
        progress: Callable[[float], None] | None = None,
    ) -> InjectStats:
        """Create the cases (and play their self-clearings) as ``pacer`` releases them."""
        t0 = time.perf_counter()
        seen: dict[str, set] = {}

        def read_state() -> None:
            seen["done"], seen["made"] = self.tagged(), self.keyed(cases)

        try:
            self._retrying("reading exsim's tags", read_state)
        except OdooError as exc:
            raise InjectError(f"Odoo refused reading exsim's tags: {exc}") from None
        done, made = seen["done"], seen["made"]
        primary = {c: f"{c.tag}_{suffix(pattern_for(c.category).model)}" for c in cases}
        already = [c for c in cases if primary[c] in done or (c.rep, c.case_id) in made]
        if already and not resume:
            untagged = sum(primary[c] not in done for c in already)
            raise InjectError(
                f"{len(already)} of these cases are already in Odoo "
                f"(e.g. {case_key(already[0].category, already[0].rep, already[0].case_id)}"
                + (f"; {untagged} not tagged: an aborted run" if untagged else "")
                + "); use --resume to continue, or `exsim odoo cleanup` first"
            )
        todo = [c for c in cases if primary[c] not in done]
        self.stats.skipped = len(cases) - len(todo)
        items: list = [*todo, *(Clear(c, c.cleared) for c in cases if c.cleared is not None)]
        items.sort(
            key=lambda x: (
                x.at,
                isinstance(x, Clear),
                x.case_id if isinstance(x, PlannedCase) else x.case.case_id,
            )
        )
        sent = 0
        for batch in pacer(items):
            self.inject_batch(batch)
            sent += len(batch)
            if progress:
                progress(sent / max(1, len(items)))
        self.stats.wall_s = time.perf_counter() - t0
        return self.stats


# The record each recipe makes first, and the field holding its case key.
FIRST_MADE = {
    "picking_out": ("stock.picking", "origin"),
    "picking_in": ("stock.picking", "origin"),
    "sale_confirmed": ("sale.order", "name"),
    "sale_credit": ("sale.order", "name"),
    "sale_short": ("sale.order", "name"),
    "purchase_late": ("purchase.order", "name"),
    "rfq": ("purchase.order", "name"),
    "partner_gap": ("res.partner", "ref"),
    "quant_count": ("product.product", "default_code"),
}


def clear_cases(inj: Injector, clears: list[Clear]) -> None:
    """Make the records of ``clears`` stop matching their patterns, as the world did.

    Documents are cancelled (the order or transfer is no longer an open exception), a
    partner gets the address it lacked, a count is withdrawn. Idempotent: what is already
    cancelled or complete is left alone."""
    by_model: dict[str, list[str]] = {}
    for cl in clears:
        p = pattern_for(cl.category)
        by_model.setdefault(p.model, []).append(case_key(cl.category, cl.case.rep, cl.case.case_id))
    for model, keys in by_model.items():
        if model == "stock.quant":
            ids = inj.read(
                model,
                "search",
                [["product_id.default_code", "in", keys], ["inventory_quantity_set", "=", True]],
            )
            if ids:
                inj.transport.call(
                    model, "write", ids, {"inventory_quantity": 0, "inventory_quantity_set": False}
                )
        elif model == "res.partner":
            ids = inj.read(
                model,
                "search",
                [["ref", "in", keys], "|", ["street", "=", False], ["city", "=", False]],
            )
            if ids:
                inj.transport.call(model, "write", ids, {"street": "cleared", "city": "cleared"})
        else:
            fname = {"stock.picking": "origin"}.get(model, "name")
            ids = inj.read(
                model, "search", [[fname, "in", keys], ["state", "not in", ["cancel", "done"]]]
            )
            if ids:
                inj.transport.call(
                    model, CANCEL[model], ids, context={"disable_cancel_warning": True}
                )


CANCEL = {
    "stock.picking": "action_cancel",
    "sale.order": "action_cancel",
    "purchase.order": "button_cancel",
}


def save_run(transport: Transport, info: dict) -> None:
    transport.call("ir.config_parameter", "set_param", RUN_PARAM, json.dumps(info, sort_keys=True))


def load_run(transport: Transport) -> dict | None:
    raw = transport.call("ir.config_parameter", "get_param", RUN_PARAM)
    return json.loads(raw) if raw else None


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
