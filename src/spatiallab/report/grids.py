"""Figures made of small images: sample images under the permutation, first-layer weights and filters.

Small images are tiled into one mosaic per row or panel (one axes each, which keeps the figures fast to draw);
sequences (N, L, C) are drawn as line plots instead, one small axes per example.
Grey images (C = 1) are drawn in grey levels. Weights are scaled per image: C = 1 by its largest magnitude onto a
diverging map centred on 0 (blue negative, red positive); C = 3 min-max onto RGB.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from spatiallab.report.style import new_figure, styled
from spatiallab.transforms import PixelPermutation

GAP = 1  # pixels between tiles


def tile(images: np.ndarray, columns: int, fill: float = np.nan) -> np.ndarray:
    """Tile (n, h, w, C) images row by row into one (rows*(h+GAP)-GAP, columns*(w+GAP)-GAP, C) float mosaic.

    Tiles are separated by ``GAP`` pixels of ``fill``; places past the last image are ``fill`` too.
    """
    count, height, width, channels = images.shape
    rows = int(np.ceil(count / columns))
    mosaic = np.full((rows * (height + GAP) - GAP, columns * (width + GAP) - GAP, channels), fill, dtype=np.float32)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + GAP), column * (width + GAP)
        mosaic[top : top + height, left : left + width] = image
    return mosaic


def scale_weights(weights: np.ndarray) -> np.ndarray:
    """(n, h, w, C) float weights scaled per image: C = 1 to [-1, 1] by max |w|; C = 3 min-max to [0, 1]."""
    weights = np.asarray(weights, dtype=np.float32)
    axes = tuple(range(1, weights.ndim))
    if weights.shape[-1] == 1:
        return weights / np.maximum(np.abs(weights).max(axis=axes, keepdims=True), 1e-12)
    low, high = weights.min(axis=axes, keepdims=True), weights.max(axis=axes, keepdims=True)
    return (weights - low) / np.maximum(high - low, 1e-12)


def _show_mosaic(axes, mosaic: np.ndarray, diverging: bool = False) -> None:
    if mosaic.shape[-1] == 1:
        colormap = colormaps["RdBu_r" if diverging else "gray"].with_extremes(bad="white")
        limits = (-1, 1) if diverging else (0, 255)
        axes.imshow(np.ma.masked_invalid(mosaic[..., 0]), cmap=colormap, vmin=limits[0], vmax=limits[1])
    else:
        scale = 1.0 if diverging else 255.0
        axes.imshow(np.clip(np.nan_to_num(mosaic, nan=scale) / scale, 0, 1))
    axes.set_xticks([])
    axes.set_yticks([])
    axes.grid(visible=False)
    for spine in axes.spines.values():
        spine.set_visible(False)


@styled
def image_rows(rows: list[tuple[str, np.ndarray]], labels: np.ndarray, class_names: list[str]) -> Figure:
    """The same images under several transforms: one mosaic row per (title, images), the title on the left, each
    image's class name above the top row.

    Args:
        rows: (title, uint8 (n, H, W, C) images), the same n images in each row. labels: int (>= n,) of the images.
    """
    count, width = len(rows[0][1]), rows[0][1].shape[2]
    figure = new_figure(1.0 * count + 1.0, 1.27 * len(rows))
    axes_column = figure.subplots(len(rows), 1, squeeze=False)[:, 0]
    for axes, (title, block) in zip(axes_column, rows):
        _show_mosaic(axes, tile(block, len(block), fill=255))
        axes.set_ylabel(title)
    top = axes_column[0]
    top.set_xticks([index * (width + GAP) + (width - 1) / 2 for index in range(count)])
    top.set_xticklabels([class_names[int(label)] for label in labels[:count]])
    top.xaxis.tick_top()
    top.tick_params(length=0)
    return figure


@styled
def sequence_rows(rows: list[tuple[str, np.ndarray]], labels: np.ndarray, class_names: list[str]) -> Figure:
    """``image_rows`` for sequences: one row of line plots per (title, sequences), value against position, one line
    per channel, every plot on the same value axis; each sequence's class name above the top row.

    Args:
        rows: (title, (n, L, C) sequences), the same n sequences in each row. labels: int (>= n,) of the sequences.
    """
    count = len(rows[0][1])
    values = np.concatenate([np.asarray(block, dtype=np.float64).ravel() for _, block in rows])
    low, high = float(values.min(initial=0.0)), float(values.max(initial=1.0))
    margin = 0.05 * max(high - low, 1e-9)
    figure = new_figure(1.0 * count + 1.0, 1.0 * len(rows))
    grid = figure.subplots(len(rows), count, squeeze=False, sharex=True, sharey=True)
    for row_axes, (title, block) in zip(grid, rows):
        for index, (axes, sequence) in enumerate(zip(row_axes, block)):
            axes.plot(np.asarray(sequence, dtype=np.float64), color="black", linewidth=1)
            axes.set_ylim(low - margin, high + margin)
            axes.set_xticks([])
            axes.set_yticks([])
            axes.grid(visible=False)
            if index == 0:
                axes.set_ylabel(title)
    for axes, label in zip(grid[0], labels[:count]):
        axes.set_title(class_names[int(label)], fontsize=10)
    return figure


def example_rows(rows: list[tuple[str, np.ndarray]], labels: np.ndarray, class_names: list[str]) -> Figure:
    """``image_rows`` for (n, H, W, C) images, ``sequence_rows`` for (n, L, C) sequences: the examples' own kind
    decides how they are drawn."""
    draw = sequence_rows if rows[0][1].ndim == 3 else image_rows
    return draw(rows, labels, class_names)


def sample_triptych(
    images: np.ndarray, labels: np.ndarray, permutation: PixelPermutation, class_names: list[str], count: int = 8
) -> Figure:
    """Rows: the original examples, the same examples shuffled, and shuffled then un-shuffled with the inverse.

    Args:
        images: uint8 (N, H, W, C) test images, or (N, L, C) sequences (drawn as line plots). labels: int (N,).
        permutation: the run's permutation.
    """
    images = images[:count]
    shuffled = permutation(images)
    rows = [("original", images), ("shuffled", shuffled), ("un-shuffled", permutation.inverse(shuffled))]
    return example_rows(rows, labels, class_names)


@styled
def weight_grid(panels: dict[str, np.ndarray], count: int = 16, columns: int = 8) -> Figure:
    """The first ``count`` images of each panel (e.g. "original" and "shuffled, un-permuted"), left to right and
    top to bottom, one mosaic per panel.

    Args:
        panels: title -> float (n, h, w, C) weight images or filters.
    """
    shown = {title: scale_weights(block[:count]) for title, block in panels.items() if len(block)}
    rows = {title: int(np.ceil(len(block) / columns)) for title, block in shown.items()}
    figure = new_figure(1.0 * columns, 0.3 + sum(1.05 * r + 0.35 for r in rows.values()))
    axes_list = figure.subplots(len(shown), 1, squeeze=False, height_ratios=list(rows.values()))[:, 0]
    for axes, (title, block) in zip(axes_list, shown.items()):
        _show_mosaic(axes, tile(block, columns), diverging=True)
        axes.set_title(title, loc="left", fontsize=10)
    return figure
