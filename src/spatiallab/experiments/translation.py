"""The translation experiment: train on original images, test on copies shifted by 0..k pixels.

It measures the lesson's "translation invariance" row (Dense: none, must relearn every position; Conv2D: built in,
the same filter slides everywhere). Each model is trained once per seed on the unshifted training set; its test
accuracy is then measured on the test set shifted ``d = 1..max_shift`` pixels in each of the four axis directions
(down, up, right, left; zero fill, see ``transforms.translate``) and unshifted (d = 0).

Why the four axis directions and not every (dy, dx) with max(|dy|, |dx|) <= k: 4k + 1 test sets instead of
(2k + 1)^2 keep the cost linear in k, and a distance curve needs one number per distance. Per seed, the accuracy
at distance d is the mean over the four directions; the curve reports the mean over seeds with a 95% t interval,
and the drop from d = 0, paired by seed. Per-direction numbers are kept in the results too.

Each cell (one model and seed) trains once and is evaluated on every shift; its result holds the per-shift rows.
results.json (``"kind": "translation"``) holds the cells and the summary below; results.csv one row per model, seed
and shift.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from spatiallab import models, runner, stats, training
from spatiallab.experiments import lesson
from spatiallab.experiments.base import (
    ConfigError,
    Experiment,
    TrainingConfig,
    apply_limits,
    check_trainable,
    dataset_header,
    save_samples,
    train_cell,
)
from spatiallab.experiments.verdict import has_interval, missing_cells, no_learning_warning
from spatiallab.models import specs as arch
from spatiallab.transforms import to_float, translate

CSV_COLUMNS = ("dataset", "model", "seed", "distance", "direction", "dy", "dx", "test_accuracy", "test_loss",
               "train_seconds", "epochs", "params")  # fmt: skip
DIRECTIONS = {"down": (1, 0), "up": (-1, 0), "right": (0, 1), "left": (0, -1)}


@dataclasses.dataclass
class TranslationConfig(TrainingConfig):
    """What to run; the defaults are ``spatiallab translation``'s (shared settings: ``base.TrainingConfig``)."""

    dataset: str = "mnist-sample"
    max_shift: int = 4

    general_defaults: ClassVar[dict] = {**TrainingConfig.general_defaults, "epochs": 5}
    default_models: ClassVar[tuple[str, ...]] = ("dense", "cnn", "cnn_gap")

    def dataset_names(self) -> list[str]:
        return [self.dataset]

    def validate(self) -> None:
        """Also refuses, before it is loaded, a dataset registered as data that are not images (``check_images``)."""
        from spatiallab import data

        super().validate()
        check_images(self.dataset, data.get_entry(self.dataset).kind)


def check_images(name: str, kind: str | None, shape: tuple[int, ...] | None = None) -> None:
    """Refuse data that cannot be shifted: ``kind`` other than "image" (MNIST-1D's sequences, a binaries byte view);
    None (not known before loading) passes. ``shape`` is one example's, named when known (once loaded).

    Raises:
        ConfigError (a ValueError, field ``dataset``): naming the dataset and what it holds.
    """
    if kind not in (None, "image"):
        held = f"{kind}s" if shape is None else f"{kind}s {shape}"
        raise ConfigError("dataset", f"the translation experiment shifts images down, up, right and left, so it "
                                     f"expected images; {name} holds {held}: give an image dataset")  # fmt: skip


def shifts(max_shift: int) -> list[dict]:
    """The test shifts: d = 0, then each d in 1..max_shift in the four ``DIRECTIONS``, as dicts of
    ``distance`` (pixels), ``direction``, ``dy`` (rows down) and ``dx`` (columns right)."""
    rows = [{"distance": 0, "direction": "none", "dy": 0, "dx": 0}]
    for distance in range(1, max_shift + 1):
        for direction, (unit_dy, unit_dx) in DIRECTIONS.items():
            rows.append({"distance": distance, "direction": direction, "dy": unit_dy * distance,
                         "dx": unit_dx * distance})  # fmt: skip
    return rows


def shift_rows(cells: list[dict]) -> list[dict]:
    """One row per cell and shift: the cell's coordinates and timing with that shift's accuracy and loss."""
    rows = []
    for cell in cells:
        common = {key: cell[key] for key in ("dataset", "model", "seed", "train_seconds", "epochs", "params")}
        rows += [{**common, **shift} for shift in cell["shifts"]]
    return rows


