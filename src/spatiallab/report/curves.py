"""Accuracy curves with shaded intervals: test accuracy against the shift (translation) and against the block size
(scale), each point a mean over seeds with its t interval from results.json (no band with one seed).

Each function takes the experiment's summary rows (see ``experiments/translation.py`` and ``experiments/scale.py``)
and returns a matplotlib Figure; accuracies (fractions in the file) are drawn in percent.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from spatiallab.experiments.scale import endpoints
from spatiallab.report.sections import TERMS, Terms
from spatiallab.report.style import CHANCE_COLOUR, FAMILY_COLOURS, SERIES_COLOURS, new_figure, styled

SHUFFLE_LABEL = "lesson's full shuffle"
ENDPOINT_MARKERS = {"original": "s", "shuffle": "o"}


def _band(axes, x: list[float], rows: list[dict], colour: str, label: str) -> None:
    """A line through the rows' means with markers, and their intervals shaded where every row has one."""
    axes.plot(x, [100 * row["mean"] for row in rows], "-o", color=colour, markersize=4, label=label)
    if rows and all(row.get("ci_low") is not None for row in rows):
        axes.fill_between(x, [100 * row["ci_low"] for row in rows], [100 * row["ci_high"] for row in rows],
                          color=colour, alpha=0.2, linewidth=0)  # fmt: skip


def _chance(axes, chance: float | None) -> None:
    if chance is not None:
        axes.axhline(100 * chance, color=CHANCE_COLOUR, linestyle="--", linewidth=1, label="chance")


@styled
def translation_curve(curve: list[dict], chance: float | None = None, level: str = "95%") -> Figure:
    """Test accuracy (%) against the shift distance in pixels (mean over the four directions), one line per model
    with its ``level`` t interval over seeds shaded; a dashed line marks chance.

    Args:
        curve: results.json's ``curve`` rows of a translation run (model, distance, mean, ci_low, ci_high).
    """
    figure = new_figure(5.8, 3.6)
    axes = figure.subplots()
    models = list(dict.fromkeys(row["model"] for row in curve))
    for index, model in enumerate(models):
        rows = sorted((row for row in curve if row["model"] == model), key=lambda row: row["distance"])
        _band(axes, [row["distance"] for row in rows], rows, SERIES_COLOURS[index % len(SERIES_COLOURS)], model)
    _chance(axes, chance)
    axes.set_xticks(sorted({row["distance"] for row in curve}))
    axes.set_xlabel("shift (pixels; mean over down, up, right, left)")
    axes.set_ylabel("test accuracy (%)")
    axes.set_ylim(0, 105)
    axes.set_title(f"accuracy vs shift (band: {level} CI over seeds)", fontsize=10)
    axes.legend(fontsize=8, loc="lower left")
    return figure


def _mark(axes, x: float, y: float, endpoint: str) -> None:
    """An endpoint ("original" or "shuffle"): a hollow black marker, unlabelled (the legend names each kind once)."""
    axes.plot([x], [y], ENDPOINT_MARKERS[endpoint], color="black", markersize=7, fillstyle="none", zorder=5)


def _endpoint_legend(families: list[str], image_shape: tuple[int, ...], measured: set[str],
                     examples: str) -> list[Line2D]:  # fmt: skip
    """The legend's two endpoint entries, each naming where it lies per family: "original ``examples``" ("images"
    or "sequences") and the lesson's full shuffle; a full shuffle the run did not measure (its family not in ``measured``) is named there as
    not run, not on the axes."""
    def where(endpoint: str, families: list[str]) -> str:
        return ", ".join(f"{family} k = {endpoints(family, image_shape)[endpoint]}" for family in families
                         if endpoints(family, image_shape)[endpoint] is not None)  # fmt: skip

    shuffle = where("shuffle", [family for family in families if family in measured])
    not_run = where("shuffle", [family for family in families if family not in measured])
    labels = {"original": f"original {examples} ({where('original', families)})",
              "shuffle": f"{SHUFFLE_LABEL} ({'; '.join(filter(None, [shuffle, not_run and f'{not_run}: not run']))})"}
    return [Line2D([], [], marker=ENDPOINT_MARKERS[endpoint], color="black", markersize=7, fillstyle="none",
                   linestyle="none", label=label) for endpoint, label in labels.items()]  # fmt: skip


