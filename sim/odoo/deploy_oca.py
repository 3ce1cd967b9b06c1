"""Deploying onto the OCA modules: exception rules, and the approval matrix as tier reviews.

Two parts of a policy have an Odoo counterpart only with OCA modules installed
(``capabilities.OCA_MODULES``; ``exsim odoo check`` lists them):

- **``exception_rule``** (a detection mechanism) -> an ``exception.rule`` (``base_exception``
  with ``sale_exception`` / ``purchase_exception`` / ``stock_exception``) on the document the
  injector confirms for the category (``DOCUMENTS``), ``exception_type = by_domain``, its
  domain the category's pattern without the state it reaches by confirmation (the rule is
  checked *before* the document is confirmed) and scoped to exsim's cases by the case key.
  Confirming a matching document then stops: Odoo links the exception
  (``exception_ids``) and leaves the document a draft until someone ignores the exception
  (``ignore_exception``, a waiver) or fixes it. Without the module the mechanism is deployed
  as an "on create and update" rule scheduling an activity ``exsim exception_rule
  <category>``: it detects but does not block (said in one line).
- **approvals** (``approvals.decisions``) -> one ``tier.definition``
  (``base_tier_validation`` with ``sale_tier_validation`` / ``purchase_tier_validation``) per
  decision, document model and approver level that is not ``auto``: ``definition_domain`` =
  the decision's categories (case key) and the level's value band on ``amount_untaxed``
  (above the previous level's ``max_value``, up to its own: one level per document, as the
  simulator routes a case), ``review_type = group`` with the reviewer group ``exsim approver
  <name>`` (made here, holding the deploying user, so a reviewer can act), ``sequence`` by
  level, no comment required. Odoo then refuses to confirm a matching order until its review
  is approved; the injector requests the review instead (``recipes._under_review``), and
  ``observe`` reads ``tier.review`` back as ``approval_requested`` / ``approved`` /
  ``rejected``. Transfers, partners and quants have no tier validation: a decision on such a
  category is reported as not deployed; without the module, likewise, with the reason.
"""

from __future__ import annotations

from collections import defaultdict

from sim.odoo.capabilities import EXCEPTION_MODULES, TIER_MODULES, detect
from sim.odoo.deploy import Target, Wanted, deployer, on_write_rule, summary
from sim.odoo.mapping import key_prefix, pattern_for
from sim.policies.schema import Policy

#: recipe -> (the document inject creates and confirms for it, the field with the case key)
DOCUMENTS: dict[str, tuple[str, str]] = {
    "sale_confirmed": ("sale.order", "name"),
    "sale_credit": ("sale.order", "name"),
    "sale_short": ("sale.order", "name"),
    "purchase_late": ("purchase.order", "name"),
    "rfq": ("purchase.order", "name"),
    "picking_out": ("stock.picking", "origin"),
    "picking_in": ("stock.picking", "origin"),
}
#: the value a level's threshold is compared with: the order's amount before taxes, which is
#: the case's value (the injector puts it on one line of quantity 1)
VALUE_FIELD = "amount_untaxed"


def document_of(category: str) -> tuple[str, str] | None:
    """(model, key field) of the document inject confirms for ``category``, if any."""
    return DOCUMENTS.get(pattern_for(category).recipe)


def exception_domain(category: str) -> list:
    """The exception rule's domain on the category's document: the pattern's conditions but
    its state (checked before confirmation), scoped by the case key. A pattern on another
    record (a shortage's delivery, made by confirming the order) keeps only the scope."""
    pattern = pattern_for(category)
    model, key_field = document_of(category)
    leaves: list = []
    if pattern.model == model:
        leaves = [list(leaf) for leaf in pattern.domain if isinstance(leaf, tuple)]
        leaves = [leaf for leaf in leaves if leaf[0] != "state"]
        if any(isinstance(leaf, str) for leaf in pattern.domain):
            leaves = []  # an OR-pattern is not taken apart; the scope alone
    return leaves + [[key_field, "=like", key_prefix(category) + "%"]]


