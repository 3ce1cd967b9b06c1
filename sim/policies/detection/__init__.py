"""Detection: how a case goes from *occurred* to *detected*.

Each mechanism mirrors one way Odoo notices a problem: an automation rule that fires inside the
write that created the condition (``event_rule``); a time-based automation rule, run by one
shared job, that catches records whose trigger date passed its delay (``time_rule``); a
scheduled action that periodically searches for records stuck past a threshold (``scan``); or
a webhook pushing the record to middleware such as n8n, with its timeouts, losses and retries
(``webhook``); or an OCA exception rule checked when the document is confirmed, which blocks
the confirmation (``exception_rule``). A mechanism is a class registered by name with one
obvious interface::

    Mechanism(port, category, spec, stream)  # built once per watched category
    mechanism.watch(case)                      # a case of that category has just occurred

and calls ``port.detect(case, name)`` when it fires (``port``: :class:`sim.port.Port`, the
engine's one interface for parts). Several mechanisms may watch a category: the first to fire
detects, later ones are logged as duplicate detections. A package adds a mechanism through the
``exsim.mechanisms`` entry point; its ``params`` (a pydantic model) validates the YAML settings.
"""

from __future__ import annotations

from typing import Protocol

import sim.plugins as plugins
from sim.case import Case

MECHANISMS: dict[str, type] = {}


class Mechanism(Protocol):
    def watch(self, case: Case) -> None: ...


def register(name: str):
    """Class decorator adding a detection mechanism under ``name``."""

    def add(cls: type) -> type:
        MECHANISMS[name] = cls
        return plugins.register("mechanisms", name)(cls)

    return add


from sim.policies.detection import (  # noqa: E402,F401
    event_rule,
    exception_rule,
    scan,
    time_rule,
    webhook,
)
