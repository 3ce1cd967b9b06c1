"""What this Odoo can do, read off the server instead of assumed from a version number.

Odoo changes its data model between major versions in ways that break a client silently
or loudly. Those exsim meets (checked on real 17.0 and 18.0 servers and in 19.0's source):

- *Stocked products*: 16 and 17 have ``type`` = consu/service/**product** (17 also has
  ``detailed_type``); 18 dropped ``product`` and ``detailed_type``: a stocked good is
  ``type='consu'`` with the new boolean ``is_storable``. Writing ``type='product'`` on 18
  fails with "Wrong value for product.template.type".
- *Scheduled actions*: ``ir.cron.numbercall`` and ``doall`` are gone in 18 (a cron that
  keeps failing is switched off instead, ``failure_count``); sending them fails with
  "Invalid field 'numbercall' on model 'ir.cron'".
- *Units*: 19 renamed the stock move's ``product_uom`` to ``uom_id`` (and the sale line's to
  ``product_uom_id``).
- *Wire protocol*: 19 adds the JSON-2 API and deprecates ``/jsonrpc`` (see ``transport``).
- *OCA modules* (``OCA_MODULES``), installed or not: with ``sale_tier_validation`` /
  ``purchase_tier_validation`` a policy's approval matrix can become real tier reviews on
  orders (``tier.definition``), with ``sale_exception`` / ``purchase_exception`` /
  ``stock_exception`` the ``exception_rule`` mechanism becomes ``exception.rule`` records that
  block a document's confirmation (see ``deploy``).

``detect`` asks the server once (its version, and ``fields_get`` on the few models
concerned) and every writer asks the resulting ``Capabilities`` for the values to send, so
one code path serves 16 to 19 and an unknown future change shows up as a missing capability
(``exsim odoo check``) rather than as a write that half-succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.odoo.transport import Transport, parse_major

SUPPORTED = (16, 17, 18, 19)  # majors exsim knows how to drive
#: The OCA modules exsim can use: tier validation (server-ux, sale-/purchase-workflow) and
#: exceptions (server-tools, sale-/purchase-/stock-logistics-workflow).
OCA_MODULES = (
    "base_tier_validation",
    "sale_tier_validation",
    "purchase_tier_validation",
    "base_exception",
    "sale_exception",
    "purchase_exception",
    "stock_exception",
)
#: document model -> the OCA module that puts it under tier validation / exception rules
TIER_MODULES = {"sale.order": "sale_tier_validation", "purchase.order": "purchase_tier_validation"}
EXCEPTION_MODULES = {
    "sale.order": "sale_exception",
    "purchase.order": "purchase_exception",
    "stock.picking": "stock_exception",
}


@dataclass(frozen=True)
class Capabilities:
    """The server's version and the fields/selection values exsim's writes depend on."""

    version: str  # e.g. "17.0", "18.0", "saas~18.2"
    major: int
    product_types: tuple[str, ...] = ()  # selection values of product.template.type
    product_fields: frozenset[str] = field(default_factory=frozenset)
    cron_fields: frozenset[str] = field(default_factory=frozenset)
    move_fields: frozenset[str] = field(default_factory=frozenset)
    oca: frozenset[str] = field(default_factory=frozenset)  # installed OCA_MODULES

    @property
    def tier_models(self) -> frozenset[str]:
        """Documents that tier definitions can gate here (sale/purchase orders)."""
        return frozenset(m for m, module in TIER_MODULES.items() if module in self.oca)

    @property
    def exception_models(self) -> frozenset[str]:
        """Documents that exception rules can be written for here."""
        return frozenset(m for m, module in EXCEPTION_MODULES.items() if module in self.oca)

    @property
    def storable_flag(self) -> bool:
        """18+: stocked goods are ``type='consu'`` + ``is_storable=True``."""
        return "is_storable" in self.product_fields

    def storable_product(self) -> dict:
        """The values that make a product a stocked (inventory-tracked) good here."""
        if self.storable_flag:
            return {"type": "consu", "is_storable": True}
        if "product" in self.product_types:
            return {"type": "product"}
        raise ValueError(
            f"Odoo {self.version}: no way to make a stocked product (product.template.type "
            f"offers {list(self.product_types)} and there is no is_storable field)"
        )

    def stocked_domain(self) -> list:
        """A domain matching stocked products on this version."""
        if self.storable_flag:
            return [["is_storable", "=", True]]
        return [["type", "=", "product"]]

    def cron_values(self) -> dict:
        """Extra ``ir.cron`` values for a job that runs forever (``numbercall`` before 18)."""
        return {"numbercall": -1} if "numbercall" in self.cron_fields else {}

    @property
    def move_uom(self) -> str:
        """The stock move's unit field: ``product_uom`` up to 18, ``uom_id`` from 19."""
        return "uom_id" if "uom_id" in self.move_fields else "product_uom"

    @property
    def json2(self) -> bool:
        """Odoo 19+ serves the JSON-2 API (``/json/2/<model>/<method>``)."""
        return self.major >= 19

    @property
    def supported(self) -> bool:
        return self.major in SUPPORTED


def detect(transport: Transport) -> Capabilities:
    """Ask the server (five reads); cached on the transport for later callers."""
    cached = getattr(transport, "capabilities", None)
    if isinstance(cached, Capabilities):
        return cached
    version = transport.version()
    product = transport.call(
        "product.template", "fields_get", attributes=["type", "selection", "required"]
    )
    cron = transport.call("ir.cron", "fields_get", attributes=["type"])
    move = transport.call("stock.move", "fields_get", attributes=["type"])
    modules = transport.call(
        "ir.module.module",
        "search_read",
        [["name", "in", list(OCA_MODULES)], ["state", "=", "installed"]],
        fields=["name"],
    )
    caps = Capabilities(
        version=str(version.get("server_version", "?")),
        major=parse_major(version),
        product_types=tuple(s[0] for s in product.get("type", {}).get("selection") or []),
        product_fields=frozenset(product),
        cron_fields=frozenset(cron),
        move_fields=frozenset(move),
        oca=frozenset(r["name"] for r in modules),
    )
    transport.capabilities = caps
    return caps
