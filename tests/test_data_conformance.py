"""One contract for every registered dataset that reads a file given as ``path``, checked against many bad files.

Each dataset's file format is described once here (how to write a tiny good file, and how to spoil its contents);
every kind of damage is then applied to every format: an empty file, one cut short, random bytes, an HTML page, text,
a lone .npy, damaged compressed data, a bad CRC-32, a FIFO, float images, images of the wrong rank, labels too large
or negative, train and test images of different shapes, a member of pickled objects, a duplicated archive member.

Each case asserts what the loaders' docstrings promise: a ``DataFormatError`` whose message names the file, states
what was expected and what was found (with the telltale detail), never advises loading unsafely, and says to fetch
the file again when the file itself is damaged. The ``spatiallab datasets NAME --data FILE`` command must turn the
same errors into a one-line error and a non-zero exit, without a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import pickle
import signal
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from spatiallab import data
from spatiallab.data import cifar
from spatiallab.data.errors import DataFormatError

READS_A_FOLDER = {"folder"}  # registered datasets whose path is a folder of images, never one file
GENERATED = {"mnist1d"}  # registered datasets made by a generator, which refuse any path (tests/test_mnist1d.py)
REFETCH = "download or copy it again"
LARGE_LABEL = 1_000_000


def images(count: int, side: int = 28) -> np.ndarray:
    """Patterned (so that deflate compresses it) uint8 images."""
    return (np.arange(count * side * side) % 13).astype(np.uint8).reshape(count, side, side)


# ---------------------------------------------------------------- the formats: a good file, and spoilt contents


@dataclasses.dataclass(frozen=True)
class NpzFormat:
    """An npz format: its good arrays and the roles of their keys."""

    good: Callable[[], dict[str, np.ndarray]]
    image_key: str
    label_key: str
    test_image_key: str | None  # None: the file has no test split

    def write(self, path: Path, arrays: dict, compressed: bool = False) -> None:
        (np.savez_compressed if compressed else np.savez)(path, **arrays)


def keras_arrays() -> dict[str, np.ndarray]:
    return {"x_train": images(6), "y_train": np.arange(6) % 3, "x_test": images(4), "y_test": np.arange(4) % 3}


def medmnist_arrays() -> dict[str, np.ndarray]:
    return {"train_images": images(6), "train_labels": (np.arange(6) % 3).astype(np.uint8)[:, None],
            "test_images": images(4), "test_labels": (np.arange(4) % 3).astype(np.uint8)[:, None]}  # fmt: skip


def binaries_arrays() -> dict[str, np.ndarray]:
    return {"x28": images(6), "y": np.arange(6) % 3, "class_names": np.array(["elf", "pe", "macho"])}


KERAS = NpzFormat(keras_arrays, "x_train", "y_train", "x_test")
MEDMNIST = NpzFormat(medmnist_arrays, "train_images", "train_labels", "test_images")
BINARIES = NpzFormat(binaries_arrays, "x28", "y", None)


class CifarFormat:
    """CIFAR-10's python version: a gzipped tar of pickled batches."""

    test_image_key = None  # every batch is 32x32x3 by construction

    def good(self) -> dict[str, dict]:
        batches = {name: {b"data": images(2, 32).reshape(2, -1).repeat(3, axis=1), b"labels": [0, 1]}
                   for name in (*cifar.TRAIN_FILES, cifar.TEST_FILE)}  # fmt: skip
        return {**batches, cifar.META_FILE: {b"label_names": [f"class {index}".encode() for index in range(10)]}}

    def write(self, path: Path, batches: dict, compressed: bool = True, duplicate: str | None = None) -> None:
        members = [(name, pickle.dumps(batch, protocol=2)) for name, batch in batches.items()]
        if duplicate:
            members.append((duplicate, members[0][1]))
        with tarfile.open(path, "w:gz" if compressed else "w") as archive:
            for name, raw in members:
                info = tarfile.TarInfo(f"{cifar.FOLDER_NAME}/{name}")
                info.size = len(raw)
                archive.addfile(info, io.BytesIO(raw))


