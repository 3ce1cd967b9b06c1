"""Charts of a run, each a function from event logs or summaries to a matplotlib Figure.

- over the calendar (:mod:`.timeline`): backlog by category with shift shading, ageing of
  open cases;
- service (:mod:`.service`): SLA attainment by category and severity, detection-latency and
  time-to-resolve CDFs per policy;
- workload (:mod:`.workload`): alert load per team and hour, escalation/approval funnel;
- trade-offs (:mod:`.tradeoffs`): the Pareto plot of a sweep;
- load (:mod:`.load`): RPC and detection latency per load step of ``exsim odoo load``.

Functions taking several runs take a mapping ``{label: log or summary}``, label being what
the legend shows (usually the policy name). Save with :func:`sim.reports.style.save` (PNG and
SVG) or embed with :func:`sim.reports.style.png_bytes`.
"""

from sim.reports.charts.load import load_chart
from sim.reports.charts.service import latency_cdf_chart, sla_chart
from sim.reports.charts.timeline import aging_chart, backlog_chart
from sim.reports.charts.tradeoffs import pareto_chart, pareto_front
from sim.reports.charts.workload import alert_load_chart, funnel_chart

__all__ = [
    "aging_chart",
    "alert_load_chart",
    "backlog_chart",
    "funnel_chart",
    "latency_cdf_chart",
    "load_chart",
    "pareto_chart",
    "pareto_front",
    "sla_chart",
]
