"""The lab's figures: on Explore the image as a grid, as the flat vector, shuffled, under a block shuffle, and a
filter's feature maps; on Reflect a scale run's accuracy against block size.

Same fixed style as the report (``spatiallab.report.style``); images are uint8 (H, W) grey levels.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from spatiallab.report.style import CHANCE_COLOUR, CONDITION_COLOURS, SERIES_COLOURS, new_figure, styled

FIELD_COLOUR = "#E69F00"  # Okabe-Ito orange: the receptive field, and block edges


def _pixel_grid(axes, image: np.ndarray) -> None:
    height, width = image.shape
    axes.imshow(image, cmap="gray", vmin=0, vmax=255)
    axes.set_xticks(np.arange(-0.5, width, 1), minor=True)
    axes.set_yticks(np.arange(-0.5, height, 1), minor=True)
    axes.grid(which="minor", color="#444444", linewidth=0.3)
    axes.grid(which="major", visible=False)
    axes.tick_params(which="minor", length=0)
    axes.set_xticks(range(0, width, 7))
    axes.set_yticks(range(0, height, 7))
    axes.set_xlabel("column")
    axes.set_ylabel("row")


@styled
def grid_figure(image: np.ndarray, field: tuple[tuple[int, int], tuple[int, int]] | None = None) -> Figure:
    """The image as its H x W grid of grey levels (0..255), the filter's receptive field outlined.

    Args:
        field: ((first row, last row), (first column, last column)) of the window, or None.
    """
    figure = new_figure(4.2, 4.0)
    axes = figure.subplots()
    _pixel_grid(axes, image)
    if field is not None:
        (top, bottom), (left, right) = field
        axes.add_patch(Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1, fill=False,
                                 edgecolor=FIELD_COLOUR, linewidth=2.5))  # fmt: skip
    axes.set_title(f"{image.shape[0]}x{image.shape[1]} grid (what Conv2D sees)")
    return figure


@styled
def vector_figure(image: np.ndarray, field: tuple[tuple[int, int], tuple[int, int]] | None = None) -> Figure:
    """The flattened image: grey level (0..255) of input index 0..H*W-1 (row * W + column), as Dense receives it.

    The receptive field's pixels are marked: neighbours in the grid land up to W indices apart in the vector.
    """
    vector = image.reshape(-1).astype(np.float32)
    width = image.shape[1]
    figure = new_figure(8.0, 2.4)
    axes = figure.subplots()
    axes.vlines(np.arange(width, vector.size, width) - 0.5, 0, 260, color="#bbbbbb", linewidth=0.4)
    axes.stairs(vector, np.arange(vector.size + 1) - 0.5, fill=True, color="#333333")
    if field is not None:
        (top, bottom), (left, right) = field
        indices = [row * width + column for row in range(top, bottom + 1) for column in range(left, right + 1)]
        axes.plot(indices, vector[indices], "o", color=FIELD_COLOUR, markersize=4, label="receptive field")
        axes.legend(loc="upper right", fontsize=8)
    axes.set_xlim(-0.5, vector.size - 0.5)
    axes.set_ylim(0, 260)
    axes.set_xlabel(f"input index = row x {width} + column (grey lines: row boundaries)")
    axes.set_ylabel("grey level")
    axes.set_title(f"the flat {vector.size}-vector (what Dense sees)")
    axes.grid(visible=False)
    return figure


@styled
def shuffled_figure(shuffled: np.ndarray, moved_field: list[tuple[int, int]] | None = None) -> Figure:
    """The image after the fixed pixel permutation; ``moved_field`` marks where the window's pixels went."""
    figure = new_figure(4.2, 4.0)
    axes = figure.subplots()
    _pixel_grid(axes, shuffled)
    for row, column in moved_field or []:
        axes.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=FIELD_COLOUR, linewidth=2))
    axes.set_title("shuffled (same permutation for every image)")
    return figure