def summarize(record: dict) -> dict:
    """Accuracy-vs-distance curves from the finished cells' per-shift rows.

    Returns:
        {"rows": every (model, seed, shift) row; "curve": one row per (model, distance): t interval over seeds of
        the direction-averaged accuracy, plus "drop" (accuracy at d = 0 minus at d, paired by seed) with its
        interval; "by_direction": one row per (model, direction, distance) with its t interval over seeds;
        "verdict": ``translation_verdict``'s sentences}.
    """
    confidence = record["config"].get("confidence", stats.CONFIDENCE)
    all_rows = shift_rows(record["cells"])
    curve, by_direction = [], []
    for model in record["config"]["models"]:
        rows = [row for row in all_rows if row["model"] == model]
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
    verdict = translation_verdict(record, curve, confidence)
    return {"rows": all_rows, "curve": curve, "by_direction": by_direction, "verdict": verdict}


def lesson_layer(model: str) -> str | None:
    """The layer type of the lesson's "translation invariance" row (``lesson.TRANSLATION``) a model stands for:
    "Dense" for a model that flattens its input first, "Conv2D" for one with a Conv2D layer, else None (e.g.
    ``locally_connected``, which the lesson's row does not cover)."""
    if models.position_blind(model):
        return "Dense"
    return "Conv2D" if any(isinstance(spec, arch.Conv2D) for spec in models.model_specs(model)) else None


def invariance_sentence(model: str, rows: list[dict], confidence: float) -> str:
    """What a model's curve says of translation invariance: its accuracy unshifted and at the largest shift, the
    drop between them with its paired interval, and how far the shifts go before one costs a significant drop, e.g.
    ``cnn: 98.9% unshifted -> 38.4% at 4 px, a drop of 60.5 points (95% CI [+58.1, +62.9] points): not
    shift-invariant beyond ~1 px, with the first significant drop at 2 px``; then the lesson's row for its layer
    type (``lesson_layer``), quoted beside the numbers, which alone decide the claim.

    Args:
        rows: the model's curve rows (``summarize``), one per distance from 0 up.

    "Not shift-invariant beyond ~d px" is claimed only from intervals: the drop at the largest shift and at d + 1
    lie above 0, none before d + 1 does. One seed (no interval) or a zero-width interval makes no claim and says so.
    """
    rows = sorted(rows, key=lambda row: row["distance"])
    unshifted, largest = rows[0], rows[-1]
    head = (f"{model}: {100 * unshifted['mean']:.1f}% unshifted -> {100 * largest['mean']:.1f}% at "
            f"{largest['distance']} px")  # fmt: skip
    layer = lesson_layer(model)
    claim = f"; the lesson said of {layer} layers: translation invariance {lesson.TRANSLATION[layer]}" if layer else ""
    points = f"{100 * largest['drop']:+.1f} points"
    if largest["drop_ci_low"] is None:
        return f"{head} ({points}; one seed, so no interval: use more seeds to tell a shift's cost from noise){claim}."
    if not has_interval(largest, "drop_ci_low", "drop_ci_high"):
        return (f"{head} ({points}; every seed gave the same drop, so the interval has zero width and says nothing "
                f"of the uncertainty: use more seeds){claim}.")  # fmt: skip
    interval = (f"{stats.confidence_label(confidence)} CI "
                f"{stats.format_interval(largest['drop_ci_low'], largest['drop_ci_high'], signed=True)} points")
    size = f"{abs(100 * largest['drop']):.1f} points"
    if largest["drop_ci_high"] < 0:
        return f"{head}, a gain of {size} ({interval}): shifts up to {largest['distance']} px cost nothing{claim}."
    if largest["drop_ci_low"] <= 0:
        return (f"{head}, not distinguishable from no change ({points}, {interval}): no measurable cost of shifts "
                f"up to {largest['distance']} px, the largest tested{claim}.")  # fmt: skip
    first = next(row["distance"] for row in rows[1:] if has_interval(row, "drop_ci_low", "drop_ci_high")
                 and row["drop_ci_low"] > 0)  # fmt: skip
    reach = (f"not shift-invariant beyond ~{first - 1} px, with the first significant drop at {first} px" if first > 1
             else "not shift-invariant even at 1 px, the smallest shift, which already costs a significant drop")
    return f"{head}, a drop of {size} ({interval}): {reach}{claim}."