CIFAR = CifarFormat()
FORMATS = {"mnist-sample": KERAS, "mnist": KERAS, "fashion-mnist": KERAS, "npz": KERAS, "medmnist": MEDMNIST,
           "binaries": BINARIES, "cifar10": CIFAR}  # fmt: skip
FILE_DATASETS = [name for name in data.dataset_names() if name not in READS_A_FOLDER | GENERATED]


def spoil(fmt, contents: dict, case: str) -> str:
    """Change ``contents`` in place for a content case; returns the detail the message must show."""
    if fmt is CIFAR:
        batch = contents[cifar.TEST_FILE]
        if case == "float images":
            batch[b"data"] = batch[b"data"].astype(np.float32)
            return "float32"
        if case == "images of the wrong shape":
            batch[b"data"] = batch[b"data"][:, :1024]
            return "(2, 1024)"
        batch[b"labels"] = [0, {"label too large": LARGE_LABEL, "negative label": -1}[case]]
        return str(batch[b"labels"][1])
    if case == "float images":
        contents[fmt.image_key] = contents[fmt.image_key].astype(np.float32)
        return "float32"
    if case == "images of the wrong shape":
        contents[fmt.image_key] = contents[fmt.image_key].reshape(len(contents[fmt.image_key]), -1)
        return f"{contents[fmt.image_key].shape}"
    if case == "train and test images of different shapes":
        contents[fmt.test_image_key] = images(len(contents[fmt.test_image_key]), side=20)
        return "20, 20"
    if case == "a member of pickled objects":
        contents[fmt.label_key] = contents[fmt.label_key].astype(object)
        return "Python objects"
    labels = contents[fmt.label_key].astype(np.int64)  # (N,) or MedMNIST's (N, 1)
    labels.flat[1] = {"label too large": LARGE_LABEL, "negative label": -1}[case]
    contents[fmt.label_key] = labels
    return str(labels.flat[1])


CONTENT_CASES = ["float images", "images of the wrong shape", "label too large", "negative label",
                 "train and test images of different shapes", "a member of pickled objects"]  # fmt: skip


def applies(fmt, case: str) -> bool:
    if case == "train and test images of different shapes":
        return fmt.test_image_key is not None
    if case == "a member of pickled objects":
        return fmt is not CIFAR  # CIFAR is pickles throughout; test_datasets checks its unpickler
    if case == "duplicated member":
        return fmt is CIFAR
    return True


# ---------------------------------------------------------------- damage to the bytes, the same for every format


def member_data_span(path: Path) -> tuple[int, int]:
    """Where the first zip member's (compressed) bytes lie in the file: (start, end)."""
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        member = archive.infolist()[0]
    name_length, extra_length = np.frombuffer(raw, "<u2", count=2, offset=member.header_offset + 26)
    start = member.header_offset + 30 + int(name_length) + int(extra_length)
    return start, start + member.compress_size


def flip(raw: bytes, start: int, count: int = 8) -> bytes:
    return raw[:start] + bytes(byte ^ 0x5A for byte in raw[start:start + count]) + raw[start + count:]