@deployer("exception_rule")
def deploy_exception_rule(target: Target, name: str, category: str, params) -> Wanted | None:
    """An ``exception.rule`` where the document's exception module is installed, else an
    automation rule with an activity (detects, does not block)."""
    doc = document_of(category)
    caps = detect(target.transport)
    if doc is not None and doc[0] in caps.exception_models:
        domain = exception_domain(category)
        vals = {
            "name": summary("exception_rule", category),
            "description": f"exsim: {category} (blocks confirmation until fixed or ignored)",
            "sequence": 50,
            "model": doc[0],
            "exception_type": "by_domain",
            "domain": repr(domain),
            "is_blocking": bool(getattr(params, "is_blocking", False)),
            "active": True,
        }
        return Wanted(name, "exception_rule", "exception.rule", vals)
    module = EXCEPTION_MODULES.get(doc[0]) if doc else None
    why = (
        f"{module} not installed"
        if module
        else "no OCA exception module for " + pattern_for(category).model
    )
    wanted = on_write_rule(target, name, "exception_rule", category)
    if wanted is not None:
        target.out.notes.append(
            f"{name}: {why}: deployed as an automation rule with an activity "
            "(detects, does not block confirmation)"
        )
    return wanted


def definition_name(decision: str, level: int, approver: str) -> str:
    """``exsim approval <decision> <level> <approver>`` (observe reads the approver back)."""
    return f"exsim approval {decision} {level} {approver}"


def parse_definition_name(name: str) -> tuple[str, str] | None:
    """(decision, approver) of a tier definition exsim made, else None."""
    parts = (name or "").split()
    if len(parts) != 5 or parts[:2] != ["exsim", "approval"]:
        return None
    return parts[2], parts[4]


def band(levels, i: int) -> list:
    """The value band of level ``i``: above the previous level's ``max_value``, up to its own."""
    leaves = []
    if i > 0 and levels[i - 1].max_value is not None:
        leaves.append((VALUE_FIELD, ">", float(levels[i - 1].max_value)))
    if levels[i].max_value is not None:
        leaves.append((VALUE_FIELD, "<=", float(levels[i].max_value)))
    return leaves


def scope(categories: list[str], key_field: str) -> list:
    """Documents of any of ``categories`` (by case key), as a domain."""
    leaves = [(key_field, "=like", key_prefix(c) + "%") for c in categories]
    return ["|"] * (len(leaves) - 1) + leaves


def wanted_approvals(target: Target, policy: Policy, categories: list[str]) -> dict[str, Wanted]:
    """The tier definitions (and reviewer groups) for the policy's approval matrix."""
    caps = detect(target.transport)
    wanted: dict[str, Wanted] = {}
    plans = []
    for decision in policy.approvals.decisions:
        if all(level.approver == "auto" for level in decision.levels):
            continue
        by_model: dict[str, list[str]] = defaultdict(list)
        for category in decision.categories:
            if category not in categories:
                continue
            doc = document_of(category)
            label = f"approval_{decision.decision}_{category}"
            if doc is None or doc[0] not in TIER_MODULES:
                model = doc[0] if doc else pattern_for(category).model
                target.out.unsupported.append(
                    f"{label} ({model}: tier validation covers sale and purchase orders)"
                )
            elif doc[0] not in caps.tier_models:
                target.out.unsupported.append(
                    f"{label} ({TIER_MODULES[doc[0]]} not installed: no review in Odoo, "
                    "the simulator's approvals only)"
                )
            else:
                by_model[doc[0]].append(category)
        plans += [(decision, model, cats) for model, cats in by_model.items()]
    if not plans:
        return wanted
    rows = target.transport.call(
        "ir.model",
        "search_read",
        [["model", "in", sorted({m for _, m, _ in plans})]],
        fields=["model"],
    )
    model_ids = {r["model"]: r["id"] for r in rows}
    for decision, model, cats in plans:
        key_field = "name"
        for i, level in enumerate(decision.levels):
            if level.approver == "auto":
                continue
            group = f"approver_{level.approver}"
            wanted.setdefault(
                group,
                Wanted(
                    group,
                    "approval",
                    "res.groups",
                    {"name": f"exsim approver {level.approver}"},
                    create_only={"users": [(4, target.uid)]},
                ),
            )
            domain = scope(cats, key_field) + band(decision.levels, i)
            name = f"approval_{decision.decision}_{model.replace('.', '_')}_{i}"
            vals = {
                "name": definition_name(decision.decision, i, level.approver),
                "model_id": model_ids[model],
                "review_type": "group",
                "definition_type": "domain",
                "definition_domain": repr(domain),
                "sequence": 10 * (i + 1),
                "has_comment": False,
                "approve_sequence": False,
                "active": True,
            }
            wanted[name] = Wanted(
                name, "approval", "tier.definition", vals, refs={"reviewer_group_id": group}
            )
    return wanted
