"""``exsim odoo check``: can this database run a live exsim session?

Reports the server version, whether the modules exsim needs are installed, whether the
test-database guard allows writes, and for each category the scenario uses whether its
record pattern (``mapping.py``) exists here: the model and every field its domain, trigger
date and case key use. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.odoo.guard import is_test_database
from sim.odoo.mapping import pattern_for, required_fields
from sim.odoo.transport import Transport

MODULES = ("sale_management", "stock", "purchase", "account", "base_automation")


@dataclass
class CheckReport:
    version: str = ""
    modules: dict[str, bool] = field(default_factory=dict)
    test_database: bool = False
    mappings: dict[str, str] = field(default_factory=dict)  # category -> "ok" or the problem

    @property
    def ok(self) -> bool:
        return (
            all(self.modules.values())
            and self.test_database
            and all(v == "ok" for v in self.mappings.values())
        )


def check(transport: Transport, categories: list[str]) -> CheckReport:
    report = CheckReport()
    report.version = str(transport.version().get("server_version", "?"))
    rows = transport.call(
        "ir.module.module", "search_read", [["name", "in", list(MODULES)]], fields=["name", "state"]
    )
    states = {r["name"]: r["state"] for r in rows}
    report.modules = {m: states.get(m) == "installed" for m in MODULES}
    report.test_database = is_test_database(transport)
    cache: dict[str, set[str]] = {}
    for category in categories:
        try:
            pattern = pattern_for(category)
        except KeyError as exc:
            report.mappings[category] = str(exc.args[0])
            continue
        problems = []
        for model, names in required_fields(pattern).items():
            if model not in cache:
                try:
                    cache[model] = set(transport.call(model, "fields_get", attributes=["type"]))
                except Exception:  # noqa: BLE001 - a missing model is the finding
                    cache[model] = set()
            if not cache[model]:
                problems.append(f"model {model} missing")
            else:
                problems += [f"{model}.{n} missing" for n in names if n not in cache[model]]
        report.mappings[category] = "; ".join(problems) or "ok"
    return report
