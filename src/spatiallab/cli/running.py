"""Running an experiment from a command: its configuration from the options or from the run being resumed, the
progress display, and what an interrupted run tells the user."""

from __future__ import annotations

from pathlib import Path

import click

from spatiallab.cli.options import given_on_command_line


def result_console():
    """The console for tables: stdout, 120 columns wide in logs and pipes so that tables do not wrap."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console.width = 120
    return console


def print_verdict(console, lines: list[str]) -> None:
    """The verdict under a heading, each sentence indented (wrapped lines too), printed as plain text."""
    from rich.padding import Padding
    from rich.text import Text

    console.print("[bold]Verdict (from the numbers above):[/bold]")
    for line in lines or ["None yet: no model has the finished cells a comparison needs (both conditions, or the "
                          "original and a permuted one)."]:  # fmt: skip
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
        click.ClickException: bad options or data, a folder that cannot be written, a contradiction with the run
        to resume. An interrupt (Ctrl-C, SIGTERM) is re-raised after saying how to resume.
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
        from spatiallab import runs, training

        console = Console(stderr=True)
        choice = training.choose_precision(config.precision)
        if resume is not None:  # the run's own choice and reason, not "asked for"
            choice = runs.RunFolder(run_dir).results.get("precision", choice)
        console.print(f"precision: {choice['used']} ({choice['reason']})", markup=False, highlight=False,
                      soft_wrap=True)  # fmt: skip
        progress = make_progress(console)
        try:
            record = experiments.run_experiment(
                experiment_class(config), run_dir, resume=resume is not None, overwrite=overwrite,
                execution=execution, progress=progress,
            )
        except (KeyboardInterrupt, SystemExit):
            if Path(run_dir, "results.json").is_file():
                command = context.command_path.split()[-1]
                click.echo(f"\nInterrupted. Finished cells are saved in {run_dir}; continue with:\n"
                           f"  spatiallab {command} --resume {run_dir}", err=True)  # fmt: skip
            raise
    except (ValueError, OSError, RuntimeError) as error:  # bad data or options, an earlier run, a folder not writable
        raise click.ClickException(str(error)) from None
    return record, run_dir
