"""The scale experiment: at which spatial scale does each model use the arrangement of pixels?

The lesson's shuffle has two endpoints (pixels in place, or all shuffled). Here two families of fixed permutations
at block size k fill the scales between them (``transforms.BlockPermutation``):

- ``within``: the pixels inside each k x k block are shuffled. Detail finer than k is destroyed, the layout of the
  blocks is kept; k = 1 is the original, k = the (square) image size the lesson's full shuffle.
- ``between``: the k x k blocks are moved as wholes. The layout above k is destroyed, detail within k is kept;
  k = the image size is the original, k = 1 the full shuffle.

A (family, k) that leaves the positions as they are (within 1; between k when one block covers every position) is
the original condition under another name: it is not trained again (``conditions`` leaves it out, the header lists
it under ``permutations.identity`` and the verdict says so); the original's cells stand for it on the curve. The
default block sizes are every k that tiles the positions but 1, the whole included (2, 4, 7, 14, 28 on 28x28): within
28 is the lesson's full shuffle, so the within curve reaches both of the lesson's endpoints for one condition more per
model, and between 28 (the original) is left out. Between 1 is another draw of the same full shuffle, so it is run
only when asked for.

On sequences (N, L, C) a block is k consecutive positions (k divides L; 2, 4, 5, 8, 10, 20, 40 on MNIST-1D's 40): the
data's kind decides the blocks' axes (``Dataset.positions_shape``), nothing else here changes.

Every (family, k) permutation is drawn from ``permutation_seed`` (each its own generator, never the identity where
the family has another permutation at k: ``transforms.block_permutation``), fixed for train and test, every model and
seed, and saved in the run folder (``permutations/<dataset>.npz``, below); the saved arrays, not re-draws from the
seed, are what a resumed run applies, so a run folder keeps the arrays it was trained with. Cells: one per model,
seed and (family, k), plus the original images once per model and seed (it is the same for every k).

The drops from the original are read off the whole curve at once (the verdict compares sizes, the flatness check asks
that none moves), so each drop interval is at the Bonferroni level 1 - (1 - confidence) / m over the m permuted
conditions of the run (``drop_level``): all claims on a model's curve hold together at the run's confidence. The
accuracy intervals (one condition each, no test) stay at the run's level.

Every condition is a permutation of the pixels, so a model that flattens its input first (Dense) can learn exactly
as well from each: its curve must be flat. ``summarize`` checks that and the verdict calls a Dense that moves a bug
in spatiallab, not a finding. The verdict rules are in ``verdict.scale_verdict``.

``permutations/<dataset>.npz``: one int64 (H*W,) (or (L,)) position array per condition, named ``within-7``,
``between-14``, ... (``PixelPermutation.permutation_``'s convention), ``image_shape`` int64 (2,) (or (1,): the
positions' shape) and ``seed`` int64 ().
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from spatiallab import models, runner, runs, stats, transforms
from spatiallab.data.errors import DataFormatError
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
from spatiallab.experiments.verdict import has_interval, identity_words, scale_verdict
from spatiallab.experiments.words import TERMS

FAMILIES = transforms.BLOCK_FAMILIES
PERMUTATIONS_DIR = runs.PERMUTATIONS_DIR
CSV_COLUMNS = ("dataset", "model", "condition", "family", "block_size", "seed", "status", "test_accuracy", "test_loss",
               "train_seconds", "seconds_per_epoch", "epochs", "params", "permutation_seed")  # fmt: skip


@dataclasses.dataclass
class ScaleConfig(TrainingConfig):
    """What to run; the defaults are ``spatiallab scale``'s (the command line reads them from here)."""

    dataset: str = "mnist-sample"
    # None: every k that tiles the images but 1 (2, 4, 7, 14, 28 on 28x28; see ``default_block_sizes``);
    # ``Scale.load`` resolves it, so a run records the sizes it used.
    block_sizes: list[int] | None = None
    families: list[str] = dataclasses.field(default_factory=lambda: list(FAMILIES))
    permutation_seed: int = 0

    list_fields: ClassVar[tuple[str, ...]] = ("models", "families", "seeds", "block_sizes")

    def dataset_names(self) -> list[str]:
        return [self.dataset]

    def validate(self) -> None:
        """Raises ConfigError (a ValueError) naming the field: unknown names, empty or repeated lists or impossible
        numbers (block sizes are checked against the images once they are loaded)."""
        for family in self.families:
            if family not in FAMILIES:
                raise ConfigError("families", f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
        super().validate()
        small = [size for size in self.block_sizes or [] if size < 1]
        if small:
            raise ConfigError("block_sizes", "block sizes must be >= 1 (pixel or position); got "
                                             f"{', '.join(map(str, small))}")  # fmt: skip


def default_block_sizes(image_shape: tuple[int, ...]) -> list[int]:
    """Every k that tiles the positions ((H, W) images, or (L,) sequences) but 1, one block covering everything
    included (2, 4, 7, 14, 28 on 28x28; 2, 4, 5, 8, 10, 20, 40 on 40 positions): within that k is the lesson's full
    shuffle, between it the identity (not trained, see ``conditions``). k = 1 is left out: within 1 is the identity
    and between 1 the same full shuffle again."""
    return [k for k in transforms.valid_block_sizes(image_shape) if k > 1]


def endpoints(family: str, image_shape: tuple[int, ...]) -> dict[str, int | None]:
    """The block sizes at which a family's permutation is the identity ("original") and the lesson's full shuffle
    ("shuffle"): within k = 1 is the identity and k = the image size the full shuffle; between the other way round.
    One block covering every position exists only for square (H, W) images, or (L,) sequences (None otherwise)."""
    shape = tuple(image_shape)
    whole = shape[0] if len(set(shape)) == 1 else None
    return {"original": 1, "shuffle": whole} if family == "within" else {"original": whole, "shuffle": 1}


def condition_name(family: str, block_size: int | None) -> str:
    """``"original"``, or ``"within-7"``, ``"between-14"``: a condition's name in cell ids and the saved npz."""
    return "original" if family == "original" else f"{family}-{block_size}"


def identity_conditions(families: list[str], block_sizes: list[int], image_shape: tuple[int, ...]) -> list[str]:
    """The names of the asked-for (family, k) that leave the positions of ``image_shape`` as they are (within 1,
    between the whole): the original condition again, so never trained (``conditions`` leaves them out)."""
    return [condition_name(family, size) for family in families for size in sorted(block_sizes)
            if size == endpoints(family, image_shape)["original"]]  # fmt: skip


# -- summary and verdict ------------------------------------------------------------------------------------------


def drop_status(row: dict) -> str:
    """``"drop"`` / ``"gain"`` when the paired interval of original - permuted excludes 0, ``"none"`` when it holds
    0, ``"unknown"`` without an interval (one seed) or with a zero-width one (every seed gave the same difference)."""
    if not has_interval(row, "drop_ci_low", "drop_ci_high"):
        return "unknown"
    if row["drop_ci_low"] > 0:
        return "drop"
    return "gain" if row["drop_ci_high"] < 0 else "none"


def conditions(families: list[str], block_sizes: list[int],
               image_shape: tuple[int, ...]) -> list[tuple[str, int | None]]:  # fmt: skip
    """(family, block size) of every condition trained on positions of ``image_shape``: the original first (block
    size None), then each family with its block sizes ascending, less the identities (``identity_conditions``)."""
    identity = identity_conditions(families, block_sizes, image_shape)
    return [("original", None)] + [(family, size) for family in families for size in sorted(block_sizes)
                                   if condition_name(family, size) not in identity]  # fmt: skip


def drop_level(confidence: float, permuted: int) -> float:
    """The level of each drop interval: Bonferroni, 1 - (1 - confidence) / m over the m = ``permuted`` conditions
    of a model's curve, so that every claim read off the curve holds together at ``confidence``."""
    return 1 - (1 - confidence) / max(1, permuted)


def _cells(record: dict, model: str, condition: str) -> list[dict]:
    return sorted((cell for cell in record["cells"] if (cell["model"], cell["condition"]) == (model, condition)),
                  key=lambda cell: cell["seed"])  # fmt: skip


def _drop(original: dict[int, float], row: dict, confidence: float) -> dict | None:
    """original - permuted accuracy, paired by seed over the seeds both have (None when they share none)."""
    permuted = dict(zip(row["seeds"], row["accuracies"]))
    seeds = [seed for seed in row["seeds"] if seed in original]
    if not seeds:
        return None
    return stats.paired_difference([original[seed] for seed in seeds], [permuted[seed] for seed in seeds],
                                   confidence, stats.DIFFERENCE_BOUNDS)  # fmt: skip


VACUOUS_WIDTH = 0.5  # an interval of 50 points or more on an accuracy difference shows nothing either way


def flatness_check(model: str, curve: list[dict], level: float, comparisons: int) -> dict:
    """Whether a position-blind model's accuracy stays flat: each condition's paired drop interval must hold 0.

    A flat model still differs by noise from condition to condition, and with m conditions one of m 95% intervals
    misses 0 by chance more often than 1 time in 20; the curve's drop intervals are therefore at the Bonferroni
    ``level`` over its ``comparisons`` conditions (``drop_level``), so that a false "bug" flag has at most the run's
    error rate over the whole curve. A condition without an interval (one seed, or a zero-width one away from 0), or
    with one so wide that it rules nothing out (``VACUOUS_WIDTH`` or more, as two seeds at the Bonferroni level
    give), is "unchecked", and so is a curve with conditions not yet finished.

    Args:
        curve: the model's curve rows (``summarize``: ``drop``, ``drop_ci_low``, ``drop_ci_high`` at ``level``).
    """
    rows = []
    for row in curve:
        low, high = row["drop_ci_low"], row["drop_ci_high"]
        if low is None or high - low >= VACUOUS_WIDTH:
            status = "unchecked"
        elif low <= 0 <= high:
            status = "flat"
        else:
            status = "moved" if has_interval(row, "drop_ci_low", "drop_ci_high") else "unchecked"
        rows.append({"condition": row["condition"], "status": status, "difference": row["drop"], "ci_low": low,
                     "ci_high": high, "n_pairs": row["n_pairs"]})  # fmt: skip
    statuses = {row["status"] for row in rows}
    unchecked = "unchecked" in statuses or len(rows) < comparisons
    status = "moved" if "moved" in statuses else ("unchecked" if unchecked else "flat")
    return {"model": model, "status": status, "confidence": level, "comparisons": comparisons, "rows": rows}


def summarize(record: dict) -> dict:
    """The accuracy-vs-block-size curves, the flatness check of position-blind models and the verdict.

    Returns:
        {"summary": one row per (model, condition) with finished cells: t interval over seeds of the accuracy, at
        the run's confidence; "curve": one row per (model, family, block size): the same, plus "drop" (original -
        permuted, paired by seed) with "drop_ci_low"/"drop_ci_high" at "drop_confidence" (``drop_level``), "n_pairs",
        "status" (see ``drop_status``) and "full_shuffle" (the lesson's full shuffle: within the image size,
        between 1); "drop_confidence"; "flatness": one ``flatness_check`` per position-blind model; "verdict":
        [str, ...]}.
    """
    config = record["config"]
    confidence = config.get("confidence", stats.CONFIDENCE)
    image_shape = tuple(record["permutations"]["image_shape"])
    planned = conditions(config["families"], config["block_sizes"], image_shape)
    level = drop_level(confidence, len(planned) - 1)
    summary, curve, flatness = [], [], []
    for model in config["models"]:
        original = {cell["seed"]: cell["test_accuracy"] for cell in _cells(record, model, "original")}
        model_curve = []
        for family, size in planned:
            cells = _cells(record, model, condition_name(family, size))
            if not cells:
                continue
            accuracies = [cell["test_accuracy"] for cell in cells]
            row = {"model": model, "condition": condition_name(family, size), "family": family, "block_size": size,
                   **stats.t_interval(accuracies, confidence, bounds=stats.ACCURACY_BOUNDS),
                   "accuracies": accuracies, "seeds": [cell["seed"] for cell in cells]}  # fmt: skip
            summary.append(row)
            drop = None if family == "original" else _drop(original, row, level)
            if drop is not None:
                row = {**row, "drop": drop["difference"], "drop_ci_low": drop["ci_low"],
                       "drop_ci_high": drop["ci_high"], "drop_confidence": level, "n_pairs": drop["n_pairs"],
                       "full_shuffle": size == endpoints(family, image_shape)["shuffle"]}  # fmt: skip
                model_curve.append({**row, "status": drop_status(row)})
        curve += model_curve
        if models.position_blind(model) and original:
            flatness.append(flatness_check(model, model_curve, level, len(planned) - 1))
    identity = identity_conditions(config["families"], config["block_sizes"], image_shape)
    verdict = scale_verdict(record, summary, curve, flatness, drop_confidence=level, identity=identity)
    return {"summary": summary, "curve": curve, "drop_confidence": level, "flatness": flatness, "verdict": verdict}


# -- the experiment -----------------------------------------------------------------------------------------------


class Scale(Experiment):
    """The scale experiment as an ``Experiment``: one cell per model, seed and condition."""

    kind = "scale"
    csv_columns = CSV_COLUMNS

    def load(self, preloaded: dict | None = None) -> dict:
        """Load the dataset and check the block sizes against its images (resolving the default ones); the (family,
        k) that are the identity on them are left out of the cells (``conditions``).

        Raises:
            ConfigError (a ValueError, field ``block_sizes``): a block size that does not tile the images, or sizes
            that give every family only the identity (the valid sizes listed); (fields ``train_limit`` /
            ``test_limit``) a limit above its split's size. Loader errors.
        """
        from spatiallab import data

        config = self.config
        if preloaded and config.dataset in preloaded:
            dataset = preloaded[config.dataset]
        else:
            dataset = data.load(config.dataset, config.data_path, **config.loader_options)
        shape = dataset.positions_shape  # (H, W) of images or (L,) of sequences: the data's kind decides
        if config.block_sizes is None:
            config.block_sizes = default_block_sizes(shape)  # recorded in the header: the sizes this run used
        for size in config.block_sizes:
            try:
                transforms.check_block_size(size, shape)
            except ValueError as error:
                raise ConfigError("block_sizes", str(error)) from None
        if len(conditions(config.families, config.block_sizes, shape)) == 1:
            valid = "; ".join(f"{family}: " + ", ".join(str(size) for size in transforms.valid_block_sizes(shape)
                                                        if size != endpoints(family, shape)["original"])
                              for family in config.families)  # fmt: skip
            identity = identity_words(identity_conditions(config.families, config.block_sizes, shape),
                                      TERMS[dataset.kind].examples)  # fmt: skip
            sizes = ", ".join(map(str, config.block_sizes))
            raise ConfigError("block_sizes", f"block sizes {sizes} permute nothing on {dataset.name}: {identity}, so "
                                             "there is only the original condition, which every run trains anyway; "
                                             f"give sizes that permute them: {valid}")  # fmt: skip
        self.positions_shape_ = shape
        dataset = apply_limits(dataset, config)
        check_trainable(dataset, config.models)
        return {"dataset": dataset, "permutations": {}}

    def header(self, payload: dict) -> dict:
        dataset = payload["dataset"]
        header = dataset_header(dataset, self.config.models)
        for name, row in header["models"].items():
            row["position_blind"] = models.position_blind(name)
        return {
            **header,
            "permutations": {"seed": self.config.permutation_seed, "image_shape": list(dataset.positions_shape),
                             "file": self.permutations_file(dataset.name),
                             "conditions": [condition_name(*condition) for condition in self.conditions()[1:]],
                             "identity": identity_conditions(self.config.families, self.config.block_sizes,
                                                             dataset.positions_shape)},  # fmt: skip
        }

    def conditions(self) -> list[tuple[str, int | None]]:
        """(family, block size) of this run's conditions on the loaded positions, the original first (see the
        module's ``conditions``)."""
        return conditions(self.config.families, self.config.block_sizes, self.positions_shape_)

    def permutations_file(self, dataset: str) -> str:
        return f"{PERMUTATIONS_DIR}/{dataset}.npz"

    def prepare(self, run, payload: dict, resuming: bool) -> dict:
        """Save every condition's permutation array, or read them back when resuming (the saved arrays are what the
        cells apply), and sample test images for the report (``samples/<dataset>.npz``, no permutation)."""
        dataset = payload["dataset"]
        shape, seed = dataset.positions_shape, self.config.permutation_seed
        path = run.path / self.permutations_file(dataset.name)
        permuted = self.conditions()[1:]
        if resuming and path.is_file():  # (a run killed before it saved them had trained no cell)
            permutations = read_permutations(path, permuted, shape, seed)
        else:
            permutations = {condition_name(family, size): transforms.BlockPermutation(family, size, seed, shape)
                            for family, size in permuted}  # fmt: skip
            run.write_arrays(self.permutations_file(dataset.name), image_shape=np.asarray(shape, dtype=np.int64),
                             seed=np.int64(seed),
                             **{name: permutation.permutation_ for name, permutation in permutations.items()})
        if not run.has_samples(self.config.dataset):
            save_samples(run, self.config.dataset, dataset)
        arrays = {name: permutation.permutation_ for name, permutation in permutations.items()}
        return {**payload, "permutations": arrays}

    def cells(self) -> list[dict]:
        config = self.config
        return [{"dataset": config.dataset, "model": model, "condition": condition_name(family, size),
                 "family": family, "block_size": size, "seed": seed}
                for family, size in self.conditions() for model in config.models for seed in config.seeds]  # fmt: skip

    def cell_id(self, key: dict) -> str:
        return f"{key['dataset']}__{key['model']}__{key['condition']}__seed{key['seed']}"

    def run_cell(self, key: dict, payload: dict, on_epoch_end=None) -> runner.CellOutput:
        config, dataset = self.config, payload["dataset"]
        x_train, x_test = dataset.x_train, dataset.x_test
        if key["family"] != "original":
            permutation = transforms.BlockPermutation.from_array(
                payload["permutations"][key["condition"]], dataset.positions_shape, config.permutation_seed,
                family=key["family"], block_size=key["block_size"],
            )  # fmt: skip
            x_train, x_test = permutation(x_train), permutation(x_test)
        _, result = train_cell(config, key, dataset, x_train, x_test, on_epoch_end)
        return runner.CellOutput({**result, "permutation_seed": config.permutation_seed})

    def summarize(self, record: dict) -> dict:
        return summarize(record)


def read_permutations(path, permuted: list[tuple[str, int]], image_shape, seed) -> dict:
    """The saved ``BlockPermutation`` of every (family, block size) in ``permuted``, by condition name.

    Raises:
        FileNotFoundError: no such file. DataFormatError: a condition missing, or an array that is not a permutation
        of the family's structure on ``image_shape``.
    """
    names = [condition_name(family, size) for family, size in permuted]
    with np.load(path, allow_pickle=False) as archive:
        missing = [name for name in names if name not in archive.files]
        if missing:
            raise DataFormatError(path, f"arrays {names}", f"arrays {sorted(archive.files)} (missing {missing})")
        arrays = {name: archive[name] for name in names}
    permutations = {}
    for (family, size), name in zip(permuted, names):
        try:
            permutations[name] = transforms.BlockPermutation.from_array(arrays[name], image_shape, seed,
                                                                        family=family, block_size=size)  # fmt: skip
        except ValueError as error:
            expected = f"a {family} permutation of block size {size} as {name!r}"
            raise DataFormatError(path, expected, str(error)) from None
    return permutations
