"""The Explore tab's arithmetic: the flat vector a Dense layer receives, one 3x3 filter sliding over the image,
and the parameter counts of Dense and Conv2D. Pure NumPy, no Keras.

Convolution here is what Keras's Conv2D computes (stride 1, "valid" padding, no kernel flip, i.e. a
cross-correlation): ``out[r, c] = sum_ij image[r + i, c + j] * kernel[i, j]``.
"""

from __future__ import annotations

import re

import numpy as np

from spatiallab.models import specs as arch

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


def parameter_counts(units: int, filters: int, kernel_size: int, image_shape=(28, 28, 1)) -> dict:
    """Parameters of one Dense layer on the flattened image and of one Conv2D layer on the image grid.

    Dense(units) on H*W*C inputs: H*W*C*units weights + units biases. Conv2D(filters, k x k) on C channels:
    k*k*C*filters weights + filters biases, the same at every position (weight sharing), so independent of H and W.

    Returns:
        {"dense": int, "conv": int, "ratio": dense / conv, "inputs": H*W*C,
         "conv_output": (H - k + 1, W - k + 1, filters)}.

    Raises:
        ValueError: non-positive sizes, or a kernel larger than the image.
    """
    if min(units, filters, kernel_size) < 1:
        raise ValueError(f"units, filters and kernel size must be >= 1; got {units}, {filters}, {kernel_size}")
    image_shape = tuple(int(size) for size in image_shape)
    inputs = int(np.prod(image_shape))
    conv = arch.Conv2D(int(filters), int(kernel_size))
    output = arch.walk([conv], image_shape)[0][2]
    dense_count = arch.Dense(int(units)).param_count((inputs,))
    conv_count = conv.param_count(image_shape)
    return {"dense": dense_count, "conv": conv_count, "ratio": dense_count / conv_count, "inputs": inputs,
            "conv_output": output}  # fmt: skip
