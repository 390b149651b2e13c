"""MedMNIST v2: one ``.npz`` per task (pathmnist, dermamnist, ...), any of the sizes 28/64/128/224.

Format (Jiancheng Yang et al., "MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D biomedical image
classification", Scientific Data 10, 41, 2023; https://medmnist.com): keys ``train_images``, ``train_labels``,
``val_images``, ``val_labels``, ``test_images``, ``test_labels``. Images are uint8 (N, H, W) greyscale or
(N, H, W, 3) RGB; labels are uint8 (N, 1) for single-label tasks and (N, L) 0/1 columns for the multi-label
ChestMNIST. The 3-D tasks (``*mnist3d``) hold volumes (N, D, H, W) and are not images.

The official train and test splits are used; ``val`` is not needed (nothing here selects models) and is left out,
its size recorded in ``info``. Class names are not stored in the files, so classes are named "0", "1", ...
(``dataset.numbered_class_names``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from spatiallab.data import archives
from spatiallab.data import download as downloading
from spatiallab.data import sources
from spatiallab.data.dataset import Dataset, numbered_class_names
from spatiallab.data.errors import DataFormatError, DatasetNotFoundError
from spatiallab.data.registry import register_dataset

REQUIRED_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
HOW_TO_GET = (
    f"name a flag to download its file on first use from {sources.MEDMNIST_RECORD} into ~/.medmnist, where the "
    "medmnist package keeps them (flag='pathmnist', image_size 28, 64, 128 or 224; on the command line "
    f"--medmnist-flag, --image-size; flags: {', '.join(sources.MEDMNIST_FLAGS)}), or --data PATH to a MedMNIST .npz"
)


def default_folder() -> Path:
    """Where the ``medmnist`` package downloads its files: ``~/.medmnist``."""
    return sources.medmnist_folder()


def locate() -> str | None:
    """The only ``.npz`` in ``~/.medmnist``, or that folder when it holds several (pass one with --data), or None."""
    files = sorted(default_folder().glob("*.npz")) if default_folder().is_dir() else []
    if not files:
        return None
    return str(files[0]) if len(files) == 1 else str(default_folder())


def _images(path: Path, array: np.ndarray, key: str) -> np.ndarray:
    if array.dtype != np.uint8 or array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[-1] not in (1, 3)):
        hint = "MedMNIST 3-D volumes are not images; use a 2-D task" if array.ndim == 4 else ""
        raise DataFormatError(path, f"{key} as uint8 (N, H, W) or (N, H, W, 3)", f"{array.dtype} {array.shape}", hint)
    return array if array.ndim == 4 else array[..., np.newaxis]


def _labels(path: Path, array: np.ndarray, key: str, count: int) -> np.ndarray:
    if array.ndim == 2 and array.shape[1] > 1:
        raise DataFormatError(
            path, f"{key} with one class per image, (N,) or (N, 1)",
            f"multi-label labels {array.shape} (one 0/1 column per finding, as in ChestMNIST)",
            "The spatiallab experiments are single-label classification; use a single-label MedMNIST task",
        )
    if array.ndim == 2:
        array = array[:, 0]
    if array.shape != (count,) or not np.issubdtype(array.dtype, np.integer):
        raise DataFormatError(path, f"{key} as {count} integers", f"{array.dtype} {array.shape}")
    return array.astype(np.int64)


def read_medmnist(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a MedMNIST npz (pickles refused) and check it.

    Returns:
        ``{"x_train", "y_train", "x_test", "y_test"}``: uint8 (N, H, W, C) with C in {1, 3} and int64 (N,),
        plus ``"n_val"`` (the size of the unused validation split, 0 when absent).

    Raises:
        FileNotFoundError: no such file. DataFormatError: not a regular file, not a complete npz (see
        ``archives.open_npz``), missing keys, 3-D volumes, multi-label or non-integer labels, or images and labels
        of different lengths.
    """
    path = Path(path)
    with archives.open_npz(path, "a MedMNIST .npz archive") as archive:
        if any(key not in archive.keys for key in REQUIRED_KEYS):
            raise DataFormatError(path, f"MedMNIST keys {list(REQUIRED_KEYS)}", f"keys {archive.keys}")
        arrays = {key: archive.read(key) for key in REQUIRED_KEYS}
        n_val = len(archive.read("val_labels")) if "val_labels" in archive.keys else 0
    result = {"n_val": n_val}
    for part in ("train", "test"):
        images = _images(path, arrays[f"{part}_images"], f"{part}_images")
        result[f"x_{part}"] = images
        result[f"y_{part}"] = _labels(path, arrays[f"{part}_labels"], f"{part}_labels", len(images))
    return result


