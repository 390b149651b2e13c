"""MedMNIST v2: one ``.npz`` per task (pathmnist, dermamnist, ...), any of the sizes 28/64/128/224.

Format (Jiancheng Yang et al., "MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D biomedical image
classification", Scientific Data 10, 41, 2023; https://medmnist.com): keys ``train_images``, ``train_labels``,
``val_images``, ``val_labels``, ``test_images``, ``test_labels``. Images are uint8 (N, H, W) greyscale or
(N, H, W, 3) RGB; labels are uint8 (N, 1) for single-label tasks and (N, L) 0/1 columns for the multi-label
ChestMNIST. The 3-D tasks (``*mnist3d``) hold volumes (N, D, H, W) and are not images.

The official train and test splits are used; ``val`` is not needed (nothing here selects models) and is left out,
its size recorded in ``info``. Class names are not stored in the files, so classes are named "0", "1", ...
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from spatiallab.data.dataset import Dataset
from spatiallab.data.errors import DataFormatError, DatasetNotFoundError
from spatiallab.data.registry import register_dataset

REQUIRED_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
HOW_TO_GET = (
    "--data PATH to a MedMNIST .npz, e.g. pathmnist.npz or dermamnist_64.npz from https://zenodo.org/records/10519652 "
    "(or `pip install medmnist` and download once, which fills ~/.medmnist)"
)


def default_folder() -> Path:
    """Where the ``medmnist`` package downloads its files: ``~/.medmnist``."""
    return Path(os.path.expanduser("~")) / ".medmnist"


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
    if array.shape != (count,) or not np.issubdtype(array.dtype, np.integer) or (count and array.min() < 0):
        raise DataFormatError(path, f"{key} as {count} non-negative integers", f"{array.dtype} {array.shape}")
    return array.astype(np.int64)


def read_medmnist(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a MedMNIST npz (pickles refused) and check it.

    Returns:
        ``{"x_train", "y_train", "x_test", "y_test"}``: uint8 (N, H, W, C) with C in {1, 3} and int64 (N,),
        plus ``"n_val"`` (the size of the unused validation split, 0 when absent).

    Raises:
        FileNotFoundError: no such file. DataFormatError: not an npz, missing keys, 3-D volumes, multi-label
        labels, or images and labels of different lengths.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in REQUIRED_KEYS if key not in archive.files]
            if missing:
                raise DataFormatError(path, f"MedMNIST keys {list(REQUIRED_KEYS)}", f"keys {sorted(archive.files)}")
            arrays = {key: archive[key] for key in REQUIRED_KEYS}
            n_val = len(archive["val_labels"]) if "val_labels" in archive.files else 0
    except (DataFormatError, FileNotFoundError):
        raise
    except (ValueError, OSError, EOFError) as error:
        raise DataFormatError(path, "a NumPy .npz archive (MedMNIST)", f"unreadable content ({error})") from None
    result = {"n_val": n_val}
    for part in ("train", "test"):
        images = _images(path, arrays[f"{part}_images"], f"{part}_images")
        result[f"x_{part}"] = images
        result[f"y_{part}"] = _labels(path, arrays[f"{part}_labels"], f"{part}_labels", len(images))
    return result


@register_dataset(
    "medmnist",
    "a MedMNIST v2 2-D task .npz (any flag and size: 28-224 px, 1 or 3 channels; classes from the labels)",
    locate=locate,
    how_to_get=HOW_TO_GET,
)
def load_medmnist(path: str | os.PathLike | None = None) -> Dataset:
    """A MedMNIST task as a ``Dataset``: x uint8 (N, H, W, C), y int64 (N,), the official train/test split.

    The number of classes is the largest label + 1 over both splits (MedMNIST labels run 0..K-1).

    Raises:
        DataFormatError: see ``read_medmnist``.
        DatasetNotFoundError: no path given and not exactly one ``.npz`` in ``~/.medmnist``.
    """
    source = Path(path) if path is not None else None
    if source is None:
        found = locate()
        if found is None or not found.endswith(".npz"):
            where = f"several files in {found}; pick one with --data" if found else f"no .npz in {default_folder()}"
            raise DatasetNotFoundError(f"MedMNIST: {where}. {HOW_TO_GET}.")
        source = Path(found)
    arrays = read_medmnist(source)
    num_classes = int(max(arrays["y_train"].max(initial=0), arrays["y_test"].max(initial=0))) + 1
    return Dataset(
        name="medmnist",
        x_train=arrays["x_train"], y_train=arrays["y_train"], x_test=arrays["x_test"], y_test=arrays["y_test"],
        class_names=[str(index) for index in range(num_classes)],
        source=str(source),
        info={
            "task": source.stem,
            "n_val_unused": arrays["n_val"],
            "licence": "per task, see medmnist.com (CC BY 4.0 or CC BY-NC 4.0)",
            "reference": "Yang et al. 2023, Scientific Data 10:41",
        },
    )
