"""The Explore tab's arithmetic: the flat vector a Dense layer receives, one 3x3 filter sliding over the image
(the filter box always showing the filter in use). Pure NumPy, no Keras.

Convolution here is what Keras's Conv2D computes (stride 1, "valid" padding, no kernel flip, i.e. a
cross-correlation): ``out[r, c] = sum_ij image[r + i, c + j] * kernel[i, j]``.
"""

from __future__ import annotations

import re

import numpy as np


# Preset 3x3 kernels. Sobel: I. Sobel and G. Feldman (1968); the Laplacian is the 4-neighbour discrete Laplacian.
KERNELS: dict[str, np.ndarray] = {
    "vertical edges (Sobel x)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    "horizontal edges (Sobel y)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
    "all edges (Laplacian)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32),
    "blur (box 3x3)": np.full((3, 3), 1 / 9, dtype=np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
}
CUSTOM = "custom (type 9 numbers)"


def flat_vector(image: np.ndarray) -> np.ndarray:
    """The image as the 1-D vector Keras's Flatten hands to a Dense layer.

    Args:
        image: (H, W) or (H, W, C) array.

    Returns:
        (H*W*C,) view in row-major order: index ``(row * W + column) * C + channel``.
    """
    return np.asarray(image).reshape(-1)


def parse_kernel(text: str) -> np.ndarray:
    """A 3x3 kernel from 9 numbers separated by spaces, commas, semicolons or new lines (row by row).

    Returns:
        float32 (3, 3).

    Raises:
        ValueError: not exactly 9 numbers, or a token that is not a number.
    """
    tokens = [token for token in re.split(r"[\s,;]+", text.strip()) if token]
    try:
        values = [float(token) for token in tokens]
    except ValueError:
        raise ValueError(f"kernel: expected 9 numbers (row by row); found {text.strip()!r}") from None
    if len(values) != 9 or not np.all(np.isfinite(values)):
        raise ValueError(f"kernel: expected 9 finite numbers (row by row); found {len(values)}: {text.strip()!r}")
    return np.asarray(values, dtype=np.float32).reshape(3, 3)


def kernel_for(choice: str, custom_text: str = "") -> np.ndarray:
    """The preset kernel named ``choice``, or ``parse_kernel(custom_text)`` for ``CUSTOM``.

    Raises:
        ValueError: unknown choice, or a bad custom kernel (see ``parse_kernel``).
    """
    if choice == CUSTOM:
        return parse_kernel(custom_text)
    if choice not in KERNELS:
        raise ValueError(f"unknown kernel {choice!r}; expected one of {[*KERNELS, CUSTOM]}")
    return KERNELS[choice]


def kernel_text(kernel: np.ndarray) -> str:
    """A 3x3 kernel as the filter box shows it: three rows of three numbers, each the shortest decimal that
    ``parse_kernel`` reads back as the same float32 (the box blur's 1/9 is 0.11111111)."""

    def number(value) -> str:
        return np.format_float_positional(np.float32(value), unique=True, trim="-")

    return "\n".join(" ".join(number(value) for value in row) for row in np.asarray(kernel))


def kernel_box(choice: str, text: str) -> tuple[str, bool]:
    """(text, editable) of the filter box for filter ``choice``: a preset's own nine numbers, read-only, so the box
    never shows another filter than the one the arithmetic uses; for ``CUSTOM``, the box's ``text`` as it is (the
    last preset shown, to edit), editable.

    Raises:
        ValueError: unknown choice.
    """
    if choice == CUSTOM:
        return text, True
    return kernel_text(kernel_for(choice)), False


def correlate_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Slide ``kernel`` over ``image`` as Keras's Conv2D does (stride 1, valid padding, no flip).

    Args:
        image: (H, W) grey levels (any real dtype; e.g. uint8 0..255 or float 0..1).
        kernel: (k, k) weights.

    Returns:
        float32 (H - k + 1, W - k + 1) feature map.

    Raises:
        ValueError: not 2-D, or a kernel larger than the image.
    """
    image, kernel = np.asarray(image, dtype=np.float32), np.asarray(kernel, dtype=np.float32)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"expected a 2-D image at least as large as a 2-D kernel; got {image.shape}, {kernel.shape}")
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("rcij,ij->rc", windows, kernel).astype(np.float32)


def receptive_field(image: np.ndarray, kernel: np.ndarray, row: int, column: int) -> dict:
    """The input window that makes feature-map value ``(row, column)``, and how it is computed.

    Returns:
        {"patch": (k, k) input values, "products": patch * kernel, "value": their sum (== the feature map's value),
         "rows": (first, last) input rows, "columns": (first, last) input columns}.

    Raises:
        ValueError: (row, column) outside the (H - k + 1, W - k + 1) feature map.
    """
    image, kernel = np.asarray(image, dtype=np.float32), np.asarray(kernel, dtype=np.float32)
    size = kernel.shape[0]
    height, width = image.shape[0] - size + 1, image.shape[1] - size + 1
    if not (0 <= row < height and 0 <= column < width):
        raise ValueError(f"position ({row}, {column}) is outside the {height}x{width} feature map")
    patch = image[row : row + size, column : column + size]
    products = patch * kernel
    return {
        "patch": patch,
        "products": products,
        "value": float(products.sum()),
        "rows": (row, row + size - 1),
        "columns": (column, column + size - 1),
    }

