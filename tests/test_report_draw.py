"""Drawing a chart for the report: laid out once, the same pixels as matplotlib's own savefig.

:func:`sim.reports.style.draw` lays a figure out once and draws it once per format (PNG for the
page, SVG for ``--charts``), instead of ``savefig``'s hidden layout draw before each format.
These charts need no simulation: a load test's summary and run summaries are enough.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.layout_engine import ConstrainedLayoutEngine
from PIL import Image

from sim.reports import charts
from sim.reports.style import PNG_DPI, draw

LOAD = {
    "users": 40,
    "behind_at_users": 30,
    "steps": [
        {"users": u, "rpc_p95_ms": 3.0 * u, "detect_p50_s": u / 10, "detect_p95_s": u / 4}
        for u in (10, 20, 30, 40)
    ],
}


def _summary(shift: float) -> dict:
    cats = {"late_delivery": 0.8 - shift, "stock_shortage": 0.6 + shift}
    return {
        "sla": {"by_category": cats, "by_severity": {"high": 0.7, "low": 0.9 - shift}},
        "ci95": {"sla": {"by_category": {k: [v - 0.1, v + 0.1] for k, v in cats.items()}}},
    }


BUILDERS = {
    "load": lambda: charts.load_chart(LOAD, title="load"),
    "sla": lambda: charts.sla_chart({"a": _summary(0.0), "b": _summary(0.1)}),
}


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_draw_gives_savefigs_pixels_and_leaves_the_figure_as_it_was(name) -> None:
    build = BUILDERS[name]
    plain = io.BytesIO()
    build().savefig(plain, format="png", dpi=PNG_DPI)
    fig = build()
    engine, dpi = fig.get_layout_engine(), fig.dpi
    drawn = draw(fig, svg=True)
    assert np.array_equal(_pixels(drawn.png), _pixels(plain.getvalue()))
    assert fig.get_layout_engine() is engine and fig.dpi == dpi  # a notebook can still show it
    assert drawn.svg is not None and drawn.svg.lstrip().startswith("<?xml")


def test_png_and_svg_share_one_layout_pass(monkeypatch) -> None:
    calls = []
    execute = ConstrainedLayoutEngine.execute

    def counted(self, fig):
        calls.append(fig)
        return execute(self, fig)

    monkeypatch.setattr(ConstrainedLayoutEngine, "execute", counted)
    draw(BUILDERS["load"](), svg=True)
    assert len(calls) == 1  # savefig per format would lay it out twice (and draw it hidden twice)


def test_svg_repeats_for_the_same_chart() -> None:
    first, second = (draw(BUILDERS["sla"](), svg=True).svg for _ in range(2))
    assert first == second  # clip-path ids come from a fixed salt, not a random one
