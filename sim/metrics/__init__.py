"""KPIs of the exception desk, computed from the event log and nothing else.

Every number exsim reports is a fold of the one event log: ``case_table`` turns rows into one
row per case, and the modules here each answer one question about those cases: ``sla`` (were
deadlines met), ``latency`` (how long each hand-off took), ``backlog`` (how much was open, and
Little's law as a check), ``workload`` (alerts and escalations people had to handle).
``summarize`` gathers them for one replication, ``summarize_reps`` across replications.
"""

from sim.metrics.backlog import backlog_series
from sim.metrics.cases import case_table
from sim.metrics.summary import get_path, summarize, summarize_reps

__all__ = ["backlog_series", "case_table", "get_path", "summarize", "summarize_reps"]
