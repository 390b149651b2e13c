"""Reader for LeCun's IDX format (the original MNIST / Fashion-MNIST files), gzipped or raw.

Format (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS FOR THE MNIST DATABASE"): a 4-byte magic number -- two zero
bytes, a type code (0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and the number of
dimensions -- then one big-endian uint32 per dimension, then the data in C order, big-endian.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from spatiallab.data import archives
from spatiallab.data.errors import DataFormatError

IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx_bytes(raw: bytes, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """Decode IDX data already in memory (gzip recognised by its signature, not by a file name).

    Returns:
        The array with the shape from the header, in native byte order (uint8 for MNIST files).

    Raises:
        DataFormatError: bad gzip stream, bad magic, or a length that differs from header + prod(dims) * itemsize.
    """
    if raw.startswith(archives.GZIP_SIGNATURE):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DataFormatError(
                path, "a complete gzip stream", f"a damaged or truncated one ({error})", archives.REFETCH_HINT
            ) from None
    if len(raw) < 4:
        raise DataFormatError(path, "an IDX file (at least a 4-byte magic number)", f"{len(raw)} bytes")
    zero0, zero1, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_TYPES or ndim == 0:
        raise DataFormatError(
            path,
            "an IDX magic number (00 00, a type code in 08/09/0B/0C/0D/0E, ndim >= 1)",
            archives.describe_head(raw[:archives.HEAD_SIZE]),
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataFormatError(path, f"a {header_size}-byte header for {ndim} dimensions", f"{len(raw)} bytes in all")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    expected = header_size + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        state = "is truncated" if len(raw) < expected else "has trailing bytes"
        raise DataFormatError(
            path,
            f"{expected:,} bytes (header {header_size} + {'x'.join(map(str, dims))} x {dtype.itemsize})",
            f"{len(raw):,} bytes: the file {state}",
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file, gzipped or raw, checking magic, dimensions and exact length.

    Args:
        path: the file, e.g. ``t10k-images-idx3-ubyte.gz``.

    Returns:
        np.ndarray with the header's shape, e.g. uint8 (10000, 28, 28) for MNIST test images.

    Raises:
        FileNotFoundError: no such file. DataFormatError: a FIFO or other non-regular file (never opened), or
        anything that is not a complete IDX file.
    """
    archives.require_regular_file(path, "an IDX file")
    with open(path, "rb") as handle:
        raw = handle.read()
    return read_idx_bytes(raw, path)
