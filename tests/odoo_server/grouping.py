"""``read_group`` as Odoo 17 answers it over JSON-RPC.

Each group is a dict with the grouped value (many2one as ``[id, name]``, dates by
``field:granularity`` with Odoo's labels and a ``__range``), a count (``<field>_count`` when
``lazy``, else ``__count``), the sum of each numeric field asked for (``amount_total`` or
``amount_total:sum``), its ``__domain`` and, when lazy and more groupbys remain,
``__context: {'group_by': rest}``.  Groups are ordered by the grouped value.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .clock import format_datetime, parse_datetime
from .schema import NUMERIC

if TYPE_CHECKING:
    from .orm import Model

AGGREGATES = {
    "sum": sum,
    "min": min,
    "max": max,
    "count": len,
    "avg": lambda v: sum(v) / len(v) if v else 0,
}


def _date_bucket(value: str, granularity: str) -> tuple[str, datetime, datetime]:
    """The label and [start, end) of the period holding ``value``, as Odoo labels them."""
    dt = parse_datetime(value)
    if granularity == "day":
        start = dt.replace(hour=0, minute=0, second=0)
        return start.strftime("%d %b %Y"), start, start + timedelta(days=1)
    if granularity == "week":
        start = (dt - timedelta(days=dt.weekday())).replace(hour=0, minute=0, second=0)
        return (
            f"W{start.isocalendar()[1]:02d} {start.isocalendar()[0]}",
            start,
            start + timedelta(days=7),
        )
    if granularity == "year":
        start = datetime(dt.year, 1, 1)
        return str(dt.year), start, datetime(dt.year + 1, 1, 1)
    if granularity == "quarter":
        q = (dt.month - 1) // 3
        start = datetime(dt.year, 3 * q + 1, 1)
        end = datetime(dt.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
        return f"Q{q + 1} {dt.year}", start, end
    start = datetime(dt.year, dt.month, 1)
    end = datetime(dt.year + (dt.month == 12), dt.month % 12 + 1, 1)
    return start.strftime("%B %Y"), start, end


def read_group(
    model: Model,
    domain: list,
    fields: list[str],
    groupby: list[str] | str,
    offset: int = 0,
    limit: int | None = None,
    orderby: str | None = None,
    lazy: bool = True,
) -> list[dict]:
    groupbys = [groupby] if isinstance(groupby, str) else list(groupby)
    if not groupbys:
        raise ValueError("read_group without groupby is not supported by the exsim test server")
    used = groupbys[:1] if lazy else groupbys
    specs = [g.split(":") for g in used]
    for name, *_ in specs:
        if name not in model.fields:
            raise ValueError(f"Invalid field {name!r} on model {model._name!r}")
    aggregates = []
    for spec in fields or []:
        name, _, func = spec.partition(":")
        name = name.split("(")[0]
        field = model.fields.get(name)
        if field and field.type in NUMERIC and name not in (*(s[0] for s in specs), "id"):
            aggregates.append((name, func or "sum"))

    groups: dict[tuple, list[dict]] = {}
    ranges: dict[tuple, list] = {}
    for row_id in model._search(domain):
        row = model.table[row_id]
        key, rng = [], []
        for name, *gran in specs:
            value = model.get(row, name)
            if model.fields[name].type in ("date", "datetime") and value:
                label, start, end = _date_bucket(value, gran[0] if gran else "month")
                key.append((start, label))
                rng.append((start, end))
            else:
                key.append(value)
                rng.append(None)
        groups.setdefault(tuple(key), []).append(row)
        ranges[tuple(key)] = rng

    def sort_key(item: tuple) -> tuple:
        out = []
        for (name, *_), value in zip(specs, item[0], strict=True):
            field = model.fields[name]
            if value in (False, None):
                out.append((1, ""))
            elif field.type == "many2one":
                out.append((0, str(model.env.display_name(field.relation, value)).casefold()))
            else:
                out.append((0, value))
        return tuple(out)

    ordered = sorted(groups.items(), key=sort_key)
    if orderby and orderby.split()[-1].lower() == "desc":
        ordered.reverse()
    ordered = ordered[offset : offset + limit if limit else None]
    result = []
    for key, rows in ordered:
        group: dict[str, Any] = {}
        domain_parts: list = []
        for (name, *gran), value, rng in zip(specs, key, ranges[key], strict=True):
            field = model.fields[name]
            label = f"{name}:{gran[0]}" if gran else name
            if rng:
                start, end = (
                    format_datetime(x) if field.type == "datetime" else x.strftime("%Y-%m-%d")
                    for x in rng
                )
                group[label] = value[1]
                group.setdefault("__range", {})[label] = {"from": start, "to": end}
                domain_parts += ["&", [name, ">=", start], [name, "<", end]]
            else:
                if field.type == "many2one" and value:
                    group[label] = [value, model.env.display_name(field.relation, value)]
                else:
                    group[label] = value
                domain_parts.append([name, "=", value])
        count_key = f"{specs[0][0]}_count" if lazy else "__count"
        group[count_key] = len(rows)
        for name, func in aggregates:
            group[name] = AGGREGATES[func]([model.get(r, name) for r in rows])
        group["__domain"] = (
            ["&"] * (len(specs) - 1) + domain_parts if len(specs) > 1 else domain_parts
        )
        if lazy and len(groupbys) > 1:
            group["__context"] = {"group_by": groupbys[1:]}
        result.append(_order_like_odoo(group))
    return result


def _order_like_odoo(group: dict) -> dict:
    """Put ``__range`` after ``__domain``, as Odoo 17's reply does."""
    rng = group.pop("__range", None)
    domain = group.pop("__domain")
    ctx = group.pop("__context", None)
    group["__domain"] = domain
    if rng:
        group["__range"] = rng
    if ctx:
        group["__context"] = ctx
    return group
