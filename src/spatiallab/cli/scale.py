"""``spatiallab scale``: accuracy versus block size for shuffles within and between blocks (k x k pixels of images,
k positions of sequences), per model."""

from __future__ import annotations

import click

from spatiallab.cli.options import experiment_options, names_callback, parse_names
from spatiallab.cli.report import no_report_option, write_report
from spatiallab.experiments.scale import ScaleConfig, condition_name

DEFAULTS = ScaleConfig()  # each default is declared once, in the configuration


def parse_block_sizes(context, param, value: str | None) -> list[int] | None:
    """The --block-sizes callback: ``"2,4,7,14"`` -> ``[2, 4, 7, 14]``; None (the option not given) stays None:
    every size but 1 that tiles the image (``scale.default_block_sizes``).

    Raises:
        click.BadParameter: an item that is not an integer.
    """
    if value is None:
        return None
    try:
        return [int(item) for item in parse_names(value)]
    except ValueError:
        raise click.BadParameter(f"expected block sizes such as 2,4,7,14; got {value!r}") from None


def print_curves(console, record: dict) -> None:
    """One table per model: a row per block size, with the accuracy [CI, the run's level] and the drop from the
    original (points, paired by seed) [CI, the curve's Bonferroni level] under each family, "= original" where the
    family's permutation is the identity (not trained); then the verdict."""
    from rich.table import Table

    from spatiallab import stats
    from spatiallab.cli.running import print_verdict, run_caption
    from spatiallab.report import scale as scale_report

    confidence = record["config"].get("confidence", stats.CONFIDENCE)
    level, drop_level = stats.confidence_label(confidence), stats.confidence_label(record.get("drop_confidence",
                                                                                                confidence))
    identity = record["permutations"].get("identity", [])
    families = record["config"]["families"]
    for model in record["config"]["models"]:
        original = next((row for row in record["summary"] if (row["model"], row["condition"]) == (model, "original")),
                        None)  # fmt: skip
        rows = {(row["family"], row["block_size"]): row for row in record["curve"] if row["model"] == model}
        if original is None and not rows:
            continue  # every cell of this model failed (listed in the verdict)
        table = Table(title=f"Scale on {record['dataset']['name']}: {model} ({record['models'][model]['params']:,} "
                            f"params); test accuracy %, mean [{level} CI] over seeds; drop from the original in "
                            f"points, paired by seed [{drop_level} CI: Bonferroni over the curve]",
                      caption=run_caption(record, record["dataset"]["name"]))  # fmt: skip
        table.add_column("block size k", justify="right")
        for family in families:
            table.add_column(f"{family}: accuracy", justify="right")
            table.add_column(f"{family}: drop", justify="right")
        if original is not None:
            accuracy = stats.format_estimate(original["mean"], original["ci_low"], original["ci_high"])
            table.add_row("original", *[value for _ in families for value in (accuracy, "")])
        for size in sorted(record["config"]["block_sizes"]):
            cells = []
            for family in families:
                row = rows.get((family, size))
                if row is None:
                    cells += ["= original", ""] if condition_name(family, size) in identity else ["-", "-"]
                    continue
                cells += [stats.format_estimate(row["mean"], row["ci_low"], row["ci_high"]),
                          stats.format_estimate(row["drop"], row["drop_ci_low"], row["drop_ci_high"], signed=True)]
            table.add_row(str(size), *cells)
        console.print(table)
    console.print(f"Chance (most frequent test class): {100 * record['chance']:.1f}%")
    print_verdict(console, record["verdict"], scale_report.no_verdict(record))


@click.command()
@click.option("--dataset", default=DEFAULTS.dataset, show_default=True,
              help="Dataset name (see `spatiallab datasets`).")
@click.option("--block-sizes", default=None,
              callback=parse_block_sizes,
              help="Block sizes k, comma-separated; each must divide the image height and width (k x k blocks), or "
                   "a sequence's length (blocks of k positions). A family's identity (within 1, between the whole "
                   "image) is the original condition and is not trained again (a note says so); sizes that are the "
                   "identity for every family are refused [default: every such k but 1, the whole included: "
                   "2,4,7,14,28 on 28x28 images, 2,4,5,8,10,20,40 on MNIST-1D's 40 positions; within the whole is "
                   "the lesson's full shuffle, one condition more per model than the sizes between].")
@click.option("--families", default=",".join(DEFAULTS.families), show_default=True,
              callback=names_callback,
              help="within (pixels or positions shuffled inside each block) and/or between (blocks moved as "
                   "wholes).")
@click.option("--permutation-seed", default=DEFAULTS.permutation_seed, show_default=True, type=int,
              help="Seed of the block permutations.")
@no_report_option
@experiment_options(DEFAULTS)
@click.pass_context
def scale(context, dataset, block_sizes, families, permutation_seed, no_report, common, out, overwrite, resume,
          execution):  # fmt: skip
    """Train every model on images shuffled within and between k x k blocks (sequences: blocks of k positions); print
    accuracy vs k and the verdict, and write the HTML report."""
    from spatiallab.cli.running import result_console, run_from_command
    from spatiallab.experiments import Scale

    fields = {
        **common,
        "dataset": ("dataset", dataset),
        "block_sizes": ("block_sizes", block_sizes),
        "families": ("families", families),
        "permutation_seed": ("permutation_seed", permutation_seed),
    }
    record, out = run_from_command(context, Scale, ScaleConfig, fields, out=out, resume=resume, overwrite=overwrite,
                                   execution=execution, out_prefix=f"scale-{dataset}")  # fmt: skip
    print_curves(result_console(), record)
    click.echo(f"Results: {out}/results.json and results.csv")
    if not no_report:
        write_report(out)
