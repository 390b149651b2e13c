"""Executables as greyscale images: the byte plot of Nataraj et al. (2011), fixed-size views of it for models.

Source: L. Nataraj, S. Karthikeyan, G. Jacob, B. S. Manjunath, "Malware images: visualization and automatic
classification", VizSec 2011: each byte is one uint8 grey pixel, in file order, row-major, rows as wide as the
file-size table says (``width.nataraj_width``).

Files are only read (memory-mapped with ``numpy.memmap``, or read as a stream where mapping is impossible), never
executed, loaded or imported. Only the bytes asked for are touched: ``max_bytes`` caps what is read.
"""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image

from spatiallab.binimage.width import plot_shape
from spatiallab.data.archives import special_kind
from spatiallab.data.byte_views import RESAMPLING  # Pillow's BILINEAR; the loader's header mask follows it too
from spatiallab.data.errors import DataFormatError

ByteSource = str | os.PathLike | bytes | bytearray | memoryview

def checked_file_size(path: str | os.PathLike) -> int:
    """The size in bytes of ``path`` after checking it is a non-empty regular file (symlinks followed).

    Never opens the file, so a FIFO or device cannot block or be consumed.

    Raises:
        FileNotFoundError: no such file (or a broken symlink).
        DataFormatError: a directory, FIFO, device or socket, or an empty file.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{os.fspath(path)}: no such file (expected an executable or other file to read)"
        ) from None
    except OSError as error:
        raise DataFormatError(path, "a readable regular file", f"an error from stat ({error.strerror})") from None
    found = special_kind(path)
    if found is not None:
        raise DataFormatError(path, "a regular file (an executable or other file to read)", found)
    if info.st_size == 0:
        raise DataFormatError(path, "a file of at least one byte", "an empty file (0 bytes)")
    return info.st_size


def read_bytes(source: ByteSource, max_bytes: int | None = None) -> tuple[np.ndarray, int]:
    """The first ``max_bytes`` bytes of a file (or bytes object) as a uint8 array, and the full size in bytes.

    A file is memory-mapped read-only (``numpy.memmap``), so only the pages used are read; where mapping fails
    (some special filesystems) exactly ``n`` bytes are read as a stream.

    Returns:
        ``(data, size)``: data uint8 (n,) with ``n = min(size, max_bytes)``, read-only; size of the whole input.

    Raises:
        FileNotFoundError, DataFormatError: see ``checked_file_size``; also DataFormatError when the file cannot
        be read (permission denied, I/O error). ValueError: empty bytes, or max_bytes < 1.
    """
    if max_bytes is not None and (int(max_bytes) != max_bytes or max_bytes < 1):
        raise ValueError(f"max_bytes must be a positive integer or None; got {max_bytes!r}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = np.frombuffer(source, dtype=np.uint8)
        if data.size == 0:
            raise ValueError("expected at least one byte; got an empty bytes object")
        return data[:max_bytes], data.size
    size = checked_file_size(source)
    count = size if max_bytes is None else min(size, int(max_bytes))
    try:
        data = _map_or_read(source, count)
    except PermissionError as error:
        raise DataFormatError(source, "a file this user may read", f"permission denied ({error.strerror})") from None
    except OSError as error:
        raise DataFormatError(source, "a readable file", f"a read error ({error})") from None
    if data.size != count:
        raise DataFormatError(source, f"{count} bytes (its size when checked)", f"{data.size}: it changed while read")
    return data, size


def _map_or_read(path: str | os.PathLike, count: int) -> np.ndarray:
    try:
        return np.memmap(path, dtype=np.uint8, mode="r", shape=(count,))
    except PermissionError:
        raise
    except (ValueError, OSError):  # a file that cannot be memory-mapped (some special filesystems): stream it
        return np.fromfile(path, dtype=np.uint8, count=count)


def _check_pad_byte(pad_byte: int) -> None:
    if int(pad_byte) != pad_byte or not 0 <= pad_byte <= 255:
        raise ValueError(f"pad_byte must be an integer 0..255; got {pad_byte!r}")


def to_image(
    source: ByteSource,
    width: int | None = None,
    *,
    kilobyte: int = 1024,
    pad_byte: int = 0,
    max_bytes: int | None = None,
) -> np.ndarray:
    """The byte plot of Nataraj et al. 2011: every byte one grey pixel, in file order, row-major.

    Args:
        source: a path, or the bytes themselves.
        width: bytes per row; None picks it from the size of the whole file (``width.nataraj_width``).
        kilobyte: bytes per kB in the width table, 1024 (default, as the shared corpora) or 1000.
        pad_byte: grey level 0..255 that fills the rest of a partial last row; 0 (black) by default.
        max_bytes: read at most this many bytes from the start. The width still comes from the whole file's
            size, so the capped image is exactly the top rows of the full one.

    Returns:
        uint8 (height, width) with height = ceil(bytes read / width); only a partial last row is padded, never an
        extra empty row.

    Raises:
        FileNotFoundError, DataFormatError: see ``read_bytes`` (empty file, directory, FIFO, device, unreadable).
        ValueError: width, pad_byte or kilobyte out of range.
    """
    _check_pad_byte(pad_byte)
    data, size = read_bytes(source, max_bytes)
    _, width = plot_shape(size, width, kilobyte)
    height, width = plot_shape(data.size, width)
    image = np.full(height * width, pad_byte, dtype=np.uint8)
    image[: data.size] = data
    return image.reshape(height, width)


def resize_plot(image: np.ndarray, size: int = 64) -> np.ndarray:
    """A byte plot resized to ``size`` x ``size`` for a model, with Pillow's BILINEAR (see ``RESAMPLING``).

    Resizing mixes bytes from far apart in the file (a 64x64 image of a 1 MB file averages ~250 bytes per pixel)
    and changes the aspect ratio; ``head_tile`` is the alternative without resampling.

    Args:
        image: uint8 (H, W) byte plot.
        size: side of the output in pixels (>= 1).

    Returns:
        uint8 (size, size).
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"expected a uint8 (H, W) byte plot; got {image.dtype} {image.shape}")
    if int(size) != size or size < 1:
        raise ValueError(f"size must be a positive integer; got {size!r}")
    resized = Image.fromarray(image).resize((int(size), int(size)), RESAMPLING)
    return np.asarray(resized, dtype=np.uint8)


