"""The byte plot with the file's structure drawn over it: each region tinted by kind and labelled by name."""

from __future__ import annotations

import os
import textwrap

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import EngFormatter
from PIL import Image

from spatiallab.atomic import atomic_path
from spatiallab.binimage.sections import KINDS, FileLayout

KIND_COLOURS = {
    "header": "tab:red",
    "code": "tab:blue",
    "data": "tab:green",
    "read-only data": "tab:olive",
    "resources": "tab:purple",
    "metadata": "tab:gray",
    "overlay": "tab:orange",
}
MAX_DISPLAY_ROWS = 1536  # taller plots are shrunk for display only; the axis stays in exact file offsets
MAX_DISPLAY_COLUMNS = 2048  # likewise for rows wider than this (a custom --width); Nataraj's widest is 1024
TINT_ALPHA = 0.35
LABELS_PER_FIGURE = 70  # labels that fit the figure's height at 6 points without overlapping
NOTE_COLUMNS = 110  # characters per line of the note under the title, at 9 points in the 8.5-inch figure


def _label_positions(centres: list[float], total: float) -> list[float]:
    """Spread label heights (in bytes) at least ``total / LABELS_PER_FIGURE`` apart, as near their regions as can.

    Labels keep the order of their regions' centres, so a large region that starts where small ones do does not
    push their labels away. Returns one height per centre, in the order given.
    """
    gap = total / max(LABELS_PER_FIGURE, len(centres) + 1)
    order = sorted(range(len(centres)), key=lambda index: centres[index])
    positions: list[float] = []
    for index in order:
        centre = centres[index]
        positions.append(max(centre, positions[-1] + gap) if positions else max(centre, gap / 2))
    for rank in range(len(positions) - 1, -1, -1):  # push back up from the bottom edge
        limit = total - gap / 2 if rank == len(positions) - 1 else positions[rank + 1] - gap
        positions[rank] = min(positions[rank], limit)
    placed = [0.0] * len(centres)
    for rank, index in enumerate(order):
        placed[index] = positions[rank]
    return placed


def region_tint(
    regions, plot_shape: tuple[int, int], display_shape: tuple[int, int], total: int | None = None
) -> np.ndarray:
    """The regions as a translucent colour layer over the byte plot, byte by byte (a region may start mid-row).

    Args:
        regions: ``Region``s sorted by offset, larger first at equal offsets (as ``parse_layout`` returns them), so a
            region inside another is drawn over it.
        plot_shape: (H, W) of the byte plot: the byte at file offset o is at row o // W, column o % W.
        display_shape: (rows, columns) of the layer; each pixel shows the byte at the top-left of the block of
            the plot it covers (nearest-neighbour sampling).
        total: bytes plotted; regions are cut there (default H * W).

    Returns:
        uint8 RGBA (rows, columns, 4): the region's kind colour at alpha 0.35, transparent outside every region.
    """
    (height, width), (rows, columns) = plot_shape, display_shape
    total = height * width if total is None else total
    byte_rows = np.arange(rows, dtype=np.int64) * height // rows
    byte_columns = np.arange(columns, dtype=np.int64) * width // columns
    offsets = byte_rows[:, None] * width + byte_columns[None, :]
    tint = np.zeros((rows, columns, 4), dtype=np.uint8)
    for region in regions:
        inside = (offsets >= region.offset) & (offsets < min(region.offset + region.size, total))
        tint[inside] = np.round(255 * np.array(to_rgba(KIND_COLOURS[region.kind], TINT_ALPHA)))
    return tint


def draw_layout(
    image: np.ndarray, layout: FileLayout, path: str | os.PathLike, title: str, plotted_bytes: int | None = None
) -> None:
    """Save a PNG of the byte plot with ``layout``'s regions tinted by kind and labelled by name (atomically).

    Args:
        image: uint8 (H, W) byte plot (``convert.to_image``); its y axis is drawn in file offsets (bytes).
        layout: regions from ``sections.parse_layout``; an empty layout draws the plain plot and its note.
        path: the PNG to write.
        title: first line of the title (e.g. the file name and size).
        plotted_bytes: bytes shown (default H * W); regions beyond it are not drawn.
    """
    height, width = image.shape
    total = height * width if plotted_bytes is None else plotted_bytes
    rows, columns = min(height, MAX_DISPLAY_ROWS), min(width, MAX_DISPLAY_COLUMNS)
    shown = image
    if (rows, columns) != (height, width):
        shown = np.asarray(Image.fromarray(image).resize((columns, rows), Image.Resampling.BILINEAR))
    regions = [region for region in layout.regions if region.offset < total]

    figure = Figure(figsize=(8.5, 9.0), dpi=110)
    axes = figure.add_axes((0.12, 0.06, 0.5, 0.82))
    extent = (0, width, height * width, 0)  # x: byte within the row; y: file offset of the row's first byte
    axes.imshow(shown, cmap="gray", vmin=0, vmax=255, extent=extent, aspect="auto", interpolation="nearest")
    axes.imshow(region_tint(regions, (height, width), (rows, columns), total), extent=extent, aspect="auto",
                interpolation="nearest")
    transform = axes.get_yaxis_transform()  # x in axes fractions, y in file offsets
    centres = [region.offset + min(region.size, total - region.offset) / 2 for region in regions]
    for region, centre, label_y in zip(regions, centres, _label_positions(centres, height * width)):
        axes.annotate(region.name, xy=(1.0, centre), xycoords=transform, xytext=(1.08, label_y),
                      textcoords=transform, fontsize=6, va="center", color=KIND_COLOURS[region.kind],
                      arrowprops={"arrowstyle": "-", "linewidth": 0.4, "color": KIND_COLOURS[region.kind]},
                      annotation_clip=False)
    axes.set_ylim(height * width, 0)
    axes.set_xlabel("byte within the row")
    axes.set_ylabel("file offset")
    axes.yaxis.set_major_formatter(EngFormatter(unit="B"))  # SI prefixes: 1 kB = 1000 B
    kinds = [kind for kind in KINDS if any(region.kind == kind for region in regions)]
    if kinds:
        axes.legend(handles=[Patch(color=KIND_COLOURS[kind], alpha=0.6, label=kind) for kind in kinds],
                    loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=len(kinds), fontsize=7, frameon=False,
                    handlelength=1.0, columnspacing=0.8)
    described = " ".join(part for part in (layout.format, layout.machine, layout.filetype) if part)
    subtitle = f"{described}, {len(regions)} regions" if layout.format else ""
    notes = "; ".join(part for part in (subtitle, layout.note) if part)
    notes = textwrap.fill(notes, NOTE_COLUMNS) if notes else ""
    figure.suptitle(f"{title}\n{notes}" if notes else title, fontsize=9, x=0.12, ha="left")
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
