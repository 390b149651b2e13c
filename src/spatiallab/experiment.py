"""The shuffled-pixels grid: datasets x models x conditions {original, shuffled} x seeds -> a run folder.

One fixed ``PixelPermutation`` per dataset (the same for train and test, and for every seed and model) makes the
"shuffled" condition; every cell trains a fresh model. See docs/architecture.md for the run folder's files.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import sys
from pathlib import Path

import keras
import numpy as np

from spatiallab import __version__, architecture, data, models, results, training
from spatiallab.analysis import summarize
from spatiallab.transforms import PixelPermutation, to_float

CONDITIONS = ("original", "shuffled")
SAMPLE_COUNT = 16


@dataclasses.dataclass
class GridConfig:
    """What to run. Defaults are ``spatiallab run``'s: the bundled sample, dense + cnn, 3 seeds, 3 epochs."""

    datasets: list[str] = dataclasses.field(default_factory=lambda: ["mnist-sample"])
    models: list[str] = dataclasses.field(default_factory=lambda: ["dense", "cnn"])
    conditions: list[str] = dataclasses.field(default_factory=lambda: list(CONDITIONS))
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0, 1, 2])
    epochs: int = 3
    batch_size: int = training.DEFAULTS["batch_size"]
    learning_rate: float = training.DEFAULTS["learning_rate"]
    permutation_seed: int = 0
    data_path: str | None = None  # --data: used for the (single) dataset named
    loader_options: dict = dataclasses.field(default_factory=dict)
    train_limit: int | None = None
    test_limit: int | None = None
    save_models: bool = True

    def validate(self) -> None:
        """Raises ValueError for unknown names, empty lists or impossible numbers."""
        for condition in self.conditions:
            if condition not in CONDITIONS:
                raise ValueError(f"unknown condition {condition!r}; expected one of {list(CONDITIONS)}")
        for name in self.models:
            models.get_entry(name)
        for name in self.datasets:
            data.get_entry(name)
        if not (self.datasets and self.models and self.conditions and self.seeds):
            raise ValueError("datasets, models, conditions and seeds must each name at least one item")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1; got {self.epochs}")
        if self.data_path is not None and len(self.datasets) != 1:
            raise ValueError("--data names one file or folder, so exactly one dataset must be given with it")


class GridProgress:
    """Receives progress events; the default ignores them (the CLI and web lab subclass it)."""

    def start(self, total_cells: int, epochs: int) -> None: ...

    def cell_started(self, index: int, cell: dict) -> None: ...

    def epoch_ended(self, epoch: int, logs: dict) -> None: ...

    def cell_finished(self, index: int, cell: dict) -> None: ...


def library_versions() -> dict:
    backend = keras.backend.backend()
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    backend_version = sys.modules[backend_module].__version__ if backend_module in sys.modules else None
    return {
        "spatiallab": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": backend_version,
        "platform": platform.platform(),
    }


def model_file_name(dataset: str, model: str, condition: str, seed: int) -> str:
    return f"{dataset}__{model}__{condition}__seed{seed}.keras"


def _save_model(model: keras.Model, path: Path) -> None:
    temporary = path.with_name(f".{path.stem}.tmp.keras")
    model.save(temporary)
    os.replace(temporary, path)


def _save_samples(run_dir: Path, dataset: data.Dataset, permutation: PixelPermutation) -> None:
    path = run_dir / "samples" / f"{dataset.name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{dataset.name}.tmp.npz")
    np.savez_compressed(
        temporary,
        x=dataset.x_test[:SAMPLE_COUNT],
        y=dataset.y_test[:SAMPLE_COUNT],
        permutation=permutation.permutation_,
        class_names=np.array(dataset.class_names, dtype=str),
    )
    os.replace(temporary, path)


def check_run_dir(run_dir: str | os.PathLike, overwrite: bool = False) -> Path:
    """The run folder as a Path; refuse to replace an earlier run's results unless ``overwrite``.

    The folder is created only once the data have loaded, so a run that fails on its data leaves no empty folder.

    Raises:
        FileExistsError: ``run_dir`` already holds a results.json and ``overwrite`` is False.
    """
    run_dir = Path(run_dir)
    if (run_dir / results.RESULTS_JSON).exists() and not overwrite:
        raise FileExistsError(f"{run_dir}: already holds a run (results.json); choose another --out or --overwrite")
    return run_dir


