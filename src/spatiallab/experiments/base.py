"""What every experiment declares, and the one driver that runs any of them into a run folder.

An experiment (``shuffled_pixels.ShuffledPixels``, ``translation.Translation``, ...) is a small object holding its
configuration. It says which cells it has, how one cell is trained and evaluated (``run_cell``, which may run in
another process or on another machine), and how finished cells are summarised. ``run_experiment`` does the rest the
same way for all of them: load the data, claim or resume the run folder, hand the pending cells to the runner, write
each finished cell as it arrives, and rewrite the summary after each.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from spatiallab import models, runner, runs, stats, training


@dataclasses.dataclass
class TrainingConfig:
    """The settings every experiment shares; each experiment's configuration extends it (and may change defaults).

    The command line reads its defaults from the configuration, so each is declared once.
    """

    models: list[str] = dataclasses.field(default_factory=lambda: ["dense", "cnn"])
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0, 1, 2])
    epochs: int = 3  # keeps the default runs within a few minutes on 2 CPU cores
    batch_size: int = training.DEFAULTS["batch_size"]
    learning_rate: float = training.DEFAULTS["learning_rate"]
    data_path: str | None = None  # --data: a file or folder for the (single) dataset named
    loader_options: dict = dataclasses.field(default_factory=dict)
    train_limit: int | None = None
    test_limit: int | None = None
    confidence: float = stats.CONFIDENCE
    precision: str = "auto"  # "auto", "float32" or "bfloat16" (see training.choose_precision)

    # Fields holding lists that must name at least one item and none twice (each seed is one independent run, so a
    # repeated seed would make an interval too narrow). None in such a field means "the experiment's default".
    list_fields: ClassVar[tuple[str, ...]] = ("models", "seeds")

    def dataset_names(self) -> list[str]:
        """The registered datasets the run reads."""
        raise NotImplementedError

    def validate(self) -> None:
        """Raises ValueError for unknown names, empty or repeated lists, or impossible numbers."""
        from spatiallab import data

        for name in self.dataset_names():
            data.get_entry(name)
        for name in self.models:
            models.get_entry(name)
        for field in self.list_fields:
            values = getattr(self, field)
            if values is None:
                continue
            if not values:
                raise ValueError(f"{field} must name at least one item")
            repeated = sorted({value for value in values if values.count(value) > 1}, key=str)
            if repeated:
                raise ValueError(f"{field} must not repeat an item; repeated: {', '.join(map(str, repeated))}")
        bad_seeds = [seed for seed in self.seeds if not 0 <= seed < 2**32]
        if bad_seeds:
            raise ValueError(f"seeds must lie in 0..2**32-1 (NumPy's and Keras's seed range); got {bad_seeds}")
        if not 0 <= getattr(self, "permutation_seed", 0) < 2**32:
            raise ValueError(f"permutation_seed must lie in 0..2**32-1; got {self.permutation_seed}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1; got {self.epochs}")
        if self.precision not in training.PRECISIONS:
            raise ValueError(f"precision must be one of {list(training.PRECISIONS)}; got {self.precision!r}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must lie strictly between 0 and 1; got {self.confidence}")
        if self.data_path is not None and len(self.dataset_names()) != 1:
            raise ValueError("--data names one file or folder, so exactly one dataset must be given with it")


class Experiment:
    """Base of every experiment. Subclasses set ``kind`` and ``csv_columns`` and implement the methods below.

    The object is pickled to worker processes and Ray tasks, so it holds only its configuration (a dataclass).
    """

    kind: str = ""
    csv_columns: tuple[str, ...] = ()

    def __init__(self, config):
        self.config = config

    def validate(self) -> None:
        """Raise ValueError for a configuration that cannot run (unknown names, impossible numbers)."""
        self.config.validate()

    def load(self, preloaded: dict | None = None) -> dict:
        """The data every cell needs, as a picklable payload (loaded once by the driver, shipped to workers)."""
        raise NotImplementedError

    def header(self, payload: dict) -> dict:
        """Fields of results.json that describe the run beside its config (datasets, chance, models, ...)."""
        raise NotImplementedError

    def prepare(self, run: runs.RunFolder, payload: dict, resuming: bool) -> dict:
        """Write the run's fixed artifacts (saved permutations, samples), or read them back when ``resuming``; return
        the payload the cells use (the saved artifacts, not re-drawn ones, are the source of truth)."""
        return payload

    def cells(self) -> list[dict]:
        """Every cell of the run as a dict of its coordinates (dataset, model, seed, ...), in report order."""
        raise NotImplementedError

    def cell_id(self, key: dict) -> str:
        """A file-name-safe unique name of a cell."""
        raise NotImplementedError

    def run_cell(self, key: dict, payload: dict, on_epoch_end: Callable[[int, dict], None] | None) -> runner.CellOutput:
        """Train and evaluate one cell (in whatever process the runner chose)."""
        raise NotImplementedError

    def summarize(self, record: dict) -> dict:
        """Summary fields (intervals, verdict, ...) computed from ``record["cells"]``."""
        raise NotImplementedError

    def csv_rows(self, cells: list[dict]) -> list[dict]:
        """The rows of results.csv for the finished cells."""
        return cells


def check_trainable(dataset) -> None:
    """Refuse a dataset no experiment can learn or measure: no training or test image, or fewer than 2 classes.

    Raises:
        DataFormatError: naming the dataset's source and what was found.
    """
    from spatiallab.data.errors import DataFormatError

    if len(dataset.x_train) == 0 or len(dataset.x_test) == 0:
        raise DataFormatError(dataset.source, "at least one training and one test image",
                              f"{len(dataset.x_train)} training and {len(dataset.x_test)} test images")  # fmt: skip
    if dataset.num_classes < 2:
        raise DataFormatError(dataset.source, "at least 2 classes to tell apart", f"{dataset.num_classes} class")


def chance_level(dataset) -> float:
    """Chance accuracy on a dataset's test split: the largest class's share (a fraction in [0, 1])."""
    import numpy as np

    return float(np.bincount(dataset.y_test).max() / len(dataset.y_test))


def model_table(names: list[str], dataset) -> dict:
    """``{model: {"params": exact count on the dataset's images, "description": str}}`` for results.json."""
    return {name: {"params": models.model_params(name, dataset.image_shape, dataset.num_classes),
                   "description": models.get_entry(name).description} for name in names}  # fmt: skip


def dataset_header(dataset, model_names: list[str]) -> dict:
    """The results.json fields of a one-dataset experiment: its description (as ``dataset`` and in ``datasets``),
    chance and the model table."""
    described = dataset.describe()
    return {"dataset": described, "datasets": {dataset.name: described}, "chance": chance_level(dataset),
            "models": model_table(model_names, dataset)}  # fmt: skip


def train_cell(config, key: dict, dataset, x_train, x_test, on_epoch_end=None):
    """Train and evaluate one cell's model: the step every experiment's ``run_cell`` shares.

    Args:
        config: the experiment's configuration (epochs, batch_size, learning_rate, precision).
        key: the cell (its "model" and "seed" are used).
        dataset: the ``data.Dataset`` (labels and class count).
        x_train, x_test: uint8 (N, H, W, C) images as this cell sees them (permuted or not), converted to float32
            once here.

    Returns:
        (``training.FitResult``, the fields every cell records: test_accuracy, test_loss, train_seconds,
        seconds_per_epoch, epoch_seconds, epochs, params, precision, history).
    """
    from spatiallab.transforms import to_float

    fitted = training.fit_and_evaluate(
        key["model"], to_float(x_train), dataset.y_train, to_float(x_test), dataset.y_test, dataset.num_classes,
        seed=key["seed"], epochs=config.epochs, batch_size=config.batch_size, learning_rate=config.learning_rate,
        on_epoch_end=on_epoch_end, precision=config.precision,
    )  # fmt: skip
    training.check_finite(fitted)
    return fitted, {
        "test_accuracy": fitted.test_accuracy,
        "test_loss": fitted.test_loss,
        "train_seconds": fitted.train_seconds,
        "seconds_per_epoch": fitted.train_seconds / config.epochs,
        "epoch_seconds": [float(seconds) for seconds in fitted.epoch_seconds],
        "epochs": config.epochs,
        "params": int(fitted.model.count_params()),
        "precision": config.precision,
        "history": fitted.history,
    }


def default_run_dir(prefix: str) -> str:
    """``runs/<prefix>-<local time>``: the run folder when --out is not given."""
    return f"runs/{prefix}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _record(experiment: Experiment, run: runs.RunFolder, done: dict[str, dict]) -> dict:
    """results.json: the header, the finished cells in the experiment's order, failed cells, and the summary."""
    record = {key: value for key, value in run.results.items() if key not in ("cells", "failed_cells")}
    keys = experiment.cells()
    ordered = [done[experiment.cell_id(key)] for key in keys if experiment.cell_id(key) in done]
    record["cells"] = [cell for cell in ordered if cell["status"] == "ok"]
    record["failed_cells"] = [cell for cell in ordered if cell["status"] == "failed"]
    record["complete"] = len(record["cells"]) == len(keys)
    record.update(experiment.summarize(record))
    return record


def run_experiment(
    experiment: Experiment,
    run_dir: str | os.PathLike,
    *,
    resume: bool = False,
    overwrite: bool = False,
    execution: runner.Execution | None = None,
    progress: runner.RunProgress | None = None,
    preloaded: dict | None = None,
) -> dict:
    """Run every cell of ``experiment`` not yet finished in ``run_dir`` and write the run folder.

    Args:
        experiment: what to run.
        run_dir: the run folder. A new run refuses a folder holding an earlier run unless ``overwrite``.
        resume: continue the run in ``run_dir``: cells saved there are kept, the rest (including failed ones and
            the one that was mid-training) are trained. ``experiment.config`` must be the recorded one (see
            ``resume_config``; a different one is refused).
        overwrite: replace an earlier run in ``run_dir`` (everything it wrote; see ``runs.RunFolder.create``).
        execution: where cells run (in this process, worker processes or Ray); default in this process.
        progress: receives progress events.
        preloaded: datasets already in memory, by name (skips loading those).

    Returns:
        The results record written to results.json (schema in docs/architecture.md).

    Raises:
        ValueError: bad configuration; loader errors. FileExistsError: an earlier run in ``run_dir``.
        FileNotFoundError: ``resume`` and no run in ``run_dir``. runs.RunFolderError: the folder cannot be written,
        or another process is running in it.
    """
    experiment.validate()
    precision = training.choose_precision(experiment.config.precision)
    experiment.config.precision = precision["used"]  # what the cells use, also on resume elsewhere
    progress = progress or runner.RunProgress()
    execution = execution or runner.Execution()
    if resume:  # checked before the data load: a wrong folder is refused at once
        run = runs.RunFolder(run_dir)
        _check_resumable(run, experiment)
    payload = experiment.load(preloaded)  # before the folder is made: a data error leaves no empty folder
    if resume:
        run.remove_stale_temporaries()
    else:
        header = {
            "kind": experiment.kind,
            "name": Path(run_dir).name,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "complete": False,
            "config": dataclasses.asdict(experiment.config),
            "versions": runs.library_versions(),
            "execution": execution.describe(),
            "precision": precision,
            **experiment.header(payload),
        }
        run = runs.RunFolder.create(run_dir, header, overwrite=overwrite)
    with run.lock():
        payload = experiment.prepare(run, payload, resuming=resume)
        done = {}
        if resume:
            done = {cell_id: cell for cell_id, cell in run.finished_cells().items() if cell["status"] == "ok"}
        keys = experiment.cells()
        pending = [key for key in keys if experiment.cell_id(key) not in done]
        progress.start(len(keys), len(keys) - len(pending))

        def finished(key: dict, cell: dict, model_bytes: bytes | None) -> None:
            cell_id = experiment.cell_id(key)
            done[cell_id] = run.write_cell(cell_id, cell, model_bytes)
            record = _record(experiment, run, done)
            run.write_results(record, experiment.csv_rows(record["cells"]), experiment.csv_columns)

        try:
            runner.run_cells(experiment, payload, pending, execution, finished, progress)
        finally:
            progress.stop()
        record = _record(experiment, run, done)
        run.write_results(record, experiment.csv_rows(record["cells"]), experiment.csv_columns)
    return record


def _refuse_other_kind(run: runs.RunFolder, kind: str) -> None:
    if run.kind != kind:
        raise ValueError(f"{run.path}: holds a {run.kind} run, not a {kind} run; resume it with its own command")


def _check_resumable(run: runs.RunFolder, experiment: Experiment) -> None:
    """Refuse to resume a run of another experiment or with another configuration."""
    _refuse_other_kind(run, experiment.kind)
    given = {key: value for key, value in dataclasses.asdict(experiment.config).items() if key != "data_path"}
    differences = runs.config_differences({key: run.config.get(key) for key in given}, given)
    if differences:
        raise ValueError(f"{run.path}: the configuration differs from the one recorded in the run: "
                         + "; ".join(differences))  # fmt: skip


def resume_config(run_dir: str | os.PathLike, experiment_class, config_class, given: dict):
    """The configuration recorded in ``run_dir``, checked against the options the user gave on the command line.

    Args:
        run_dir: a run folder to resume.
        experiment_class: the experiment that is to resume it (its ``kind`` must be the run's).
        config_class: the experiment's config dataclass.
        given: the config fields the user set explicitly (others are taken from the record). Options that do not
            change the numbers are not compared: ``data_path`` (the same data may have moved: a given one replaces
            the recorded one), the loader's ``download`` permission, and ``precision`` when it names what the run
            asked for (``auto``).

    Returns:
        ``config_class(**recorded)``.

    Raises:
        FileNotFoundError, ValueError: no run there, or a run of another experiment. ValueError: ``given``
        contradicts the recorded configuration (the differing keys are named).
    """
    run = runs.RunFolder(run_dir)
    _refuse_other_kind(run, experiment_class.kind)
    names = {field.name for field in dataclasses.fields(config_class)}
    recorded = {key: value for key, value in run.config.items() if key in names}
    given = dict(given)
    overrides = {"data_path": given.pop("data_path")} if "data_path" in given else {}
    if "loader_options" in given:
        given["loader_options"] = {key: value for key, value in given["loader_options"].items() if key != "download"}
        if not given["loader_options"]:
            del given["loader_options"]
    if given.get("precision") == run.results.get("precision", {}).get("requested"):
        del given["precision"]
    differences = runs.config_differences(recorded, given)
    if differences:
        raise ValueError(
            f"{run_dir}: the command line contradicts the configuration recorded in the run: "
            + "; ".join(differences)
            + ". Drop those options to resume, or start a new run with another --out"
        )
    return config_class(**{**recorded, **overrides})