def damage(fmt, path: Path, case: str) -> str:
    """Write a damaged file at ``path`` for a byte-level case; returns the detail the message must show."""
    if case == "fifo":
        os.mkfifo(path)
        return "FIFO"
    fixed = {"empty": (b"", "empty file"), "random bytes": (bytes(range(7, 200, 3)), "binary data"),
             "html page": (b"<!DOCTYPE html>\n<html><body>Quota exceeded</body></html>", "HTML page"),
             "text": (b"404: Not Found\n", "the text '404: Not Found'"),
             "npy instead": (b"\x93NUMPY\x01\x00v\x00{'descr': '|u1', ", "NumPy array")}  # fmt: skip
    if case in fixed:
        path.write_bytes(fixed[case][0])
        return fixed[case][1]
    fmt.write(path, fmt.good(), compressed=(case != "bad checksum") if fmt is not CIFAR else True)
    raw = path.read_bytes()
    if case == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
        return "cut short"
    if fmt is CIFAR:  # the gzip trailer holds CRC-32 then length; damaged data sits mid-stream
        path.write_bytes(flip(raw, len(raw) - 8, 4) if case == "bad checksum" else flip(raw, len(raw) // 2))
        return "damaged"
    start, end = member_data_span(path)
    path.write_bytes(flip(raw, end - 1, 1) if case == "bad checksum" else flip(raw, (start + end) // 2))
    return "damaged"


BYTE_CASES = ["empty", "truncated", "random bytes", "html page", "text", "npy instead", "damaged compression",
              "bad checksum", "fifo"]  # fmt: skip
REFETCH_CASES = {"empty", "truncated", "random bytes", "html page", "text", "npy instead", "damaged compression",
                 "bad checksum"}  # fmt: skip


def write_bad_file(name: str, case: str, folder: Path) -> tuple[Path, str]:
    fmt = FORMATS[name]
    path = folder / ("cifar-10-python.tar.gz" if fmt is CIFAR else f"{name}.npz")
    if case in BYTE_CASES:
        return path, damage(fmt, path, case)
    contents = fmt.good()
    if case == "duplicated member":
        fmt.write(path, contents, duplicate=cifar.TRAIN_FILES[0])
        return path, "two"
    detail = spoil(fmt, contents, case)
    fmt.write(path, contents)
    return path, detail


class Blocked(BaseException):
    """Raised in a loader still running after the time limit; a BaseException, so no loader's handler turns it into
    a DataFormatError (TimeoutError would: it is an OSError)."""


@contextlib.contextmanager
def fails_instead_of_hanging(seconds: float = 10):
    """Raise ``Blocked`` in the block after ``seconds`` (a loader that opens a FIFO waits forever for a writer)."""

    def give_up(signum, frame):
        raise Blocked(f"still running after {seconds} s (blocked opening a FIFO?)")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


CASES = [(name, case) for name in FILE_DATASETS if name in FORMATS
         for case in BYTE_CASES + CONTENT_CASES + ["duplicated member"] if applies(FORMATS[name], case)]  # fmt: skip


# ---------------------------------------------------------------- the checks


def test_every_dataset_that_reads_a_file_has_a_format_here():
    assert set(FILE_DATASETS) <= set(FORMATS), (
        f"describe the file format of {sorted(set(FILE_DATASETS) - set(FORMATS))} in FORMATS (or add the name to "
        f"READS_A_FOLDER) so that the conformance test covers it"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
@pytest.mark.parametrize(("name", "case"), CASES, ids=[f"{name}-{case}" for name, case in CASES])
def test_bad_file_raises_data_format_error_naming_file_expected_and_found(name, case, tmp_path):
    path, detail = write_bad_file(name, case, tmp_path)
    with fails_instead_of_hanging(), pytest.raises(DataFormatError) as raised:
        data.load(name, path)
    error, message = raised.value, str(raised.value)
    assert str(path) in message and error.path is not None and str(path) in error.path
    assert error.expected and error.found and f"expected {error.expected}; found {error.found}" in message
    assert detail in message, f"{detail!r} not in {message!r}"
    assert "allow_pickle" not in message and "trust" not in message  # never advice to load unsafely
    if case in REFETCH_CASES:
        assert REFETCH in error.args[0], message


@pytest.mark.parametrize("name", [name for name in FILE_DATASETS if name in FORMATS])
def test_datasets_command_reports_a_damaged_file_without_a_traceback(name, tmp_path):
    from spatiallab.cli import main

    path, _ = write_bad_file(name, "truncated", tmp_path)
    result = CliRunner().invoke(main, ["datasets", name, "--data", str(path)])
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert str(path) in result.output and "cut short" in result.output and REFETCH in result.output
