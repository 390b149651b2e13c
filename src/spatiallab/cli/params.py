"""``spatiallab params``: parameter counts computed from the definitions, printed at once (no backend), then
checked against Keras's ``count_params`` (which imports the backend: seconds) unless --no-check."""

from __future__ import annotations

import click

KERAS_CHECK_LIMIT = 100_000_000  # parameters: 400 MB of float32 weights, the largest model built to check a count


def parse_input_shape(context, param, value: str) -> tuple[int, ...]:
    """The --input callback: ``"28,28,1"`` or ``"32x32x3"`` -> ``(28, 28, 1)``, one example's channels-last shape
    of the two kinds the models and layers take: (L, C) sequences or (H, W, C) images.

    Raises:
        click.BadParameter (click names --input): not 2 or 3 whole sizes >= 1 (an empty size included).
    """
    try:
        shape = tuple(int(part) for part in value.lower().replace("x", ",").split(","))
    except ValueError:
        raise click.BadParameter(f"expected a shape such as 28,28,1 or 32x32x3; got {value!r}") from None
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise click.BadParameter(f"expected 2 or 3 sizes >= 1, L,C of sequences (e.g. 40,1) or H,W,C of images "
                                 f"(e.g. 28,28,1); got {value!r}")  # fmt: skip
    return shape


def _print_rows(console, title: str, rows, first_column: str = "layer") -> None:
    """A table of analytic counts (``params.ParamRow`` rows counted from the formulas, ``keras=False``)."""
    from rich.table import Table

    table = Table(title=title)
    for column in (first_column, "input", "output", "parameters"):
        table.add_column(column, justify="left" if column == first_column else "right")
    for row in rows:
        table.add_row(row.layer, "x".join(map(str, row.input_shape)), "x".join(map(str, row.output_shape)),
                      f"{row.analytic:,}")  # fmt: skip
    console.print(table)


def _check_with_keras(console, checks: list) -> None:
    """Count every table printed again with Keras (``count_params`` of the built layers) and say that all agree.

    Args:
        checks: ``(title, count)`` per table, ``count()`` returning its rows with Keras's counts.

    Raises:
        click.ClickException: a count that disagrees (each listed above the error).
    """
    from rich.table import Table

    console.print("Checking each count against Keras's count_params (this imports the backend; --no-check skips "
                  "it) ...", highlight=False)  # fmt: skip
    checked = [(title, row) for title, count in checks for row in count()]
    wrong = [(title, row) for title, row in checked if not row.agrees]
    if wrong:
        table = Table(title="Counts that disagree with Keras")
        for column in ("table", "row", "parameters", "Keras count_params"):
            table.add_column(column, justify="right" if column.startswith(("p", "K")) else "left")
        for title, row in wrong:
            table.add_row(title, row.layer, f"{row.analytic:,}", f"[red]{row.keras:,}[/red]")
        console.print(table)
        raise click.ClickException(f"{len(wrong)} analytic count(s) disagree with Keras (listed above)")
    console.print(f"ok: Keras's count_params agrees with all {len(checked)} counts above.", highlight=False)


def _print_left_out(console, shape: tuple[int, ...]) -> None:
    """Name the registered models that take another kind of input than ``shape``, with what they take."""
    from spatiallab import models

    shown = set(models.models_for_input(shape))
    left_out = [f"{name} ({models.get_entry(name).takes})" for name in models.model_names() if name not in shown]
    if left_out:
        console.print(f"Not shown, as they take other inputs (give --input of their kind): {'; '.join(left_out)}")


@click.command()
@click.argument("layers", nargs=-1)
@click.option("--input", "shape", default="28,28,1", show_default=True, callback=parse_input_shape,
              help="Channels-last input shape: (H, W, C) images, e.g. 32,32,3, or (L, C) sequences, e.g. 40,1.")
@click.option("--classes", default=10, show_default=True, type=click.IntRange(min=2),
              help="Output classes for the whole-model totals.")
@click.option("--model", "model_name", default=None, help="One registered model's per-layer table, e.g. cnn1d.")
@click.option("--no-check", is_flag=True,
              help="Print the counts from the formulas only: skip building the layers in Keras to check them.")
def params(layers, shape, classes, model_name, no_check):
    """The lesson's parameter table and the totals of the registered models that take --input; or the per-layer
    table of one --model, or of your own LAYERS.

    LAYERS, in order: dense:UNITS[:nobias], conv:FILTERS:KERNEL[:same][:nobias], lc:FILTERS:KERNEL[:nobias],
    pool:SIZE, flatten, gap, dropout:RATE (sizes >= 1, a rate in [0, 1)).
    Examples: spatiallab params --input 32,32,3 conv:32:3 pool:2 flatten dense:10;
    spatiallab params --model mlp1d --input 40,1
    """
    from spatiallab.cli.running import result_console
    from spatiallab.models import params as counting
    from spatiallab.models import specs as arch

    console = result_console()
    if layers and model_name:
        raise click.BadParameter("give either LAYERS or --model, not both", param_hint="--model")
    checks = []  # (title, count with Keras) of each table printed, checked once all are on screen
    try:
        if model_name:
            try:  # refuses a model that does not take or fit the input (``models.check_input``)
                rows = counting.model_table(model_name, shape, classes, keras=False)
            except ValueError as error:
                raise click.BadParameter(str(error), param_hint="--model") from None
            title = f"{model_name} on {'x'.join(map(str, shape))}, {classes} classes"
            _print_rows(console, title, rows)
            checks.append((title, lambda: counting.model_table(model_name, shape, classes)))
            console.print(f"Total: {sum(row.analytic for row in rows):,} parameters")
        elif layers:
            try:
                specs = counting.parse_layers(layers, shape)
            except ValueError as error:
                raise click.BadParameter(str(error), param_hint="LAYERS") from None
            total = arch.total_params(specs, shape)
            if total > KERAS_CHECK_LIMIT:
                raise click.BadParameter(
                    f"these layers hold {total:,} parameters ({4 * total / 2**30:.1f} GiB of float32 weights); "
                    f"Keras's count is checked only up to {KERAS_CHECK_LIMIT:,}", param_hint="LAYERS")  # fmt: skip
            title = f"Your layers on {'x'.join(map(str, shape))}"
            rows = counting.layer_table(specs, shape, keras=False)
            _print_rows(console, title, rows)
            checks.append((title, lambda: counting.layer_table(specs, shape)))
            console.print(f"Total: {sum(row.analytic for row in rows):,} parameters")
        else:
            lesson = counting.lesson_table(keras=False)
            _print_rows(console, "The lesson's table", lesson)
            checks.append(("The lesson's table", counting.lesson_table))
            console.print(
                f"Dense / Conv2D: {lesson[0].analytic:,} / {lesson[1].analytic:,} = "
                f"{lesson[0].analytic / lesson[1].analytic:.0f}x fewer parameters for the convolution "
                "(one 3x3 filter per output channel, shared across all positions)"
            )
            title = f"Registered models on {'x'.join(map(str, shape))}, {classes} classes"
            _print_rows(console, title, counting.model_totals(shape, classes, keras=False), "model")
            checks.append((title, lambda: counting.model_totals(shape, classes)))
            _print_left_out(console, shape)
        if not no_check:
            _check_with_keras(console, checks)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
