"""The sections every experiment's report shares: sample images (or sequences), learning curves, the parameter
table, and the setup (data, configuration, versions, every cell); and ``terms``, the words for the run's kind of data.

A ``writer`` is ``build.FigureWriter``: ``writer.add(name, figure, alt, caption)`` saves ``figures/<name>.png`` and
returns the page's figure block.
"""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure

from spatiallab import models
from spatiallab.experiments.words import MIXED_TERMS, TERMS, Terms
from spatiallab.models.specs import Dropout
from spatiallab.report import page, plots, tables
from spatiallab.runs import RunFolder, Samples

SHOWN_SAMPLES = 8  # test images per row of a samples figure




def terms(record: dict, dataset: str | None = None) -> Terms:
    """The words for ``dataset``'s kind of data, or for all the run's datasets (``MIXED_TERMS`` when they mix
    images and sequences), read from results.json's ``datasets.<name>.kind`` (runs made before sequences: images)."""
    described = record.get("datasets", {})
    kinds = {described[name].get("kind", "image") for name in ([dataset] if dataset else described)} or {"image"}
    return TERMS[kinds.pop()] if len(kinds) == 1 else MIXED_TERMS


def samples(writer, run: RunFolder, draw: Callable[[str, Samples], Figure], caption: str) -> page.Section:
    """One figure per dataset of the run's saved test images or sequences (``samples/<dataset>.npz``), drawn by
    ``draw(dataset, samples)``; a line saying so for a dataset whose run saved none (runs made before this
    experiment saved them)."""
    blocks = []
    for dataset in run.datasets:
        examples = terms(run.results, dataset).examples
        if run.has_samples(dataset):
            blocks.append(writer.add(f"samples_{dataset}", draw(dataset, run.samples(dataset)),
                                     f"{dataset}: sample test {examples}", caption))  # fmt: skip
        else:
            blocks.append(page.text(f"{dataset}: this run saved no sample {examples} (samples/{dataset}.npz), "
                                    "so none are drawn; runs made with this version of spatiallab save them."))
    return page.Section("samples", f"Sample {terms(run.results).examples}", blocks)


def _with_dropout(record: dict) -> list[str]:
    """The run's models with a Dropout layer (active while training, off when testing)."""
    return [name for name in record["config"]["models"]
            if any(isinstance(spec, Dropout) for spec in models.model_specs(name))]  # fmt: skip


def learning_curves(writer, record: dict) -> page.Section:
    """Train and test accuracy per epoch of every cell, with a caption saying why the train line sits lower."""
    cells = record["cells"]
    epochs = max((len((cell.get("history") or {}).get("accuracy") or []) for cell in cells), default=0)
    dropout = _with_dropout(record)
    caption = (
        "Training accuracy (solid) and test accuracy (dashed) after each epoch, one line per seed, all panels on one "
        "accuracy axis. The training line sits below the test line although the model has not seen the test "
        f"{terms(record).examples}: Keras reports training accuracy as the running mean over the epoch's batches, so "
        "it averages in the weaker weights of the epoch's start"
        + (f", and measures it with dropout active ({', '.join(dropout)})" if dropout else "")
        + "; the test accuracy is measured once, after the epoch, on the final weights"
        + (" with dropout off." if dropout else ".")
        + (" With one epoch each line is a single point: the accuracy after that epoch." if epochs == 1 else "")
    )
    figure = writer.add("learning_curves", plots.learning_curves(cells), "learning curves", caption)
    return page.Section("curves", "Learning curves", [figure])


def parameters(record: dict) -> page.Section:
    return page.Section("params", "Parameters", [page.table(tables.parameter_table(record))])


def setup(record: dict, cell_note: str = "") -> page.Section:
    """Data, configuration, versions and every cell's seed, accuracy and time."""
    return page.Section("setup", "Data, configuration, versions, seeds and time", [
        page.heading("Data"), page.table(tables.dataset_table(record)),
        page.note("Chance is the largest class's share of the test split."),
        page.heading("Configuration"), page.table(tables.key_value_table(record["config"])),
        page.heading("Versions"), page.table(tables.key_value_table(record.get("versions", {}))),
        page.heading("Every cell (seed, accuracy, time)"), page.table(tables.cell_table(record)),
        page.note("Times are wall-clock seconds of training (Keras's fit) on the machine that made the run."
                  + (f" {cell_note}" if cell_note else "")),
    ])  # fmt: skip
