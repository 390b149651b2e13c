"""A dataset of executables as images: one subfolder per class -> one npz in the layout of the shared corpora.

Layout (``np.load(path, allow_pickle=False)`` reads every key; strings are NumPy unicode arrays):

    x{size}          uint8 (N, size, size)  the whole file's byte plot resized with Pillow BILINEAR (``convert``)
    head{n}          uint8 (N, s, s)        the first n = s*s bytes as a raw tile, zero-padded, no resampling
    bytes{n}         uint8 (N, n)           with ``sequence_bytes=n`` (``--bytes n``): the first n bytes in file
                                            order, zero-padded, for 1D models (``data.byte_views``)
    lengths          int64 (N,)             with bytes{n}: the bytes of each file in it, min(file_size, max_bytes,
                                            n); the rest is padding
    y                int16 (N,)             class index into class_names
    class_names      str (C,)               the class folders' names, sorted
    orig_width, orig_height  int32 (N,)     shape of the full-resolution byte plot (of the bytes read)
    file_size        int64 (N,)             bytes in the file
    sha256           str (N,)               of the whole file
    relpath          str (N,)               path under the corpus folder, "class/dir/file"
    group            str (N,)               relpath without the class folder: the same path under two class
                                            folders (one program built for two architectures) is one group, kept
                                            on one side of a grouped split
    machine, filetype  str (N,)             from the PE/ELF/Mach-O header (LIEF's names), "" for other files
    meta             str ()                 JSON: how the images were made, and what was skipped and why

Files are only read. Hidden files and folders (name starting with ".") are skipped and counted; files with the same
sha256 as an earlier one (in sorted path order) are dropped and listed; files that cannot be read (empty, FIFO,
device, permission denied) are listed with the reason. None of these stop the build.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import PIL

from spatiallab import __version__
from spatiallab.binimage.convert import byte_prefix, checked_file_size, head_tile, resize_plot, to_image
from spatiallab.atomic import atomic_path
from spatiallab.binimage.sections import parse_layout
from spatiallab.data.byte_views import LENGTHS_KEY
from spatiallab.data.errors import DataFormatError

STRING_KEYS = ("sha256", "relpath", "group", "machine", "filetype")


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def find_class_files(root: str | os.PathLike) -> tuple[dict[str, list[Path]], dict]:
    """The files of each class folder under ``root``, sorted, hidden ones left out.

    Returns:
        ``(files, skipped)``: class name -> file paths (symlinks to files included, not followed into folders);
        skipped counts hidden entries and lists loose files directly under ``root`` (they have no class).

    Raises:
        DataFormatError: ``root`` is not a folder, or holds no class subfolder.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataFormatError(root, "a folder with one subfolder per class", "not a folder")
    files: dict[str, list[Path]] = {}
    skipped = {"hidden": 0, "loose_files": []}
    for entry in sorted(root.iterdir()):
        if _is_hidden(entry.name):
            skipped["hidden"] += 1
        elif entry.is_dir():
            files[entry.name] = []
            for folder, subfolders, names in os.walk(entry):
                skipped["hidden"] += sum(map(_is_hidden, subfolders)) + sum(map(_is_hidden, names))
                subfolders[:] = sorted(name for name in subfolders if not _is_hidden(name))
                files[entry.name] += [Path(folder) / name for name in sorted(names) if not _is_hidden(name)]
        else:
            skipped["loose_files"].append(entry.name)
    if not files:
        raise DataFormatError(root, "one subfolder per class", f"no subfolders ({len(skipped['loose_files'])} files)")
    return files, skipped


def _sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _row(path: Path, file_size: int, size: int, head_bytes: int, kilobyte: int, max_bytes: int | None,
         sequence_bytes: int | None) -> dict:  # fmt: skip
    image = to_image(path, kilobyte=kilobyte, max_bytes=max_bytes)
    layout = parse_layout(path, max_bytes=max_bytes)
    sequence = {}
    if sequence_bytes:
        prefix, length = byte_prefix(path, sequence_bytes, max_bytes=max_bytes)
        sequence = {"bytes": prefix, "length": length}
    return {
        **sequence,
        "x": resize_plot(image, size),
        "head": head_tile(path, head_bytes, max_bytes=max_bytes),
        "orig_height": image.shape[0],
        "orig_width": image.shape[1],
        "file_size": file_size,
        "machine": layout.machine,
        "filetype": layout.filetype,
    }


