"""Run folders for the report and lab tests, written by the same writer as real runs (``run_experiment``).

``write_fake_run`` runs a ``ShuffledPixels`` experiment whose cells return made-up accuracies and untrained models
instead of training, so any dataset shape, model set or incomplete state can be made in a second.
``write_fake_translation_run`` and ``write_fake_scale_run`` do the same for the other experiments, on the bundled
sample (its real images, samples and saved permutations; only the training is skipped).
``train_tiny_run`` trains a real one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spatiallab import experiments, models, runner
from spatiallab.data import Dataset
from spatiallab.experiments.shuffled_pixels import save_keras_model

MNIST_LIKE = {"digits": (28, 28, 1)}


def _accuracy(model: str, condition: str, seed: int) -> float:
    """Made-up accuracies with the lesson's shape: dense unchanged by shuffling, cnn drops."""
    base = {"dense": 0.95, "cnn": 0.98, "cnn_gap": 0.97}.get(model, 0.9)
    drop = 0.0 if model == "dense" else 0.4
    return round(base - (drop if condition == "shuffled" else 0.0) - 0.01 * seed, 4)


class FakeShuffledPixels(experiments.ShuffledPixels):
    """The shuffled-pixels experiment with random images and cells that do not train."""

    def __init__(self, config, shapes: dict, num_classes: int):
        super().__init__(config)
        self.shapes, self.num_classes = shapes, num_classes

    def validate(self) -> None:  # the fake dataset names are not registered
        pass

    def load(self, preloaded=None) -> dict:
        rng = np.random.default_rng(0)
        names = [f"c{i}" for i in range(self.num_classes)]
        loaded = {}
        for name, shape in self.shapes.items():
            y_train = np.arange(100) % self.num_classes
            y_test = np.arange(16) % self.num_classes
            loaded[name] = Dataset(name, rng.integers(0, 256, (100, *shape), dtype=np.uint8), y_train,
                                   rng.integers(0, 256, (16, *shape), dtype=np.uint8), y_test, names, "test",
                                   kind="image" if len(shape) == 3 else "sequence")
        return {"datasets": loaded, "permutations": {}}

    def run_cell(self, key, payload, on_epoch_end=None):
        import keras

        from spatiallab.models.build import build_model

        epochs = self.config.epochs
        accuracy = _accuracy(key["model"], key["condition"], key["seed"])
        shape = self.shapes[key["dataset"]]
        model_bytes = None
        if self.config.save_models:
            keras.utils.set_random_seed(key["seed"])
            model_bytes = save_keras_model(build_model(key["model"], shape, self.num_classes))
        fields = _made_up_fields(accuracy, key["seed"], epochs, models.model_params(key["model"], shape,
                                                                                    self.num_classes))  # fmt: skip
        return runner.CellOutput({**fields, "permutation_seed": self.config.permutation_seed}, model_bytes)


def _made_up_fields(accuracy: float, seed: int, epochs: int, params: int) -> dict:
    """What ``base.train_cell`` records of a cell, made up around ``accuracy`` (training does not run)."""
    return {
        "test_accuracy": accuracy, "test_loss": 1 - accuracy, "train_seconds": 2.0 + seed,
        "seconds_per_epoch": (2.0 + seed) / epochs, "epoch_seconds": [(2.0 + seed) / epochs] * epochs,
        "epochs": epochs, "params": params,
        "history": {"accuracy": list(np.linspace(0.5, accuracy, epochs)),
                    "loss": list(np.linspace(2, 1 - accuracy, epochs)),
                    "val_accuracy": list(np.linspace(0.6, accuracy, epochs)),
                    "val_loss": list(np.linspace(1.5, 1 - accuracy, epochs))},
    }  # fmt: skip


