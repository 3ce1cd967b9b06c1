"""Server-action Python run the way Odoo runs it: ``safe_eval`` in ``exec`` mode.

Odoo executes a code server action (and so every scheduled action of type "code") with
``odoo.tools.safe_eval.safe_eval(code, eval_context, mode='exec')``:

- the code is *compiled and checked* first: no ``import``, no class definitions, no
  ``global``/``nonlocal``, no name or attribute containing a double underscore (Odoo rejects
  them as forbidden opcodes or "Access to forbidden name");
- it runs with a *small set of builtins* (``True``/``False``/``None``, ``len``, ``sorted``,
  ``min``/``max``/``sum``, ``dict``/``list``/``set``/``tuple``, ``isinstance``, ``zip``...):
  anything else, ``open``, ``print`` or a JSON ``false``, is a ``NameError``;
- its globals are the action's *eval context*: ``env``, ``model`` (the action's model as an
  empty recordset), ``record``/``records`` (what it runs on; empty for a cron), ``uid``,
  ``user``, the wrapped modules ``datetime``, ``dateutil``, ``time``, ``timezone``,
  ``log(message, level)``, ``UserError``/``ValidationError`` and ``Command``;
- Odoo's exceptions (``UserError``...) pass through; any other error comes back as
  ``ValueError("NameError(...) while evaluating <the code>")``.

This module reproduces that on the test server's tables: ``Records`` is a small recordset
(``search``, ``browse``, ``create``, ``write``, ``unlink``, ``mapped``, ``filtered``,
``ids``, field attributes, public model methods) and ``datetime.datetime.now()`` reads the
server's clock, so code written for Odoo runs here unchanged, and code that would fail on
Odoo (a ``NameError`` from a JSON literal, a forbidden import) fails here too.
"""

from __future__ import annotations

import ast
import datetime as _dt
import time as _time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from dateutil import relativedelta as _relativedelta

from .clock import parse_datetime
from .errors import OdooError, UserError, ValidationError
from .orm import as_ids

if TYPE_CHECKING:
    from .orm import Env

SAFE_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "True",
        "False",
        "None",
        "bytes",
        "str",
        "bool",
        "int",
        "float",
        "enumerate",
        "dict",
        "list",
        "tuple",
        "map",
        "abs",
        "min",
        "max",
        "sum",
        "filter",
        "sorted",
        "round",
        "len",
        "repr",
        "set",
        "all",
        "any",
        "ord",
        "chr",
        "divmod",
        "isinstance",
        "range",
        "zip",
        "Exception",
    )
}
ALLOWED_MODULES = ("_strptime", "math", "time")  # what C code (strftime...) may import


def _import(name: str, *args: Any, **kwargs: Any) -> Any:
    """``__import__`` as safe_eval's builtins have it: only a few modules C code needs."""
    if name in ALLOWED_MODULES:
        return __import__(name, *args, **kwargs)
    raise ImportError(f"module {name} should not be imported")


SAFE_BUILTINS["__import__"] = _import
FORBIDDEN_NODES = (
    ast.Import,
    ast.ImportFrom,
    ast.ClassDef,
    ast.Global,
    ast.Nonlocal,
    ast.AsyncFunctionDef,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
)


def check_code(code: str) -> ast.Module:
    """Parse and vet ``code`` as ``safe_eval`` does before running it (ValueError if not)."""
    tree = ast.parse(code, mode="exec")
    for node in ast.walk(tree):
        if isinstance(node, FORBIDDEN_NODES):
            raise ValueError(f"forbidden opcode(s) in {code!r}: {type(node).__name__}")
        name = getattr(node, "id", None) or getattr(node, "attr", None)
        if isinstance(name, str) and "__" in name:
            raise NameError(f"Access to forbidden name {name!r} ({code!r})")
    return tree