def build_corpus(
    root: str | os.PathLike,
    *,
    size: int = 64,
    head_bytes: int = 4096,
    kilobyte: int = 1024,
    max_bytes: int | None = None,
    sequence_bytes: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, np.ndarray]:
    """Turn a folder of class subfolders of executables into the arrays of the corpus npz (see the module docstring).

    Args:
        root: the corpus folder; each subfolder is a class, files at any depth below it are its samples.
        size: side of the resized whole-file view, stored as ``x{size}``.
        head_bytes: bytes in the raw head tile, stored as ``head{head_bytes}``; must be a perfect square.
        kilobyte: bytes per kB in Nataraj's width table (1024 or 1000; see ``width.nataraj_width``).
        max_bytes: read at most this many bytes of each file for its images and its header (``machine``,
            ``filetype``); the sha256 still reads the whole file.
        sequence_bytes: also store the first this many bytes of each file as the sequence view ``bytes{n}``, with
            ``lengths``; None stores no sequence view.
        progress: called as ``progress(done, total, relpath)`` after each file.

    Returns:
        A dict of NumPy arrays, ready for ``write_corpus``.

    Raises:
        DataFormatError: ``root`` is not a folder of class folders, or fewer than 2 classes have a readable file.
        ValueError: head_bytes not a perfect square, sequence_bytes not a positive integer.
    """
    if math.isqrt(head_bytes) ** 2 != head_bytes:
        raise ValueError(f"head_bytes must be a perfect square (4096 = 64 x 64); got {head_bytes}")
    if sequence_bytes is not None and (int(sequence_bytes) != sequence_bytes or sequence_bytes < 1):
        raise ValueError(f"sequence_bytes must be a positive integer or None; got {sequence_bytes!r}")
    root = Path(root)
    class_files, skipped = find_class_files(root)
    total = sum(map(len, class_files.values()))
    rows, labels, first_seen = [], [], {}
    unreadable, duplicates = [], []
    done = 0
    for class_name, paths in class_files.items():
        for path in paths:
            relpath = path.relative_to(root).as_posix()
            try:
                file_size = checked_file_size(path)  # before hashing: opening a FIFO would block
                digest = _sha256(path)
                if digest in first_seen:
                    duplicates.append({"relpath": relpath, "same_as": first_seen[digest][0],
                                       "same_class": first_seen[digest][1] == class_name})
                else:
                    rows.append({**_row(path, file_size, size, head_bytes, kilobyte, max_bytes, sequence_bytes),
                                 "sha256": digest,
                                 "relpath": relpath, "group": relpath.split("/", 1)[1]})
                    labels.append(class_name)
                    first_seen[digest] = (relpath, class_name)
            except (OSError, DataFormatError) as error:
                unreadable.append({"relpath": relpath, "reason": str(error)})
            done += 1
            if progress is not None:
                progress(done, total, relpath)
    class_names = sorted(set(labels))
    if len(class_names) < 2:
        raise DataFormatError(root, "readable files in at least 2 class folders (a classifier needs 2 classes)",
                              f"files in {class_names or 'no class'}; {len(unreadable)} unreadable",
                              hint=f"class folders: {sorted(class_files)}")
    meta = {
        "image": f"Nataraj 2011 width table (kB={kilobyte} B), row-major, last row zero-padded, resized to "
        f"{size}x{size} with PIL BILINEAR (Pillow {PIL.__version__})",
        f"head{head_bytes}": f"first {head_bytes} bytes of the file, zero-padded, reshaped "
        f"{math.isqrt(head_bytes)}x{math.isqrt(head_bytes)} (no resampling)",
        **({f"bytes{sequence_bytes}": f"first {sequence_bytes} bytes of the file in file order, zero-padded; "
            "lengths: the bytes of each file in it"} if sequence_bytes else {}),
        "made_by": f"spatiallab {__version__} binimage dataset",
        "kilobyte": kilobyte,
        "max_bytes": max_bytes,
        "n_files_seen": total,
        "hidden_skipped": skipped["hidden"],
        "loose_files_ignored": skipped["loose_files"],
        "empty_classes": [name for name in class_files if name not in class_names],
        "duplicates_dropped": len(duplicates),
        "duplicates": duplicates,
        "unreadable": unreadable,
    }
    arrays = {
        f"x{size}": np.stack([row["x"] for row in rows]),
        f"head{head_bytes}": np.stack([row["head"] for row in rows]),
        **({f"bytes{sequence_bytes}": np.stack([row["bytes"] for row in rows]),
            LENGTHS_KEY: np.array([row["length"] for row in rows], dtype=np.int64)} if sequence_bytes else {}),
        "y": np.array([class_names.index(label) for label in labels], dtype=np.int16),
        "class_names": np.array(class_names, dtype=str),
        "orig_width": np.array([row["orig_width"] for row in rows], dtype=np.int32),
        "orig_height": np.array([row["orig_height"] for row in rows], dtype=np.int32),
        "file_size": np.array([row["file_size"] for row in rows], dtype=np.int64),
        **{key: np.array([row[key] for row in rows], dtype=str) for key in STRING_KEYS},
        "meta": np.array(json.dumps(meta)),
    }
    return arrays


def write_corpus(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write the arrays of ``build_corpus`` to an uncompressed npz, atomically (temporary name, then rename)."""
    with atomic_path(path) as temporary, open(temporary, "wb") as stream:
        np.savez(stream, **arrays)