@styled
def feature_maps_figure(original: np.ndarray, shuffled: np.ndarray, position: tuple[int, int]) -> Figure:
    """The filter's feature maps on the original and on the shuffled image, the chosen position marked."""
    figure = new_figure(7.6, 3.8)
    axes_pair = figure.subplots(1, 2)
    limit = float(max(np.abs(original).max(), np.abs(shuffled).max())) or 1.0
    for axes, feature_map, condition in zip(axes_pair, (original, shuffled), ("original", "shuffled")):
        shown = axes.imshow(feature_map, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes.plot(position[1], position[0], "s", markerfacecolor="none", markeredgecolor=FIELD_COLOUR,
                  markersize=8, markeredgewidth=2)  # fmt: skip
        axes.set_title(f"feature map on {condition} pixels", color=CONDITION_COLOURS[condition])
        axes.set_xlabel("column")
        axes.grid(visible=False)
    axes_pair[0].set_ylabel("row")
    figure.colorbar(shown, ax=axes_pair, shrink=0.8, label="filter response (grey-level units)")
    return figure


@styled
def block_figure(image: np.ndarray, block_size: int, title: str) -> Figure:
    """The image as its pixel grid with the edges of its k x k blocks drawn (none at k = 1 or one whole block)."""
    figure = new_figure(3.3, 3.2)
    axes = figure.subplots()
    _pixel_grid(axes, image)
    height, width = image.shape
    if 1 < block_size < max(height, width):
        edges = dict(color=FIELD_COLOUR, linewidth=1.2)
        for row in range(block_size, height, block_size):
            axes.axhline(row - 0.5, **edges)
        for column in range(block_size, width, block_size):
            axes.axvline(column - 0.5, **edges)
    axes.set_title(title)
    return figure


@styled
def scale_curve_figure(record: dict) -> Figure:
    """A scale run's curve (results.json ``curve`` and ``summary``): test accuracy (%) against block size k, one
    panel per family and one line per model with its t interval over seeds; the model's accuracy on the original
    images dotted, chance dashed."""
    families = record["config"]["families"]
    figure = new_figure(3.6 * len(families), 3.2)
    axes_list = figure.subplots(1, len(families), squeeze=False)[0]
    sizes = sorted(record["config"]["block_sizes"])
    chance = record.get("chance")  # a scale run's one dataset: the majority class's share of its test split
    for axes, family in zip(axes_list, families):
        for index, model in enumerate(record["config"]["models"]):
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            rows = sorted((row for row in record["curve"] if (row["model"], row["family"]) == (model, family)),
                          key=lambda row: row["block_size"])  # fmt: skip
            original = next((row for row in record["summary"]
                             if (row["model"], row["condition"]) == (model, "original")), None)  # fmt: skip
            if original is not None:
                axes.axhline(100 * original["mean"], color=colour, linestyle=":", linewidth=1)
            if not rows:
                continue
            positions = [sizes.index(row["block_size"]) for row in rows]
            errors = np.array([[100 * (row["mean"] - row["ci_low"]), 100 * (row["ci_high"] - row["mean"])]
                               if row["ci_low"] is not None else [0.0, 0.0] for row in rows]).T  # fmt: skip
            axes.errorbar(positions, [100 * row["mean"] for row in rows], yerr=errors, color=colour, marker="o",
                          capsize=3, label=model)  # fmt: skip
        if chance is not None:
            axes.axhline(100 * chance, color=CHANCE_COLOUR, linestyle="--", linewidth=1, label="chance")
        axes.set_xticks(range(len(sizes)), [str(size) for size in sizes])
        axes.set_xlabel("block size k (pixels)")
        axes.set_ylim(0, 102)
        axes.set_title(f"{family} k x k blocks")
    axes_list[0].set_ylabel("test accuracy (%)")
    handles, labels = axes_list[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=max(1, len(labels)), fontsize=8)
    return figure
