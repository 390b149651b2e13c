"""``spatiallab translation``: accuracy versus test-image shift for each model (the translation-invariance row)."""

from __future__ import annotations

import datetime

import click

from spatiallab.cli.options import parse_names, parse_seeds, with_loader_options


def print_curve(console, record: dict) -> None:
    """One row per model: parameters, then mean accuracy [95% CI] at each shift distance, then the drop at the
    largest distance (points, paired by seed)."""
    from rich.table import Table

    distances = sorted({row["distance"] for row in record["curve"]})
    table = Table(
        title=f"Translation on {record['dataset']['name']}: test accuracy vs shift (pixels; mean over the 4 "
        f"directions, %, mean [95% CI] over seeds)"
    )
    table.add_column("model")
    table.add_column("params", justify="right")
    for distance in distances:
        table.add_column(f"{distance} px", justify="right")
    table.add_column(f"drop at {distances[-1]} px (points)", justify="right")
    for model in record["config"]["models"]:
        rows = {row["distance"]: row for row in record["curve"] if row["model"] == model}
        cells = []
        for distance in distances:
            row = rows[distance]
            spread = "" if row["ci_low"] is None else f" [{100 * row['ci_low']:.1f}, {100 * row['ci_high']:.1f}]"
            cells.append(f"{100 * row['mean']:.1f}{spread}")
        last = rows[distances[-1]]
        drop = f"{100 * last['drop']:+.1f}"
        if last["drop_ci_low"] is not None:
            drop += f" [{100 * last['drop_ci_low']:+.1f}, {100 * last['drop_ci_high']:+.1f}]"
        table.add_row(model, f"{record['models'][model]['params']:,}", *cells, drop)
    console.print(table)
    console.print(f"Chance (most frequent test class): {100 * record['chance']:.1f}%")


@click.command()
@click.option("--dataset", default="mnist-sample", show_default=True, help="Dataset name (see `spatiallab datasets`).")
@click.option("--data", "data_path", type=click.Path(exists=True), default=None,
              help="File or folder to read the dataset from.")
@click.option("--models", default="dense,cnn,cnn_gap", show_default=True, help="Model names, comma-separated.")
@click.option("--max-shift", default=4, show_default=True, type=click.IntRange(min=0),
              help="Largest shift in pixels (each of down/up/right/left).")
@click.option("--seeds", default="3", show_default=True, help="A count (3 -> seeds 0,1,2) or a list (0,5,9).")
@click.option("--epochs", default=5, show_default=True, type=click.IntRange(min=1), help="Training epochs.")
@click.option("--train-limit", type=click.IntRange(min=1), default=None, help="Use only the first N train images.")
@click.option("--test-limit", type=click.IntRange(min=1), default=None, help="Use only the first N test images.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder [default: runs/translation-<dataset>-<time>].")
@click.option("--overwrite", is_flag=True, help="Replace an earlier translation run in --out.")
@with_loader_options
def translation(dataset, data_path, models, max_shift, seeds, epochs, train_limit, test_limit, loader_options, out,
                overwrite):
    """Train on original images, test on images shifted 0..MAX_SHIFT pixels (zero fill); print accuracy vs shift."""
    from rich.console import Console

    from spatiallab import translation as experiment
    from spatiallab.cli.progress import make_progress

    config = experiment.TranslationConfig(
        dataset=dataset,
        models=parse_names(models),
        seeds=parse_seeds(seeds),
        max_shift=max_shift,
        epochs=epochs,
        data_path=data_path,
        loader_options=loader_options,
        train_limit=train_limit,
        test_limit=test_limit,
    )
    if out is None:
        out = f"runs/translation-{dataset}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    console = Console(stderr=True)
    progress = make_progress(console)
    try:
        record = experiment.run_translation(config, out, progress=progress, overwrite=overwrite)
    except (ValueError, OSError) as error:  # bad data or options, an earlier run in --out, a folder not writable
        raise click.ClickException(str(error)) from None
    finally:
        progress.stop()
    print_curve(Console(), record)
    click.echo(f"Results: {out}/translation.json and translation.csv")