def byte_prefix(source: ByteSource, n_bytes: int, *, pad_byte: int = 0,
                max_bytes: int | None = None) -> tuple[np.ndarray, int]:  # fmt: skip
    """The first ``n_bytes`` bytes in file order, padded to ``n_bytes`` with ``pad_byte``, and how many are the file's.

    Only ``min(n_bytes, max_bytes)`` bytes are read.

    Returns:
        ``(prefix, length)``: prefix uint8 (n_bytes,); length = min(file size, n_bytes, max_bytes), the bytes of the
        file in it (the rest is padding).

    Raises:
        ValueError: n_bytes not a positive integer, pad_byte outside 0..255. FileNotFoundError, DataFormatError: see
        ``read_bytes``.
    """
    if int(n_bytes) != n_bytes or n_bytes < 1:
        raise ValueError(f"n_bytes must be a positive integer; got {n_bytes!r}")
    _check_pad_byte(pad_byte)
    data, _ = read_bytes(source, n_bytes if max_bytes is None else min(n_bytes, max_bytes))
    prefix = np.full(int(n_bytes), pad_byte, dtype=np.uint8)
    prefix[: data.size] = data
    return prefix, int(data.size)


def head_tile(
    source: ByteSource, n_bytes: int = 4096, width: int | None = None, *, pad_byte: int = 0,
    max_bytes: int | None = None,
) -> np.ndarray:
    """The first ``n_bytes`` bytes as a raw tile, no resampling: one byte per pixel, row-major.

    Only ``n_bytes`` are read (``max_bytes`` if that is fewer). A shorter file is padded with ``pad_byte`` (0 by
    default), as in the shared corpora's ``head4096`` view.

    Args:
        source: a path, or the bytes themselves.
        n_bytes: bytes in the tile (4096 gives 64x64).
        width: tile width; None means a square tile, which needs ``n_bytes`` to be a perfect square.
        pad_byte: the grey level (0-255) of the padding.
        max_bytes: read at most this many bytes; the rest of the tile is padding.

    Returns:
        uint8 (n_bytes // width, width).

    Raises:
        ValueError: n_bytes not a multiple of width (or not a square when width is None).
        FileNotFoundError, DataFormatError: see ``read_bytes``.
    """
    if int(n_bytes) != n_bytes or n_bytes < 1:
        raise ValueError(f"n_bytes must be a positive integer; got {n_bytes!r}")
    if width is None:
        width = math.isqrt(n_bytes)
        if width * width != n_bytes:
            raise ValueError(f"n_bytes={n_bytes} is not a perfect square; give a width that divides it")
    if width < 1 or n_bytes % width:
        raise ValueError(f"n_bytes={n_bytes} must be a multiple of width={width}")
    prefix, _ = byte_prefix(source, n_bytes, pad_byte=pad_byte, max_bytes=max_bytes)
    return prefix.reshape(n_bytes // width, width)
