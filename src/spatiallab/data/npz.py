"""Any Keras-style ``.npz`` (``x_train, y_train, x_test, y_test``), the layout ``keras.datasets.*.load_data()``
returns, saved with ``numpy.savez``. Images of any size; channels-last unless the file is clearly channels-first.

Layout rule: x of shape (N, H, W) gains a channel axis; (N, H, W, C) is kept when C is 1, 3 or 4; (N, C, H, W) with
C in {1, 3, 4} and a last axis that is not is moved to channels-last (recorded in ``info["layout"]``). Labels of
shape (N, 1) are squeezed. Classes are named "0".."K-1", K = the largest label + 1 (at most
``dataset.MAX_NUMBERED_CLASSES``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from spatiallab.data.dataset import Dataset, numbered_class_names
from spatiallab.data.errors import DataFormatError, DatasetNotFoundError
from spatiallab.data.mnist import read_keras_npz
from spatiallab.data.registry import register_dataset

CHANNEL_COUNTS = (1, 3, 4)
HOW_TO_GET = "--data PATH to an .npz with x_train, y_train, x_test, y_test (e.g. numpy.savez of keras load_data())"


def to_channels_last(path: Path, images: np.ndarray, key: str) -> tuple[np.ndarray, str]:
    """(N, H, W) / (N, H, W, C) / (N, C, H, W) uint8 -> (N, H, W, C) and the layout found.

    Raises:
        DataFormatError: a 4-D array with no axis of 1, 3 or 4 channels at either end.
    """
    if images.ndim == 3:
        return images[..., np.newaxis], "N,H,W"
    if images.shape[-1] in CHANNEL_COUNTS:
        return images, "N,H,W,C"
    if images.shape[1] in CHANNEL_COUNTS:
        return np.ascontiguousarray(images.transpose(0, 2, 3, 1)), "N,C,H,W (converted to channels-last)"
    raise DataFormatError(
        path, f"{key} as (N, H, W) or (N, H, W, C) with C in {CHANNEL_COUNTS}", f"shape {images.shape}"
    )


@register_dataset(
    "npz",
    "a Keras-style .npz with x_train/y_train/x_test/y_test (any image size and channel count)",
    locate=lambda: None,
    how_to_get=HOW_TO_GET,
)
def load_npz(path: str | os.PathLike | None = None) -> Dataset:
    """A Keras-style npz as a ``Dataset``: x uint8 (N, H, W, C), y int64 (N,), the file's own train/test split.

    Raises:
        DatasetNotFoundError: no path. FileNotFoundError: no such file. DataFormatError: not a regular file, not a
        complete npz (see ``mnist.read_keras_npz``), missing keys, non-uint8 images, non-integer or negative labels
        (or a largest label above ``dataset.MAX_NUMBERED_CLASSES``), train and test images of different shapes.
    """
    if path is None:
        raise DatasetNotFoundError(f"the npz dataset needs a path: {HOW_TO_GET}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file (expected a Keras-style .npz)")
    (x_train, y_train), (x_test, y_test) = read_keras_npz(path, image_shape=None)
    x_train, layout = to_channels_last(path, x_train, "x_train")
    x_test, _ = to_channels_last(path, x_test, "x_test")
    return Dataset(
        name="npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
        class_names=numbered_class_names(path, y_train, y_test), source=str(path), info={"layout": layout},
    )
