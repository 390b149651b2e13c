"""``spatiallab compare RUN_DIR...``: runs of one corpus of executables on several views side by side (1D byte
sequence, 2D byte plot, 2D head tile), with 1-NN, and the verdict on whether the 2D layout helps."""

from __future__ import annotations

import click


def print_comparison(console, comparison: dict) -> None:
    """A line per incomplete run (how far it got, how to finish it), one table per corpus (and header mask) with
    the seeds each model finished ("3 / 2": on original / shuffled positions, where they differ), then the
    verdict."""
    from rich.table import Table
    from rich.text import Text

    from spatiallab import stats
    from spatiallab.cli.running import print_verdict
    from spatiallab.experiments.layouts import NEAREST_NEIGHBOUR, finished_seeds

    level = stats.confidence_label(comparison["confidence"])

    def estimate(row: dict | None, value: str = "mean", signed: bool = False) -> str:
        return "-" if row is None else stats.format_estimate(row[value], row["ci_low"], row["ci_high"], signed)

    def seeds(row: dict) -> str:
        original, shuffled = finished_seeds(row)
        return str(original) if original == shuffled else f"{original} / {shuffled}"

    for run in comparison["incomplete"]:
        console.print(Text(f"{run['run']}: {run['finished']} of {run['cells']} cells finished; continue with "
                           f"`spatiallab run --resume {run['run']}`"))  # fmt: skip
    for table in comparison["tables"]:
        mask = f", first {table['header_mask']:,} bytes zeroed" if table["header_mask"] else ", no header mask"
        shown = Table(title=f"{table['corpus']}{mask}: {table['n_train']:,} train / {table['n_test']:,} test files, "
                      f"chance {100 * table['chance']:.1f}% (test accuracy %, mean [{level} CI] over seeds)",
                      caption="seeds: those finished, on original / shuffled positions where they differ; reliance: "
                      "original - shuffled, paired over the seeds both finished")  # fmt: skip
        for column in ("layout", "view", "model", "epochs", "seeds", "original", "shuffled positions",
                       "reliance (points)"):  # fmt: skip
            shown.add_column(column, justify="left" if column in ("layout", "view", "model") else "right")
        for row in table["rows"]:
            if row["model"] == NEAREST_NEIGHBOUR:
                accuracy = "-" if row["accuracy"] is None else f"{100 * row['accuracy']:.1f}"
                shown.add_row(row["layout"], row["view"], row["model"], "-", "-", accuracy, accuracy,
                              "0 (position-blind)" if row["accuracy"] is not None else row["note"])  # fmt: skip
            else:
                shown.add_row(row["layout"], row["view"], row["model"], str(row["epochs"]), seeds(row),
                              estimate(row["original"]), estimate(row["shuffled"]),
                              estimate(row["reliance"], "difference", signed=True))  # fmt: skip
        console.print(shown)
    print_verdict(console, comparison["verdict"], "None: no model has finished cells on original positions to "
                  "compare.")


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--no-nearest-neighbour", is_flag=True,
              help="Skip the 1-NN baseline (it reads each run's data file again and searches every training file).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Also write the comparison (tables and verdict) to this JSON file.")
def compare(run_dirs, no_nearest_neighbour, out):
    """Put runs of `spatiallab run --dataset binaries --view ...` of one corpus side by side: one table per corpus
    (and header mask) with each model on each view, original and shuffled positions, 1-NN, and a verdict on whether
    the 2D layout (byte plot, head tile) beats the 1D byte sequence, from the intervals.

    \b
    spatiallab run --dataset binaries --data X.npz --view x64 --models dense,cnn --out runs/x64
    spatiallab run --dataset binaries --data X.npz --view head4096 --models dense,cnn --out runs/head
    spatiallab run --dataset binaries --data X.npz --view bytes4096 --models bytes1d --out runs/bytes
    spatiallab compare runs/x64 runs/head runs/bytes
    """
    from spatiallab import runs
    from spatiallab.cli.running import result_console
    from spatiallab.experiments.layouts import compare_runs

    try:
        comparison = compare_runs(list(run_dirs), nearest_neighbour=not no_nearest_neighbour)
    except (ValueError, OSError) as error:  # not such a run, runs that do not fit together, a data file unreadable
        raise click.ClickException(str(error)) from None
    print_comparison(result_console(), comparison)
    if out is not None:
        try:
            click.echo(f"Comparison: {runs.write_json(out, comparison)}")
        except OSError as error:
            raise click.ClickException(f"could not write {out}: {error.strerror or error}") from None
