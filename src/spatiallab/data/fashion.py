"""Fashion-MNIST: Zalando's 28x28 greyscale clothing images, read from the original IDX files.

Fashion-MNIST (Han Xiao, Kashif Rasul, Roland Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
Machine Learning Algorithms", arXiv:1708.07747, 2017; MIT licence) uses MNIST's file names and IDX format, so the
MNIST readers in ``spatiallab.data.mnist`` read it unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

from spatiallab.data import download as downloading
from spatiallab.data import sources
from spatiallab.data.dataset import Dataset
from spatiallab.data.mnist import read_mnist_path
from spatiallab.data.registry import register_dataset

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# Debian's package ``dataset-fashion-mnist`` installs the four original gzipped IDX files here.
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
HOW_TO_GET = (
    "downloaded on first use into Keras's cache (the four .gz files from "
    f"{sources.FASHION_MNIST[0].url.rsplit('/', 1)[0]}/), or apt install dataset-fashion-mnist (Debian/Ubuntu), or "
    "keras.datasets.fashion_mnist.load_data() once, or --data PATH to a folder of the four IDX files or a "
    "Keras-style npz"
)


def keras_cache_folder() -> Path:
    """Where ``keras.datasets.fashion_mnist`` keeps its four .gz files: ``$KERAS_HOME/datasets/fashion-mnist``."""
    return sources.keras_datasets_folder() / sources.FASHION_MNIST_FOLDER


def candidate_folders() -> list[Path]:
    """The places searched when no path is given, in order: Debian's package folder, then Keras's cache."""
    return [DEBIAN_FOLDER, keras_cache_folder()]


def _has(folder: Path, source: sources.Source) -> bool:
    return any((folder / name).is_file() for name in (source.filename, source.filename.removesuffix(".gz")))


def locate() -> str | None:
    """The first candidate folder holding all four IDX files (gzipped or raw), or None."""
    for folder in candidate_folders():
        if all(_has(folder, source) for source in sources.FASHION_MNIST):
            return str(folder)
    return None


def missing_downloads() -> list[sources.Source]:
    """The files a load without a path would download into Keras's cache now (none when a copy is found)."""
    if locate() is not None:
        return []
    return [source for source in sources.FASHION_MNIST if not _has(keras_cache_folder(), source)]


def _download(download: bool) -> Path:
    """Fill Keras's cache with the missing files, or raise ``DatasetNotFoundError`` saying where to put them."""
    folder = keras_cache_folder()
    searched = ", ".join(str(candidate) for candidate in candidate_folders())
    names = ", ".join(source.filename for source in sources.FASHION_MNIST)
    base = sources.FASHION_MNIST[0].url.rsplit("/", 1)[0]
    return downloading.fetch_missing(
        missing_downloads(), folder, download, not_found=f"Fashion-MNIST not found (searched {searched})",
        put=f"Put {names} (from {base}/) in {folder}, or apt install dataset-fashion-mnist (Debian/Ubuntu), or "
        "pass --data PATH to a folder of the four IDX files.",
    )


@register_dataset(
    "fashion-mnist",
    "Fashion-MNIST, Zalando's clothing images (60,000 train + 10,000 test, 28x28x1, 10 classes)",
    locate=locate,
    how_to_get=HOW_TO_GET,
    downloads=missing_downloads,
)
def load_fashion_mnist(path: str | os.PathLike | None = None, download: bool = True) -> Dataset:
    """Full Fashion-MNIST as a ``Dataset``: x uint8 (N, 28, 28, 1), y int64 (N,), the official train/test split.

    Args:
        path: a folder of the four IDX files (gzipped or raw) or a Keras-style npz; None searches
            ``candidate_folders()``, then downloads the missing files into Keras's cache (``sources.FASHION_MNIST``:
            Zalando's files, each checked against its published sha256).
        download: False forbids the network.

    Raises:
        DataFormatError: a file is not Fashion-MNIST-shaped IDX/npz data (not an npz, damaged or cut short: see
            ``mnist.read_keras_npz`` and ``idx.read_idx``), or a label is outside 0..9 (``Dataset`` checks).
        DatasetNotFoundError: no path given, no copy in the usual places, and downloading turned off or failed;
        the message says where to put the files. download.ChecksumError: a downloaded file is not the published one.
    """
    source = path if path is not None else locate()
    if source is None:
        source = _download(download)
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