def _flag_file(flag: str, size: int, download: bool) -> Path:
    """``~/.medmnist/<flag>[_<size>].npz``, downloaded first when absent (and ``download``)."""
    item = sources.medmnist_source(flag, size)
    folder = default_folder()
    target = folder / item.filename
    if not target.is_file():
        downloading.fetch_missing(
            [item], folder, download, not_found=f"MedMNIST: no {item.filename} in {folder}",
            put=f"Put {item.filename} (from {item.url}, md5 {item.md5}) in {folder}, or pass --data PATH.",
        )
    return target


@register_dataset(
    "medmnist",
    "a MedMNIST v2 2-D task .npz (any flag and size: 28-224 px, 1 or 3 channels; classes from the labels)",
    locate=locate,
    how_to_get=HOW_TO_GET,
)
def load_medmnist(
    path: str | os.PathLike | None = None, flag: str | None = None, image_size: int | None = None,
    download: bool = True,
) -> Dataset:  # fmt: skip
    """A MedMNIST task as a ``Dataset``: x uint8 (N, H, W, C), y int64 (N,), the official train/test split.

    The number of classes is the largest label + 1 over both splits (MedMNIST labels run 0..K-1).

    Args:
        path: a MedMNIST ``.npz``. None: with ``flag``, that flag's file in ``~/.medmnist``, downloaded when absent;
            without, the only ``.npz`` there.
        flag: a 2-D single-label MedMNIST flag, e.g. "pathmnist" (``sources.MEDMNIST_FLAGS``).
        image_size: 28 (default), 64, 128 or 224 px: which of the flag's published files (not a resize).
        download: False forbids the network.

    Raises:
        ValueError: ``flag``/``image_size`` together with ``path``, ``image_size`` without ``flag``, an unknown
        or unsupported flag, or a size MedMNIST does not publish.
        DataFormatError: see ``read_medmnist``; also a negative label, or train and test images of different
        shapes (both named with the file).
        DatasetNotFoundError: no path given and no file for the flag (downloading turned off or failed), or no
        flag and not exactly one ``.npz`` in ``~/.medmnist``; the message says where to put one.
        download.ChecksumError: the downloaded file's md5 is not medmnist's (nothing kept).
    """
    source = Path(path) if path is not None else None
    if source is not None and (flag is not None or image_size is not None):
        raise ValueError(
            f"MedMNIST: expected either a path or a flag (and image size) to fetch; found both: path {path}, "
            f"flag {flag!r}, image_size {image_size!r}"
        )
    if source is None and flag is not None:
        source = _flag_file(flag, 28 if image_size is None else image_size, download)
    elif image_size is not None:
        raise ValueError(f"MedMNIST: image_size {image_size} picks one of a flag's files; expected a flag too")
    if source is None:
        found = locate()
        if found is None or not found.endswith(".npz"):
            where = f"several files in {found}; pick one with --data" if found else f"no .npz in {default_folder()}"
            raise DatasetNotFoundError(f"MedMNIST: {where}. {HOW_TO_GET}.")
        source = Path(found)
    arrays = read_medmnist(source)
    return Dataset(
        name="medmnist",
        x_train=arrays["x_train"], y_train=arrays["y_train"], x_test=arrays["x_test"], y_test=arrays["y_test"],
        class_names=numbered_class_names(source, arrays["y_train"], arrays["y_test"]),
        source=str(source),
        info={
            "task": source.stem,
            "n_val_unused": arrays["n_val"],
            "licence": "per task, see medmnist.com (CC BY 4.0 or CC BY-NC 4.0)",
            "reference": "Yang et al. 2023, Scientific Data 10:41",
        },
    )
