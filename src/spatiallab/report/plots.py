"""Figures of a run's numbers: accuracy bars with intervals, spatial reliance, learning curves (the accuracy-vs-shift
and accuracy-vs-block-size curves are in ``curves.py``).

Each function takes rows of results.json (see docs/architecture.md) and returns a matplotlib Figure; accuracies
(fractions in [0, 1] in the file) are drawn in percent.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from spatiallab.report.style import CHANCE_COLOUR, CONDITION_COLOURS, new_figure, styled


def _ordered(rows: list[dict], key: str) -> list:
    return list(dict.fromkeys(row[key] for row in rows))


def _error(row: dict) -> tuple[float, float]:
    """Distances (in points) from the mean down to ci_low and up to ci_high; zero without an interval."""
    if row.get("ci_low") is None:
        return 0.0, 0.0
    return 100 * (row["mean"] - row["ci_low"]), 100 * (row["ci_high"] - row["mean"])


@styled
def accuracy_bars(summary: list[dict], chance: dict[str, float] | None = None) -> Figure:
    """Grouped bars: test accuracy (%) of each model under each condition, one panel per dataset.

    Error bars are results.json's t intervals over seeds (none with one seed); a dashed line marks chance (the
    majority class's share of the test split).
    """
    datasets = _ordered(summary, "dataset") or [""]
    figure = new_figure(max(4.0, 3.2 * len(datasets)), 3.4)
    axes_list = figure.subplots(1, len(datasets), squeeze=False)[0]
    for axes, dataset in zip(axes_list, datasets):
        rows = [row for row in summary if row["dataset"] == dataset]
        models, conditions = _ordered(rows, "model"), _ordered(rows, "condition")
        width = 0.8 / max(1, len(conditions))
        for offset, condition in enumerate(conditions):
            for position, model in enumerate(models):
                row = next((r for r in rows if (r["model"], r["condition"]) == (model, condition)), None)
                if row is None:
                    continue
                x = position + (offset - (len(conditions) - 1) / 2) * width
                low, high = _error(row)
                axes.bar(x, 100 * row["mean"], width, color=CONDITION_COLOURS.get(condition),
                         label=condition if position == 0 else None,
                         yerr=[[low], [high]] if high else None, capsize=3)  # fmt: skip
                axes.annotate(f"{100 * row['mean']:.1f}", (x, 100 * row["mean"] + high), ha="center",
                              va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")  # fmt: skip
        if chance and dataset in chance:
            axes.axhline(100 * chance[dataset], color=CHANCE_COLOUR, linestyle="--", linewidth=1, label="chance")
        axes.set_xticks(range(len(models)), models)
        axes.set_ylim(0, 105)
        axes.set_ylabel("test accuracy (%)")
        axes.set_title(dataset)
        axes.grid(axis="x", visible=False)
    handles, labels = axes_list[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    return figure


@styled
def reliance_plot(reliance: list[dict], level: str = "95%") -> Figure:
    """Spatial reliance per model: accuracy(original) - accuracy(shuffled) in points, with the paired interval at
    confidence ``level`` (the run's, e.g. "95%")."""
    datasets = _ordered(reliance, "dataset") or [""]
    models = _ordered(reliance, "model")
    figure = new_figure(5.5, 0.9 + 0.45 * max(1, len(models)) * len(datasets))
    axes_list = figure.subplots(len(datasets), 1, squeeze=False)[:, 0]
    for axes, dataset in zip(axes_list, datasets):
        rows = [row for row in reliance if row["dataset"] == dataset]
        for position, row in enumerate(rows):
            points = 100 * row["difference"]
            if row.get("ci_low") is not None:
                axes.plot([100 * row["ci_low"], 100 * row["ci_high"]], [position, position], color="black", lw=2)
            axes.plot(points, position, "o", color=CONDITION_COLOURS["shuffled"], markersize=7)
            axes.annotate(f"{points:+.1f}", (points, position), xytext=(0, 7), textcoords="offset points",
                          ha="center", fontsize=8)  # fmt: skip
        axes.axvline(0, color=CHANCE_COLOUR, linewidth=1)
        axes.set_yticks(range(len(rows)), [row["model"] for row in rows])
        axes.set_ylim(-0.7, len(rows) - 0.3)
        axes.set_title(dataset, loc="left")
        axes.grid(axis="y", visible=False)
    axes_list[-1].set_xlabel(f"accuracy lost to shuffling (percentage points; bar = {level} CI over paired seeds)")
    return figure


EPOCHS_TICKED = 10  # up to this many epochs every epoch gets a tick; beyond, a few integer ticks
MARKED_EPOCHS = 50  # up to this many epochs every point gets a marker; beyond (MNIST-1D's 200), plain lines


@styled
def learning_curves(cells: list[dict]) -> Figure:
    """Train (solid) and test (dashed) accuracy per epoch for every cell; one panel per dataset and model.

    Colours are conditions; each seed is its own line (train: filled circles, test: hollow diamonds, which tell them
    apart where a line is one point). The panels share one accuracy axis, so slopes compare across them; epochs sit
    on integer ticks. After one epoch each line is a single point: the panels are then narrower and their x axis
    shows epoch 1 alone. A long run's test points sit at the epochs its history lists in "val_epochs" (every
    ``training.evaluation_interval``-th); over ``MARKED_EPOCHS`` epochs the lines carry no markers.
    """
    panels = list(dict.fromkeys((cell["dataset"], cell["model"]) for cell in cells)) or [("", "")]
    epochs = max(1, max((len((c.get("history") or {}).get("accuracy") or []) for c in cells), default=1))
    columns = min(3, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    figure = new_figure((3.4 if epochs > 1 else 2.4) * columns, 2.7 * rows)
    axes_grid = figure.subplots(rows, columns, squeeze=False, sharey=True)
    for axes in axes_grid.flat[len(panels):]:
        axes.set_visible(False)
    for index, (axes, (dataset, model)) in enumerate(zip(axes_grid.flat, panels)):
        shown = set()
        for cell in (c for c in cells if (c["dataset"], c["model"]) == (dataset, model)):
            history, colour = cell.get("history") or {}, CONDITION_COLOURS.get(cell["condition"])
            for key, style, marker, split in (("accuracy", "-", "o", "train"), ("val_accuracy", "--", "D", "test")):
                values = history.get(key) or []
                label = f"{cell['condition']} {split}"
                at = history.get("val_epochs") if split == "test" else None
                x = np.asarray(at) if at and len(at) == len(values) else np.arange(1, len(values) + 1)
                marker = marker if epochs <= MARKED_EPOCHS else None
                axes.plot(x, 100 * np.asarray(values), style, color=colour, marker=marker,
                          fillstyle="full" if split == "train" else "none", markersize=3 if epochs > 1 else 6,
                          label=None if label in shown else label)  # fmt: skip
                shown.add(label)
        axes.set_title(f"{model} on {dataset}", fontsize=10)
        axes.set_xlabel("epoch")
        if index % columns == 0:
            axes.set_ylabel("accuracy (%)")
        axes.set_xlim(0.5, epochs + 0.5)
        if epochs <= EPOCHS_TICKED:
            axes.set_xticks(range(1, epochs + 1))
        else:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = axes_grid.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=max(1, min(4, len(labels))), fontsize=8)
    return figure
