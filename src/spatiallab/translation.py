"""The translation experiment: train on original images, test on copies shifted by 0..k pixels.

It measures the lesson's "translation invariance" row (Dense: none, must relearn every position; Conv2D: built in,
the same filter slides everywhere). Each model is trained once per seed on the unshifted training set; its test
accuracy is then measured on the test set shifted ``d = 1..max_shift`` pixels in each of the four axis directions
(down, up, right, left; zero fill, see ``transforms.translate``) and unshifted (d = 0).

Why the four axis directions and not every (dy, dx) with max(|dy|, |dx|) <= k: 4k + 1 test sets instead of
(2k + 1)^2 keep the cost linear in k, and a distance curve needs one number per distance. Per seed, the accuracy
at distance d is the mean over the four directions; the curve reports the mean over seeds with a 95% t interval,
and the drop from d = 0, paired by seed. Per-direction numbers are kept in the results too.

Files written to the run folder (atomically, after each trained model): ``translation.json`` and
``translation.csv`` (one row per model, seed and shift).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from pathlib import Path

import numpy as np

from spatiallab import architecture, data, models, results, stats, training
from spatiallab.experiment import GridProgress, library_versions
from spatiallab.transforms import to_float, translate

RESULTS_JSON = "translation.json"
RESULTS_CSV = "translation.csv"
CSV_COLUMNS = ("dataset", "model", "seed", "distance", "direction", "dy", "dx", "test_accuracy", "test_loss",
               "train_seconds", "epochs", "params")  # fmt: skip
DIRECTIONS = {"down": (1, 0), "up": (-1, 0), "right": (0, 1), "left": (0, -1)}


@dataclasses.dataclass
class TranslationConfig:
    """What to run; the defaults are ``spatiallab translation``'s."""

    dataset: str = "mnist-sample"
    models: list[str] = dataclasses.field(default_factory=lambda: ["dense", "cnn", "cnn_gap"])
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0, 1, 2])
    max_shift: int = 4
    epochs: int = 5
    batch_size: int = training.DEFAULTS["batch_size"]
    learning_rate: float = training.DEFAULTS["learning_rate"]
    data_path: str | None = None
    loader_options: dict = dataclasses.field(default_factory=dict)
    train_limit: int | None = None
    test_limit: int | None = None

    def validate(self) -> None:
        """Raises ValueError for unknown names, empty lists or impossible numbers."""
        data.get_entry(self.dataset)
        for name in self.models:
            models.get_entry(name)
        if not (self.models and self.seeds):
            raise ValueError("models and seeds must each name at least one item")
        if self.max_shift < 0 or self.epochs < 1:
            raise ValueError(f"max_shift must be >= 0 and epochs >= 1; got {self.max_shift}, {self.epochs}")


def shifts(max_shift: int) -> list[dict]:
    """The test shifts: d = 0, then each d in 1..max_shift in the four ``DIRECTIONS``, as dicts of
    ``distance`` (pixels), ``direction``, ``dy`` (rows down) and ``dx`` (columns right)."""
    rows = [{"distance": 0, "direction": "none", "dy": 0, "dx": 0}]
    for distance in range(1, max_shift + 1):
        for direction, (unit_dy, unit_dx) in DIRECTIONS.items():
            rows.append({"distance": distance, "direction": direction, "dy": unit_dy * distance,
                         "dx": unit_dx * distance})  # fmt: skip
    return rows


def summarize(record: dict, confidence: float = 0.95) -> dict:
    """Accuracy-vs-distance curves from the per-seed rows of ``record["rows"]``.

    Returns:
        {"curve": one row per (model, distance): t interval over seeds of the direction-averaged accuracy,
         plus "drop" (accuracy at d = 0 minus at d, paired by seed) with its interval;
         "by_direction": one row per (model, direction, distance) with its t interval over seeds}.
    """
    curve, by_direction = [], []
    for model in record["config"]["models"]:
        rows = [row for row in record["rows"] if row["model"] == model]
        seeds = sorted({row["seed"] for row in rows})
        if not seeds:
            continue
        per_seed = {}  # distance -> [direction-averaged accuracy for each seed]
        for distance in sorted({row["distance"] for row in rows}):
            at = [row for row in rows if row["distance"] == distance]
            per_seed[distance] = [
                float(np.mean([row["test_accuracy"] for row in at if row["seed"] == seed])) for seed in seeds
            ]
            for direction in sorted({row["direction"] for row in at}):
                values = [row["test_accuracy"] for row in at if row["direction"] == direction]
                by_direction.append({"model": model, "direction": direction, "distance": distance,
                                     **stats.t_interval(values, confidence, bounds=stats.ACCURACY_BOUNDS)})  # fmt: skip
        for distance, values in per_seed.items():
            drop = stats.paired_difference(per_seed[0], values, confidence, stats.DIFFERENCE_BOUNDS)
            curve.append({
                "model": model, "distance": distance,
                **stats.t_interval(values, confidence, bounds=stats.ACCURACY_BOUNDS),
                "accuracies": values, "seeds": seeds,
                "drop": drop["difference"], "drop_ci_low": drop["ci_low"], "drop_ci_high": drop["ci_high"],
            })  # fmt: skip
    return {"curve": curve, "by_direction": by_direction}


def _write(run_dir: Path, record: dict) -> None:
    results.write_json(run_dir / RESULTS_JSON, record)
    results.write_csv(run_dir / RESULTS_CSV, record["rows"], CSV_COLUMNS)


def run_translation(
    config: TranslationConfig,
    run_dir: str | os.PathLike,
    progress: GridProgress | None = None,
    overwrite: bool = False,
) -> dict:
    """Train each model for each seed on unshifted images, evaluate on every shift, write the run folder.

    Args:
        config: what to run.
        run_dir: the run folder; an earlier ``translation.json`` there is refused unless ``overwrite``.
        progress: receives the grid's progress events (one "cell" per model and seed, condition "original").

    Returns:
        The record written to ``translation.json``: config, versions, dataset, models (params), shifts,
        rows (accuracy per model, seed and shift, a fraction in [0, 1]), and the summary of ``summarize``.

    Raises:
        ValueError: bad configuration. FileExistsError: an earlier run in ``run_dir``. Loader errors propagate.
    """
    config.validate()
    run_dir = Path(run_dir)
    if (run_dir / RESULTS_JSON).exists() and not overwrite:
        raise FileExistsError(f"{run_dir}: already holds a translation run; choose another --out or --overwrite")
    progress = progress or GridProgress()
    dataset = data.load(config.dataset, config.data_path, **config.loader_options)
    dataset = dataset.subset(config.train_limit, config.test_limit)
    run_dir.mkdir(parents=True, exist_ok=True)  # only once the data have loaded: no empty folder on a data error
    test_shifts = shifts(config.max_shift)
    record = {
        "schema": 1,
        "kind": "translation",
        "name": run_dir.name,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "complete": False,
        "config": dataclasses.asdict(config),
        "versions": library_versions(),
        "dataset": dataset.describe(),
        "chance": float(np.bincount(dataset.y_test).max() / len(dataset.y_test)),
        "models": {
            name: {
                "params": architecture.total_params(models.model_specs(name, dataset.num_classes), dataset.image_shape),
                "description": models.get_entry(name).description,
            }
            for name in config.models
        },
        "shifts": test_shifts,
        "rows": [],
    }
    x_train = to_float(dataset.x_train)
    x_test = to_float(dataset.x_test)
    progress.start(len(config.models) * len(config.seeds), config.epochs)
    for model_name in config.models:
        for seed in config.seeds:
            cell = {"dataset": config.dataset, "model": model_name, "condition": "original", "seed": seed}
            index = len(record["rows"]) // len(test_shifts)
            progress.cell_started(index, cell)
            fitted = training.fit_and_evaluate(
                model_name, x_train, dataset.y_train, x_test, dataset.y_test, dataset.num_classes, seed=seed,
                epochs=config.epochs, batch_size=config.batch_size, learning_rate=config.learning_rate,
                on_epoch_end=progress.epoch_ended,
            )  # fmt: skip
            for shift in test_shifts:
                shifted = to_float(translate(dataset.x_test, shift["dy"], shift["dx"]))
                loss, accuracy = fitted.model.evaluate(shifted, dataset.y_test, batch_size=512, verbose=0)
                record["rows"].append({
                    "dataset": config.dataset, "model": model_name, "seed": seed, **shift,
                    "test_accuracy": float(accuracy), "test_loss": float(loss),
                    "train_seconds": fitted.train_seconds, "epochs": config.epochs,
                    "params": int(fitted.model.count_params()),
                })  # fmt: skip
            progress.cell_finished(index, {**cell, "test_accuracy": fitted.test_accuracy,
                                           "train_seconds": fitted.train_seconds})  # fmt: skip
            _write(run_dir, record)
    record["complete"] = True
    record.update(summarize(record))
    _write(run_dir, record)
    return record
