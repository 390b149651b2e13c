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

# The settings a dataset's recipe may recommend (``data.registry.TrainingRecipe``).
TRAINING_SETTINGS = ("epochs", "batch_size", "learning_rate")


class ConfigError(ValueError):
    """A configuration value no run can use. ``field`` names the configuration field (the command line names its
    option); ``keys``, for a dict field (``loader_options``), the keys at fault."""

    def __init__(self, field: str, message: str, keys: tuple[str, ...] | list[str] = ()):
        super().__init__(message)
        self.field = field
        self.keys = tuple(keys)


@dataclasses.dataclass
class TrainingConfig:
    """The settings every experiment shares; each experiment's configuration extends it (and may change defaults).

    The command line reads its defaults from the configuration, so each is declared once. ``epochs``,
    ``batch_size`` and ``learning_rate`` left None take the value the run's dataset recommends (its recipe), else
    ``general_defaults``'s; ``resolve_training`` fills them in and says where each came from. ``models`` left None
    are the models the dataset recommends, else ``default_models`` (``resolve_models``).
    """

    models: list[str] | None = None
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0, 1, 2])
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    data_path: str | None = None  # --data: a file or folder for the (single) dataset named
    loader_options: dict = dataclasses.field(default_factory=dict)
    train_limit: int | None = None
    test_limit: int | None = None
    confidence: float = stats.CONFIDENCE
    precision: str = "auto"  # "auto", "float32" or "bfloat16" (see training.choose_precision)

    # Fields holding lists that must name at least one item and none twice (each seed is one independent run, so a
    # repeated seed would make an interval too narrow). None in such a field means "the experiment's default".
    list_fields: ClassVar[tuple[str, ...]] = ("models", "seeds")
    dataset_field: ClassVar[str] = "dataset"  # the field naming the dataset(s): "datasets" in a grid
    # The values of TRAINING_SETTINGS for a dataset without a recipe. 3 epochs keep the default runs within a few
    # minutes on 2 CPU cores; batch size and learning rate: see ``training.DEFAULTS``.
    general_defaults: ClassVar[dict] = {"epochs": 3, **training.DEFAULTS}
    # The models trained on a dataset that recommends none: the lesson's two.
    default_models: ClassVar[tuple[str, ...]] = ("dense", "cnn")

    def dataset_names(self) -> list[str]:
        """The registered datasets the run reads."""
        raise NotImplementedError

    def resolve_training(self) -> dict:
        """Fill in the training settings left None, and say where each value comes from.

        A setting given (not None) is kept. Otherwise it is the value the run's datasets recommend
        (``DatasetEntry.recipe``), a dataset without a recipe counting with ``general_defaults``'s value.

        Returns:
            results.json's ``"training"``: ``{setting: {"value": ..., "source": "given" | "recommended for
            <dataset>: <recipe's source>" | "spatiallab's default"}}`` for each of ``TRAINING_SETTINGS``, plus
            ``"optimizer"`` (``training.OPTIMIZER``).

        Raises:
            ConfigError: a setting left None on which the datasets disagree (each named with its value): give it.
        """
        from spatiallab import data

        registered = set(data.dataset_names())  # (``validate`` refuses any other; a test double may bring its own)
        recipes = {name: data.get_entry(name).recipe if name in registered else None for name in self.dataset_names()}
        used = {}
        for setting in TRAINING_SETTINGS:
            if getattr(self, setting) is not None:
                used[setting] = {"value": getattr(self, setting), "source": "given"}
                continue
            recommending = [name for name, recipe in recipes.items() if recipe and setting in recipe.settings]
            default = self.general_defaults[setting]
            proposed = {name: recipes[name].settings[setting] if name in recommending else default for name in recipes}
            if len(set(proposed.values())) > 1:
                values = ", ".join(f"{name} {value}" for name, value in proposed.items())
                raise ConfigError(setting, f"{setting}: the datasets call for different values ({values}; a dataset "
                                           f"without a recipe takes the default); give {setting}")
            value = next(iter(proposed.values()), default)
            source = (f"recommended for {', '.join(recommending)}: {recipes[recommending[0]].source}" if recommending
                      else "spatiallab's default")  # fmt: skip
            setattr(self, setting, value)
            used[setting] = {"value": value, "source": source}
        return {**used, "optimizer": training.OPTIMIZER}

    def resolve_models(self) -> None:
        """Fill in ``models`` left None: the models the run's datasets recommend (``DatasetEntry.models``), a dataset
        recommending none counting with ``default_models``. Models given are kept.

        Raises:
            ConfigError: models left None and datasets that call for different models (each named with its
            models): give models.
        """
        if self.models is not None:
            return
        from spatiallab import data

        registered = set(data.dataset_names())  # (``validate`` refuses any other; a test double may bring its own)
        proposed = {name: (data.get_entry(name).models if name in registered else ()) or self.default_models
                    for name in self.dataset_names()}  # fmt: skip
        if len(set(proposed.values())) > 1:
            values = "; ".join(f"{name} {','.join(names)}" for name, names in proposed.items())
            raise ConfigError("models", f"models: the datasets call for different models ({values}; a dataset "
                                        "recommending none takes the default); give models")  # fmt: skip
        self.models = list(next(iter(proposed.values()), self.default_models))

    def validate(self) -> None:
        """Check every field without loading data or the backend, so that a bad option is refused at once.

        Raises:
            ConfigError (a ValueError) naming the field: unknown names (datasets, models, loader options a dataset
            does not take), empty or repeated lists, or impossible numbers.
        """
        from spatiallab import data

        for field, names, get_entry in ((self.dataset_field, self.dataset_names(), data.get_entry),
                                        ("models", self.models or [], models.get_entry)):  # fmt: skip
            for name in names:
                try:
                    get_entry(name)
                except ValueError as error:
                    raise ConfigError(field, str(error)) from None
        for name in self.dataset_names():
            try:
                data.check_options(name, self.loader_options)
            except data.UnknownOptionsError as error:
                raise ConfigError("loader_options", str(error), keys=error.options) from None
        for field in self.list_fields:
            values, words = getattr(self, field), field.replace("_", " ")  # "block sizes", as --block-sizes reads
            if values is None:
                continue
            if not values:
                raise ConfigError(field, f"{words} must name at least one item")
            repeated = sorted({value for value in values if values.count(value) > 1}, key=str)
            if repeated:
                raise ConfigError(field, f"{words} must not repeat an item; repeated: "
                                         f"{', '.join(map(str, repeated))}")  # fmt: skip
        bad_seeds = [seed for seed in self.seeds if not 0 <= seed < 2**32]
        if bad_seeds:
            raise ConfigError("seeds", f"seeds must lie in 0..2**32-1 (NumPy's and Keras's seed range); "
                                       f"got {', '.join(map(str, bad_seeds))}")  # fmt: skip
        if not 0 <= getattr(self, "permutation_seed", 0) < 2**32:
            raise ConfigError("permutation_seed",
                              f"permutation_seed must lie in 0..2**32-1; got {self.permutation_seed}")
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError("epochs", f"epochs must be >= 1; got {self.epochs}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError("batch_size", f"batch_size must be >= 1; got {self.batch_size}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ConfigError("learning_rate", f"learning_rate must be > 0; got {self.learning_rate}")
        if self.precision not in training.PRECISIONS:
            raise ConfigError("precision",
                              f"precision must be one of {list(training.PRECISIONS)}; got {self.precision!r}")
        if not 0 < self.confidence < 1:
            raise ConfigError("confidence", f"confidence must lie strictly between 0 and 1; got {self.confidence}")
        if self.data_path is not None and len(self.dataset_names()) != 1:
            raise ConfigError("data_path", "--data names one file or folder, so exactly one dataset must be given "
                                           "with it")  # fmt: skip


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


def apply_limits(dataset, config):
    """``dataset.subset(config.train_limit, config.test_limit)``: the limits every experiment's ``load`` applies.

    Raises:
        ConfigError (field ``train_limit`` or ``test_limit``): a limit above its split's size, naming the size.
    """
    from spatiallab.data.dataset import LimitError

    try:
        return dataset.subset(config.train_limit, config.test_limit)
    except LimitError as error:
        raise ConfigError(f"{error.split}_limit", str(error)) from None


def check_trainable(dataset, model_names: list[str] = ()) -> None:
    """Refuse a dataset no experiment can learn or measure (no training or test example, or fewer than 2 classes),
    and a model that does not take its kind of data (``models.check_input``: a Conv2D model on sequences, say).

    Raises:
        DataFormatError: naming the dataset's source and what was found. ConfigError (field ``models``): naming
        the model, the data and their view (e.g. ``bytes4096``), and the models that take the data.
    """
    from spatiallab.data.errors import DataFormatError

    if len(dataset.x_train) == 0 or len(dataset.x_test) == 0:
        raise DataFormatError(dataset.source, "at least one training and one test example",
                              f"{len(dataset.x_train)} training and {len(dataset.x_test)} test examples")  # fmt: skip
    if dataset.num_classes < 2:
        raise DataFormatError(dataset.source, "at least 2 classes to tell apart", f"{dataset.num_classes} class")
    for name in model_names:
        try:
            models.check_input(name, dataset.input_shape, dataset.x_train.dtype, dataset.name, dataset.num_classes)
        except ValueError as error:
            fitting = ", ".join(models.models_for_input(dataset.input_shape, dataset.x_train.dtype))
            view = f" (view {dataset.info['view']})" if dataset.info.get("view") else ""
            raise ConfigError("models", f"{error}{view}. Models for this data: {fitting} (--models)") from None


def chance_level(dataset) -> float:
    """Chance accuracy on a dataset's test split: the largest class's share (a fraction in [0, 1])."""
    import numpy as np

    return float(np.bincount(dataset.y_test).max() / len(dataset.y_test))


def model_table(names: list[str], dataset) -> dict:
    """``{model: {"params": exact count on the dataset's examples, "description": str}}`` for results.json."""
    return {name: {"params": models.model_params(name, dataset.input_shape, dataset.num_classes),
                   "description": models.get_entry(name).description} for name in names}  # fmt: skip


def dataset_header(dataset, model_names: list[str]) -> dict:
    """The results.json fields of a one-dataset experiment: its description (as ``dataset`` and in ``datasets``),
    chance and the model table."""
    described = dataset.describe()
    return {"dataset": described, "datasets": {dataset.name: described}, "chance": chance_level(dataset),
            "models": model_table(model_names, dataset)}  # fmt: skip


SAMPLE_COUNT = 16  # test images saved per dataset for the report and the lab


def save_samples(run: runs.RunFolder, name: str, dataset, permutation=None) -> None:
    """Save the first ``SAMPLE_COUNT`` test images of ``dataset`` with their labels and class names as
    ``samples/<name>.npz`` (``RunFolder.write_samples``), so the report draws them from the run's own files.

    Args:
        name: the dataset's name in the run's configuration.
        permutation: the shuffled condition's int64 (H*W,) (or (L,)) array, or None for an experiment without one.
    """
    run.write_samples(name, dataset.x_test[:SAMPLE_COUNT], dataset.y_test[:SAMPLE_COUNT], permutation,
                      dataset.class_names)  # fmt: skip


def train_cell(config, key: dict, dataset, x_train, x_test, on_epoch_end=None):
    """Train and evaluate one cell's model: the step every experiment's ``run_cell`` shares.

    Args:
        config: the experiment's configuration (epochs, batch_size, learning_rate, precision).
        key: the cell (its "model" and "seed" are used).
        dataset: the ``data.Dataset`` (labels and class count).
        x_train, x_test: the examples as this cell sees them (permuted or not), uint8 (N, H, W, C) images or
            (N, L, C) sequences, converted to the model input once here (``transforms.to_float``: uint8 / 255,
            float32 as it is).

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
        ConfigError (a ValueError): a bad configuration, naming the field; ValueError: loader errors, a run of
        another experiment or configuration to resume. FileExistsError: an earlier run in ``run_dir``.
        FileNotFoundError: ``resume`` and no run in ``run_dir``. runs.RunFolderError: the folder cannot be written,
        or another process is running in it.
    """
    # Every check that needs neither the backend nor the data comes first, then the data: a bad option or file is
    # refused before the backend is imported (seconds) by the precision choice.
    experiment.validate()
    experiment.config.resolve_models()  # models left None: the dataset's recommended ones
    training_used = experiment.config.resolve_training()  # the settings left None, from the dataset's recipe
    progress = progress or runner.RunProgress()
    execution = execution or runner.Execution()
    if resume:  # checked before the data load: a wrong folder is refused at once
        run = runs.RunFolder(run_dir)
        _refuse_other_kind(run, experiment.kind)
    payload = experiment.load(preloaded)  # before the folder is made: a data error leaves no empty folder
    try:
        precision = training.choose_precision(experiment.config.precision)
    except training.PrecisionUnavailable as error:
        raise ConfigError("precision", str(error)) from None
    experiment.config.precision = precision["used"]  # what the cells use, also on resume elsewhere
    progress.precision_chosen(run.results.get("precision", precision) if resume else precision)
    execution = execution.resolved(experiment, payload, len(experiment.cells()))
    progress.execution_chosen(execution.describe())
    if resume:
        _check_resumable(run, experiment)
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
            "training": training_used,
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

        def write_results() -> dict:
            record = _record(experiment, run, done)
            run.write_results(record, experiment.csv_rows(record["cells"]), experiment.csv_columns)
            return record

        def finished(key: dict, cell: dict, model_bytes: bytes | None) -> None:
            cell_id = experiment.cell_id(key)
            done[cell_id] = run.write_cell(cell_id, cell, model_bytes)
            write_results()

        try:
            runner.run_cells(experiment, payload, pending, execution, finished, progress)
        except (KeyboardInterrupt, SystemExit):  # a cell saved just before the signal is in results.json too
            write_results()
            raise
        finally:
            progress.stop()
        record = write_results()
    return record


def _refuse_other_kind(run: runs.RunFolder, kind: str) -> None:
    if run.kind != kind:
        raise ValueError(f"{run.path}: holds a {run.kind} run, not a {kind} run; resume it with its own command")


def _check_resumable(run: runs.RunFolder, experiment: Experiment) -> None:
    """Refuse to resume a run with another configuration. Called once the data are loaded and the precision chosen
    (both fill in fields the run recorded: the scale experiment's default block sizes, ``precision``); the run's kind
    is checked before the load, by ``_refuse_other_kind``."""
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
