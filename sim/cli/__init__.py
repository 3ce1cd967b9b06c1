"""The ``exsim`` command line: the app, with each module of this package adding its verbs."""

from sim.cli import (
    core,  # noqa: F401  (registers the verbs)
    experiments,  # noqa: F401
    odoo,  # noqa: F401
    replay,  # noqa: F401
    reports,  # noqa: F401
    ui,  # noqa: F401
)
from sim.cli.common import app

__all__ = ["app"]
