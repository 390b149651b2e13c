"""Image folders: one subfolder per class of image files (PNG, JPEG, BMP, TIFF), e.g. the Malimg malware images.

Layout: ``root/<class name>/<image file>``; classes are the subfolder names in sorted order (label 0 is the first).
Names starting with "." (hidden files and folders) are skipped; files directly under ``root`` (a README, a licence)
belong to no class and are ignored. Every other file must be a readable image: unreadable ones (a FIFO, socket or
device among them, which is never opened) are reported with their path, never silently dropped.

Channel rule (every Pillow mode to one channel count):
    1. 16-bit greyscale ("I;16*", or "I" with values in 0..65535) becomes 8-bit by ``round(v / 257)``, which maps
       0..65535 linearly onto 0..255 and inverts the usual 8-to-16-bit widening ``v * 257`` exactly.
    2. Transparency (LA, PA, RGBA, or a palette/"transparency" entry) is composited onto black:
       ``round(colour * alpha / 255)`` -- black is the zero background of MNIST-style images and of zero fill.
    3. Pillow then converts to "L" (channels=1: ITU-R 601-2 luma, L = 299/1000 R + 587/1000 G + 114/1000 B) or to
       "RGB" (channels=3: grey copied to R, G and B); "1", "P", "CMYK" and "YCbCr" go through Pillow's own conversion.
    Without ``channels`` the count is 1 when every file's mode is greyscale (1, L, LA, I, I;16) and 3 otherwise.
    32-bit float images ("F") are refused: they have no agreed 0..255 scale.

Resize rule: when ``image_size`` is given, or when the images differ in size (then ``image_size`` is required),
each image is stretched to exactly ``image_size`` (no cropping, no padding: aspect ratios change) with Pillow's
bilinear filter, which widens its support when shrinking, so downscaling averages rather than skips pixels.

These folders have no test split: a stratified split with a fixed seed is made and recorded in ``Dataset.split``.
Malimg: Nataraj, Karthikeyan, Jacob, Manjunath, "Malware Images: Visualization and Automatic Classification",
VizSec 2011.
"""

from __future__ import annotations

import collections
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from spatiallab.data import archives
from spatiallab.data.dataset import Dataset
from spatiallab.data.errors import DataFormatError, DatasetNotFoundError
from spatiallab.data.registry import register_dataset
from spatiallab.data.splits import stratified_split

GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N"})
SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})
ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
HOW_TO_GET = "--data PATH to a folder with one subfolder of images per class (e.g. Malimg's malimg_paths/)"
MAX_LISTED = 10
# What Pillow raises for a file it cannot identify or decode (a broken PNG chunk raises SyntaxError).
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


