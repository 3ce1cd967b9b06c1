"""Modules imported the first time they are used, so that ``exsim --help`` starts at once.

The command-line verbs and the pytest plugin name the heavy modules they call (the engine,
metrics, pandas, scipy, matplotlib, pyarrow) through :func:`lazy`; the import happens when a
verb first reads an attribute, i.e. only in the commands that need it::

    config = lazy("sim.config")      # nothing imported yet
    config.load_scenario("default")  # sim.config (and pydantic) imported here
"""

from __future__ import annotations

import importlib
import types


class LazyModule(types.ModuleType):
    """Stands in for a module; reading any attribute imports the real one and forwards."""

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self.__name__), attr)


def lazy(name: str) -> LazyModule:
    """The module ``name``, imported at its first attribute access."""
    return LazyModule(name)
