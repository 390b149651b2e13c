"""``spatiallab report RUN_DIR``: rebuild a run's HTML report and figures from its files (no retraining), for every
experiment; and the report step that ends ``spatiallab run``, ``translation`` and ``scale`` (``--no-report``)."""

from __future__ import annotations

import click

no_report_option = click.option("--no-report", is_flag=True,
                                 help="Skip the HTML report (build it later with `spatiallab report`).")  # fmt: skip


def write_report(run_dir, output=None) -> None:
    """Build the run's report and print where it is.

    Raises:
        click.ClickException: no run there, a run of a kind without a report, or files not as documented.
    """
    from spatiallab.data.errors import DataFormatError
    from spatiallab.report import build_report

    try:
        path = build_report(run_dir, output)
    except (FileNotFoundError, ValueError, DataFormatError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Report: {path}")


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Where to write the HTML [default: RUN_DIR/report.html]. PNGs always go to RUN_DIR/figures/.")
def report(run_dir, output):
    """Write RUN_DIR/report.html (self-contained, images embedded) and RUN_DIR/figures/*.png from the run's files:
    shuffled-pixels, translation and scale runs."""
    write_report(run_dir, output)