class Records:
    """A recordset over the test server's tables: what server-action code sees as records."""

    def __init__(self, env: Env, model: str, ids: list[int] | tuple = ()) -> None:
        object.__setattr__(self, "_env", env)
        object.__setattr__(self, "_name", model)
        object.__setattr__(self, "_ids", tuple(as_ids(list(ids))))

    # ------------------------------------------------------------ recordset basics
    @property
    def _obj(self):
        return self._env[self._name]

    @property
    def ids(self) -> list[int]:
        return list(self._ids)

    @property
    def id(self) -> int | bool:
        return self._ids[0] if len(self._ids) == 1 else False

    @property
    def env(self) -> SafeEnv:
        return SafeEnv(self._env)

    def __iter__(self) -> Iterator[Records]:
        return (Records(self._env, self._name, [i]) for i in self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __bool__(self) -> bool:
        return bool(self._ids)

    def __contains__(self, other: Records) -> bool:
        return set(other._ids) <= set(self._ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Records) and other._name == self._name and other._ids == self._ids

    def __hash__(self) -> int:
        return hash((self._name, self._ids))

    def __or__(self, other: Records) -> Records:
        return Records(self._env, self._name, list(dict.fromkeys(self._ids + other._ids)))

    def __sub__(self, other: Records) -> Records:
        return Records(self._env, self._name, [i for i in self._ids if i not in other._ids])

    def __repr__(self) -> str:
        return f"{self._name}{self._ids!r}"

    def ensure_one(self) -> Records:
        if len(self._ids) != 1:
            raise ValueError(f"Expected singleton: {self!r}")
        return self

    def browse(self, ids: Any = ()) -> Records:
        return Records(self._env, self._name, as_ids(ids))

    def exists(self) -> Records:
        return self.browse([i for i in self._ids if i in self._obj.table])

    def with_context(self, *args: dict, **ctx: Any) -> Records:
        context = {**(args[0] if args else self._env.context), **ctx}
        env = self._env.with_context(**context)
        return Records(env, self._name, self._ids)

    def sudo(self, flag: bool = True) -> Records:
        return Records(self._env.sudo() if flag else self._env, self._name, self._ids)

    # ------------------------------------------------------------ ORM
    def search(
        self, domain: list, offset: int = 0, limit: int | None = None, order: str | None = None
    ) -> Records:
        return self.browse(self._obj._search(list(domain), offset, limit, order))

    def search_count(self, domain: list, limit: int | None = None) -> int:
        return len(self._obj._search(list(domain), 0, limit))

    def search_read(self, domain: list | None = None, fields: list | None = None, **kw) -> list:
        return self._obj.search_read(domain, fields, **kw)

    def read(self, fields: list | None = None, load: str = "_classic_read") -> list[dict]:
        return self._obj.read(list(self._ids), fields, load)

    def create(self, vals_list: dict | list[dict]) -> Records:
        batch = [vals_list] if isinstance(vals_list, dict) else list(vals_list)
        return self.browse(self._obj.create_many([dict(v) for v in batch]))

    def write(self, vals: dict) -> bool:
        return self._obj.write(list(self._ids), dict(vals))

    def unlink(self) -> bool:
        return self._obj.unlink(list(self._ids))

    def mapped(self, path: str) -> Any:
        """Values of a field path over the records (a recordset for relational fields)."""
        current: Records | list = self
        for name in path.split("."):
            if not isinstance(current, Records):
                raise ValueError(f"mapped: {path!r} goes past a non-relational field")
            field = current._obj.fields.get(name)
            if field is None:
                raise KeyError(f"Invalid field {name!r} on model {current._name!r}")
            values = [current._obj.get(current._obj.table[i], name) for i in current._ids]
            if field.relation and field.type in ("many2one", "one2many", "many2many"):
                ids: list[int] = []
                for v in values:
                    ids += v if isinstance(v, list) else ([v] if v else [])
                current = Records(self._env, field.relation, list(dict.fromkeys(ids)))
            else:
                current = values
        return current

    def filtered(self, func: Any) -> Records:
        if isinstance(func, str):
            return self.browse([r.id for r in self if r.mapped(func)])
        return self.browse([r.id for r in self if func(r)])

    def sorted(self, key: Any = None, reverse: bool = False) -> Records:
        if key is None:
            return self.browse(self._obj.sorted_ids(list(self._ids)))
        if isinstance(key, str):
            name = key
            key = lambda r: r.mapped(name)[0] if r else False  # noqa: E731
        return self.browse([r.id for r in sorted(self, key=key, reverse=reverse)])

    # ------------------------------------------------------------ fields and methods
    def __getattr__(self, name: str) -> Any:
        obj = self._obj
        if name in obj.fields:
            if len(self._ids) > 1:
                raise ValueError(f"Expected singleton: {self!r}")
            if not self._ids:
                field = obj.fields[name]
                return Records(self._env, field.relation) if field.relation else False
            value = obj.get(obj.table[self._ids[0]], name)
            field = obj.fields[name]
            if field.relation and field.type in ("many2one", "one2many", "many2many"):
                return Records(
                    self._env,
                    field.relation,
                    value if isinstance(value, list) else ([value] if value else []),
                )
            return value
        if name == "_check" and self._name == "base.automation":
            return lambda automatic=False, use_new_cursor=False: (
                self._env.server.automation.check_time_rules(self._env)
            )
        method = getattr(obj, name, None)
        kind = getattr(method, "rpc", None)
        if kind == "records":
            return lambda *args, **kwargs: method(list(self._ids), *args, **kwargs)
        if kind == "model":
            return method
        raise AttributeError(f"'{self._name}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._obj.fields:
            self.write({name: value})
        else:
            raise AttributeError(f"cannot set {name!r} on {self._name}")


class SafeEnv:
    """``env`` in server-action code: ``env['model']``, ``env.uid``, ``env.user``, ``env.ref``."""

    def __init__(self, env: Env) -> None:
        self._env = env

    def __getitem__(self, model: str) -> Records:
        self._env[model]  # raises like Odoo for an unknown model
        return Records(self._env, model)

    @property
    def uid(self) -> int:
        return self._env.uid

    @property
    def user(self) -> Records:
        return Records(self._env, "res.users", [self._env.uid])

    @property
    def context(self) -> dict:
        return dict(self._env.context)

    @property
    def company(self) -> Records:
        return Records(self._env, "res.company", [1])

    def ref(self, xmlid: str, raise_if_not_found: bool = True) -> Records | None:
        module, _, name = xmlid.partition(".")
        data = self._env["ir.model.data"]
        found = data._search([("module", "=", module), ("name", "=", name)])
        if not found:
            if raise_if_not_found:
                raise ValueError(f"External ID not found in the system: {xmlid}")
            return None
        row = data.table[found[0]]
        return Records(self._env, row["model"], [row["res_id"]])


def _clock_datetime(env: Env) -> type:
    """``datetime.datetime`` whose ``now()``/``utcnow()``/``today()`` read the server clock
    (Odoo's server process runs in UTC, so ``now()`` is naive UTC there)."""

    class ServerDatetime(_dt.datetime):
        @classmethod
        def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:
            naive = parse_datetime(env.now())
            if tz is None:
                return _dt.datetime(*naive.timetuple()[:6])
            return naive.replace(tzinfo=_dt.UTC).astimezone(tz)

        @classmethod
        def utcnow(cls) -> _dt.datetime:
            return cls.now()

        @classmethod
        def today(cls) -> _dt.datetime:
            return cls.now()

    return ServerDatetime


class _Namespace:
    """A module as ``safe_eval`` wraps it: only the listed attributes."""

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


def eval_context(env: Env, model: str, ids: list[int]) -> dict[str, Any]:
    """The globals Odoo gives a code server action (``ir.actions.server._get_eval_context``)."""
    log_lines = env.server.automation.log

    def log(message: str, level: str = "info") -> None:
        log_lines.append(f"{level}: {message}")

    records = Records(env, model, ids)
    return {
        "env": SafeEnv(env),
        "model": Records(env, model),
        "record": Records(env, model, ids[:1]) if ids else None,
        "records": records,
        "uid": env.uid,
        "user": Records(env, "res.users", [env.uid]),
        "datetime": _Namespace(
            datetime=_clock_datetime(env),
            date=_dt.date,
            time=_dt.time,
            timedelta=_dt.timedelta,
            timezone=_dt.timezone,
            tzinfo=_dt.tzinfo,
            MAXYEAR=_dt.MAXYEAR,
            MINYEAR=_dt.MINYEAR,
        ),
        "dateutil": _Namespace(relativedelta=_relativedelta),
        "time": _Namespace(strftime=_time.strftime, strptime=_time.strptime, time=_time.time),
        "timezone": ZoneInfo,
        "log": log,
        "UserError": UserError,
        "ValidationError": ValidationError,
        "Command": _Namespace(
            create=lambda vals: (0, 0, vals),
            update=lambda i, vals: (1, i, vals),
            delete=lambda i: (2, i, 0),
            unlink=lambda i: (3, i, 0),
            link=lambda i: (4, i, 0),
            clear=lambda: (5, 0, 0),
            set=lambda ids: (6, 0, ids),
        ),
    }


def safe_exec(env: Env, code: str, model: str, ids: list[int]) -> dict[str, Any]:
    """Run ``code`` like ``safe_eval(code, eval_context, mode='exec')``; returns its globals."""
    tree = check_code(code)
    scope = {"__builtins__": dict(SAFE_BUILTINS), **eval_context(env, model, ids)}
    try:
        exec(compile(tree, "<server action>", "exec"), scope)  # noqa: S102 - what it models
    except OdooError:  # Odoo's own exceptions bubble up unchanged
        raise
    except Exception as exc:  # noqa: BLE001 - anything else is wrapped, as safe_eval does
        raise ValueError(f"{exc!r} while evaluating\n{code!r}") from exc
    return scope
