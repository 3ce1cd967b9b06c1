"""The one port through which policy parts reach the engine.

Detection mechanisms, severity scorers, escalation actions (built in or plug-ins, see
:mod:`sim.plugins`) are handed a :class:`Port` and nothing else. It is deliberately small:

- **time**: ``now``, ``horizon``; ``schedule(delay, fn, value)`` calls ``fn(value)`` later;
  ``process(gen)`` runs a SimPy-style generator that yields ``sleep(minutes)``;
- **randomness**: ``stream(name)`` / ``generator(name)``, named streams of the run's seed
  (:mod:`sim.streams`), so a part's draws never disturb anyone else's;
- **the log**: ``record(case, event, actor=, detail=, team=)`` with event names from
  :data:`sim.eventlog.EVENTS` and plain strings;
- **cases**: a part reads the :class:`sim.case.Case` it is handed (category, severity, due,
  team name via ``team_of``...); it changes a case only through the moves below;
- **detection**: ``detect(case, mechanism)``, ``duplicate(case, mechanism)``;
- **the desk's moves** (what escalation actions do): ``reassign``, ``raise_severity``,
  ``swarm``, ``page``; each returns whether it changed anything;
- **shared state and the end**: ``shared(key, factory)`` gives one object per run (e.g. the
  one scheduled job all time rules share), ``at_end(fn)`` runs ``fn()`` when the run ends;
- **outcomes**: ``outcome(path, value)`` writes what a part counted (e.g. the webhook pushes
  it lost) into the log's metadata, ``extra[path[0]][path[1]]...``, per replication, where
  metrics read it (``detectors``: :func:`sim.metrics.handling.dropped_summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol

from sim.case import Case
from sim.eventlog import EVENT_CODE
from sim.streams import Stream
from sim.timers import after

if TYPE_CHECKING:
    import numpy as np

    from sim.engine import Simulation


class Port(Protocol):
    """What a policy part may ask of the engine (see the module docstring)."""

    @property
    def now(self) -> float: ...
    @property
    def horizon(self) -> float: ...
    def schedule(self, delay: float, fn: Callable[[Any], None], value: Any = None) -> None: ...
    def process(self, gen: Generator) -> None: ...
    def sleep(self, minutes: float) -> Any: ...
    def stream(self, name: str) -> Stream: ...
    def generator(self, name: str) -> np.random.Generator: ...
    def record(
        self,
        case: Case,
        event: str,
        actor: str | None = None,
        detail: str | None = None,
        team: str | None = None,
    ) -> None: ...
    def team_of(self, case: Case) -> str | None: ...
    def detect(self, case: Case, mechanism: str) -> None: ...
    def duplicate(self, case: Case, mechanism: str) -> None: ...
    def reassign(self, case: Case, team: str, keep_work: bool = True, detail: str = "") -> bool: ...
    def raise_severity(
        self, case: Case, levels: int = 1, sla_follows: bool = False, detail: str = ""
    ) -> bool: ...
    def swarm(self, case: Case, team: str, detail: str = "") -> bool: ...
    def page(self, case: Case, on_call: str, detail: str = "") -> bool: ...
    def shared(self, key: str, factory: Callable[[], Any]) -> Any: ...
    def at_end(self, fn: Callable[[], None]) -> None: ...
    def outcome(self, path: tuple[str, ...], value: Any) -> None: ...


class EnginePort:
    """The engine's implementation of :class:`Port` (one per run)."""

    def __init__(self, sim: Simulation) -> None:
        self._sim = sim
        self._env = sim.env
        self.objects: dict[str, Any] = {}  # what shared() made, by key
        # the hot calls go straight to the engine (no extra frame per detection or sleep)
        self.detect = sim.detect
        self.duplicate = sim.duplicate
        self.sleep = sim.env.timeout

    @property
    def now(self) -> float:
        return self._env.now

    @property
    def horizon(self) -> float:
        return self._sim.horizon

    def schedule(self, delay: float, fn: Callable[[Any], None], value: Any = None) -> None:
        after(self._env, delay, lambda ev: fn(ev.value), value)

    def process(self, gen: Generator) -> None:
        self._env.process(gen)

    def stream(self, name: str) -> Stream:
        return self._sim.streams.stream(name)

    def generator(self, name: str):
        return self._sim.streams.generator(name)

    def record(self, case, event, actor=None, detail=None, team=None) -> None:
        code = self._sim.log.code
        self._sim.record(
            self._env.now,
            case,
            EVENT_CODE[event],
            code(actor),
            code(detail),
            team=None if team is None else code(team),
        )

    def team_of(self, case: Case) -> str | None:
        return None if case.team is None else case.team.name

    def reassign(self, case, team, keep_work=True, detail="") -> bool:
        return self._sim.reassign(case, team, keep_work, detail)

    def raise_severity(self, case, levels=1, sla_follows=False, detail="") -> bool:
        return self._sim.raise_severity(case, levels, sla_follows, detail)

    def swarm(self, case, team, detail="") -> bool:
        return self._sim.swarm(case, team, detail)

    def page(self, case, on_call, detail="") -> bool:
        return self._sim.page(case, on_call, detail)

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        found = self.objects.get(key)
        if found is None:
            found = self.objects[key] = factory()
        return found

    def at_end(self, fn: Callable[[], None]) -> None:
        self._sim.finalizers.append(fn)

    def outcome(self, path: tuple[str, ...], value: Any) -> None:
        node = self._sim.meta.extra
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
