"""MNIST: the bundled stratified sample, and the full set from a file, Keras's cache or a checked download.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, licensed CC BY-SA 3.0.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np

from spatiallab.data import archives
from spatiallab.data import download as downloading
from spatiallab.data import sources
from spatiallab.data.dataset import Dataset
from spatiallab.data.errors import DataFormatError, DatasetNotFoundError
from spatiallab.data.idx import read_idx
from spatiallab.data.registry import register_dataset

KERAS_URL = sources.MNIST.url  # Keras's own file and its published sha256 (see sources.py)
KERAS_SHA256 = sources.MNIST.sha256
CLASS_NAMES = [str(digit) for digit in range(10)]
SAMPLE_FILE = "mnist_sample.npz"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
# Both namings seen in the wild: LeCun's (train-images-idx3-ubyte) and the dotted one (train-images.idx3-ubyte).
IDX_STEMS = {
    "x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}

MNIST_SPLITS = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def keras_cache_path() -> Path:
    """Where Keras keeps ``mnist.npz``: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    return sources.keras_datasets_folder() / sources.MNIST.filename


def sample_path() -> Path:
    """The bundled sample's file inside the installed package."""
    return Path(str(resources.files("spatiallab.data") / "sample" / SAMPLE_FILE))


def _check_split(path, x: np.ndarray, y: np.ndarray, part: str, image_shape: tuple[int, ...] | None) -> None:
    if image_shape is None:  # any (N, H, W) or (N, H, W, C)
        if x.dtype != np.uint8 or x.ndim not in (3, 4):
            raise DataFormatError(path, f"x_{part} as uint8 (N, H, W) or (N, H, W, C)", f"{x.dtype} {tuple(x.shape)}")
    elif x.dtype != np.uint8 or x.ndim != 1 + len(image_shape) or x.shape[1:] != image_shape:
        raise DataFormatError(
            path, f"x_{part} as uint8 (N, {', '.join(map(str, image_shape))})", f"{x.dtype} {tuple(x.shape)}"
        )
    if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
        raise DataFormatError(path, f"y_{part} as integers of shape ({len(x)},)", f"{y.dtype} {tuple(y.shape)}")


def read_keras_npz(path: str | os.PathLike, image_shape: tuple[int, ...] | None = (28, 28)) -> MNIST_SPLITS:
    """Read a Keras-layout npz (``x_train, y_train, x_test, y_test``) without allowing pickles.

    Args:
        path: the ``.npz`` file.
        image_shape: the shape every image must have, e.g. (28, 28); None accepts any (H, W) or (H, W, C)
            (train and test must still agree). Labels of shape (N, 1), as Keras's CIFAR loaders return, are
            squeezed to (N,).

    Raises:
        FileNotFoundError: no such file. DataFormatError: not a regular file, not an npz (the message says what the
        file is: an HTML page, text, ...), a damaged or cut-short archive, missing keys, pickled objects, wrong
        dtypes or shapes, or train and test images of different shapes (see ``archives.open_npz``).
    """
    with archives.open_npz(path, f"a NumPy .npz archive of {', '.join(NPZ_KEYS)}") as archive:
        if any(key not in archive.keys for key in NPZ_KEYS):
            raise DataFormatError(
                path, f"keys {list(NPZ_KEYS)} (uint8 images, integer labels)", f"keys {archive.keys}"
            )
        arrays = {key: archive.read(key) for key in NPZ_KEYS}
    for part in ("train", "test"):
        labels = arrays[f"y_{part}"]
        if labels.ndim == 2 and labels.shape[1] == 1:
            arrays[f"y_{part}"] = labels[:, 0]
        _check_split(path, arrays[f"x_{part}"], arrays[f"y_{part}"], part, image_shape)
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DataFormatError(
            path, "train and test images of one shape",
            f"x_train {arrays['x_train'].shape[1:]} and x_test {arrays['x_test'].shape[1:]}",
        )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _find_idx_file(folder: Path, stems: tuple[str, ...]) -> Path:
    for stem in stems:
        for suffix in ("", ".gz"):
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    raise DataFormatError(
        folder, f"a file named {stems[0]} (or .gz)", f"files {sorted(p.name for p in folder.iterdir())}"
    )


def read_idx_folder(folder: str | os.PathLike, image_shape: tuple[int, ...] = (28, 28)) -> MNIST_SPLITS:
    """Read the four IDX files of MNIST or Fashion-MNIST from one folder (each gzipped or raw).

    Raises:
        DataFormatError: a file is missing, not IDX, or images and labels disagree.
    """
    folder = Path(folder)
    arrays = {}
    for key, stems in IDX_STEMS.items():
        path = _find_idx_file(folder, stems)
        arrays[key] = (path, read_idx(path))
    for part in ("train", "test"):
        (x_path, x), (y_path, y) = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if len(y) != len(x):
            raise DataFormatError(y_path, f"{len(x)} labels to match {x_path.name}", f"{len(y)} labels")
        _check_split(x_path, x, y, part, image_shape)
    return (arrays["x_train"][1], arrays["y_train"][1]), (arrays["x_test"][1], arrays["y_test"][1])


