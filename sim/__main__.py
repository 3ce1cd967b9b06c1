"""``python -m sim`` is the ``exsim`` command."""

from sim.cli import app

app(prog_name="exsim")
