"""``spatiallab datasets``: every registered dataset, where a copy was found (or how to get one), shape and classes."""

from __future__ import annotations

import click


def _shape_text(described: dict) -> str:
    height, width, channels = described["image_shape"]
    return (
        f"{described['n_train']:,} train + {described['n_test']:,} test, {height}x{width}x{channels}, "
        f"{described['num_classes']} classes"
    )


def _inspect(name: str, path: str | None, options: dict) -> dict:
    from spatiallab import data

    return data.load(name, path, **options).describe()


@click.command()
@click.argument("name", required=False)
@click.option("--data", "data_path", type=click.Path(exists=True), default=None,
              help="With NAME: the file or folder to load instead of the usual places.")
@click.option("--inspect", is_flag=True,
              help="Load every dataset that was found and show its real shape and classes (slower).")
@click.option("--image-size", type=click.IntRange(min=4), default=None, help="With NAME: resize (image folders).")
@click.option("--channels", type=click.Choice(["1", "3"]), default=None, help="With NAME: channels (image folders).")
def datasets(name, data_path, inspect, image_size, channels):
    """List the datasets; with NAME (and --data PATH), load that one and describe it.

    Without --inspect the shape and classes are the ones each dataset declares; nothing is loaded.
    """
    from rich.console import Console
    from rich.table import Table

    from spatiallab import data

    console = Console()
    if name is not None:
        options = {"image_size": image_size, "channels": None if channels is None else int(channels)}
        try:
            described = _inspect(name, data_path, {key: value for key, value in options.items() if value is not None})
        except (ValueError, OSError) as error:
            raise click.ClickException(str(error)) from None
        console.print(f"[bold]{name}[/bold] from {described['source']}: {_shape_text(described)}", soft_wrap=True)
        console.print(f"classes: {', '.join(described['class_names'])}", soft_wrap=True)
        if described["split"]:
            console.print(f"train/test split made here: {described['split']}", soft_wrap=True)
        return
    table = Table(title="Datasets (spatiallab run --dataset NAME [--data PATH])")
    table.add_column("name", style="bold")
    table.add_column("shape and classes", overflow="fold")
    table.add_column("found at / how to get it", overflow="fold")
    for dataset_name in data.dataset_names():
        entry = data.get_entry(dataset_name)
        found = entry.locate()
        shape = entry.description
        if inspect and found is not None:
            try:
                shape = _shape_text(_inspect(dataset_name, None, {}))
            except (ValueError, OSError) as error:
                shape = f"[red]failed to load: {error}[/red]"
        where = f"[green]{found}[/green]" if found else f"[yellow]not found[/yellow]: {entry.how_to_get}"
        table.add_row(dataset_name, shape, where)
    console.print(table)