def translation_verdict(record: dict, curve: list[dict], confidence: float) -> list[str]:
    """One sentence per model on its translation invariance (``invariance_sentence``), unless its accuracy on
    unshifted images is not distinguishable from chance (a model that learned nothing is flat under any shift and
    would read as shift-invariant; ``verdict.no_learning_warning``, the sentence every experiment uses, takes its
    place); then each failed cell."""
    lines = []
    for model in record["config"]["models"]:
        rows = [row for row in curve if row["model"] == model]
        if len(rows) < 2:  # no cell of this model finished (named below), or a run that tested no shift
            continue
        unshifted = next(row for row in rows if row["distance"] == 0)
        line = no_learning_warning(model, unshifted, record.get("chance"), confidence, "unshifted images", "a shift",
                                   "; its curve says nothing of shift invariance")  # fmt: skip
        lines.append(line or invariance_sentence(model, rows, confidence))
    return lines + missing_cells(record.get("failed_cells", []))


class Translation(Experiment):
    """The translation experiment as an ``Experiment``: one cell per model and seed."""

    kind = "translation"
    csv_columns = CSV_COLUMNS

    def load(self, preloaded: dict | None = None) -> dict:
        """Load the dataset and check the shifts against its images.

        Raises:
            ConfigError (a ValueError) naming the field: ``dataset`` holding data that are not images (a binaries
            byte view, whose view decides; a dataset registered as sequences, MNIST-1D's, is refused by ``validate``);
            ``max_shift`` below 1 pixel, or of the image's height or width or more; ``train_limit`` /
            ``test_limit`` above the split's size. Loader errors.
        """
        from spatiallab import data

        config = self.config
        if preloaded and config.dataset in preloaded:
            dataset = preloaded[config.dataset]
        else:
            dataset = data.load(config.dataset, config.data_path, **config.loader_options)
        check_images(config.dataset, dataset.kind, dataset.input_shape)
        height, width = dataset.image_shape[:2]
        largest = min(height, width) - 1  # one more and the image leaves the frame: an all-zero test set
        if not 1 <= config.max_shift <= largest:
            problem = (f"moves a {height}x{width} image out of its frame" if config.max_shift > largest
                       else "tests no shift (0 px, the unshifted images, is always tested)")  # fmt: skip
            raise ConfigError("max_shift", f"a largest shift of {config.max_shift} pixels {problem}; expected 1 to "
                                           f"{largest} for {height}x{width} images")  # fmt: skip
        dataset = apply_limits(dataset, config)
        check_trainable(dataset, config.models)
        return {"dataset": dataset}

    def header(self, payload: dict) -> dict:
        return {**dataset_header(payload["dataset"], self.config.models), "shifts": shifts(self.config.max_shift)}

    def prepare(self, run, payload: dict, resuming: bool) -> dict:
        """Save sample test images for the report (``samples/<dataset>.npz``, no permutation), once per run."""
        if not run.has_samples(self.config.dataset):
            save_samples(run, self.config.dataset, payload["dataset"])
        return payload

    def cells(self) -> list[dict]:
        return [{"dataset": self.config.dataset, "model": model, "condition": "original", "seed": seed}
                for model in self.config.models for seed in self.config.seeds]  # fmt: skip

    def cell_id(self, key: dict) -> str:
        return f"{key['dataset']}__{key['model']}__seed{key['seed']}"

    def run_cell(self, key: dict, payload: dict, on_epoch_end=None) -> runner.CellOutput:
        config, dataset = self.config, payload["dataset"]
        fitted, result = train_cell(config, key, dataset, dataset.x_train, dataset.x_test, on_epoch_end)
        rows = []
        for shift in shifts(config.max_shift):
            shifted = to_float(translate(dataset.x_test, shift["dy"], shift["dx"]))
            loss, accuracy = training.evaluate(fitted.model, shifted, dataset.y_test)
            rows.append({**shift, "test_accuracy": accuracy, "test_loss": loss})
        return runner.CellOutput({**result, "shifts": rows})

    def summarize(self, record: dict) -> dict:
        return summarize(record)

    def csv_rows(self, cells: list[dict]) -> list[dict]:
        return shift_rows(cells)
