"""The ``exsim`` command line: the app, with each module of this package adding its verbs."""

from sim.cli import core  # noqa: F401  (registers the verbs)
from sim.cli.common import app

__all__ = ["app"]
