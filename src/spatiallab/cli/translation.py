"""``spatiallab translation``: accuracy versus test-image shift for each model (the translation-invariance row)."""

from __future__ import annotations

import click

from spatiallab.cli.options import experiment_options
from spatiallab.cli.report import no_report_option, write_report
from spatiallab.experiments.translation import TranslationConfig

DEFAULTS = TranslationConfig()  # each default is declared once, in the configuration


def print_curve(console, record: dict) -> None:
    """One row per model: parameters, then mean accuracy [95% CI] at each shift distance, then the drop at the
    largest distance (points, paired by seed); then the verdict: per model, what the drop says of its translation
    invariance beside the lesson's claim (or that it is not distinguishable from chance on unshifted images), and
    the failed cells."""
    from rich.table import Table

    from spatiallab import stats
    from spatiallab.cli.running import print_verdict, run_caption

    level = stats.confidence_label(record["config"].get("confidence", stats.CONFIDENCE))
    distances = sorted({row["distance"] for row in record["curve"]})
    if distances:
        table = Table(
            title=f"Translation on {record['dataset']['name']}: test accuracy vs shift (pixels; mean over the 4 "
            f"directions, %, mean [{level} CI] over seeds)",
            caption=run_caption(record, record["dataset"]["name"]),
        )
        table.add_column("model")
        table.add_column("params", justify="right")
        for distance in distances:
            table.add_column(f"{distance} px", justify="right")
        table.add_column(f"drop at {distances[-1]} px (points)", justify="right")
        for model in record["config"]["models"]:
            rows = {row["distance"]: row for row in record["curve"] if row["model"] == model}
            if not rows:
                continue  # every cell of this model failed (listed below)
            cells = []
            for distance in distances:
                row = rows[distance]
                cells.append(stats.format_estimate(row["mean"], row["ci_low"], row["ci_high"]))
            last = rows[distances[-1]]
            drop = stats.format_estimate(last["drop"], last["drop_ci_low"], last["drop_ci_high"], signed=True)
            table.add_row(model, f"{record['models'][model]['params']:,}", *cells, drop)
        console.print(table)
        console.print(f"Chance (most frequent test class): {100 * record['chance']:.1f}%")
    else:
        console.print("No model finished a cell; nothing to show.")
    if record.get("verdict"):  # none only without a finished or failed cell, or in a run from before the verdict
        print_verdict(console, record["verdict"], "")


@click.command()
@click.option("--dataset", default=DEFAULTS.dataset, show_default=True,
              help="Dataset name (see `spatiallab datasets`).")
@click.option("--max-shift", default=DEFAULTS.max_shift, show_default=True, type=int,
              help="Largest shift in pixels (each of down/up/right/left): 1 to the image's height and width - 1.")
@no_report_option
@experiment_options(DEFAULTS)
@click.pass_context
def translation(context, dataset, max_shift, no_report, common, out, overwrite, resume, execution):
    """Train on original images, test on images shifted 0..MAX_SHIFT pixels (zero fill); print accuracy vs shift and
    write the HTML report."""
    from spatiallab.cli.running import result_console, run_from_command
    from spatiallab.experiments import Translation

    fields = {**common, "dataset": ("dataset", dataset), "max_shift": ("max_shift", max_shift)}
    record, out = run_from_command(context, Translation, TranslationConfig, fields, out=out, resume=resume,
                                   overwrite=overwrite, execution=execution, out_prefix=f"translation-{dataset}")
    print_curve(result_console(), record)
    click.echo(f"Results: {out}/results.json and results.csv")
    if not no_report:
        write_report(out)
