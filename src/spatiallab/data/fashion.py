"""Fashion-MNIST: Zalando's 28x28 greyscale clothing images, read from the original IDX files.

Fashion-MNIST (Han Xiao, Kashif Rasul, Roland Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
Machine Learning Algorithms", arXiv:1708.07747, 2017; MIT licence) uses MNIST's file names and IDX format, so the
MNIST readers in ``spatiallab.data.mnist`` read it unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

from spatiallab.data.dataset import Dataset
from spatiallab.data.errors import DatasetNotFoundError
from spatiallab.data.mnist import read_mnist_path
from spatiallab.data.registry import register_dataset

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# Debian's package ``dataset-fashion-mnist`` installs the four original gzipped IDX files here.
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
HOW_TO_GET = (
    "apt install dataset-fashion-mnist (Debian/Ubuntu), or keras.datasets.fashion_mnist.load_data() once "
    "(fills Keras's cache), or --data PATH to a folder of the four IDX files or a Keras-style npz"
)


def keras_cache_folder() -> Path:
    """Where ``keras.datasets.fashion_mnist`` keeps its four .gz files: ``$KERAS_HOME/datasets/fashion-mnist``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "fashion-mnist"


def candidate_folders() -> list[Path]:
    """The places searched when no path is given, in order: Debian's package folder, then Keras's cache."""
    return [DEBIAN_FOLDER, keras_cache_folder()]


def locate() -> str | None:
    """The first candidate folder holding Fashion-MNIST's training images, or None."""
    for folder in candidate_folders():
        if any((folder / name).is_file() for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte")):
            return str(folder)
    return None


@register_dataset(
    "fashion-mnist",
    "Fashion-MNIST, Zalando's clothing images (60,000 train + 10,000 test, 28x28x1, 10 classes)",
    locate=locate,
    how_to_get=HOW_TO_GET,
)
def load_fashion_mnist(path: str | os.PathLike | None = None) -> Dataset:
    """Full Fashion-MNIST as a ``Dataset``: x uint8 (N, 28, 28, 1), y int64 (N,), the official train/test split.

    Args:
        path: a folder of the four IDX files (gzipped or raw) or a Keras-style npz; None searches
            ``candidate_folders()``.

    Raises:
        DataFormatError: a file is not Fashion-MNIST-shaped IDX/npz data.
        DatasetNotFoundError: no path given and no copy in the usual places.
    """
    source = path if path is not None else locate()
    if source is None:
        searched = ", ".join(str(folder) for folder in candidate_folders())
        raise DatasetNotFoundError(f"Fashion-MNIST not found (searched {searched}). Get it: {HOW_TO_GET}.")
    (x_train, y_train), (x_test, y_test) = read_mnist_path(source)
    return Dataset(
        name="fashion-mnist",
        x_train=x_train[..., None],
        y_train=y_train,
        x_test=x_test[..., None],
        y_test=y_test,
        class_names=CLASS_NAMES,
        source=str(source),
        info={"licence": "MIT", "reference": "Xiao, Rasul, Vollgraf 2017, arXiv:1708.07747"},
    )
