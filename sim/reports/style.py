"""The house style of exsim charts: one look, dates on time axes, PNG and SVG out.

Charts are drawn on bare :class:`matplotlib.figure.Figure` objects each with its own Agg
canvas, never through ``pyplot``: no global figure registry to leak memory in a long report
run, no GUI backend needed on a server, and no global ``matplotlib.use`` to fight a notebook's
own backend (``%matplotlib inline`` shows a returned figure). Every chart
is built inside :func:`style` so its fonts, grid and colours agree, whatever the caller's
rcParams. Simulated time is minutes since ``LogMeta.start``; :func:`dates` turns it into
wall-clock datetimes so axes read "Mon 05 Jan" rather than "minute 7200".
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import ParamSpec

import matplotlib
import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.eventlog import LogMeta

#: Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale print.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
OTHER = "#B0B0B0"
OFF_DUTY = "#9AA5B1"

_RC = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),
    "svg.fonttype": "none",  # text stays text in SVG: searchable, editable, small
}

P = ParamSpec("P")


@contextmanager
def style() -> Iterator[None]:
    """The house rcParams, for the duration of one chart."""
    with matplotlib.rc_context(_RC):
        yield


def styled(func: Callable[P, Figure]) -> Callable[P, Figure]:
    """Decorator: build the chart under :func:`style`."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with style():
            return func(*args, **kwargs)

    return wrapper


def figure(width: float = 9.0, height: float = 4.2) -> Figure:
    """A new figure (inches) with constrained layout on an Agg canvas, outside pyplot."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def start_of(meta: LogMeta) -> np.datetime64:
    """Minute 0 of the log as a naive datetime64 in the operation's wall clock."""
    return np.datetime64(meta.start_datetime().replace(tzinfo=None), "ms")


def dates(minutes: np.ndarray | float, meta: LogMeta) -> np.ndarray:
    """Simulated minutes as wall-clock datetime64 (ms), anchored at ``meta.start``."""
    ms = np.round(np.asarray(minutes, dtype=float) * 60_000.0).astype("int64")
    return start_of(meta) + ms.astype("timedelta64[ms]")


def date_axis(ax: Axes, label: str = "date and time (wall clock)") -> None:
    """Concise date ticks on the x axis (``Jan 05``, ``12:00``...)."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(label)


def percent_axis(ax: Axes, axis: str = "x") -> None:
    """Shares (0..1) shown as 0-100 %."""
    from matplotlib.ticker import PercentFormatter

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(PercentFormatter(1.0))


#: Resolution of every PNG (the page's and ``--charts``'): 9-10 inch wide charts come out
#: 990-1100 px, sharp on a laptop screen and in a mail client's preview.
PNG_DPI = 110


@dataclass(frozen=True)
class Drawn:
    """One chart drawn: its PNG (for the page and ``--charts``) and, when asked, its SVG."""

    png: bytes
    svg: str | None = None


@contextmanager
def _laid_out_once(fig: Figure, dpi: float) -> Iterator[None]:
    """Lay the figure out (constrained layout) at ``dpi`` once, then draw without a layout
    engine until the block ends.

    ``savefig`` on a figure with a layout engine first draws the whole figure with rendering
    switched off, only to lay it out, and then draws it again for real: about a third of a
    chart's CPU, paid again for each format. The layout itself (margins for tick labels,
    titles, legends and colour bars) is computed here exactly as that hidden draw computes
    it, at the PNG's resolution, so the PNG has the same pixels and the SVG the same layout.
    Afterwards the figure has its engine and dpi back (a notebook may still show it).
    """
    engine, dpi0 = fig.get_layout_engine(), fig.dpi
    try:
        fig.dpi = dpi
        if engine is not None:
            engine.execute(fig)
            # None, not "none": a placeholder engine would bring the hidden draw back
            with matplotlib.rc_context(
                {"figure.autolayout": False, "figure.constrained_layout.use": False}
            ):
                fig.set_layout_engine(None)
        yield
    finally:
        fig.dpi = dpi0
        if engine is not None:
            fig.set_layout_engine(engine)


def draw(fig: Figure, svg: bool = False) -> Drawn:
    """The figure as PNG (and SVG with ``svg``), laid out once for both."""
    with _laid_out_once(fig, PNG_DPI):
        png = io.BytesIO()
        # no software tag: the bytes depend on the data alone
        fig.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None})
        text = None
        if svg:
            out = io.StringIO()
            # a fixed salt: the SVG's clip-path and marker ids, hence its text, repeat for a log
            with matplotlib.rc_context({"svg.hashsalt": "exsim"}):
                fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
            text = out.getvalue()
    return Drawn(png.getvalue(), text)


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG (no software tag: the bytes depend on the data alone)."""
    return draw(fig).png


def svg_text(fig: Figure) -> str:
    """The figure as SVG, laid out as its PNG is."""
    return draw(fig, svg=True).svg or ""


def save(
    fig: Figure, directory: str | os.PathLike, name: str, drawn: Drawn | None = None
) -> list[Path]:
    """Write ``name.png`` and ``name.svg`` into ``directory`` (each atomically); ``drawn`` is
    the figure's :func:`draw` with its SVG when the caller already has it."""
    from sim.exports.atomic import atomic_path

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    drawn = draw(fig, svg=True) if drawn is None or drawn.svg is None else drawn
    for suffix, data in ((".png", drawn.png), (".svg", (drawn.svg or "").encode())):
        path = folder / f"{name}{suffix}"
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        out.append(path)
    return out
