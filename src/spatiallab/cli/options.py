"""Parsing of list-valued command-line options shared by several commands."""

from __future__ import annotations

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
