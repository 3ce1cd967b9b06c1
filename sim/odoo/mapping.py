"""Which Odoo record each exception category is, and how a rule recognises it.

A simulated case is abstract; in Odoo it has to be a record in a state. Each category maps
to a ``Pattern``: the model whose record matches (the one rules watch and activities land
on), the natural domain that makes it an exception, the date field time rules and scans
measure from (its *trigger date*), the field carrying exsim's case key, and the recipe
``inject`` uses to make one. Six categories are native to Odoo 17 Community:

- ``picking_sla``: an outgoing transfer Ready (``assigned``) whose ``scheduled_date`` passed;
- ``stock_shortage``: a confirmed sales order whose delivery waits for stock
  (``confirmed``/``waiting``, not ``assigned``); the delivery is the matching record;
- ``inbound_delay``: a confirmed purchase order (``purchase``) whose receipt is not done
  (``receipt_status`` != full) after ``date_planned``;
- ``credit_hold``: a confirmed order of a partner with a credit limit set (Community only
  warns, so a rule is the hold);
- ``master_data_gap``: a partner without street or city;
- ``inventory_discrepancy``: a quant with a counted quantity set that differs from stock.

The six others have no Community document of their own (carrier integrations, Quality,
Helpdesk and Approvals are Enterprise or third-party), so they are represented by the core
record they would block, marked by the case key, and flagged with activities like the rest:
``carrier_failure`` and ``delivery_delay`` an outgoing transfer, ``quality_hold`` a
receipt, ``invoice_block`` and ``pod_dispute`` a confirmed sales order, ``urgent_replenishment``
a request for quotation.

Every injected record carries the key ``exsim/<category>/<rep>/<case id>`` (in ``origin``,
``name``, ``ref`` or the product's ``default_code``). Deployed rules are *scoped* by it
(``=like 'exsim/<category>/%'``) so they see exsim's cases only and never another category's
records; ``scoped=False`` gives the natural domain for a rule meant for real traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

OUTGOING = ("picking_type_code", "=", "outgoing")
INCOMING = ("picking_type_code", "=", "incoming")


@dataclass(frozen=True)
class Pattern:
    category: str
    model: str
    recipe: str  # how inject makes one (see sim.odoo.inject.RECIPES)
    domain: tuple[tuple, ...]
    trigger_field: str
    key_path: str  # field path holding the case key on the matching record
    native: bool = True
    representation: str = ""

    def rule_domain(self, scoped: bool = True) -> list:
        leaves = [leaf if isinstance(leaf, str) else list(leaf) for leaf in self.domain]
        if scoped:
            leaves.append([self.key_path, "=like", key_prefix(self.category) + "%"])
        return leaves


def normalize(domain: list) -> list:
    """Prefix form with explicit '&' between top-level terms (so it can be negated)."""
    terms, i = [], 0
    while i < len(domain):
        start, need = i, 1
        while need:
            token = domain[i]
            need += {"!": 0, "&": 1, "|": 1}.get(token, -1) if isinstance(token, str) else -1
            i += 1
        terms.append(domain[start:i])
    return ["&"] * (len(terms) - 1) + [x for t in terms for x in t]


def transition_pre_domain(domain: list) -> list:
    """The "before update" domain of a rule that must fire only on entering ``domain``.

    Odoo 17 runs "on update" rules again when a new record's stored computed fields are first
    computed, several times per create; with this pre-domain those runs find the record
    already matching and do nothing (one activity per case instead of a handful, and no
    duplicate-follower errors on partners)."""
    return ["!", *normalize(domain)]


def key_prefix(category: str) -> str:
    return f"exsim/{category}/"


def case_key(category: str, rep: int, case_id: int) -> str:
    return f"{key_prefix(category)}{rep}/{case_id}"


def parse_key(key: str) -> tuple[str, int, int] | None:
    parts = (key or "").split("/")
    if len(parts) != 4 or parts[0] != "exsim":
        return None
    try:
        return parts[1], int(parts[2]), int(parts[3])
    except ValueError:
        return None


def _picking(category: str, native: bool = True, note: str = "") -> Pattern:
    return Pattern(
        category,
        "stock.picking",
        "picking_out",
        (OUTGOING, ("state", "=", "assigned")),
        "scheduled_date",
        "origin",
        native,
        note,
    )


def _sale(category: str, native: bool, note: str, recipe: str = "sale_confirmed") -> Pattern:
    return Pattern(
        category,
        "sale.order",
        recipe,
        (("state", "=", "sale"),),
        "commitment_date",
        "name",
        native,
        note,
    )


PATTERNS: dict[str, Pattern] = {
    "picking_sla": _picking("picking_sla"),
    "stock_shortage": Pattern(
        "stock_shortage",
        "stock.picking",
        "sale_short",
        (OUTGOING, ("state", "in", ["confirmed", "waiting"])),
        "scheduled_date",
        "origin",
    ),
    "inbound_delay": Pattern(
        "inbound_delay",
        "purchase.order",
        "purchase_late",
        (("state", "=", "purchase"), ("receipt_status", "!=", "full")),
        "date_planned",
        "name",
    ),
    "credit_hold": Pattern(
        "credit_hold",
        "sale.order",
        "sale_credit",
        (("state", "=", "sale"), ("partner_id.credit_limit", ">", 0)),
        "commitment_date",
        "name",
    ),
    "master_data_gap": Pattern(
        "master_data_gap",
        "res.partner",
        "partner_gap",
        ("|", ("street", "=", False), ("city", "=", False)),
        "create_date",
        "ref",
    ),
    "inventory_discrepancy": Pattern(
        "inventory_discrepancy",
        "stock.quant",
        "quant_count",
        (("inventory_quantity_set", "=", True), ("inventory_diff_quantity", "!=", 0)),
        "write_date",
        "product_id.default_code",
    ),
    "carrier_failure": _picking(
        "carrier_failure", False, "outgoing transfer Ready, label failure flagged by activity"
    ),
    "delivery_delay": _picking(
        "delivery_delay", False, "outgoing transfer Ready past its scheduled date"
    ),
    "quality_hold": Pattern(
        "quality_hold",
        "stock.picking",
        "picking_in",
        (INCOMING, ("state", "=", "assigned")),
        "scheduled_date",
        "origin",
        False,
        "receipt Ready but held from putaway (no Quality app in Community)",
    ),
    "invoice_block": _sale("invoice_block", False, "confirmed sales order, invoice blocked"),
    "pod_dispute": _sale("pod_dispute", False, "confirmed sales order under POD dispute"),
    "urgent_replenishment": Pattern(
        "urgent_replenishment",
        "purchase.order",
        "rfq",
        (("state", "in", ["draft", "sent"]),),
        "date_planned",
        "name",
        False,
        "request for quotation raised for a demand spike",
    ),
}


def required_fields(pattern: Pattern) -> dict[str, list[str]]:
    """Fields each pattern needs on its model (for ``exsim odoo check``)."""
    names = {leaf[0].split(".")[0] for leaf in pattern.domain if isinstance(leaf, tuple)}
    names |= {pattern.trigger_field, pattern.key_path.split(".")[0]}
    return {pattern.model: sorted(names)}


def pattern_for(category: str) -> Pattern:
    try:
        return PATTERNS[category]
    except KeyError:
        known = ", ".join(sorted(PATTERNS))
        raise KeyError(f"no Odoo mapping for category {category!r} (known: {known})") from None
