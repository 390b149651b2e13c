"""Run folders for the report and lab tests, written by the test itself in the documented layout.

``write_fake_run`` writes results.json (schema 1), samples/<dataset>.npz and untrained Keras models without training,
so any dataset shape, model set or incomplete state can be made in a second. ``train_tiny_run`` trains a real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spatiallab import analysis, architecture, experiment, models
from spatiallab.transforms import PixelPermutation

MNIST_LIKE = {"digits": (28, 28, 1)}


def _accuracy(model: str, condition: str, seed: int) -> float:
    """Made-up accuracies with the lesson's shape: dense unchanged by shuffling, cnn drops."""
    base = {"dense": 0.95, "cnn": 0.98, "cnn_gap": 0.97}.get(model, 0.9)
    drop = 0.0 if model == "dense" else 0.4
    return round(base - (drop if condition == "shuffled" else 0.0) - 0.01 * seed, 4)


def write_fake_run(
    run_dir: Path,
    datasets: dict[str, tuple[int, int, int]] = MNIST_LIKE,
    model_names: tuple[str, ...] = ("dense", "cnn"),
    seeds: tuple[int, ...] = (0, 1),
    epochs: int = 2,
    permutation_seed: int = 3,
    save_models: bool = True,
    complete: bool = True,
    num_classes: int = 10,
) -> Path:
    """A run folder as ``experiment.run_grid`` writes it, with untrained models and made-up numbers."""
    import keras

    run_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    conditions = ["original", "shuffled"]
    record = {
        "schema": 1, "name": run_dir.name, "created": "2026-01-01T00:00:00+00:00", "complete": complete,
        "config": {"datasets": list(datasets), "models": list(model_names), "conditions": conditions,
                   "seeds": list(seeds), "epochs": epochs, "batch_size": 128, "learning_rate": 0.001,
                   "permutation_seed": permutation_seed, "train_limit": None, "test_limit": None},
        "versions": experiment.library_versions(),
        "datasets": {}, "permutation": {}, "models": {}, "cells": [],
        "chance": {name: 0.1 for name in datasets},
    }  # fmt: skip
    for name, shape in datasets.items():
        permutation = PixelPermutation(permutation_seed, shape[:2])
        record["permutation"][name] = permutation.to_dict()
        record["datasets"][name] = {"name": name, "source": "test", "image_shape": list(shape), "n_train": 100,
                                    "n_test": 16, "num_classes": num_classes,
                                    "class_names": [f"c{i}" for i in range(num_classes)], "split": None}  # fmt: skip
        record["models"][name] = {
            model: {"params": architecture.total_params(models.model_specs(model, num_classes), shape),
                    "description": models.get_entry(model).description}
            for model in model_names
        }  # fmt: skip
        samples = run_dir / "samples" / f"{name}.npz"
        samples.parent.mkdir(exist_ok=True)
        np.savez_compressed(samples, x=rng.integers(0, 256, (16, *shape), dtype=np.uint8),
                            y=np.arange(16) % num_classes, permutation=permutation.permutation_,
                            class_names=np.array([f"c{i}" for i in range(num_classes)]))  # fmt: skip
        for condition in conditions:
            for model in model_names:
                for seed in seeds:
                    accuracy = _accuracy(model, condition, seed)
                    cell = {"dataset": name, "model": model, "condition": condition, "seed": seed,
                            "test_accuracy": accuracy, "test_loss": 1 - accuracy, "train_seconds": 2.0 + seed,
                            "seconds_per_epoch": (2.0 + seed) / epochs, "epochs": epochs,
                            "params": record["models"][name][model]["params"], "permutation_seed": permutation_seed,
                            "history": {"accuracy": list(np.linspace(0.5, accuracy, epochs)),
                                        "loss": list(np.linspace(2, 1 - accuracy, epochs)),
                                        "val_accuracy": list(np.linspace(0.6, accuracy, epochs)),
                                        "val_loss": list(np.linspace(1.5, 1 - accuracy, epochs))},
                            "model_file": None}  # fmt: skip
                    if save_models:
                        keras.utils.set_random_seed(seed)
                        file_name = experiment.model_file_name(name, model, condition, seed)
                        (run_dir / "models").mkdir(exist_ok=True)
                        models.build_model(model, shape, num_classes).save(run_dir / "models" / file_name)
                        cell["model_file"] = f"models/{file_name}"
                    record["cells"].append(cell)
    if complete:
        record.update(analysis.summarize(record))
    (run_dir / "results.json").write_text(json.dumps(record, indent=1))
    return run_dir


def train_tiny_run(run_dir: Path) -> Path:
    """A real run of the grid: dense and cnn, one seed, one epoch on 400 images of the bundled sample."""
    config = experiment.GridConfig(models=["dense", "cnn"], seeds=[0], epochs=1, train_limit=400, test_limit=100)
    experiment.run_grid(config, run_dir)
    return run_dir
