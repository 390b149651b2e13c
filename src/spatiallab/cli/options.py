"""Command-line options shared by several commands, and their parsing."""

from __future__ import annotations

import functools

import click


def parse_names(value: str) -> list[str]:
    """``"dense,cnn"`` -> ``["dense", "cnn"]`` (spaces around a name ignored).

    Raises:
        click.BadParameter: an empty name (``"dense,,cnn"``, a comma at either end, ``""``). Raised in a click
        callback (``names_callback``, --seeds, --block-sizes), click names the option.
    """
    names = [item.strip() for item in value.split(",")]
    if "" in names:
        raise click.BadParameter(f"expected items separated by single commas; item {names.index('') + 1} of "
                                 f"{value!r} is empty")  # fmt: skip
    return names


def names_callback(context, param, value: str | None) -> list[str] | None:
    """The click callback of a comma-separated list option (--models, --dataset of ``run``, --conditions,
    --families): ``parse_names``, so an error names the option; None (an option not given) stays None."""
    return None if value is None else parse_names(value)


def parse_seeds(value: str) -> list[int]:
    """``"3"`` -> seeds 0, 1, 2 (a count); ``"0,5,9"`` -> exactly those seeds.

    Raises:
        click.BadParameter: not an integer count >= 1 or a comma-separated list of integers.
    """
    try:
        items = [int(item) for item in parse_names(value)]
        if len(items) == 1 and "," not in value and items[0] > 10_000:
            raise click.BadParameter(f"a count of at most 10000 seeds; got {items[0]} (give a list for seed values)")
    except ValueError:
        raise click.BadParameter(f"expected a count such as 3 or a list such as 0,1,2; got {value!r}") from None
    if len(items) == 1 and "," not in value:
        if items[0] < 1:
            raise click.BadParameter(f"expected a count >= 1; got {items[0]}")
        return list(range(items[0]))
    return items


_LOADER_OPTIONS = [
    click.option("--image-size", type=click.IntRange(min=4), default=None,
                 help="Resize images to this square size (image-folder datasets)."),
    click.option("--channels", type=click.Choice(["1", "3"]), default=None,
                 help="Convert images to this many channels (image-folder datasets)."),
    click.option("--view", default=None,
                 help="View of a binaries npz: x64 (whole file, resized) or head4096 (first 4096 bytes as a tile) for "
                 "2D models; bytes4096, bytes65536 ... (first N bytes as a sequence) for 1D models."),
    click.option("--mask-header", type=click.IntRange(min=1), default=None, metavar="BYTES",
                 help="Zero the first BYTES bytes of every file, train and test (binaries datasets): hides the "
                 "format header's machine and type fields. Recorded in results.json."),
    click.option("--min-class-size", type=click.IntRange(min=1), default=None,
                 help="Leave out classes with fewer files (binaries datasets; 100 keeps the PE corpus's 3 large ones)."),
    click.option("--medmnist-flag", default=None, metavar="FLAG",
                 help="MedMNIST task, e.g. pathmnist (downloaded on first use); --image-size picks 28, 64, 128 or 224."),
    click.option("--skip-unreadable", is_flag=True, default=False,
                 help="Leave out image files that cannot be read (image-folder datasets; listed in results.json) "
                      "instead of refusing the folder."),
    click.option("--no-download", is_flag=True, default=False,
                 help="Never use the network: a dataset with no local copy fails, saying where to put one."),
]  # fmt: skip
# The loader options whose option name is not the key with dashes (``loader_flag``).
_LOADER_FLAGS = {"flag": "--medmnist-flag", "download": "--no-download"}


def loader_flag(key: str) -> str:
    """The command-line option that sets a ``loader_options`` key: ``image_size`` -> ``--image-size``."""
    return _LOADER_FLAGS.get(key, "--" + key.replace("_", "-"))


def with_loader_options(command):
    """Add the dataset loaders' options to a command and hand them to it as one dict, ``loader_options``.

    Only the options the user gave are in the dict, so each loader receives just what it was asked for.
    """

    @functools.wraps(command)
    def wrapper(*args, image_size, channels, view, mask_header, min_class_size, medmnist_flag, skip_unreadable,
                no_download, **kwargs):  # fmt: skip
        given = {
            "image_size": image_size,
            "channels": None if channels is None else int(channels),
            "view": view,
            "mask_header": mask_header,
            "min_class_size": min_class_size,
            "flag": medmnist_flag,
            "skip_unreadable": True if skip_unreadable else None,
            "download": False if no_download else None,
        }
        return command(*args, loader_options={k: v for k, v in given.items() if v is not None}, **kwargs)

    for option in reversed(_LOADER_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


class WorkersType(click.ParamType):
    """``--workers``: "auto" or a whole number >= 1."""

    name = "auto|N"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.lower() == "auto":
            return "auto"
        if isinstance(value, int) and value >= 1:
            return value
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            self.fail(f"expected 'auto' or a whole number >= 1; got {value!r}", param, ctx)
        return number


WORKERS = WorkersType()

_EXECUTION_OPTIONS = [
    click.option("--resume", "resume", type=click.Path(file_okay=False), default=None, metavar="RUN_DIR",
                 help="Continue the interrupted run in RUN_DIR: finished cells are kept, the rest trained; its "
                      "recorded configuration is used (options that contradict it are refused)."),
    click.option("--workers", type=WORKERS, default="auto", show_default=True,
                 help="Cells trained at once, each in its own process; auto: one per core for cells big enough to "
                      "pay a process's start-up and as memory allows, else one at a time (the run prints why)."),
    click.option("--threads", type=click.IntRange(min=1), default=None,
                 help="CPU threads per cell [default: the backend's own for one worker, else cores / workers]. "
                      "Results depend on it (the order of floating-point sums): keep it fixed to compare runs."),
    click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
                 help="Run cells as Ray tasks: alone, a private Ray instance on this machine; with ADDRESS "
                      "(HOST:PORT of `ray start --head`), that cluster. Needs the [ray] extra."),
]  # fmt: skip


