"""Command-line options shared by several commands, and their parsing."""

from __future__ import annotations

import functools

import click


def parse_names(value: str) -> list[str]:
    """``"dense,cnn"`` -> ``["dense", "cnn"]`` (spaces ignored, empty items dropped)."""
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_seeds(value: str) -> list[int]:
    """``"3"`` -> seeds 0, 1, 2 (a count); ``"0,5,9"`` -> exactly those seeds.

    Raises:
        click.BadParameter: not an integer count >= 1 or a comma-separated list of integers.
    """
    try:
        items = [int(item) for item in parse_names(value)]
    except ValueError:
        raise click.BadParameter(f"expected a count such as 3 or a list such as 0,1,2; got {value!r}") from None
    if len(items) == 1 and "," not in value:
        if items[0] < 1:
            raise click.BadParameter(f"expected a count >= 1; got {items[0]}")
        return list(range(items[0]))
    return items


_LOADER_OPTIONS = [
    click.option("--image-size", type=click.IntRange(min=4), default=None,
                 help="Resize images to this square size (image-folder datasets)."),
    click.option("--channels", type=click.Choice(["1", "3"]), default=None,
                 help="Convert images to this many channels (image-folder datasets)."),
    click.option("--view", default=None, help="Image view of a binaries npz: x64 (whole file, resized) or head4096."),
    click.option("--min-class-size", type=click.IntRange(min=1), default=None,
                 help="Leave out classes with fewer files (binaries datasets; 100 keeps the PE corpus's 3 large ones)."),
]  # fmt: skip


def with_loader_options(command):
    """Add the dataset loaders' options to a command and hand them to it as one dict, ``loader_options``.

    Only the options the user gave are in the dict, so each loader receives just what it was asked for.
    """

    @functools.wraps(command)
    def wrapper(*args, image_size, channels, view, min_class_size, **kwargs):
        given = {
            "image_size": image_size,
            "channels": None if channels is None else int(channels),
            "view": view,
            "min_class_size": min_class_size,
        }
        return command(*args, loader_options={k: v for k, v in given.items() if v is not None}, **kwargs)

    for option in reversed(_LOADER_OPTIONS):
        wrapper = option(wrapper)
    return wrapper
