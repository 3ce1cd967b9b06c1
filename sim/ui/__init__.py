"""``exsim ui``: a local what-if page for demos and policy meetings.

:mod:`sim.ui.levers` reads the levers off the policy's pydantic model and validates edits with
it; :mod:`sim.ui.session` runs the edits against a pinned starting point with common random
numbers and the report's own comparison; :mod:`sim.ui.page` lays them out with NiceGUI (the
``ui`` extra, imported only by the ``ui`` verb; the simulator never imports this package).
"""