class _StopAfter(runner.RunProgress):
    """Interrupts the run (as Ctrl-C would) once ``cells`` cells are written."""

    def __init__(self, cells: int):
        self.cells = cells

    def cell_finished(self, key, cell) -> None:
        self.cells -= 1
        if self.cells <= 0:
            raise KeyboardInterrupt


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
    conditions: tuple[str, ...] = ("original", "shuffled"),
) -> Path:
    """A run folder written by ``run_experiment``, with untrained models and made-up numbers; with ``complete``
    False, the run is interrupted after half its cells (at least one)."""
    config = experiments.GridConfig(datasets=list(datasets), models=list(model_names), seeds=list(seeds),
                                    epochs=epochs, permutation_seed=permutation_seed, save_models=save_models,
                                    conditions=list(conditions))  # fmt: skip
    experiment = FakeShuffledPixels(config, datasets, num_classes)
    progress = None if complete else _StopAfter(max(1, len(experiment.cells()) // 2))
    try:
        experiments.run_experiment(experiment, run_dir, progress=progress)
    except KeyboardInterrupt:
        pass
    return run_dir


def train_tiny_run(run_dir: Path) -> Path:
    """A real run of the grid: dense and cnn, one seed, one epoch on 400 images of the bundled sample."""
    config = experiments.GridConfig(models=["dense", "cnn"], seeds=[0], epochs=1, train_limit=400, test_limit=100)
    experiments.run_experiment(experiments.ShuffledPixels(config), run_dir)
    return run_dir


class FakeTranslation(experiments.Translation):
    """The translation experiment on the bundled sample, with made-up accuracies instead of training: they fall by
    ``TRANSLATION_FALL[model]`` per pixel of shift."""

    def run_cell(self, key, payload, on_epoch_end=None):
        from spatiallab.experiments.translation import shifts

        dataset, base = payload["dataset"], _accuracy(key["model"], "original", key["seed"])
        rows = [{**shift, "test_accuracy": round(base - TRANSLATION_FALL.get(key["model"], 0.0) * shift["distance"], 4),
                 "test_loss": 1.0} for shift in shifts(self.config.max_shift)]  # fmt: skip
        params = models.model_params(key["model"], dataset.image_shape, dataset.num_classes)
        return runner.CellOutput({**_made_up_fields(base, key["seed"], self.config.epochs, params), "shifts": rows})


TRANSLATION_FALL = {"dense": 0.1, "cnn": 0.02}


def write_fake_translation_run(run_dir: Path, model_names=("dense", "cnn"), seeds=(0, 1), max_shift: int = 2,
                               epochs: int = 2) -> Path:  # fmt: skip
    """A translation run folder written by ``run_experiment`` with made-up accuracies (``FakeTranslation``)."""
    config = experiments.TranslationConfig(models=list(model_names), seeds=list(seeds), max_shift=max_shift,
                                           epochs=epochs, train_limit=100, test_limit=50)  # fmt: skip
    experiments.run_experiment(FakeTranslation(config), run_dir)
    return run_dir


class FakeScale(experiments.Scale):
    """The scale experiment on the bundled sample with made-up accuracies: flat for dense, and for cnn falling by
    ``SCALE_FALL`` per run block size between the identity and k (within: each size from 2 up to k; between: each
    from k up to, not including, the image size)."""

    def run_cell(self, key, payload, on_epoch_end=None):
        dataset, k = payload["dataset"], key["block_size"]
        base = _accuracy(key["model"], "original", key["seed"])
        if key["model"] != "dense" and key["family"] != "original":
            side = dataset.image_shape[0]
            sizes = [s for s in self.config.block_sizes if (1 < s <= k if key["family"] == "within" else k <= s < side)]
            base -= SCALE_FALL * len(sizes)
        params = models.model_params(key["model"], dataset.image_shape, dataset.num_classes)
        fields = _made_up_fields(round(base, 4), key["seed"], self.config.epochs, params)
        return runner.CellOutput({**fields, "permutation_seed": self.config.permutation_seed})


SCALE_FALL = 0.1


def write_fake_scale_run(run_dir: Path, model_names=("dense", "cnn"), seeds=(0, 1, 2), block_sizes=(7, 14),
                         epochs: int = 2) -> Path:  # fmt: skip
    """A scale run folder written by ``run_experiment`` with made-up accuracies (``FakeScale``); its saved
    permutations are real."""
    config = experiments.ScaleConfig(models=list(model_names), seeds=list(seeds), block_sizes=list(block_sizes),
                                     epochs=epochs, train_limit=100, test_limit=50)  # fmt: skip
    experiments.run_experiment(FakeScale(config), run_dir)
    return run_dir
