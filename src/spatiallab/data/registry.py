"""The dataset registry: one name per dataset, each with a loader and a way to say where it was found."""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable

from spatiallab.data.dataset import Dataset


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset.

    load(path, **options) -> Dataset: ``path`` is the user's ``--data`` (None: search the usual places).
    locate() -> str | None: where a copy was found without loading it, or None.
    how_to_get: one line telling the user how to obtain the data when ``locate`` finds nothing.
    """

    name: str
    description: str
    load: Callable[..., Dataset]
    locate: Callable[[], str | None]
    how_to_get: str


_REGISTRY: dict[str, DatasetEntry] = {}


def register_dataset(name: str, description: str, locate: Callable[[], str | None], how_to_get: str):
    """Decorator registering ``load(path=None, **options) -> Dataset`` under ``name``."""

    def decorate(load):
        _REGISTRY[name] = DatasetEntry(name, description, load, locate, how_to_get)
        return load

    return decorate


def dataset_names() -> list[str]:
    return list(_REGISTRY)


def get_entry(name: str) -> DatasetEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def load(name: str, path: str | os.PathLike | None = None, **options) -> Dataset:
    """Load a registered dataset as channels-last uint8 images with integer labels.

    Args:
        name: a registered name (see ``dataset_names()``), e.g. "mnist-sample", "mnist".
        path: a file or folder to read instead of searching the usual places.
        **options: loader-specific options (e.g. ``image_size`` for folders).

    Returns:
        A ``Dataset``: x_* uint8 (N, H, W, C), y_* int64 (N,).

    Raises:
        ValueError: unknown name, or an option this dataset does not take. DataFormatError: a file is not in the
        expected format. DatasetNotFoundError: no copy found; the message says where to put one.
    """
    entry = get_entry(name)
    accepted = [parameter for parameter in inspect.signature(entry.load).parameters if parameter != "path"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"dataset {name!r} does not take option(s) {unknown}; it takes {accepted or 'none'}")
    return entry.load(path, **options)
