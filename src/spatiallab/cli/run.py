"""``spatiallab run``: the shuffled-pixels grid, its table and its verdict."""

from __future__ import annotations

import click

from spatiallab.cli.options import experiment_options, names_callback
from spatiallab.cli.report import no_report_option, write_report
from spatiallab.experiments import lesson, verdict
from spatiallab.experiments.shuffled_pixels import GridConfig

DEFAULTS = GridConfig()  # each default is declared once, in the configuration


def print_summary(console, record: dict) -> None:
    """The lesson's comparison table with our numbers, then the verdict."""
    from rich.table import Table

    from spatiallab import stats
    from spatiallab.cli.running import print_verdict, run_caption

    def estimate(row: dict | None, value: str = "mean", signed: bool = False) -> str:
        return "-" if row is None else stats.format_estimate(row[value], row["ci_low"], row["ci_high"], signed)

    level = stats.confidence_label(record["config"].get("confidence", stats.CONFIDENCE))
    summary = {(row["dataset"], row["model"], row["condition"]): row for row in record["summary"]}
    reliance = {(row["dataset"], row["model"]): row for row in record["reliance"]}
    for dataset in record["config"]["datasets"]:
        published = lesson.claim_source(dataset) is not None  # the lesson's numbers (MNIST), MNIST-1D's README's
        described = record.get("datasets", {}).get(dataset, {})
        info = described.get("info", {})
        shown = ", ".join(filter(None, [info.get("view") and f"view {info['view']}", "header_mask" in info
                                        and f"first {info['header_mask']['bytes']:,} bytes zeroed"]))  # fmt: skip
        units = verdict.position_words(described)["units"]  # pixels of images, positions of sequences
        table = Table(title=f"Shuffled-{units} experiment on {dataset}{f' ({shown})' if shown else ''} (test "
                      f"accuracy %, mean [{level} CI] over seeds)",
                      caption=f"{run_caption(record, dataset)}\ntrain s/cell: seconds to train one cell (one model, "
                              f"condition and seed), {' / '.join(record['config']['conditions'])}")  # fmt: skip
        for column in ("model", "params", "original", "shuffled", "spatial reliance (points)", "train s/cell"):
            table.add_column(column, justify="left" if column == "model" else "right")
        if published:
            table.add_column(lesson.claim_header([dataset]))
        for model in record["config"]["models"]:
            row = [
                model,
                f"{record['models'][dataset][model]['params']:,}",
                estimate(summary.get((dataset, model, "original"))),
                estimate(summary.get((dataset, model, "shuffled"))),
                estimate(reliance.get((dataset, model)), "difference", signed=True),
                " / ".join(
                    f"{summary[(dataset, model, condition)]['mean_train_seconds']:.1f}"
                    for condition in record["config"]["conditions"]
                    if (dataset, model, condition) in summary
                ),
            ]
            if published:
                row.append(lesson.shuffled_pixels_claim(dataset, model))
            table.add_row(*row)
        console.print(table)
    print_verdict(console, record["verdict"], "No model has both conditions yet.")  # the report's words


@click.command()
@click.option("--dataset", "datasets", default=",".join(DEFAULTS.datasets), show_default=True,
              callback=names_callback, help="Dataset name(s), comma-separated (see `spatiallab datasets`).")
@click.option("--conditions", default=",".join(DEFAULTS.conditions), show_default=True,
              callback=names_callback, help="original and/or shuffled.")
@click.option("--permutation-seed", default=DEFAULTS.permutation_seed, show_default=True, type=int,
              help="Seed of the pixel permutation.")
@no_report_option
@experiment_options(DEFAULTS)
@click.pass_context
def run(context, datasets, conditions, permutation_seed, no_report, common, out, overwrite, resume, execution):
    """Train every model on original and shuffled pixels over several seeds; print the table and the verdict."""
    from spatiallab.cli.running import result_console, run_from_command
    from spatiallab.experiments import ShuffledPixels

    fields = {
        **common,
        "datasets": ("datasets", datasets),
        "conditions": ("conditions", conditions),
        "permutation_seed": ("permutation_seed", permutation_seed),
    }
    record, out = run_from_command(context, ShuffledPixels, GridConfig, fields, out=out, resume=resume,
                                   overwrite=overwrite, execution=execution,
                                   out_prefix="+".join(fields["datasets"][1]))  # fmt: skip
    print_summary(result_console(), record)
    click.echo(f"Results: {out}/results.json and results.csv")
    if not no_report:
        write_report(out)
