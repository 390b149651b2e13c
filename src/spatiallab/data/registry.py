"""The dataset registry: one name per dataset, each with a loader, a way to say where it was found, and the training
settings and models it recommends, if any."""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable

from spatiallab.data.dataset import Dataset
from spatiallab.data.sources import Source


@dataclasses.dataclass(frozen=True)
class TrainingRecipe:
    """Training settings a dataset recommends (its benchmark's own recipe), used where the user gives none.

    Attributes:
        settings: values of ``experiments.TrainingConfig`` fields, e.g. ``{"epochs": 200, "batch_size": 100}``.
        source: where the recipe comes from (paper, package), recorded with every run that uses it.
    """

    settings: dict
    source: str


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset.

    load(path, **options) -> Dataset: ``path`` is the user's ``--data`` (None: search the usual places).
    locate() -> str | None: where a copy was found without loading it, or None.
    how_to_get: one line telling the user how to obtain the data when ``locate`` finds nothing.
    downloads() -> [Source, ...]: the files a load without a path would download now (those not in the cache yet);
        empty when nothing is missing, or when the dataset is never downloaded (or needs an option to say which).
    recipe: the training settings the dataset recommends, or None (the experiments' general defaults apply).
    models: the models the dataset recommends (its benchmark's reference models), trained when the user names none;
        empty: the experiment's default models.
    generator: the package that generates the data, for a dataset made rather than read from files (``locate``
        then says where that package is installed, not where data are); None for data read from files.
    kind: the ``Dataset.kind`` every load gives ("image" or "sequence"), so that an experiment can refuse data it
        cannot use before loading them; None where an option or the file decides (known once loaded).
    """

    name: str
    description: str
    load: Callable[..., Dataset]
    locate: Callable[[], str | None]
    how_to_get: str
    downloads: Callable[[], list[Source]] = list
    recipe: TrainingRecipe | None = None
    models: tuple[str, ...] = ()
    generator: str | None = None
    kind: str | None = "image"


_REGISTRY: dict[str, DatasetEntry] = {}


def register_dataset(
    name: str, description: str, locate: Callable[[], str | None], how_to_get: str,
    downloads: Callable[[], list[Source]] = list, recipe: TrainingRecipe | None = None, models: tuple[str, ...] = (),
    generator: str | None = None, kind: str | None = "image",
):  # fmt: skip
    """Decorator registering ``load(path=None, **options) -> Dataset`` under ``name``.

    A loader that can download takes ``download: bool = True`` and passes ``downloads`` (see ``DatasetEntry``);
    ``recipe`` and ``models`` are the dataset's recommended training settings and models; ``generator`` the package
    that makes a generated dataset; ``kind`` the kind of data every load gives, where the name alone decides it.
    """

    def decorate(load):
        _REGISTRY[name] = DatasetEntry(name, description, load, locate, how_to_get, downloads, recipe, tuple(models),
                                       generator, kind)  # fmt: skip
        return load

    return decorate


def dataset_names() -> list[str]:
    return list(_REGISTRY)


def get_entry(name: str) -> DatasetEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(_REGISTRY)}")
    return _REGISTRY[name]


class UnknownOptionsError(ValueError):
    """Loader options a dataset does not take; ``options`` lists them (sorted)."""

    def __init__(self, message: str, options: list[str]):
        super().__init__(message)
        self.options = options


def check_options(name: str, options) -> None:
    """Refuse loader options the dataset does not take, reading the loader's signature only (nothing is loaded);
    ``download`` is taken by every dataset (see ``load``).

    Raises:
        ValueError: unknown dataset name. UnknownOptionsError (a ValueError): an option it does not take, naming
        the ones it takes.
    """
    parameters = inspect.signature(get_entry(name).load).parameters
    accepted = [parameter for parameter in parameters if parameter not in ("path", "download")]
    unknown = sorted(set(options) - set(accepted) - {"download"})
    if unknown:
        raise UnknownOptionsError(f"dataset {name!r} does not take option(s) {unknown}; it takes {accepted or 'none'}",
                                  unknown)  # fmt: skip


def load(name: str, path: str | os.PathLike | None = None, download: bool = True, **options) -> Dataset:
    """Load a registered dataset: channels-last uint8 images or (N, L, C) sequences, with integer labels.

    Args:
        name: a registered name (see ``dataset_names()``), e.g. "mnist-sample", "mnist".
        path: a file or folder to read instead of searching the usual places.
        download: False forbids the network: a dataset with no local copy raises ``DatasetNotFoundError`` saying
            where to put one. Every dataset takes it; those that never download ignore it.
        **options: loader-specific options (e.g. ``image_size`` for folders).

    Returns:
        A ``Dataset``: x_* uint8 (N, H, W, C) images or (N, L, C) sequences (see ``Dataset.kind``), y_* int64 (N,).

    Raises:
        ValueError: unknown name, or an option this dataset does not take. DataFormatError: a file is not in the
        expected format. DatasetNotFoundError: no copy found and none downloaded (turned off, or the download
        failed); the message says where to put one. ChecksumError (a ValueError): a download's content is not the
        published file (nothing kept).
    """
    entry = get_entry(name)
    check_options(name, options)
    if "download" in inspect.signature(entry.load).parameters:
        options["download"] = download
    return entry.load(path, **options)