def run_grid(
    config: GridConfig,
    run_dir: str | os.PathLike,
    progress: GridProgress | None = None,
    preloaded: dict[str, data.Dataset] | None = None,
    overwrite: bool = False,
) -> dict:
    """Run every cell of the grid and write ``results.json``/``results.csv`` (after each cell, atomically).

    Args:
        config: what to run.
        run_dir: the run folder (created; an earlier run there is refused unless ``overwrite``).
        progress: receives progress events.
        preloaded: datasets already in memory, by name (skips loading those names).

    Returns:
        The results dictionary that was written (schema in docs/architecture.md).

    Raises:
        ValueError: bad configuration. FileExistsError: see ``check_run_dir``. Loader errors propagate.
    """
    config.validate()
    progress = progress or GridProgress()
    run_dir = check_run_dir(run_dir, overwrite)
    loaded = {}
    for name in config.datasets:
        if preloaded and name in preloaded:
            dataset = preloaded[name]
        else:
            dataset = data.load(name, config.data_path, **config.loader_options)
        loaded[name] = dataset.subset(config.train_limit, config.test_limit)
    run_dir.mkdir(parents=True, exist_ok=True)

    record = {
        "schema": 1,
        "name": run_dir.name,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "complete": False,
        "config": {**dataclasses.asdict(config)},
        "versions": library_versions(),
        "datasets": {name: dataset.describe() for name, dataset in loaded.items()},
        "permutation": {},
        "chance": {name: float(np.bincount(ds.y_test).max() / len(ds.y_test)) for name, ds in loaded.items()},
        "models": {
            name: {
                model: {
                    "params": architecture.total_params(models.model_specs(model, ds.num_classes), ds.image_shape),
                    "description": models.get_entry(model).description,
                }
                for model in config.models
            }
            for name, ds in loaded.items()
        },
        "cells": [],
    }
    total = len(loaded) * len(config.models) * len(config.conditions) * len(config.seeds)
    progress.start(total, config.epochs)
    for name, dataset in loaded.items():
        permutation = PixelPermutation(config.permutation_seed, dataset.image_shape[:2])
        record["permutation"][name] = permutation.to_dict()
        _save_samples(run_dir, dataset, permutation)
        for condition in config.conditions:
            transform = permutation if condition == "shuffled" else (lambda images: images)
            x_train, x_test = to_float(transform(dataset.x_train)), to_float(transform(dataset.x_test))
            for model_name in config.models:
                for seed in config.seeds:
                    cell = {"dataset": name, "model": model_name, "condition": condition, "seed": seed}
                    progress.cell_started(len(record["cells"]), cell)
                    fitted = training.fit_and_evaluate(
                        model_name, x_train, dataset.y_train, x_test, dataset.y_test, dataset.num_classes,
                        seed=seed, epochs=config.epochs, batch_size=config.batch_size,
                        learning_rate=config.learning_rate, on_epoch_end=progress.epoch_ended,
                    )  # fmt: skip
                    cell.update(
                        test_accuracy=fitted.test_accuracy,
                        test_loss=fitted.test_loss,
                        train_seconds=fitted.train_seconds,
                        seconds_per_epoch=fitted.train_seconds / config.epochs,
                        epoch_seconds=[float(seconds) for seconds in fitted.epoch_seconds],
                        epochs=config.epochs,
                        params=int(fitted.model.count_params()),
                        permutation_seed=config.permutation_seed,
                        history=fitted.history,
                        model_file=None,
                    )
                    if config.save_models:
                        file_name = model_file_name(name, model_name, condition, seed)
                        (run_dir / "models").mkdir(exist_ok=True)
                        _save_model(fitted.model, run_dir / "models" / file_name)
                        cell["model_file"] = f"models/{file_name}"
                    record["cells"].append(cell)
                    progress.cell_finished(len(record["cells"]) - 1, cell)
                    _write(run_dir, record)
    record["complete"] = True
    record.update(summarize(record))
    _write(run_dir, record)
    return record


def _write(run_dir: Path, record: dict) -> None:
    results.write_json(run_dir / results.RESULTS_JSON, record)
    results.write_csv(run_dir / results.RESULTS_CSV, record["cells"])
