"""``spatiallab run``: the shuffled-pixels grid, its table and its verdict."""

from __future__ import annotations

import datetime

import click

from spatiallab.cli.options import parse_names, parse_seeds, with_loader_options

# The lesson's own claims, shown beside our measurements (MNIST only).
LESSON_CLAIMS = {
    "dense": ("~97.8%", "~97.8%"),
    "cnn": ("~99.2%", "~random"),
}


def _cell(row: dict | None) -> str:
    if row is None:
        return "-"
    if row["ci_low"] is None:
        return f"{100 * row['mean']:.1f}"
    return f"{100 * row['mean']:.1f} [{100 * row['ci_low']:.1f}, {100 * row['ci_high']:.1f}]"


def print_summary(console, record: dict) -> None:
    """The lesson's comparison table with our numbers, then the verdict."""
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    summary = {(row["dataset"], row["model"], row["condition"]): row for row in record["summary"]}
    reliance = {(row["dataset"], row["model"]): row for row in record["reliance"]}
    for dataset in record["config"]["datasets"]:
        is_mnist = dataset.startswith("mnist")
        table = Table(title=f"Shuffled-pixels experiment on {dataset} (test accuracy %, mean [95% CI] over seeds)")
        for column in ("model", "params", "original", "shuffled", "spatial reliance (points)", "train s/cell"):
            table.add_column(column, justify="left" if column == "model" else "right")
        if is_mnist:
            table.add_column("lesson said")
        for model in record["config"]["models"]:
            rel = reliance.get((dataset, model))
            if rel is None:
                reliance_text = "-"
            elif rel["ci_low"] is None:
                reliance_text = f"{100 * rel['difference']:+.1f}"
            else:
                reliance_text = (
                    f"{100 * rel['difference']:+.1f} [{100 * rel['ci_low']:+.1f}, {100 * rel['ci_high']:+.1f}]"
                )
            row = [
                model,
                f"{record['models'][dataset][model]['params']:,}",
                _cell(summary.get((dataset, model, "original"))),
                _cell(summary.get((dataset, model, "shuffled"))),
                reliance_text,
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
    console.print("[bold]Verdict (from the numbers above):[/bold]")
    for line in record["verdict"]:
        console.print(Padding(Text(line), (0, 0, 0, 2)))  # Text: no markup; Padding: wrapped lines stay indented


@click.command()
@click.option("--dataset", "datasets", default="mnist-sample", show_default=True,
              help="Dataset name(s), comma-separated (see `spatiallab datasets`).")
@click.option("--data", "data_path", type=click.Path(exists=True), default=None,
              help="File or folder to read the dataset from (instead of searching the usual places).")
@click.option("--models", default="dense,cnn", show_default=True, help="Model names, comma-separated.")
@click.option("--seeds", default="3", show_default=True, help="A count (3 -> seeds 0,1,2) or a list (0,5,9).")
@click.option("--epochs", default=3, show_default=True, type=click.IntRange(min=1),
              help="Epochs per cell (3 keeps the default run near two minutes on 2 CPU cores).")
@click.option("--conditions", default="original,shuffled", show_default=True, help="original and/or shuffled.")
@click.option("--permutation-seed", default=0, show_default=True, type=int, help="Seed of the pixel permutation.")
@click.option("--train-limit", type=click.IntRange(min=1), default=None, help="Use only the first N train images.")
@click.option("--test-limit", type=click.IntRange(min=1), default=None, help="Use only the first N test images.")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Run folder [default: runs/<dataset>-<time>].")
@click.option("--overwrite", is_flag=True, help="Replace the results of an earlier run in --out.")
@click.option("--no-report", is_flag=True, help="Skip the HTML report (build it later with `spatiallab report`).")
@with_loader_options
def run(datasets, data_path, models, seeds, epochs, conditions, permutation_seed, train_limit, test_limit,
        loader_options, out, overwrite, no_report):
    """Train every model on original and shuffled pixels over several seeds; print the table and the verdict."""
    from rich.console import Console

    from spatiallab import experiment
    from spatiallab.cli.progress import make_progress

    config = experiment.GridConfig(
        datasets=parse_names(datasets),
        models=parse_names(models),
        conditions=parse_names(conditions),
        seeds=parse_seeds(seeds),
        epochs=epochs,
        permutation_seed=permutation_seed,
        data_path=data_path,
        loader_options=loader_options,
        train_limit=train_limit,
        test_limit=test_limit,
    )
    if out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = f"runs/{'+'.join(config.datasets)}-{stamp}"
    console = Console(stderr=True)
    progress = make_progress(console)
    try:
        record = experiment.run_grid(config, out, progress=progress, overwrite=overwrite)
    except (ValueError, OSError) as error:  # bad data or options, an earlier run in --out, a folder not writable
        raise click.ClickException(str(error)) from None
    finally:
        progress.stop()
    table_console = Console()
    if not table_console.is_terminal:
        table_console.width = 120  # logs and pipes: wide enough that the table does not wrap
    print_summary(table_console, record)
    click.echo(f"Results: {out}/results.json and results.csv")
    if not no_report:
        from spatiallab.report import build_report

        click.echo(f"Report: {build_report(out)}")
