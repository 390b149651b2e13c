"""Build a run's report from its files alone: ``report.html`` (self-contained) and ``figures/*.png``.

Nothing is retrained: the numbers come from results.json, the images from samples/, the learned weights from models/.
"""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path

from spatiallab import runs, stats
from spatiallab.experiments.shuffled_pixels import ShuffledPixels
from spatiallab.report import grids, plots, tables, weights
from spatiallab.report.html import EmbeddedFigure, render_report
from spatiallab.report.style import close, png_bytes
from spatiallab.runs import RunFolder

REPORT_FILE = "report.html"
FIGURES_DIR = "figures"
WEIGHTS_SHOWN = 16  # hidden units / filters drawn per model and condition


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


class _FigureWriter:
    """Saves each figure as figures/<name>.png, keeps its embedded copy for the page, and closes the figure."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.sections: dict[str, list[EmbeddedFigure]] = {}

    def add(self, section: str, name: str, figure, alt: str, caption: str) -> None:
        png = png_bytes(figure)
        close(figure)
        runs.write_bytes(self.folder / f"{_slug(name)}.png", png)
        self.sections.setdefault(section, []).append(EmbeddedFigure.from_png(png, alt, caption))


def _learned_panels(run: RunFolder, dataset: str, model: str) -> tuple[str, dict] | None:
    """("dense" | "conv", {title: images}) for a model's first layer under each condition; None without models."""
    panels, kind = {}, None
    for condition in ("original", "shuffled"):
        keras_model = run.load_model(dataset, model, condition)
        if keras_model is None:
            continue
        kind = kind or weights.first_layer_kind(keras_model)
        if kind == "dense":
            permutation = run.permutation(dataset) if condition == "shuffled" else None
            title = "trained on shuffled pixels, inverse permutation applied" if permutation else "trained on original"
            panels[title] = weights.dense_weight_images(keras_model, run.image_shape(dataset), permutation)
        elif kind == "conv":
            panels[f"trained on {condition} pixels"] = weights.conv_filters(keras_model)
    return (kind, panels) if panels and kind else None


def _add_learned(writer: _FigureWriter, run: RunFolder, dataset: str) -> None:
    for model in run.models(dataset):
        learned = _learned_panels(run, dataset, model)
        if learned is None:
            continue
        kind, panels = learned
        if kind == "dense":
            alt = f"{model} on {dataset}: first-layer weights of hidden units 0-{WEIGHTS_SHOWN - 1}"
            caption = ("Each image is one hidden unit's weights over the input pixels (red positive, blue negative). "
                       "The shuffled model's weights are put back in image order with the inverse permutation: "
                       "they look alike because a Dense layer treats the pixels as an unordered list either way.")
        else:
            alt = f"{model} on {dataset}: first convolution's filters 0-{WEIGHTS_SHOWN - 1}"
            caption = ("Each image is one filter's weights (red positive, blue negative; colour filters min-max "
                       "scaled). On shuffled pixels a filter's window covers pixels that were not neighbours.")
        figure = grids.weight_grid(panels, count=WEIGHTS_SHOWN)
        writer.add("learned", f"learned_{dataset}_{model}", figure, alt, caption)


def build_report(run_dir: str | os.PathLike, output: str | os.PathLike | None = None) -> Path:
    """Write the run's report and figures; return the path of the HTML file.

    Args:
        run_dir: a run folder written by ``spatiallab run`` (the shuffled-pixels experiment); incomplete runs are reported
            as far as they got.
        output: where to write the HTML (default ``<run_dir>/report.html``); the PNGs go to ``<run_dir>/figures/``.

    Returns:
        The path of the written HTML file (written to a temporary name, then renamed).

    Raises:
        FileNotFoundError: no results.json. ValueError / DataFormatError: results or samples not as documented.
    """
    run = RunFolder(run_dir)
    if run.kind != ShuffledPixels.kind:
        raise ValueError(f"{run.path}: a {run.kind} run; `spatiallab report` makes reports of shuffled-pixels runs "
                         f"(`spatiallab run`) so far")  # fmt: skip
    record = run.results
    if "summary" not in record:
        raise ValueError(f"{run.path}: the run has no finished cell yet, so there is nothing to report")
    level = stats.confidence_label(record["config"].get("confidence", stats.CONFIDENCE))
    writer = _FigureWriter(run.path / FIGURES_DIR)
    for dataset in run.datasets:
        if run.has_samples(dataset):
            samples = run.samples(dataset)
            figure = grids.sample_triptych(samples.x, samples.y, samples.permutation, samples.class_names)
            writer.add("samples", f"samples_{dataset}", figure, f"{dataset}: sample test images",
                       "Top: test images. Middle: the same images with the run's fixed pixel permutation, as the "
                       "shuffled models saw them. Bottom: shuffled then un-shuffled with the saved permutation's "
                       "inverse, identical to the top row: no information is lost.")  # fmt: skip
    writer.add("accuracy", "accuracy", plots.accuracy_bars(record["summary"], record.get("chance")),
               "test accuracy by model and condition",
               f"Mean test accuracy over seeds; error bars are {level} t intervals (absent with one seed); the dashed "
               "line is chance (the largest class's share of the test split).")  # fmt: skip
    if record["reliance"]:
        writer.add("reliance", "reliance", plots.reliance_plot(record["reliance"], level), "spatial reliance per model",
                   "Accuracy lost when the pixels are shuffled (original minus shuffled, paired by seed). Near 0: "
                   "the model does not use pixel positions; large: it depends on them.")  # fmt: skip
    writer.add("curves", "learning_curves", plots.learning_curves(record["cells"]), "learning curves",
               "Training accuracy (solid) and test accuracy (dashed) after each epoch, one line per seed.")
    for dataset in run.datasets:
        _add_learned(writer, run, dataset)
    # The closed figures' artists form reference cycles (artist <-> axes <-> figure) that only the cyclic collector
    # frees, and its full pass is rare in a process holding many long-lived objects (TensorFlow's, in the lab or
    # after a run): without this, every report of a 200-cell run left ~6 MB more behind (test_report_memory.py).
    gc.collect()
    page = render_report(
        record,
        str(run.path),
        writer.sections,
        {
            "accuracy": tables.accuracy_table(record),
            "reliance": tables.reliance_table(record),
            "params": tables.parameter_table(record),
            "datasets": tables.dataset_table(record),
            "config": tables.key_value_table(record["config"]),
            "versions": tables.key_value_table(record.get("versions", {})),
            "cells": tables.cell_table(record),
        },
    )
    output = Path(output) if output is not None else run.path / REPORT_FILE
    return runs.write_bytes(output, page.encode("utf-8"))
