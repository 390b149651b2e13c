"""Writing byte plots as PNG files, atomically (``spatiallab.atomic``)."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from spatiallab.atomic import atomic_path


def save_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """Save a uint8 (H, W) greyscale image as an 8-bit PNG (one byte per pixel, lossless), atomically."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"expected a uint8 (H, W) image; got {image.dtype} {image.shape}")
    with atomic_path(path) as temporary:
        Image.fromarray(image).save(temporary, format="PNG")
