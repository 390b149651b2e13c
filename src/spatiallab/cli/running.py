"""Running an experiment from a command: its configuration from the options or from the run being resumed, the
progress display, and what an interrupted run tells the user."""

from __future__ import annotations

import contextlib
import re
import signal
import sys
from pathlib import Path

import click

from spatiallab.cli.options import given_on_command_line

PIPE_WIDTH = 120  # columns of tables in logs and pipes: wide enough that the widest table (a run's) does not wrap
_PADDED_LINE_END = re.compile(r" +\n")


class TrimmedLines:
    """A text stream that writes to ``stream`` without the spaces before each line end: rich pads a centred title
    and each wrapped line to the console's width, which a terminal hides but a pipe or log keeps. Spaces that end a
    write are held until the next write shows whether a line end follows them."""

    def __init__(self, stream):
        self.stream = stream
        self._spaces = ""

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        trimmed = _PADDED_LINE_END.sub("\n", self._spaces + text)
        kept = trimmed.rstrip(" ")
        self._spaces = trimmed[len(kept):]
        self.stream.write(kept)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def result_console():
    """The console for tables, on stdout: a terminal's own width; in logs and pipes ``PIPE_WIDTH`` columns, so that
    tables do not wrap, and no line ends in spaces (``TrimmedLines``)."""
    from rich.console import Console

    console = Console()
    if console.is_terminal:
        return console
    return Console(file=TrimmedLines(sys.stdout), width=PIPE_WIDTH)


def run_caption(record: dict, dataset: str) -> str:
    """The line under a result table saying what produced it: the data (with its train and test sizes), the Keras
    version and backend, and the precision the cells trained in, e.g. ``mnist-sample: 10,000 train / 2,000 test
    images; Keras 3.15.1, tensorflow 2.20.0 backend; precision bfloat16``."""
    described = record.get("datasets", {}).get(dataset, {})
    versions = record.get("versions", {})
    precision = record.get("precision", {}).get("used", record["config"].get("precision"))
    examples = "sequences" if described.get("kind") == "sequence" else "images"
    sizes = f"{described.get('n_train', 0):,} train / {described.get('n_test', 0):,} test {examples}"
    backend = f"{versions.get('backend', '?')} {versions.get('backend_version', '')}".strip()
    return f"{dataset}: {sizes}; Keras {versions.get('keras', '?')}, {backend} backend; precision {precision}"


def print_verdict(console, lines: list[str], no_verdict: str) -> None:
    """The verdict under a heading, each sentence indented (wrapped lines too), printed as plain text;
    ``no_verdict`` (the report's own words) when there is no line yet."""
    from rich.padding import Padding
    from rich.text import Text

    console.print("[bold]Verdict (from the numbers above):[/bold]")
    for line in lines or [no_verdict]:
        console.print(Padding(Text(line), (0, 0, 0, 2)))


def _pin_threads(run_dir: str, execution):
    """The execution of a resumed run with the recorded per-cell thread count (the numbers depend on it).

    Raises:
        ValueError: --threads given with another count than the run used.
    """
    import dataclasses

    from spatiallab import runs

    recorded = runs.RunFolder(run_dir).results.get("execution", {}).get("threads_per_cell")
    if execution.threads is not None and execution.threads != recorded:
        raise ValueError(f"{run_dir}: the run trained its cells with {recorded or 'the backend default'} thread(s) "
                         f"each; --threads {execution.threads} would change the numbers of the rest")  # fmt: skip
    return dataclasses.replace(execution, threads=recorded)


def run_from_command(context: click.Context, experiment_class, config_class, fields: dict, *, out: str | None,
                     resume: str | None, overwrite: bool, execution, out_prefix: str):  # fmt: skip
    """Build the configuration, run the experiment into its folder, and return ``(record, run_dir)``.

    Args:
        fields: ``{config field: (option name, parsed value)}`` for every option that sets a config field.
        out, resume, overwrite: the --out, --resume and --overwrite options.
        execution: a ``runner.Execution`` (--workers, --threads, --ray).
        out_prefix: the run folder's name before its time stamp when --out is not given.

    Raises:
        click.BadParameter: a configuration value no run can use (``experiments.ConfigError``), naming its option;
        refused before the backend is imported. click.ClickException: bad data, a folder that cannot be written, a
        contradiction with the run to resume. SystemExit(130) on Ctrl-C, after saying how to resume; SIGTERM's
        SystemExit is re-raised after the same message.
    """
    from rich.console import Console

    from spatiallab import experiments
    from spatiallab.cli.progress import make_progress

    try:
        if resume is not None:
            if out is not None and out != resume:
                raise ValueError(f"--resume {resume} continues that folder; --out {out} names another")
            if overwrite:
                raise ValueError("--resume keeps the finished cells; --overwrite would delete them: give one")
            config = experiments.resume_config(resume, experiment_class, config_class,
                                               given_on_command_line(context, fields))  # fmt: skip
            run_dir = resume
            execution = _pin_threads(resume, execution)
        else:
            config = config_class(**{field: value for field, (_, value) in fields.items()})
            run_dir = out or experiments.default_run_dir(out_prefix)
        progress = make_progress(Console(stderr=True))  # it prints the precision once the data are loaded
        try:
            record = experiments.run_experiment(
                experiment_class(config), run_dir, resume=resume is not None, overwrite=overwrite,
                execution=execution, progress=progress,
            )
        except (KeyboardInterrupt, SystemExit) as interrupt:
            with _second_interrupt_ignored():
                if Path(run_dir, "results.json").is_file():
                    command = context.command_path.split()[-1]
                    click.echo(f"\n{_interrupted(run_dir)}; continue with:\n  spatiallab {command} --resume "
                               f"{run_dir}", err=True)  # fmt: skip
            if isinstance(interrupt, KeyboardInterrupt):
                raise SystemExit(130) from None  # 128 + SIGINT: the shell's convention for Ctrl-C
            raise
    except experiments.ConfigError as error:
        raise bad_option(context, fields, error) from None
    except (ValueError, OSError, RuntimeError) as error:  # bad data, an earlier run, a folder not writable
        raise click.ClickException(str(error)) from None
    return record, run_dir


@contextlib.contextmanager
def _second_interrupt_ignored():
    """SIGINT ignored while the block runs, then handled as before: the run is already stopping, and a second Ctrl-C
    (or ``timeout`` signalling the process group after the process) must not cut the resume message short."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted(run_dir) -> str:
    """What an interrupted run has saved in ``run_dir``: its finished cells, or only its settings."""
    from spatiallab import runs

    finished = len(runs.RunFolder(run_dir).results["cells"])
    if finished == 0:
        return f"Interrupted before any cell finished; {run_dir} holds the run's settings"
    return f"Interrupted. {finished} finished cell{'s' if finished > 1 else ''} saved in {run_dir}"


def bad_option(context: click.Context, fields: dict, error) -> click.BadParameter:
    """The usage error (exit code 2) for an ``experiments.ConfigError``, naming the option that set its field:
    ``fields`` maps each config field to its option's parameter name; a loader option is named by its key."""
    from spatiallab.cli.options import loader_flag

    if error.field == "loader_options" and error.keys:
        return click.BadParameter(str(error), ctx=context, param_hint=[loader_flag(key) for key in error.keys])
    name = fields.get(error.field, (None,))[0]
    param = next((param for param in context.command.params if param.name == name), None)
    return click.BadParameter(str(error), ctx=context, param=param)
