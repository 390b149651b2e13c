"""The shuffled-pixels experiment: datasets x models x conditions {original, shuffled} x seeds.

One fixed ``PixelPermutation`` per dataset (the same for train and test, and for every seed and model) makes the
"shuffled" condition: of the H*W pixels of images, or of the L positions of sequences (``Dataset.positions_shape``;
the data's kind decides, nothing else here does); every cell trains a fresh model. The permutation array is saved in the run folder
(``samples/<dataset>.npz``) and is what a resumed run, the report and the lab apply. Spatial reliance is
accuracy(original) - accuracy(shuffled), paired by seed. See docs/architecture.md for the run folder's files.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import ClassVar

from spatiallab import runner, stats
from spatiallab.experiments.base import (
    ConfigError,
    Experiment,
    TrainingConfig,
    apply_limits,
    chance_level,
    check_trainable,
    model_table,
    save_samples,
    train_cell,
)
from spatiallab.experiments.verdict import missing_cells, write_verdict
from spatiallab.transforms import PixelPermutation

CONDITIONS = ("original", "shuffled")
CSV_COLUMNS = ("dataset", "model", "condition", "seed", "status", "test_accuracy", "test_loss", "train_seconds",
               "seconds_per_epoch", "epochs", "params", "permutation_seed")  # fmt: skip


@dataclasses.dataclass
class GridConfig(TrainingConfig):
    """What to run. Defaults are ``spatiallab run``'s: the bundled sample, dense + cnn, 3 seeds, 3 epochs (the shared
    settings are ``base.TrainingConfig``'s)."""

    datasets: list[str] = dataclasses.field(default_factory=lambda: ["mnist-sample"])
    conditions: list[str] = dataclasses.field(default_factory=lambda: list(CONDITIONS))
    permutation_seed: int = 0
    save_models: bool = True

    list_fields: ClassVar[tuple[str, ...]] = ("datasets", "models", "conditions", "seeds")
    dataset_field: ClassVar[str] = "datasets"

    def dataset_names(self) -> list[str]:
        return self.datasets

    def validate(self) -> None:
        """Raises ConfigError (a ValueError) naming the field: unknown names or conditions, empty or repeated lists,
        or impossible numbers."""
        for condition in self.conditions:
            if condition not in CONDITIONS:
                raise ConfigError("conditions", f"unknown condition {condition!r}; expected one of {list(CONDITIONS)}")
        super().validate()


def model_file_name(dataset: str, model: str, condition: str, seed: int) -> str:
    """The cell's id, which is also its model file's name without ``.keras``."""
    return f"{dataset}__{model}__{condition}__seed{seed}"


