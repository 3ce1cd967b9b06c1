"""Field definitions per Odoo version, read off real servers (``tests/data/odoo<N>/fields.json``:
17.0 and 18.0 dumped from real servers, 19 derived from 18 with renames read in 19's source;
see ``trim_fields``).  Every function takes the server's ``version`` (17 by default).

The server keeps rows in the wire format Odoo uses on JSON-RPC: datetimes as naive UTC strings
'YYYY-MM-DD HH:MM:SS', dates as 'YYYY-MM-DD', many2one as an id, many2many as a list of ids,
``False`` for empty.  ``to_cache`` normalises an incoming value the way Odoo's fields convert
what a client writes (and raises the same ``ValueError`` on a selection value that does not
exist), ``default_for`` gives the type's empty value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .clock import format_datetime, parse_datetime

DATA = Path(__file__).resolve().parents[1] / "data"
VERSIONS = (17, 18, 19)
NUMERIC = ("integer", "float", "monetary")
X2MANY = ("one2many", "many2many")
RELATIONAL = ("many2one", *X2MANY)


@dataclass(frozen=True)
class Field:
    model: str
    name: str
    type: str
    version: int
    string: str
    required: bool = False
    readonly: bool = False
    store: bool = True
    relation: str | None = None
    selection: tuple[str, ...] | None = None
    oca: bool = False

    def describe(self) -> dict:
        """What ``fields_get`` returns for this field (the attributes fields.json keeps)."""
        out: dict = {
            "type": self.type,
            "string": self.string,
            "required": self.required,
            "readonly": self.readonly,
            "store": self.store,
        }
        if self.relation:
            out["relation"] = self.relation
        if self.selection is not None:
            raw = _raw(self.version, self.oca)[self.model][self.name]["selection"]
            out["selection"] = [list(s) for s in raw]
        return out


@cache
def _raw(version: int = 17, oca: bool = False) -> dict:
    """The version's fields; with ``oca``, plus the OCA exception and tier-validation modules'
    (``tests/data/oca17``, read off a real 17.0 with them; their fields are the same on 18)."""
    if version not in VERSIONS:
        raise ValueError(f"no field definitions for Odoo {version} (have {VERSIONS})")
    out = json.loads((DATA / f"odoo{version}" / "fields.json").read_text())
    if oca:
        for model, fields in json.loads((DATA / "oca17" / "fields.json").read_text()).items():
            out[model] = {**out.get(model, {}), **fields}
    return out


@cache
def model_fields(model: str, version: int = 17, oca: bool = False) -> dict[str, Field]:
    out = {}
    for name, spec in _raw(version, oca).get(model, {}).items():
        sel = spec.get("selection")
        out[name] = Field(
            model=model,
            name=name,
            type=spec["type"],
            version=version,
            string=spec["string"],
            required=spec.get("required", False),
            readonly=spec.get("readonly", False),
            store=spec.get("store", True),
            relation=spec.get("relation"),
            selection=tuple(s[0] for s in sel) if isinstance(sel, list) else None,
            oca=oca,
        )
    return out


def known_models(version: int = 17, oca: bool = False) -> list[str]:
    return list(_raw(version, oca))


def default_for(field: Field) -> object:
    if field.type in X2MANY:
        return []
    if field.type in ("integer", "many2one_reference"):
        return 0
    if field.type in ("float", "monetary"):
        return 0.0
    return False


def to_cache(field: Field, value: object) -> object:
    """Convert a client value to the stored one, validating like Odoo's field classes do."""
    t = field.type
    if t == "selection":
        if value in (False, None, ""):
            return False
        if field.selection is not None and value not in field.selection:
            raise ValueError(f"Wrong value for {field.model}.{field.name}: {value!r}")
        return value
    if value is None:
        value = False
    if t == "boolean":
        return bool(value)
    if t == "integer":
        return int(value or 0)
    if t in ("float", "monetary"):
        return float(value or 0.0)
    if t == "many2one":
        if isinstance(value, (list, tuple)):  # [id, name] as read() returns it
            value = value[0] if value else False
        return int(value) if value else False
    if t == "many2one_reference":
        return int(value or 0)
    if t == "datetime":
        return format_datetime(parse_datetime(value)) if value else False
    if t == "date":
        return str(value)[:10] if value else False
    if t in ("char", "text", "html", "reference"):
        return str(value) if value not in (False, "") else False
    return value
