"""Writing outputs safely: to a temporary name next to the target, then ``os.replace`` (atomic on one filesystem)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it is renamed onto ``path``, else removed.

    A reader never sees a half-written file, and an earlier file at ``path`` survives a failed write.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """Save a uint8 (H, W) greyscale image as an 8-bit PNG (one byte per pixel, lossless), atomically."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"expected a uint8 (H, W) image; got {image.dtype} {image.shape}")
    with atomic_path(path) as temporary:
        Image.fromarray(image).save(temporary, format="PNG")
