"""``spatiallab params``: parameter counts computed from the definitions and checked against Keras."""

from __future__ import annotations

import click

KERAS_CHECK_LIMIT = 100_000_000  # parameters: 400 MB of float32 weights, the largest model built to check a count


def _shape(value: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in value.lower().replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"expected a shape such as 28,28,1 or 32x32x3; got {value!r}") from None
    if not shape or any(size < 1 for size in shape):
        raise click.BadParameter(f"expected positive sizes; got {value!r}")
    return shape


def _print_rows(console, title: str, rows, first_column: str = "layer") -> bool:
    from rich.table import Table

    table = Table(title=title)
    for column in (first_column, "input", "output", "parameters", "Keras count_params", "check"):
        table.add_column(column, justify="left" if column == first_column else "right")
    for row in rows:
        table.add_row(
            row.layer,
            "x".join(map(str, row.input_shape)),
            "x".join(map(str, row.output_shape)),
            f"{row.analytic:,}",
            f"{row.keras:,}",
            "ok" if row.agrees else "[red]MISMATCH[/red]",
        )
    console.print(table)
    return all(row.agrees for row in rows)


@click.command()
@click.argument("layers", nargs=-1)
@click.option("--input", "input_shape", default="28,28,1", show_default=True,
              help="Channels-last input shape for a layer list, e.g. 32,32,3.")
@click.option("--classes", default=10, show_default=True, type=click.IntRange(min=2),
              help="Output classes for the whole-model totals.")
def params(layers, input_shape, classes):
    """The lesson's parameter table and whole-model totals; or the table of your own LAYERS.

    LAYERS, in order: dense:UNITS[:nobias], conv:FILTERS:KERNEL[:same][:nobias], lc:FILTERS:KERNEL[:nobias],
    pool:SIZE, flatten, gap, dropout:RATE (sizes >= 1, a rate in [0, 1)).
    Example: spatiallab params --input 32,32,3 conv:32:3 pool:2 flatten dense:10
    """
    from rich.console import Console

    from spatiallab.models import params as counting
    from spatiallab.models import specs as arch

    console = Console()
    if not console.is_terminal:
        console.width = 120
    shape = _shape(input_shape)
    try:
        if layers:
            try:
                specs = counting.parse_layers(layers, shape)
            except ValueError as error:
                raise click.BadParameter(str(error), param_hint="LAYERS") from None
            total = arch.total_params(specs, shape)
            if total > KERAS_CHECK_LIMIT:
                raise click.BadParameter(
                    f"these layers hold {total:,} parameters ({4 * total / 2**30:.1f} GiB of float32 weights); "
                    f"Keras's count is checked only up to {KERAS_CHECK_LIMIT:,}", param_hint="LAYERS")  # fmt: skip
            rows = counting.layer_table(specs, shape)
            ok = _print_rows(console, f"Your layers on {'x'.join(map(str, shape))}", rows)
            console.print(f"Total: {sum(row.analytic for row in rows):,} parameters")
        else:
            lesson = counting.lesson_table()
            ok = _print_rows(console, "The lesson's table", lesson)
            console.print(
                f"Dense / Conv2D: {lesson[0].analytic:,} / {lesson[1].analytic:,} = "
                f"{lesson[0].analytic / lesson[1].analytic:.0f}x fewer parameters for the convolution "
                "(one 3x3 filter per output channel, shared across all positions)"
            )
            ok = _print_rows(console, f"Registered models on {'x'.join(map(str, shape))}, {classes} classes",
                             counting.model_totals(shape, classes), "model") and ok
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if not ok:
        raise click.ClickException("an analytic count disagrees with Keras (see MISMATCH above)")
