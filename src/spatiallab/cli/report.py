"""``spatiallab report RUN_DIR``: rebuild a run's HTML report and figures from its files (no retraining)."""

from __future__ import annotations

import click


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Where to write the HTML [default: RUN_DIR/report.html]. PNGs always go to RUN_DIR/figures/.")
def report(run_dir, output):
    """Write RUN_DIR/report.html (self-contained, images embedded) and RUN_DIR/figures/*.png from the run's files."""
    from spatiallab.data.errors import DataFormatError
    from spatiallab.report import build_report

    try:
        path = build_report(run_dir, output)
    except (FileNotFoundError, ValueError, DataFormatError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Report: {path}")
