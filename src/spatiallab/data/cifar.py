"""CIFAR-10, "python version": the official pickled batches, read with an unpickler that builds only arrays.

Format (https://www.cs.toronto.edu/~kriz/cifar.html; Alex Krizhevsky, "Learning Multiple Layers of Features from Tiny
Images", 2009): ``cifar-10-python.tar.gz`` holds ``cifar-10-batches-py/`` with ``data_batch_1`` ... ``data_batch_5``
(10,000 images each), ``test_batch`` and ``batches.meta``. Each batch is a Python 2 pickle of a dict:
``b'data'`` uint8 (10000, 3072) -- per row the 1024 red, then 1024 green, then 1024 blue values of a 32x32 image in
row-major order -- and ``b'labels'``, a list of 10,000 ints in 0..9. ``batches.meta`` holds ``b'label_names'``.

A pickle can run any code it names. ``SafeUnpickler`` therefore constructs only what these files need -- numpy
arrays and dtypes -- plus builtin containers (which need no lookup); anything else is refused before it is built.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np

from spatiallab.data import archives
from spatiallab.data import download as downloading
from spatiallab.data import sources
from spatiallab.data.dataset import Dataset, check_labels
from spatiallab.data.errors import DataFormatError
from spatiallab.data.registry import register_dataset

TRAIN_FILES = tuple(f"data_batch_{index}" for index in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
FOLDER_NAME = "cifar-10-batches-py"
ARCHIVE = "cifar-10-python.tar.gz (a gzipped tar)"
IMAGE_SIDE = 32
ROW_LENGTH = 3 * IMAGE_SIDE * IMAGE_SIDE
HOW_TO_GET = (
    f"downloaded on first use from {sources.CIFAR10.url} into Keras's cache, or --data PATH to "
    "cifar-10-python.tar.gz or its extracted cifar-10-batches-py folder, or keras.datasets.cifar10.load_data() once"
)

# The only globals a CIFAR batch needs: numpy's array reconstruction under its numpy 1 and numpy 2 module names
# (protocols 2-4 use _reconstruct, protocol 5 _frombuffer), and codecs.encode, which Python 3 writes for bytes in
# protocol 2. Each maps to the object itself, so unpickling never imports a module.
_RECONSTRUCT = np.empty(0).__reduce__()[0]
_FROMBUFFER = np.empty(0).__reduce_ex__(5)[0]
ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("_codecs", "encode"): codecs.encode,
}


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle named a global outside ``ALLOWED_GLOBALS``; nothing from it was constructed."""


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays, dtypes and builtin containers, and refuses every other global.

    Raises ``RefusedGlobal`` naming the refused ``module.name`` (nothing from it is constructed).
    """

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise RefusedGlobal(f"refused to construct {module}.{name}") from None


def unpickle(raw: bytes, path: str) -> object:
    """Decode one pickled object with ``SafeUnpickler`` (Python 2 strings read as bytes).

    Raises:
        DataFormatError: the bytes are not a pickle, or the pickle names anything besides numpy arrays.
    """
    try:
        return SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except RefusedGlobal as error:
        raise DataFormatError(
            path, "a pickle of numpy arrays, lists and dicts only (the CIFAR python format)", str(error),
            "Nothing was constructed; the file may be damaged or malicious",
        ) from None
    except pickle.UnpicklingError as error:
        raise DataFormatError(path, "a pickled CIFAR batch", f"a broken pickle ({error})") from None
    except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError) as error:
        found = f"unreadable content ({type(error).__name__}: {error})"
        raise DataFormatError(path, "a pickled CIFAR batch", found) from None


def _as_str_keys(obj: object, path: str, expected: str) -> dict:
    if not isinstance(obj, dict):
        raise DataFormatError(path, expected, f"a pickled {type(obj).__name__}")
    return {key.decode("latin-1") if isinstance(key, bytes) else key: value for key, value in obj.items()}


def parse_batch(raw: bytes, path: str, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch -> (images uint8 (n, 32, 32, 3) channels-last, labels int64 (n,)).

    Raises:
        DataFormatError: not a dict with ``data`` uint8 (n, 3072) and ``labels`` of n ints in 0..num_classes-1.
    """
    batch = _as_str_keys(unpickle(raw, path), path, "a dict with keys b'data' and b'labels'")
    if "data" not in batch or "labels" not in batch:
        raise DataFormatError(path, "a dict with keys b'data' and b'labels'", f"keys {sorted(batch)}")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != ROW_LENGTH:
        found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataFormatError(path, f"b'data' as uint8 (n, {ROW_LENGTH})", found)
    try:
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except (TypeError, ValueError):
        labels = np.asarray([])
    if labels.shape != (len(data),):
        raise DataFormatError(
            path, f"b'labels' as {len(data)} integers", f"{type(batch['labels']).__name__} of shape "
            f"{np.shape(batch['labels'])}",
        )
    check_labels(path, labels, num_classes, "b'labels'")
    images = data.reshape(len(data), 3, IMAGE_SIDE, IMAGE_SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def parse_meta(raw: bytes, path: str) -> list[str]:
    """``batches.meta`` -> the class names (``b'label_names'``, decoded as UTF-8)."""
    meta = _as_str_keys(unpickle(raw, path), path, "a dict with key b'label_names'")
    names = meta.get("label_names")
    if not isinstance(names, list) or not all(isinstance(name, (bytes, str)) for name in names) or not names:
        raise DataFormatError(path, "b'label_names' as a list of strings", f"keys {sorted(meta)}")
    return [name.decode("utf-8") if isinstance(name, bytes) else name for name in names]


def _open_tar_stream(path: Path):
    """The archive's decompressed byte stream: gzip recognised by its signature, else an uncompressed tar."""
    head = archives.read_head(path, ARCHIVE, size=512)
    if head.startswith(archives.GZIP_SIGNATURE):
        return gzip.open(path, "rb")
    if head[257:262] == b"ustar":  # the POSIX tar header's magic field (offset 257)
        return open(path, "rb")
    raise DataFormatError(path, ARCHIVE, archives.describe_head(head), archives.REFETCH_HINT)


def _read_archive(path: Path, names: tuple[str, ...]) -> dict[str, tuple[bytes, str]]:
    """Read ``names`` from a (gzipped) tar by their base names in one pass, without extracting anything to disk.

    The stream is read to its end, so gzip checks its CRC-32 and length even after the last member wanted.
    """
    files, seen, members = {}, [], {}
    stream = _open_tar_stream(path)
    try:
        with stream, tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                name = Path(member.name).name
                seen.append(name)
                if member.isfile() and name in names:
                    if name in members:
                        raise DataFormatError(
                            path, f"one member named {name}", f"two: {members[name]} and {member.name}",
                            "The archive is not the official one: fetch it again",
                        )
                    members[name] = member.name
                    files[name] = (archive.extractfile(member).read(), f"{path}:{member.name}")
            while stream.read(1 << 20):
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise DataFormatError(
            path, f"a complete {ARCHIVE}", f"an archive cut short or damaged ({type(error).__name__}: {error})",
            archives.REFETCH_HINT,
        ) from None
    missing = [name for name in names if name not in files]
    if missing:
        raise DataFormatError(
            path, f"members {FOLDER_NAME}/{', '.join(names)}", f"no {', '.join(missing)} among {sorted(seen)[:12]}"
        )
    return files


def _read_folder(folder: Path, names: tuple[str, ...]) -> dict[str, tuple[bytes, str]]:
    if (folder / FOLDER_NAME).is_dir():
        folder = folder / FOLDER_NAME
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise DataFormatError(
            folder, f"the files {', '.join(names)}", f"none named {', '.join(missing)} among "
            f"{sorted(p.name for p in folder.iterdir())[:12]}",
        )
    return {name: ((folder / name).read_bytes(), str(folder / name)) for name in names}


def read_cifar10(path: str | os.PathLike):
    """Read CIFAR-10's python version from the ``.tar.gz`` or the (parent of the) extracted folder.

    Returns:
        ``(x_train, y_train), (x_test, y_test), class_names``: uint8 (50000, 32, 32, 3), int64 (50000,),
        uint8 (10000, 32, 32, 3), int64 (10000,) for the real set, and the 10 names from ``batches.meta``.

    Raises:
        FileNotFoundError: no such path. DataFormatError: not a gzipped or plain tar (the message says what the file
        is: an HTML page, text, ...), an archive cut short or damaged (CRC-32, compressed data), a FIFO or other
        non-regular file (never opened), a missing or duplicated batch, a foreign pickle, a wrong shape, or a
        label outside 0..9; the message names the file (``archive.tar.gz:member`` inside an archive).
    """
    path = Path(path)
    names = (*TRAIN_FILES, TEST_FILE, META_FILE)
    if path.is_dir():
        files = _read_folder(path, names)
    elif path.exists():
        files = _read_archive(path, names)
    else:
        raise FileNotFoundError(f"{path}: no such file or folder (expected cifar-10-python.tar.gz or {FOLDER_NAME}/)")
    class_names = parse_meta(*files[META_FILE])
    train = [parse_batch(*files[name], num_classes=len(class_names)) for name in TRAIN_FILES]
    x_test, y_test = parse_batch(*files[TEST_FILE], num_classes=len(class_names))
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    return (x_train, y_train), (x_test, y_test), class_names


def candidate_paths() -> list[Path]:
    """Keras's cache, searched when no path is given: Keras 3's extracted folder, Keras 2's, then the archives
    (Keras 3's, which spatiallab's download also writes, Keras 2's, and the archive under its own name)."""
    home = sources.keras_datasets_folder()
    return [home / "cifar-10-batches-py-target", home / FOLDER_NAME, home / sources.CIFAR10.filename,
            home / "cifar-10-batches-py.tar.gz", home / "cifar-10-python.tar.gz"]  # fmt: skip


def locate() -> str | None:
    """The first of ``candidate_paths()`` that exists, or None."""
    return next((str(path) for path in candidate_paths() if path.exists()), None)


@register_dataset(
    "cifar10",
    "CIFAR-10, the python version (50,000 train + 10,000 test, 32x32x3, 10 classes)",
    locate=locate,
    how_to_get=HOW_TO_GET,
    downloads=lambda: [] if locate() else [sources.CIFAR10],
)
def load_cifar10(path: str | os.PathLike | None = None, download: bool = True) -> Dataset:
    """CIFAR-10 as a ``Dataset``: x uint8 (N, 32, 32, 3) channels-last, y int64 (N,), the official split.

    Args:
        path: the archive or its extracted folder; None searches ``candidate_paths()``, then downloads the
            archive (``sources.CIFAR10``, checked against Keras's sha256) into Keras's cache under Keras 3's name.
        download: False forbids the network.

    Raises:
        DataFormatError: see ``read_cifar10``. DatasetNotFoundError: no path given, nothing in Keras's cache, and
        downloading turned off or failed; the message says where to put the archive. download.ChecksumError: the
        downloaded archive is not the published one (nothing kept).
    """
    source = path if path is not None else locate()
    if source is None:
        cache = sources.keras_datasets_folder()
        downloading.fetch_missing(
            [sources.CIFAR10], cache, download, not_found=f"CIFAR-10 not found in Keras's cache ({cache})",
            put=f"Put cifar-10-python.tar.gz (from {sources.CIFAR10.url}) in {cache}, or pass --data PATH to it or "
            f"to its extracted {FOLDER_NAME} folder.",
        )
        source = cache / sources.CIFAR10.filename
    (x_train, y_train), (x_test, y_test), class_names = read_cifar10(source)
    return Dataset(
        name="cifar10", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
        class_names=class_names, source=str(source), info={"reference": "Krizhevsky 2009, Learning Multiple "
                                                                     "Layers of Features from Tiny Images"},
    )