def read_mnist_path(path: str | os.PathLike, image_shape: tuple[int, ...] = (28, 28)) -> MNIST_SPLITS:
    """A Keras-style npz file, or a folder of the four IDX files."""
    path = Path(path)
    if path.is_dir():
        return read_idx_folder(path, image_shape)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder (expected mnist.npz or a folder of IDX files)")
    return read_keras_npz(path, image_shape)


def load_mnist(path: str | os.PathLike | None = None, download: bool = True) -> MNIST_SPLITS:
    """Full MNIST, exactly like ``keras.datasets.mnist.load_data()``.

    Sources, in order: ``path`` (a Keras-style ``mnist.npz`` or a folder of the four IDX files, gzipped or raw);
    Keras's cache ``~/.keras/datasets/mnist.npz`` (``$KERAS_HOME`` respected); a download of Keras's own file, checked
    against its sha256 and written under a temporary name before the rename (``download=False`` forbids it).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 (60000, 28, 28), uint8 (60000,), uint8 (10000, 28, 28),
        uint8 (10000,) for the real set.

    Raises:
        DataFormatError: a file is not MNIST. DatasetNotFoundError: offline (or ``download=False``, or the download
        failed) with no local copy; the message says where to put the file. download.ChecksumError (a ValueError):
        the downloaded file is not Keras's (nothing kept).
    """
    if path is not None:
        return read_mnist_path(path)
    cached = keras_cache_path()
    if cached.is_file():
        return read_keras_npz(cached)
    if download:
        try:
            downloading.download(KERAS_URL, cached, KERAS_SHA256, size=sources.MNIST.size)
            return read_keras_npz(cached)
        except OSError as error:
            reason = f"the download failed ({error})"
    else:
        reason = downloading.TURNED_OFF
    raise DatasetNotFoundError(
        f"full MNIST not found: no --data given, no {cached}, and {reason}. Put Keras's mnist.npz at {cached} "
        f"(or pass --data PATH to an mnist.npz or a folder of the four IDX files). "
        f"The bundled sample (--dataset mnist-sample, the default) needs no file."
    )


def _as_dataset(name: str, splits: MNIST_SPLITS, source: str, info: dict | None = None) -> Dataset:
    (x_train, y_train), (x_test, y_test) = splits
    return Dataset(
        name=name,
        x_train=x_train[..., np.newaxis],
        y_train=y_train,
        x_test=x_test[..., np.newaxis],
        y_test=y_test,
        class_names=CLASS_NAMES,
        source=source,
        info=info or {},
    )


@register_dataset(
    "mnist-sample",
    "MNIST stratified sample bundled with spatiallab (10,000 train + 2,000 test, 28x28x1, 10 classes)",
    locate=lambda: str(sample_path()) if sample_path().is_file() else None,
    how_to_get="ships inside the package",
)
def load_mnist_sample(path: str | os.PathLike | None = None) -> Dataset:
    """The bundled sample: 1,000 train and 200 test images per class, drawn with a fixed seed from MNIST.

    See ``scripts/make_mnist_sample.py``. MNIST: LeCun, Cortes, Burges; CC BY-SA 3.0.
    """
    source = Path(path) if path is not None else sample_path()
    return _as_dataset(
        "mnist-sample", read_keras_npz(source), str(source), {"licence": "CC BY-SA 3.0", "sample": "stratified"}
    )


def _locate_mnist() -> str | None:
    return str(keras_cache_path()) if keras_cache_path().is_file() else None


@register_dataset(
    "mnist",
    "full MNIST (60,000 train + 10,000 test, 28x28x1, 10 classes)",
    locate=_locate_mnist,
    how_to_get=f"--data PATH (mnist.npz or IDX folder), Keras's cache, or a download from {KERAS_URL}",
    downloads=lambda: [] if _locate_mnist() else [sources.MNIST],
)
def load_mnist_dataset(path: str | os.PathLike | None = None, download: bool = True) -> Dataset:
    """Full MNIST as a ``Dataset`` (channels-last), from the sources of ``load_mnist`` (``download`` as there).

    Raises:
        DataFormatError: see ``read_keras_npz`` / ``read_idx_folder``, or a label outside 0..9 (``Dataset`` checks).
        DatasetNotFoundError: see ``load_mnist``.
    """
    source = str(path) if path is not None else str(keras_cache_path())
    return _as_dataset("mnist", load_mnist(path, download), source, {"licence": "CC BY-SA 3.0"})
