"""``spatiallab datasets``: every registered dataset, where a copy was found and its size, or what a first use would
download (and how much); with NAME, that dataset loaded and described."""

from __future__ import annotations

from pathlib import Path

import click

from spatiallab.cli.options import loader_flag, with_loader_options


def _shape_text(described: dict) -> str:
    """``10,000 train + 2,000 test, 28x28x1, 10 classes`` (images) or ``4,000 train + 1,000 test, float32
    sequences of 40 positions x 1 channel, 10 classes``."""
    shape = described["input_shape"]
    if described["kind"] == "sequence":
        example = f"{described['dtype']} sequences of {shape[0]} positions x {shape[1]} channel(s)"
    else:
        example = "x".join(map(str, shape))
    counts = f"{described['n_train']:,} train + {described['n_test']:,} test"
    return f"{counts}, {example}, {described['num_classes']} classes"


def recipe_text(entry) -> str | None:
    """``recommended training: epochs 200, batch_size 100, learning_rate 0.01 (source)``, or None without a recipe
    (``entry`` is a ``data.registry.DatasetEntry``)."""
    if entry.recipe is None:
        return None
    settings = ", ".join(f"{key} {value:g}" for key, value in entry.recipe.settings.items())
    return f"recommended training: {settings} ({entry.recipe.source})"


def models_text(entry) -> str | None:
    """``recommended models: linear, mlp1d, cnn1d (trained when --models is not given)``, or None when the dataset
    recommends none (``entry`` is a ``data.registry.DatasetEntry``)."""
    if not entry.models:
        return None
    return f"recommended models: {', '.join(entry.models)} (trained when --models is not given)"


def _inspect(name: str, path: str | None, options: dict) -> dict:
    from spatiallab import data

    return data.load(name, path, **options).describe()


def disk_size(path: str | Path) -> int:
    """Bytes on disk of a file, or of every file under a folder (symbolic links not followed)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file() and not item.is_symlink())


def where_text(entry, download: bool) -> str:
    """The listing's last column: where the copy is and its size, what a first use would download, or how to get it;
    for a generated dataset, the package that generates it.

    ``entry`` is a ``data.registry.DatasetEntry``; ``download`` False says the download is turned off.
    """
    from rich.markup import escape

    from spatiallab.data import sources
    from spatiallab.data.download import format_size

    found = entry.locate()
    if found is not None and entry.generator is not None:  # found is where the generator is installed, not data
        return f"[green]generated offline[/green] by the {entry.generator} package (installed at {escape(found)})"
    if found is not None:
        renamed = sources.renamed_in_cache(found)  # shown under the name it is published as, e.g. Keras's CIFAR-10
        shown = f"{renamed.published_name} (cached as {found})" if renamed else found
        return f"[green]{escape(shown)}[/green] ({format_size(disk_size(found))})"
    missing = entry.downloads()
    how_to_get = escape(entry.how_to_get)
    if not missing:
        return f"[yellow]not found[/yellow]: {how_to_get}"
    total = format_size(sum(source.size for source in missing))
    if not all(source.size_exact for source in missing):
        total = f"up to {total}"
    hosts = sorted({source.url.split("/")[2] for source in missing})
    files = ", ".join(source.filename for source in missing)
    if not download:
        otherwise = f"{total} from {', '.join(hosts)} otherwise"
        return f"[yellow]not found[/yellow] (downloading is off; {otherwise}): {how_to_get}"
    return f"[yellow]not found[/yellow]: first use downloads {total} from {', '.join(hosts)} ({files})"


@click.command()
@click.argument("name", required=False)
@click.option("--data", "data_path", type=click.Path(exists=True), default=None,
              help="With NAME: the file or folder to load instead of the usual places.")
@click.option("--inspect", is_flag=True,
              help="Load every dataset that was found and show its real shape and classes (slower).")
@with_loader_options
def datasets(name, data_path, inspect, loader_options):
    """List the datasets; with NAME (and --data PATH), load that one and describe it.

    Without --inspect the shape and classes are the ones each dataset declares; nothing is loaded or downloaded.
    With NAME, a dataset with no local copy is downloaded (checked against its published checksum) unless
    --no-download is given, and the loader options (--image-size ... --skip-unreadable, those of `spatiallab run`)
    load it as a run would.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from spatiallab import data

    console = Console()
    download = loader_options.get("download", True)
    if name is not None:
        try:
            described = _inspect(name, data_path, loader_options)
        except data.UnknownOptionsError as error:
            raise click.BadParameter(str(error), param_hint=[loader_flag(key) for key in error.options]) from None
        except (ValueError, OSError) as error:
            raise click.ClickException(str(error)) from None
        entry = data.get_entry(name)
        origin = ": " if entry.generator else " from "  # a generated dataset's source says how it was generated
        console.print(f"[bold]{name}[/bold]{origin}{escape(described['source'])}: {_shape_text(described)}",
                      soft_wrap=True)  # fmt: skip
        console.print(f"classes: {', '.join(described['class_names'])}", soft_wrap=True)
        if described["split"]:
            console.print(f"train/test split made here: {described['split']}", soft_wrap=True)
        for line in filter(None, [recipe_text(entry), models_text(entry)]):
            console.print(line, markup=False, soft_wrap=True)
        return
    table = Table(title="Datasets (spatiallab run --dataset NAME [--data PATH])")
    table.add_column("name", style="bold")
    table.add_column("shape and classes", overflow="fold")
    table.add_column("found at (size) / what a first use downloads / how to get it", overflow="fold")
    for dataset_name in data.dataset_names():
        entry = data.get_entry(dataset_name)
        shape = entry.description
        if inspect and entry.locate() is not None:
            try:
                shape = _shape_text(_inspect(dataset_name, None, {"download": False}))
            except (ValueError, OSError) as error:
                shape = f"[red]failed to load: {error}[/red]"
        table.add_row(dataset_name, shape, where_text(entry, download))
    console.print(table)