@styled
def scale_curves(curve: list[dict], summary: list[dict], image_shape: tuple[int, ...], chance: float | None = None,
                 level: str = "95%", words: Terms = TERMS["image"]) -> Figure:  # fmt: skip
    """One panel per model: test accuracy (%) against the block size k for each family, with its ``level`` t interval
    over seeds shaded, and chance dashed.

    Each family's line runs to its "original" endpoint (within k = 1, between k = image size; the original images'
    accuracy, square marker) and, where the run measured it, to its "lesson's full shuffle" endpoint (within k =
    image size, between k = 1; round marker). The markers carry no text: the legend names each kind of endpoint
    once, with where it lies, and says which full shuffle the run did not measure.

    Args:
        curve, summary: results.json's ``curve`` and ``summary`` rows of a scale run.
        image_shape: (H, W) of the images (or (L,) of sequences): where the endpoints lie.
        words: the run's words (``sections.terms``): the legend's "original images" and the axis's "(pixels)", or
            sequences and positions.
    """
    models = list(dict.fromkeys(row["model"] for row in [*summary, *curve])) or [""]
    columns = min(3, len(models))
    rows_count = int(np.ceil(len(models) / columns))
    figure = new_figure(4.2 * columns, 3.4 * rows_count)
    axes_grid = figure.subplots(rows_count, columns, squeeze=False, sharey=True)
    for axes in axes_grid.flat[len(models):]:
        axes.set_visible(False)
    sizes = {1, *(row["block_size"] for row in curve)}
    sizes |= {size for family in FAMILY_COLOURS for size in endpoints(family, image_shape).values() if size}
    families = [family for family in FAMILY_COLOURS if any(row["family"] == family for row in curve)]
    measured = {row["family"] for row in curve if row["block_size"] == endpoints(row["family"], image_shape)["shuffle"]}
    for index, (axes, model) in enumerate(zip(axes_grid.flat, models)):
        original = next((row for row in summary if (row["model"], row["condition"]) == (model, "original")), None)
        for family, colour in FAMILY_COLOURS.items():
            rows = sorted((row for row in curve if (row["model"], row["family"]) == (model, family)),
                          key=lambda row: row["block_size"])  # fmt: skip
            if not rows:
                continue
            ends = endpoints(family, image_shape)
            points = {row["block_size"]: row for row in rows}
            if original is not None and ends["original"] is not None:
                points.setdefault(ends["original"], original)
            ordered = sorted(points)
            _band(axes, ordered, [points[size] for size in ordered], colour, family)
            if original is not None and ends["original"] is not None:
                _mark(axes, ends["original"], 100 * original["mean"], "original")
            if ends["shuffle"] in points and points[ends["shuffle"]] is not original:
                _mark(axes, ends["shuffle"], 100 * points[ends["shuffle"]]["mean"], "shuffle")
        _chance(axes, chance)
        axes.set_xscale("log", base=2)
        axes.set_xticks(sorted(sizes), [str(size) for size in sorted(sizes)])
        axes.minorticks_off()
        axes.set_ylim(0, 112)
        axes.set_title(model, fontsize=10)
        axes.set_xlabel(f"block size k ({words.positions})")
        if index % columns == 0:
            axes.set_ylabel("test accuracy (%)")
    handles, _ = axes_grid.flat[0].get_legend_handles_labels()
    handles += _endpoint_legend(families, image_shape, measured, words.examples) if families else []
    # two columns (the lines, then the endpoints) where the panels are wide enough for the endpoints' long labels
    figure.legend(handles=handles, loc="outside lower center", ncols=1 if columns == 1 else 2, fontsize=8,
                  title=f"band: {level} CI over seeds", title_fontsize=8)  # fmt: skip
    return figure