def with_execution_options(command):
    """Add --resume, --workers, --threads and --ray to a command; hand it ``resume`` and ``execution``."""

    @functools.wraps(command)
    def wrapper(*args, workers, threads, ray_address, **kwargs):
        from spatiallab.runner import Execution

        if ray_address is not None and workers != "auto":  # Ray places the cells over its CPUs
            raise click.BadParameter("Ray places the cells itself: give --workers or --ray, not both",
                                     param_hint="--workers")  # fmt: skip

        return command(*args, execution=Execution(workers=workers, threads=threads, ray_address=ray_address),
                       **kwargs)  # fmt: skip

    for option in reversed(_EXECUTION_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def given_on_command_line(context: click.Context, fields: dict[str, tuple[str, object]]) -> dict:
    """The configuration fields whose option the user typed: ``{field: value}`` for each ``field: (option, value)``
    whose option did not come from its default (a dict option counts when it is not empty)."""
    given = {}
    for field, (option, value) in fields.items():
        source = context.get_parameter_source(option) if option in context.params else None
        if source not in (None, click.core.ParameterSource.DEFAULT) or (isinstance(value, dict) and value):
            given[field] = value
    return given


def experiment_options(defaults):
    """The options every experiment command shares, with defaults read from its configuration ``defaults``:
    --data, --models, --seeds, --epochs, --batch-size, --learning-rate, --train-limit, --test-limit, --precision,
    --out, --overwrite, the loader options and the execution options (--resume, --workers, --threads, --ray).
    --epochs, --batch-size and --learning-rate not given stay None: the dataset's recipe, else the configuration's
    ``general_defaults`` (``TrainingConfig.resolve_training``); --models not given stays None: the dataset's
    recommended models, else the configuration's ``default_models`` (``TrainingConfig.resolve_models``).

    The command receives ``common``: ``{config field: (option name, parsed value)}`` for the shared fields (to merge
    with its own and hand to ``running.run_from_command``), and ``out``, ``overwrite``, ``resume``, ``execution``.
    """

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, data_path, models, seeds, epochs, batch_size, learning_rate, train_limit, test_limit,
                    precision, loader_options, **kwargs):  # fmt: skip
            common = {
                "data_path": ("data_path", data_path),
                "models": ("models", models),
                "seeds": ("seeds", seeds),
                "epochs": ("epochs", epochs),
                "batch_size": ("batch_size", batch_size),
                "learning_rate": ("learning_rate", learning_rate),
                "train_limit": ("train_limit", train_limit),
                "test_limit": ("test_limit", test_limit),
                "precision": ("precision", precision),
                "loader_options": ("loader_options", loader_options),
            }
            return command(*args, common=common, **kwargs)

        options = [
            click.option("--data", "data_path", type=click.Path(exists=True, resolve_path=True), default=None,
                         help="File or folder to read the dataset from (instead of searching the usual places)."),
            click.option("--models", default=None, callback=names_callback,
                         help="Model names, comma-separated (see `spatiallab params`) [default: the dataset's "
                              "recommended models (`spatiallab datasets NAME`), else "
                              f"{','.join(defaults.default_models)}]."),
            click.option("--seeds", default=str(len(defaults.seeds)), show_default=True,
                         callback=lambda context, param, value: parse_seeds(value),
                         help="A count (3 -> seeds 0,1,2) or a list (0,5,9)."),
            click.option("--epochs", default=None, type=click.IntRange(min=1),
                         help="Epochs per cell [default: the dataset's recommended recipe (`spatiallab datasets "
                              f"NAME`), else {defaults.general_defaults['epochs']}]."),
            click.option("--batch-size", default=None, type=click.IntRange(min=1),
                         help="Training batch size [default: the dataset's recipe, else "
                              f"{defaults.general_defaults['batch_size']}]."),
            click.option("--learning-rate", default=None, type=click.FloatRange(min=0, min_open=True),
                         help="Adam's learning rate [default: the dataset's recipe, else "
                              f"{defaults.general_defaults['learning_rate']:g}]."),
            click.option("--train-limit", type=click.IntRange(min=1), default=None,
                         help="Use only N train images, drawn per class in proportion to its share (fixed seed, "
                              "recorded)."),
            click.option("--test-limit", type=click.IntRange(min=1), default=None,
                         help="Use only N test images, drawn per class in proportion to its share (fixed seed, "
                              "recorded)."),
            click.option("--precision", type=click.Choice(["auto", "float32", "bfloat16"]), default=defaults.precision,
                         show_default=True, help="auto: mixed bfloat16 where the CPU computes it fast (AMX-BF16 or "
                         "AVX512-BF16, TensorFlow), else float32. Logits and loss stay float32."),
            click.option("--out", type=click.Path(file_okay=False), default=None,
                         help="Run folder [default: a new folder under runs/ named after the dataset and the time]."),
            click.option("--overwrite", is_flag=True, help="Replace an earlier run in --out (everything it wrote)."),
        ]  # fmt: skip
        decorated = with_execution_options(with_loader_options(wrapper))
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorate
