"""``spatiallab run``: the shuffled-pixels grid, its table and its verdict."""

from __future__ import annotations

import click

from spatiallab.cli.options import experiment_options, parse_names
from spatiallab.experiments.shuffled_pixels import GridConfig

DEFAULTS = GridConfig()  # each default is declared once, in the configuration

# The lesson's own claims, shown beside our measurements (MNIST only).
LESSON_CLAIMS = {
    "dense": ("~97.8%", "~97.8%"),
    "cnn": ("~99.2%", "~random"),
}


def print_summary(console, record: dict) -> None:
    """The lesson's comparison table with our numbers, then the verdict."""
    from rich.table import Table

    from spatiallab import stats
    from spatiallab.cli.running import print_verdict

    def estimate(row: dict | None, value: str = "mean", signed: bool = False) -> str:
        return "-" if row is None else stats.format_estimate(row[value], row["ci_low"], row["ci_high"], signed)

    level = stats.confidence_label(record["config"].get("confidence", stats.CONFIDENCE))
    summary = {(row["dataset"], row["model"], row["condition"]): row for row in record["summary"]}
    reliance = {(row["dataset"], row["model"]): row for row in record["reliance"]}
    for dataset in record["config"]["datasets"]:
        is_mnist = dataset.startswith("mnist")
        table = Table(title=f"Shuffled-pixels experiment on {dataset} (test accuracy %, mean [{level} CI] over seeds)")
        for column in ("model", "params", "original", "shuffled", "spatial reliance (points)", "train s/cell"):
            table.add_column(column, justify="left" if column == "model" else "right")
        if is_mnist:
            table.add_column("lesson said")
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
            if is_mnist:
                claim = LESSON_CLAIMS.get(model)
                row.append(f"{claim[0]} -> {claim[1]}" if claim else "-")
            table.add_row(*row)
        console.print(table)
    print_verdict(console, record["verdict"])


@click.command()
@click.option("--dataset", "datasets", default=",".join(DEFAULTS.datasets), show_default=True,
              help="Dataset name(s), comma-separated (see `spatiallab datasets`).")
@click.option("--conditions", default=",".join(DEFAULTS.conditions), show_default=True,
              help="original and/or shuffled.")
@click.option("--permutation-seed", default=DEFAULTS.permutation_seed, show_default=True, type=int,
              help="Seed of the pixel permutation.")
@click.option("--no-report", is_flag=True, help="Skip the HTML report (build it later with `spatiallab report`).")
@experiment_options(DEFAULTS)
@click.pass_context
def run(context, datasets, conditions, permutation_seed, no_report, common, out, overwrite, resume, execution):
    """Train every model on original and shuffled pixels over several seeds; print the table and the verdict."""
    from spatiallab.cli.running import result_console, run_from_command
    from spatiallab.experiments import ShuffledPixels

    fields = {
        **common,
        "datasets": ("datasets", parse_names(datasets)),
        "conditions": ("conditions", parse_names(conditions)),
        "permutation_seed": ("permutation_seed", permutation_seed),
    }
    record, out = run_from_command(context, ShuffledPixels, GridConfig, fields, out=out, resume=resume,
                                   overwrite=overwrite, execution=execution,
                                   out_prefix="+".join(fields["datasets"][1]))  # fmt: skip
    print_summary(result_console(), record)
    click.echo(f"Results: {out}/results.json and results.csv")
    if not no_report:
        from spatiallab.report import build_report

        click.echo(f"Report: {build_report(out)}")
