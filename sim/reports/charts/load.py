"""Charts of a load test (``exsim odoo load``): what the server's latency and the automations'
lateness did as Locust added users.

They read the ``load`` block of the run's summary only: per load step (a user count) the RPC
p95 Locust measured meanwhile, in milliseconds, and the p50/p95 detection latency of the cases
that occurred during the step, in wall seconds (the load test runs at speed 1). The two are on
separate panels with a shared user axis because their units and scales differ by three orders
of magnitude; a dashed line marks the first step where the automations fell behind.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.reports.style import color, figure, styled


def _series(steps: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(users, values) of the steps where ``key`` was measured."""
    pts = [(s["users"], s[key]) for s in steps if s.get(key) is not None]
    pts = [(u, v) for u, v in pts if np.isfinite(float(v))]
    return np.array([u for u, _ in pts], dtype=float), np.array([v for _, v in pts], dtype=float)


def _behind(ax: Axes, behind: int | None) -> None:
    if behind is not None:
        ax.axvline(behind, color=color(3), ls="--", lw=1.0, label=f"fell behind at {behind} users")


@styled
def load_chart(load: dict, title: str | None = None) -> Figure:
    """RPC p95 (left) and detection latency p50/p95 (right) against users, one point per step
    of a summary's ``load`` block."""
    steps = load.get("steps") or []
    behind = load.get("behind_at_users")
    fig = figure(10, 3.8)
    rpc, det = fig.subplots(1, 2, sharex=True)
    u, v = _series(steps, "rpc_p95_ms")
    rpc.plot(u, v, marker="o", color=color(0), label="RPC p95")
    rpc.set_ylabel("RPC latency p95 (ms)")
    rpc.set_title("server latency")
    u, v = _series(steps, "detect_p95_s")
    det.plot(u, v, marker="o", color=color(1), label="detection p95")
    u, v = _series(steps, "detect_p50_s")
    det.plot(u, v, marker="s", ls=":", color=color(2), label="detection p50")
    det.set_ylabel("detection latency (s, wall clock)")
    det.set_title("automations' lateness")
    for ax in (rpc, det):
        _behind(ax, behind)
        ax.set_xlabel("users (Locust load step)")
        ax.set_ylim(bottom=0)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left")
    fig.suptitle(title or "Latency against load", fontweight="bold")
    return fig
