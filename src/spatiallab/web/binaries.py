"""The Binaries tab: an uploaded executable's byte plot with its sections drawn over it, then the upload deleted.

The file is only read (``spatiallab.binimage``: memory-mapped bytes, and LIEF's parser for the sections); it is never
executed or loaded. Uploads live in the lab's private temporary folder and are deleted as soon as they are drawn,
or refused (and deleted) when larger than the limit.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from spatiallab import binimage

DEFAULT_LIMIT_BYTES = 8 * 1024 * 1024


class UploadTooLargeError(ValueError):
    """An upload above the size limit: refused without reading its bytes."""


def describe_limit(limit_bytes: int) -> str:
    """The limit in words, e.g. "8.0 MiB (8,388,608 bytes)" (1 MiB = 2**20 bytes, as Gradio's refusal counts)."""
    mebibytes = limit_bytes / 2**20
    size = f"{mebibytes:.1f} MiB" if mebibytes >= 1 else f"{limit_bytes / 1024:.1f} KiB"
    return f"{size} ({limit_bytes:,} bytes)"


def discard_upload(path: str | os.PathLike, upload_root: str | os.PathLike) -> bool:
    """Delete an uploaded file, and its folder when left empty, but only inside ``upload_root``.

    Returns:
        True when something was deleted; False for a path outside ``upload_root`` (never touched) or already gone.
    """
    path, root = Path(path).resolve(), Path(upload_root).resolve()
    if root not in path.parents or not path.is_file():
        return False
    path.unlink()
    if path.parent != root and not any(path.parent.iterdir()):
        path.parent.rmdir()
    return True


def byte_plot_with_sections(path: str | os.PathLike, limit_bytes: int = DEFAULT_LIMIT_BYTES) -> dict:
    """Draw a file's byte plot (Nataraj et al. 2011) with its PE/ELF/Mach-O regions (``binimage.draw_layout``).

    Args:
        path: the file to read (it is not modified).
        limit_bytes: larger files are refused before any byte is read.

    Returns:
        {"figure": uint8 (H, W, 3) rendered PNG, "plot_shape": (rows, width) of the byte plot, "size": bytes,
         "format": "ELF" | "PE" | "MachO" | None, "regions": number of regions, "note": LIEF's note or ""}.

    Raises:
        UploadTooLargeError: larger than ``limit_bytes``.
        FileNotFoundError, DataFormatError: not a readable non-empty regular file (``binimage.checked_file_size``).
    """
    name = Path(path).name
    size = binimage.checked_file_size(path)
    if size > limit_bytes:
        raise UploadTooLargeError(
            f"{name}: {size:,} bytes is larger than the limit of {describe_limit(limit_bytes)}; it was not read"
        )
    image = binimage.to_image(path)
    layout = binimage.parse_layout(path)
    with tempfile.TemporaryDirectory(prefix="spatiallab-plot-") as folder:
        png = Path(folder) / "byte_plot.png"
        binimage.draw_layout(image, layout, png, f"{name}: {size:,} bytes, {image.shape[1]} bytes per row")
        with Image.open(png) as rendered:
            figure = np.asarray(rendered.convert("RGB"))
    return {"figure": figure, "plot_shape": image.shape, "size": size, "format": layout.format,
            "regions": len(layout.regions), "note": layout.note}  # fmt: skip
