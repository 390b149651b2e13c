"""Opening data files safely: what a path is before it is opened, what its first bytes say it holds, and npz
archives read member by member so that every failure is a ``DataFormatError`` naming the file.

- A FIFO, socket or device given as a data file would block (or be consumed) when opened, so ``special_kind`` asks
  ``os.stat`` first and nothing but a regular file is ever opened.
- Content is recognised by its first bytes (``describe_head``), never by an exception's message: an HTML page saved
  in place of a download, text, an empty file, a lone ``.npy`` and unrecognised binary data are each named.
- An npz is a zip archive of ``.npy`` members (``numpy.lib.format``; PKWARE APPNOTE 4.3.7). ``open_npz`` reads it
  with ``zipfile`` and ``numpy.lib.format.read_array(allow_pickle=False)``, never with ``numpy.load``, which takes a
  file without the zip signature for a pickle. A member holding Python objects is refused before anything is
  unpickled; a cut-short archive or a member whose compressed data or CRC-32 is damaged is reported with the advice
  to fetch the file again.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib

import numpy as np

from spatiallab.data.errors import DataFormatError

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a first member's local header; an empty archive's end record
GZIP_SIGNATURE = b"\x1f\x8b"
NPY_SIGNATURE = b"\x93NUMPY"
HEAD_SIZE = 64
REFETCH_HINT = "Delete the file and download or copy it again (an interrupted or redirected download leaves such files)"
# What zipfile and numpy.lib.format raise for a damaged member: a bad CRC-32 (BadZipFile), a broken deflate stream
# (zlib.error), a member cut short (EOFError, ValueError), a bad .npy header (ValueError), an unsupported or
# encrypted member (NotImplementedError, RuntimeError).
MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError)

_SPECIAL_FILES = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def special_kind(path: str | os.PathLike) -> str | None:
    """None for a regular file (symlinks followed); otherwise what ``path`` is, e.g. "a named pipe (FIFO)".

    Never opens the file. Raises FileNotFoundError / OSError from ``os.stat`` (a broken symlink included).
    """
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    return next((found for is_kind, found in _SPECIAL_FILES if is_kind(mode)), "a special file")


def require_regular_file(path: str | os.PathLike, expected: str) -> None:
    """Check, without opening it, that ``path`` is a regular file (so that opening it cannot block).

    Raises:
        FileNotFoundError: no such file. DataFormatError: a folder, FIFO, socket or device.
    """
    try:
        kind = special_kind(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{os.fspath(path)}: no such file (expected {expected})") from None
    if kind is not None:
        raise DataFormatError(path, f"{expected} in a regular file", f"{kind}, which was not opened")


def read_head(path: str | os.PathLike, expected: str, size: int = HEAD_SIZE) -> bytes:
    """The first ``size`` bytes of ``path`` after ``require_regular_file`` (same errors)."""
    require_regular_file(path, expected)
    with open(path, "rb") as stream:
        return stream.read(size)


def _as_text(head: bytes) -> str | None:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a character cut at the end of the sample
            return None
        text = head[: error.start].decode("utf-8")
    return text if all(char.isprintable() or char in "\t\n\r" for char in text) else None


def describe_head(head: bytes) -> str:
    """What a file's first bytes show it to be, for the "found" part of a message.

    E.g. "an empty file (0 bytes)", "an HTML page (...)", "a file starting with the text 'hello'", "unrecognised
    binary data (first bytes 00 00 07 01 ...)".
    """
    if not head:
        return "an empty file (0 bytes)"
    if head.removeprefix(b"\xef\xbb\xbf").lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return "an HTML page (a web or error page saved in place of the data?)"
    if head.startswith(NPY_SIGNATURE):
        return "a single NumPy array (a .npy file)"
    if head.startswith(GZIP_SIGNATURE):
        return "gzip-compressed data"
    if head.startswith(ZIP_SIGNATURES):
        return "a zip archive"
    text = _as_text(head)
    if text is not None:
        first_line = text.strip().splitlines()[0] if text.strip() else text
        return f"a file starting with the text {first_line[:40]!r}"
    return f"unrecognised binary data (first bytes {head[:8].hex(' ')})"


def _header_dtype(stream) -> np.dtype:
    version = np.lib.format.read_magic(stream)
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return reader(stream)[2]


class NpzArchive:
    """An open npz (made by ``open_npz``): ``keys`` (member names without ".npy", sorted) and ``read(key)``."""

    def __init__(self, path: str | os.PathLike, archive: zipfile.ZipFile):
        self.path = path
        self._zip = archive
        self._members = {name.removesuffix(".npy"): name for name in archive.namelist()}
        self.keys = sorted(self._members)

    def __enter__(self) -> "NpzArchive":
        return self

    def __exit__(self, *exc_info) -> None:
        self._zip.close()

    def read(self, key: str) -> np.ndarray:
        """The array stored under ``key``, its CRC-32 checked.

        Raises:
            KeyError: no such key. DataFormatError: a damaged member (with the advice to fetch the file again),
            or one holding Python objects (refused without unpickling: unpickling can run code).
        """
        member = self._members[key]
        try:
            with self._zip.open(member) as stream:
                dtype = _header_dtype(stream)
            if not dtype.hasobject:
                with self._zip.open(member) as stream:
                    array = np.lib.format.read_array(stream, allow_pickle=False)
                    stream.read()  # to the member's end, where zipfile checks its CRC-32
        except MEMBER_ERRORS as error:
            raise DataFormatError(
                self.path, "a complete NumPy .npz archive",
                f"member {member} damaged or cut short ({type(error).__name__}: {error})", REFETCH_HINT,
            ) from None
        if dtype.hasobject:
            raise DataFormatError(
                self.path, f"{key} as a numeric array",
                f"Python objects (dtype {dtype}), which are never loaded: unpickling data can run code",
            )
        return array


def open_npz(path: str | os.PathLike, expected: str) -> NpzArchive:
    """Open an npz for reading (use it in a ``with`` block).

    Args:
        path: the file.
        expected: what the loader expects, e.g. "a NumPy .npz archive of x_train, y_train, x_test, y_test"; the
            message when the file is not a zip archive.

    Raises:
        FileNotFoundError: no such file. DataFormatError: not a regular file; not a zip archive (the message says
        what it is instead); an archive cut short or damaged (with the advice to fetch it again).
    """
    head = read_head(path, expected)
    if not head.startswith(ZIP_SIGNATURES):
        raise DataFormatError(
            path, f"{expected} (a zip archive, starting with {ZIP_SIGNATURES[0]!r})", describe_head(head), REFETCH_HINT
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise DataFormatError(
            path, "a complete NumPy .npz archive",
            f"an archive cut short or damaged, its table of contents unreadable ({type(error).__name__}: {error})",
            REFETCH_HINT,
        ) from None
    return NpzArchive(path, archive)
