"""exsim: a simulator and test harness for exception management in Odoo-run operations."""

from sim import compiled as _compiled

# Before any other module of the package is imported: compiled hot modules, or their .py files
# when the build is stale or EXSIM_PURE=1 (see sim/compiled.py).
_compiled.install()
