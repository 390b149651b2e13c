"""The image width of a byte plot, from the file-size table of Nataraj et al. (2011).

Source: L. Nataraj, S. Karthikeyan, G. Jacob, B. S. Manjunath, "Malware images: visualization and automatic
classification", VizSec 2011, Table 1 (file size range -> image width):

    < 10 kB: 32    10-30 kB: 64    30-60 kB: 128    60-100 kB: 256
    100-200 kB: 384    200-500 kB: 512    500-1000 kB: 768    > 1000 kB: 1024

The paper does not say whether a kB is 1000 or 1024 bytes, nor which band an exact edge belongs to; public
implementations differ on both. Here a kB is 1024 bytes by default (``kilobyte=1000`` is the other choice) and every
band is half-open, lower edge included: ``lower <= size < upper``. So with kB = 1024 a file of 10,239 bytes is 32
wide and one of 10,240 bytes is 64 wide. This is the rule that reproduces ``orig_width`` of every file in the shared
corpora (``shared/data/binaries``, built with kB = 1024), checked in ``tests/test_binimage.py``.
"""

from __future__ import annotations

import bisect

# (upper edge in kB, exclusive; width in pixels). The last band has no upper edge.
NATARAJ_WIDTHS: tuple[tuple[float, int], ...] = (
    (10, 32),
    (30, 64),
    (60, 128),
    (100, 256),
    (200, 384),
    (500, 512),
    (1000, 768),
    (float("inf"), 1024),
)
KILOBYTE_CHOICES = (1024, 1000)


def nataraj_width(size_bytes: int, kilobyte: int = 1024) -> int:
    """Image width in pixels (= bytes per row) for a file of ``size_bytes`` bytes, from Nataraj et al. 2011, Table 1.

    Args:
        size_bytes: file size in bytes (> 0).
        kilobyte: bytes per kB in the table, 1024 (default) or 1000.

    Returns:
        One of 32, 64, 128, 256, 384, 512, 768, 1024. Bands are ``lower <= size < upper`` (see the module docstring).

    Raises:
        ValueError: size not a positive integer, or kilobyte not 1024 or 1000.
    """
    if kilobyte not in KILOBYTE_CHOICES:
        raise ValueError(f"kilobyte must be one of {KILOBYTE_CHOICES}; got {kilobyte!r}")
    if int(size_bytes) != size_bytes or size_bytes <= 0:
        raise ValueError(f"size_bytes must be a positive integer; got {size_bytes!r}")
    upper_edges = [upper * kilobyte for upper, _ in NATARAJ_WIDTHS]
    return NATARAJ_WIDTHS[bisect.bisect_right(upper_edges, size_bytes)][1]


def plot_shape(size_bytes: int, width: int | None = None, kilobyte: int = 1024) -> tuple[int, int]:
    """(height, width) of the byte plot of ``size_bytes`` bytes: height = ceil(size / width).

    Args:
        size_bytes: number of bytes plotted (> 0).
        width: bytes per row; None picks ``nataraj_width(size_bytes, kilobyte)``.
        kilobyte: see ``nataraj_width``.

    Raises:
        ValueError: size or width not positive.
    """
    if width is None:
        width = nataraj_width(size_bytes, kilobyte)
    if int(width) != width or width <= 0:
        raise ValueError(f"width must be a positive integer; got {width!r}")
    if int(size_bytes) != size_bytes or size_bytes <= 0:
        raise ValueError(f"size_bytes must be a positive integer; got {size_bytes!r}")
    return -(-int(size_bytes) // int(width)), int(width)