def save_keras_model(model) -> bytes:
    """A Keras model as the bytes of its ``.keras`` file (so it can travel from a worker to the driver)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def summarize(record: dict) -> dict:
    """Summary rows, spatial reliance and verdict from ``record["cells"]`` (see docs/architecture.md).

    Returns:
        {"summary": one row per (dataset, model, condition): t interval over seeds; "reliance": one row per
        (dataset, model) with both conditions: the paired t interval of original - shuffled over shared seeds;
        "verdict": [str, ...]}.
    """
    config = record["config"]
    confidence = config.get("confidence", stats.CONFIDENCE)
    summary, reliance = [], []
    for dataset in config["datasets"]:
        for model in config["models"]:
            by_condition = {}
            for condition in config["conditions"]:
                cells = sorted((cell for cell in record["cells"]
                                if (cell["dataset"], cell["model"], cell["condition"]) == (dataset, model, condition)),
                               key=lambda cell: cell["seed"])  # fmt: skip
                if not cells:
                    continue
                accuracies = [cell["test_accuracy"] for cell in cells]
                by_condition[condition] = {cell["seed"]: cell["test_accuracy"] for cell in cells}
                summary.append({
                    "dataset": dataset, "model": model, "condition": condition,
                    **stats.t_interval(accuracies, confidence, bounds=stats.ACCURACY_BOUNDS),
                    "accuracies": accuracies, "seeds": [cell["seed"] for cell in cells],
                    "mean_train_seconds": sum(cell["train_seconds"] for cell in cells) / len(cells),
                    "params": cells[0]["params"],
                })  # fmt: skip
            if {"original", "shuffled"} <= by_condition.keys():
                seeds = sorted(by_condition["original"].keys() & by_condition["shuffled"].keys())
                if not seeds:
                    continue
                original = [by_condition["original"][seed] for seed in seeds]
                shuffled = [by_condition["shuffled"][seed] for seed in seeds]
                reliance.append({
                    "dataset": dataset, "model": model,
                    "original": sum(original) / len(original), "shuffled": sum(shuffled) / len(shuffled),
                    **stats.paired_difference(original, shuffled, confidence, stats.DIFFERENCE_BOUNDS),
                })  # fmt: skip
    verdict = write_verdict(reliance, record.get("chance", {}), record.get("datasets"), confidence, summary=summary)
    verdict += missing_cells(record.get("failed_cells", []))
    return {"summary": summary, "reliance": reliance, "verdict": verdict}


class ShuffledPixels(Experiment):
    """The shuffled-pixels grid as an ``Experiment`` (run it with ``experiments.run_experiment``)."""

    kind = "shuffled_pixels"
    csv_columns = CSV_COLUMNS

    def load(self, preloaded: dict | None = None) -> dict:
        from spatiallab import data

        config = self.config
        loaded = {}
        for name in config.datasets:
            if preloaded and name in preloaded:
                dataset = preloaded[name]
            else:
                dataset = data.load(name, config.data_path, **config.loader_options)
            loaded[name] = apply_limits(dataset, config)
            check_trainable(loaded[name], config.models)
        return {"datasets": loaded, "permutations": {}}

    def header(self, payload: dict) -> dict:
        loaded = payload["datasets"]
        return {
            "datasets": {name: dataset.describe() for name, dataset in loaded.items()},
            "permutation": {name: {"seed": self.config.permutation_seed, "image_shape": list(ds.positions_shape)}
                            for name, ds in loaded.items()},  # fmt: skip
            "chance": {name: chance_level(dataset) for name, dataset in loaded.items()},
            "models": {name: model_table(self.config.models, dataset) for name, dataset in loaded.items()},
        }

    def prepare(self, run, payload: dict, resuming: bool) -> dict:
        permutations = {}
        for name, dataset in payload["datasets"].items():
            if resuming and run.has_samples(name):  # (a run killed before it saved them had trained no cell)
                permutations[name] = run.samples(name).permutation.permutation_
            else:
                permutation = PixelPermutation(self.config.permutation_seed, dataset.positions_shape)
                permutations[name] = permutation.permutation_
                save_samples(run, name, dataset, permutation.permutation_)
        return {**payload, "permutations": permutations}

    def cells(self) -> list[dict]:
        config = self.config
        # Both conditions of a seed run one after the other, so an interrupted run already has paired cells.
        return [{"dataset": dataset, "model": model, "condition": condition, "seed": seed}
                for dataset in config.datasets for model in config.models
                for seed in config.seeds for condition in config.conditions]  # fmt: skip

    def cell_id(self, key: dict) -> str:
        return model_file_name(key["dataset"], key["model"], key["condition"], key["seed"])

    def run_cell(self, key: dict, payload: dict, on_epoch_end=None) -> runner.CellOutput:
        config = self.config
        dataset = payload["datasets"][key["dataset"]]
        x_train, x_test = dataset.x_train, dataset.x_test
        if key["condition"] == "shuffled":
            permutation = PixelPermutation.from_array(payload["permutations"][key["dataset"]],
                                                      dataset.positions_shape, config.permutation_seed)  # fmt: skip
            x_train, x_test = permutation(x_train), permutation(x_test)
        fitted, result = train_cell(config, key, dataset, x_train, x_test, on_epoch_end)
        result["permutation_seed"] = config.permutation_seed
        return runner.CellOutput(result, save_keras_model(fitted.model) if config.save_models else None)

    def summarize(self, record: dict) -> dict:
        return summarize(record)