def to_array(image: Image.Image, channels: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """One Pillow image -> uint8 (H, W, channels) by the module's channel rule, resized to ``size`` (H, W) if given.

    Raises:
        ValueError: channels not 1 or 3, a float ("F") image, or "I" values outside 0..65535.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels}")
    if image.mode == "F":
        raise ValueError("a 32-bit float image (mode F) has no agreed 0..255 scale")
    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.int64)
        if values.min(initial=0) < 0 or values.max(initial=0) > 65535:
            raise ValueError(f"mode {image.mode} values {values.min()}..{values.max()} are outside 0..65535")
        image = Image.fromarray(((values + 128) // 257).astype(np.uint8), "L")
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.uint32)
        image = Image.fromarray(((rgba[..., :3] * rgba[..., 3:] + 127) // 255).astype(np.uint8), "RGB")
    image = image.convert("L" if channels == 1 else "RGB")
    if size is not None and image.size != (size[1], size[0]):
        image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    return array[..., np.newaxis] if channels == 1 else array


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".")


def list_class_files(root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names (sorted subfolder names) and (file, label) pairs in sorted order, hidden entries skipped.

    Raises:
        DataFormatError: fewer than 2 class folders, an empty class folder, or a folder inside a class folder.
    """
    classes = sorted(entry.name for entry in root.iterdir() if entry.is_dir() and not _is_hidden(entry))
    if len(classes) < 2:
        raise DataFormatError(root, "at least 2 class subfolders (root/<class>/<image>)", f"{len(classes)}: {classes}")
    files = []
    for label, name in enumerate(classes):
        entries = sorted(entry for entry in (root / name).iterdir() if not _is_hidden(entry))
        nested = [entry.name for entry in entries if entry.is_dir()]
        if nested:
            raise DataFormatError(
                root / name, "image files directly inside each class folder", f"subfolders {nested[:MAX_LISTED]}",
                "If the root holds train/ and test/ folders, point --data at one of them",
            )
        if not entries:
            raise DataFormatError(root / name, "at least one image file per class folder", "an empty folder")
        files.extend((entry, label) for entry in entries)
    return classes, files


def _headers(files: list[tuple[Path, int]]) -> tuple[dict, dict[Path, str]]:
    """(mode, size) for each readable file's header, and {path: reason} for the rest.

    A FIFO, socket or device is listed without being opened (opening a FIFO would block until a writer came).
    """
    headers, bad = {}, {}
    for path, _ in files:
        try:
            kind = archives.special_kind(path)
            if kind is not None:
                bad[path] = f"{kind}, not a regular file; not opened"
                continue
            with Image.open(path) as image:
                headers[path] = (image.mode, image.size)
        except DECODE_ERRORS as error:
            bad[path] = f"{type(error).__name__}: {error}"
    return headers, bad


def _report(root: Path, bad: dict[Path, str], skip_unreadable: bool) -> None:
    listed = "; ".join(f"{path} ({reason})" for path, reason in list(bad.items())[:MAX_LISTED])
    more = f"; and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    message = f"{len(bad)} unreadable file(s): {listed}{more}"
    if not skip_unreadable:
        raise DataFormatError(
            root, "readable image files (PNG, JPEG, BMP, TIFF) in every class folder", message,
            "Fix or move them, or leave them out with --skip-unreadable (in Python: skip_unreadable=True); the "
            "files left out are listed in the dataset's info",
        )
    warnings.warn(f"{root}: left out {message}", stacklevel=3)


def read_image_folder(
    root: str | os.PathLike,
    image_size: int | tuple[int, int] | None = None,
    channels: int | None = None,
    skip_unreadable: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[str], dict]:
    """Decode every image under ``root`` by the module's channel and resize rules.

    Args:
        root: folder with one subfolder per class.
        image_size: int (square) or (H, W); required when the images differ in size.
        channels: 1 or 3; None picks 1 when every file's mode is greyscale, else 3.
        skip_unreadable: leave unreadable files out (with a warning, and listed in ``info["skipped"]``)
            instead of raising.

    Returns:
        ``(images, labels, class_names, info)``: uint8 (N, H, W, C), int64 (N,), list of names, dict.

    Raises:
        FileNotFoundError: ``root`` is not a folder. DataFormatError: bad layout, unreadable files (a FIFO,
        socket or device included, listed without being opened), or mixed sizes without ``image_size``.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder (expected a folder with one subfolder per class)")
    classes, files = list_class_files(root)
    headers, bad = _headers(files)
    if bad:
        _report(root, bad, skip_unreadable)
    if image_size is not None:
        size = (int(image_size), int(image_size)) if np.isscalar(image_size) else tuple(map(int, image_size))
    else:
        sizes = collections.Counter((height, width) for _, (width, height) in headers.values())
        if len(sizes) > 1:
            common = ", ".join(f"{h}x{w} ({n})" for (h, w), n in sizes.most_common(5))
            raise DataFormatError(
                root, "images of one size, or an image size to resize them to",
                f"{len(sizes)} sizes (H x W), most common {common}", "Pass --image-size (e.g. 64)",
            )
        size = None
    modes = collections.Counter(mode for mode, _ in headers.values())
    if channels is None:
        channels = 1 if set(modes) <= GREY_MODES else 3
    images, labels, undecodable = [], [], {}
    for path, label in files:
        if path not in headers:
            continue
        try:
            with Image.open(path) as image:
                images.append(to_array(image, channels, size))
            labels.append(label)
        except DECODE_ERRORS as error:
            undecodable[path] = f"{type(error).__name__}: {error}"
    if undecodable:
        _report(root, undecodable, skip_unreadable)
        bad.update(undecodable)
    if not images:
        raise DataFormatError(root, "at least one readable image", f"none of {len(files)} files could be read")
    info = {"modes_found": dict(modes), "channels": channels, "resized_to": list(size) if size else None,
            "skipped": [str(path) for path in bad]}
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes, info


@register_dataset(
    "folder",
    "a folder of class subfolders of PNG/JPEG/BMP/TIFF images, e.g. Malimg (any size via --image-size; 1 or 3 "
    "channels; classes from the folder names)",
    locate=lambda: None,
    how_to_get=HOW_TO_GET,
)
def load_image_folder(
    path: str | os.PathLike | None = None,
    image_size: int | tuple[int, int] | None = None,
    channels: int | None = None,
    test_fraction: float = 0.2,
    split_seed: int = 0,
    skip_unreadable: bool = False,
) -> Dataset:
    """An image folder as a ``Dataset`` split stratified by class: x uint8 (N, H, W, C), y int64 (N,).

    Args:
        path: the root folder (required). image_size, channels, skip_unreadable: see ``read_image_folder``.
        test_fraction, split_seed: the stratified split (``spatiallab.data.splits.stratified_split``).

    Raises:
        DatasetNotFoundError: no path. DataFormatError / FileNotFoundError: see ``read_image_folder``.
    """
    if path is None:
        raise DatasetNotFoundError(f"the folder dataset needs a path: {HOW_TO_GET}")
    images, labels, classes, info = read_image_folder(path, image_size, channels, skip_unreadable)
    train, test = stratified_split(labels, test_fraction, split_seed)
    return Dataset(
        name="folder", x_train=images[train], y_train=labels[train], x_test=images[test], y_test=labels[test],
        class_names=classes, source=os.fspath(path),
        split={"method": "stratified", "test_fraction": test_fraction, "seed": split_seed},
        info=info,
    )
