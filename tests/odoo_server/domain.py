"""Odoo search domains, evaluated in memory.

A domain is a list in Polish (prefix) notation: leaves ``(path, operator, value)`` joined by
``'&'`` (implicit between consecutive terms), ``'|'`` and ``'!'``.  A dotted path follows
relations (``picking_type_id.code``: the leaf holds when the related record matches;
through a one2many/many2many path, when *any* related record does).  Operators behave like
Odoo 17's SQL translation, including its NULL handling: ``!=``/``not in``/``not like`` also
match empty values, ordering comparisons never do, ``like``/``ilike`` wrap the value in ``%``.
An unknown field raises the ``ValueError`` a real server sends ("Invalid field ... in leaf").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .schema import X2MANY, Field

if TYPE_CHECKING:
    from .orm import Env

Row = dict
TRUE_LEAF, FALSE_LEAF = (1, "=", 1), (0, "=", 1)
OPERATORS = {
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "like",
    "ilike",
    "not like",
    "not ilike",
    "=like",
    "=ilike",
    "child_of",
    "parent_of",
    "=?",
    "any",
    "not any",
}
NEGATIVE = {"!=", "not in", "not like", "not ilike", "not any"}


def normalize(domain: list) -> list:
    """Make the implicit ``'&'`` explicit, as ``expression.normalize_domain`` does."""
    if not domain:
        return [TRUE_LEAF]
    result: list = []
    expected = 1
    for token in domain:
        if expected == 0:
            result[0:0] = ["&"]
            expected = 1
        if isinstance(token, (list, tuple)):
            expected -= 1
            token = tuple(token)
        else:
            expected += {"!": 0, "&": 1, "|": 1}.get(token, 0)
        result.append(token)
    if expected != 0:
        raise ValueError(f"Invalid domain {domain!r}")
    return result


def compile_domain(env: Env, model: str, domain: list) -> Callable[[Row], bool]:
    """Return a predicate over rows of ``model``; field names are checked up front."""
    tokens = normalize(domain)
    for token in tokens:
        if isinstance(token, tuple) and token not in (TRUE_LEAF, FALSE_LEAF):
            _check_leaf(env, model, token)

    def build(pos: int) -> tuple[Callable[[Row], bool], int]:
        token = tokens[pos]
        if token == "!":
            inner, nxt = build(pos + 1)
            return (lambda row: not inner(row)), nxt
        if token in ("&", "|"):
            left, nxt = build(pos + 1)
            right, nxt = build(nxt)
            if token == "&":
                return (lambda row: left(row) and right(row)), nxt
            return (lambda row: left(row) or right(row)), nxt
        if token == TRUE_LEAF:
            return (lambda row: True), pos + 1
        if token == FALSE_LEAF:
            return (lambda row: False), pos + 1
        return (lambda row, leaf=token: match_leaf(env, model, row, leaf)), pos + 1

    predicate, _ = build(0)
    return predicate


def _check_leaf(env: Env, model: str, leaf: tuple) -> None:
    if len(leaf) != 3 or not isinstance(leaf[0], str) or leaf[1] not in OPERATORS:
        raise ValueError(f"Invalid leaf {leaf!r}")
    current = model
    for part in leaf[0].split("."):
        field = env.fields(current).get(part)
        if field is None:
            raise ValueError(f"Invalid field {current}.{part} in leaf {leaf!r}")
        current = field.relation or current


def match_leaf(env: Env, model: str, row: Row, leaf: tuple) -> bool:
    path, op, value = leaf
    name, _, rest = path.partition(".")
    field = env.fields(model)[name]
    raw = env.value(model, row, name)
    if rest:
        ids = raw if field.type in X2MANY else ([raw] if raw else [])
        rows = [env.row(field.relation, i) for i in ids]
        hits = [match_leaf(env, field.relation, r, (rest, op, value)) for r in rows if r]
        if op in NEGATIVE:  # Odoo 17: a negative leaf on a path means "no related record matches"
            return all(hits)
        return any(hits)
    if op in ("any", "not any"):
        sub = compile_domain(env, field.relation, value)
        ids = raw if field.type in X2MANY else ([raw] if raw else [])
        found = any(sub(env.row(field.relation, i)) for i in ids if env.row(field.relation, i))
        return found if op == "any" else not found
    if op == "=?":
        return True if value in (False, None) else match_leaf(env, model, row, (path, "=", value))
    if op in ("child_of", "parent_of"):
        target = field.relation or model
        ids = raw if field.type in X2MANY else ([raw] if raw else [])
        family = env.hierarchy(target, value, down=op == "child_of")
        return any(i in family for i in ids)
    if field.type in X2MANY:
        return _match_x2many(env, field, raw, op, value)
    if field.type == "many2one" and _is_name_search(op, value):
        raw = env.display_name(field.relation, raw) if raw else False
    return compare(field, raw, op, value)


def _is_name_search(op: str, value: object) -> bool:
    if isinstance(value, str):
        return True
    return (
        op in ("in", "not in")
        and isinstance(value, (list, tuple))
        and any(isinstance(v, str) for v in value)
    )


def _match_x2many(env: Env, field: Field, ids: list, op: str, value: object) -> bool:
    if isinstance(value, str) or (op in ("like", "ilike", "not like", "not ilike")):
        names = [env.display_name(field.relation, i) for i in ids]
        hits = [compare(field, n, op.replace("not ", ""), value) for n in names]
        return not any(hits) if op.startswith("not") or op == "!=" else any(hits)
    wanted = set(value) if isinstance(value, (list, tuple)) else {value}
    if op in ("=", "in"):
        return (not ids) if wanted <= {False, None} else bool(set(ids) & wanted)
    if op in ("!=", "not in"):
        return bool(ids) if wanted <= {False, None} else not set(ids) & wanted
    raise ValueError(f"Invalid operator {op!r} on {field.model}.{field.name}")


def _like(pattern: str, text: str, insensitive: bool, wrap: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    if wrap:
        regex = f".*{regex}.*"
    return re.fullmatch(regex, text, re.S | (re.I if insensitive else 0)) is not None


def _empty(value: object) -> bool:
    return value is False or value is None or value == ""


def compare(field: Field, raw: object, op: str, value: object) -> bool:
    """Apply one operator to a stored scalar value, with SQL's NULL semantics."""
    if field.type == "boolean":
        raw = bool(raw)
        if op in ("=", "!=") and value in (False, None, True):
            return (raw == bool(value)) == (op == "=")
    if field.type == "date" and isinstance(value, str) and len(value) > 10:
        value = value[:10]
    if op == "=":
        return _empty(raw) if value in (False, None) else raw == value
    if op == "!=":
        return not _empty(raw) if value in (False, None) else raw != value
    if op in ("in", "not in"):
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        has_false = any(v is False or v is None for v in values)
        hit = raw in values or (has_false and _empty(raw))
        return hit if op == "in" else not hit
    if op in ("<", "<=", ">", ">="):
        if _empty(raw) and field.type not in ("integer", "float", "monetary", "boolean"):
            return False
        if value is False or value is None:
            return False
        try:
            return {"<": raw < value, "<=": raw <= value, ">": raw > value, ">=": raw >= value}[op]
        except TypeError:
            return False
    # like family
    negative = op.startswith("not ")
    base = op[4:] if negative else op
    if _empty(raw):
        return negative
    hit = _like(str(value), str(raw), insensitive="ilike" in base, wrap=not base.startswith("="))
    return not hit if negative else hit
