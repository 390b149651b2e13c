"""The one plot style of spatiallab's figures, and turning a figure into PNG bytes or a file.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot, so no global backend or figure registry is
touched (safe inside the web lab's server threads); PNGs are rendered by matplotlib's Agg canvas.
"""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from spatiallab import runs

STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "image.interpolation": "nearest",
}
# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
CONDITION_COLOURS = {"original": "#0072B2", "shuffled": "#D55E00"}
FAMILY_COLOURS = {"within": "#009E73", "between": "#CC79A7"}  # the scale experiment's two families
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")  # one per model
CHANCE_COLOUR = "#555555"


def styled(make_figure):
    """Decorator: build the figure inside the fixed style."""

    @functools.wraps(make_figure)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return make_figure(*args, **kwargs)

    return wrapper


def new_figure(width_inches: float, height_inches: float) -> Figure:
    """A pyplot-free figure of the given size (in inches), laid out with the constrained layout engine."""
    return Figure(figsize=(width_inches, height_inches), layout="constrained")


def png_bytes(figure: Figure) -> bytes:
    """The figure rendered as PNG (at the style's savefig dpi)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def close(figure: Figure) -> None:
    """Empty a saved figure: its axes, images, lines and text are dropped, so nothing that still refers to the
    figure keeps them. (The figures here never enter pyplot's registry, so ``pyplot.close`` has nothing to close.)

    Matplotlib's artists refer to their axes and figure and back, so what is dropped is freed by the cyclic garbage
    collector, whose full pass can be rare: a caller that makes many figures collects once when done with them
    (``report.build.build_report`` does).
    """
    figure.clear()


def save_png(figure: Figure, path: str | os.PathLike) -> Path:
    """Write the figure as a PNG atomically (temporary name, then rename); returns the path."""
    return runs.write_bytes(path, png_bytes(figure))
