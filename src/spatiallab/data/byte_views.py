"""The views of executables in a corpus npz, by name: what each holds, how it becomes a model input, and the header
mask, the control for the format header's shortcut.

    x<size>   image     (N, size, size)  the whole file's byte plot resized with ``RESAMPLING`` (Nataraj et al. 2011)
    head<n>   image     (N, s, s)        the first n = s*s bytes as a raw tile, one byte per pixel, zero-padded
    bytes<n>  sequence  (N, n)           the first n bytes in file order, zero-padded (``binimage dataset --bytes``);
                                         in a file without that key, the head<n> tile read in reading order, which
                                         holds the same bytes (so the shared corpora's head4096 is also bytes4096)

A byte view (head<n>, bytes<n>) holds ``min(file_size, max_bytes, n)`` bytes of each file, the rest zero padding:
``lengths`` when the file stores it for its bytes<n> view, else computed from ``file_size`` and meta's ``max_bytes``.

The header mask: ELF and PE headers state the machine and the file type in their first bytes (ELF ``e_machine`` at
offset 18; PE ``Machine`` at ``e_lfanew + 4``, after the DOS stub), so a model can read the label at a fixed
offset. ``mask_header`` zeroes the first B bytes of every sample: positions 0..B-1 of a byte view exactly; in a
resized x<size> view, every pixel that those bytes reach through the resampling (found by resizing indicators of
them with the same filter), which is more than B bytes' worth and is reported as the share of pixels zeroed.
"""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from spatiallab.data.errors import DataFormatError

WHOLE_FILE_VIEW = re.compile(r"x(\d+)")
HEAD_VIEW = re.compile(r"head(\d+)")
SEQUENCE_VIEW = re.compile(r"bytes(\d+)")
LENGTHS_KEY = "lengths"
# The resampling of the whole-file view: Pillow's BILINEAR, which widens its kernel when shrinking so every byte
# contributes to some output pixel (an area-weighted average, not a sample of a few bytes). The shared corpora in
# shared/data/binaries were resized the same way; ``binimage.convert`` resizes with it and the mask follows it.
RESAMPLING = Image.Resampling.BILINEAR
MAX_NAMED_FILES = 5


def views_in(keys) -> dict[str, list[str]]:
    """The views an npz with these keys offers: ``{"image": [x<size>, head<n> ...], "sequence": [bytes<n> ...]}``,
    each sorted; a head<n> tile also offers bytes<n>."""
    keys = set(keys)
    images = sorted(key for key in keys if view_kind(key) == "image")
    derived = {f"bytes{view_bytes(key)}" for key in images if view_bytes(key)}
    sequences = sorted({key for key in keys if view_kind(key) == "sequence"} | derived)
    return {"image": images, "sequence": sequences}


def view_kind(view: str) -> str | None:
    """"image" (x<size>, head<n>), "sequence" (bytes<n>), or None for a name that is no view."""
    if WHOLE_FILE_VIEW.fullmatch(view) or HEAD_VIEW.fullmatch(view):
        return "image"
    return "sequence" if SEQUENCE_VIEW.fullmatch(view) else None


def view_bytes(view: str) -> int | None:
    """The n of a byte view (head<n>, bytes<n>): bytes of each file it holds at most; None for a resized x<size>."""
    match = HEAD_VIEW.fullmatch(view) or SEQUENCE_VIEW.fullmatch(view)
    return int(match[1]) if match else None


def how_to_make(view: str) -> str:
    """What to run for an npz that holds ``view``: ``binimage dataset`` with the option that writes its kind and size
    (``--bytes N`` for bytes<N>, ``--head-bytes N`` for head<N>, ``--size S`` for x<S>), or the view names when
    ``view`` is none of them."""
    for pattern, option in ((SEQUENCE_VIEW, "--bytes"), (HEAD_VIEW, "--head-bytes"), (WHOLE_FILE_VIEW, "--size")):
        match = pattern.fullmatch(view)
        if match:
            return f"to make {view}, run `spatiallab binimage dataset DIR --out data.npz {option} {match[1]}`"
    return f"{view!r} is no view: views are named x<size>, head<n> (images) or bytes<n> (sequences)"


def stored_key(view: str, keys) -> str | None:
    """The npz key that holds ``view``: the view itself, the head<n> tile for a bytes<n> the file does not store,
    or None when the file has neither."""
    keys = set(keys)
    if view in keys:
        return view
    match = SEQUENCE_VIEW.fullmatch(view)
    return f"head{match[1]}" if match and f"head{match[1]}" in keys else None


def check_view(path, view: str, key: str, array: np.ndarray) -> None:
    """Check the stored array of ``view`` (read from npz key ``key``).

    Raises:
        DataFormatError: naming ``path``: not uint8, no rows, not (N, H, W) for an image view or a tile, not (N, n)
        for a stored bytes<n>, or a head<n> tile that does not hold n bytes.
    """
    n_bytes = view_bytes(view)
    if key == view and view_kind(view) == "sequence":
        if array.dtype != np.uint8 or array.shape[1:] != (n_bytes,) or len(array) == 0:
            raise DataFormatError(path, f"{view} as uint8 (N, {n_bytes}) with N >= 1", f"{array.dtype} {array.shape}")
        return
    if array.dtype != np.uint8 or array.ndim != 3 or len(array) == 0:
        raise DataFormatError(path, f"{key} as uint8 (N, H, W) with N >= 1", f"{array.dtype} {array.shape}")
    if n_bytes is not None and array.shape[1] * array.shape[2] != n_bytes:
        raise DataFormatError(path, f"{key} as tiles of {n_bytes} bytes", f"tiles of {array.shape[1:]}")


def model_input(view: str, array: np.ndarray) -> np.ndarray:
    """The stored array as the models see it, with a channel axis: uint8 (N, H, W, 1) for an image view, uint8
    (N, n, 1) for a sequence view (a head<n> tile in reading order)."""
    if view_kind(view) == "sequence":
        return array.reshape(len(array), -1, 1)
    return array[..., np.newaxis]


def _file_names(relpaths: np.ndarray | None, rows: np.ndarray) -> str:
    """``a/x, b/y and 3 more`` (relpaths), or row numbers when the file has no relpath column."""
    names = [str(relpaths[row]) if relpaths is not None else f"row {row}" for row in rows[:MAX_NAMED_FILES]]
    more = len(rows) - MAX_NAMED_FILES
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def view_lengths(path, arrays: dict[str, np.ndarray], view: str, key: str, max_bytes: int | None) -> np.ndarray | None:
    """Bytes of each file that ``view`` holds (int64 (N,)): ``lengths`` of a stored bytes<n>, else
    ``min(file_size, max_bytes, n)`` (for x<size>, the bytes read into the plot); None without ``file_size``.

    Raises:
        DataFormatError: ``lengths`` or ``file_size`` not N integers, a length outside 0..n, or a file with no byte
        in the view (an empty prefix: a file of 0 bytes), naming the files.
    """
    count, n_bytes = len(arrays[key]), view_bytes(view)
    column = LENGTHS_KEY if key == view and LENGTHS_KEY in arrays else "file_size"
    if column not in arrays:
        return None
    lengths = arrays[column]
    if lengths.shape != (count,) or not np.issubdtype(lengths.dtype, np.integer):
        raise DataFormatError(path, f"{column} as integers of shape ({count},)", f"{lengths.dtype} {lengths.shape}")
    limit = n_bytes if column == LENGTHS_KEY else None
    if limit is not None and ((lengths < 0) | (lengths > limit)).any():
        raise DataFormatError(path, f"{column} in 0..{limit} (bytes of each file in {view})",
                              f"values {lengths.min()}..{lengths.max()}")  # fmt: skip
    lengths = lengths.astype(np.int64)
    caps = [cap for cap in (max_bytes, n_bytes) if cap]
    if caps:
        lengths = np.minimum(lengths, min(caps))
    empty = np.flatnonzero(lengths <= 0)
    if empty.size:
        raise DataFormatError(path, f"at least one byte of every file in {view}",
                              f"{empty.size} file(s) of 0 bytes (an empty prefix, only padding): "
                              f"{_file_names(arrays.get('relpath'), empty)}")  # fmt: skip
    return lengths


def _reach(start: int, stop: int, length: int, size: int) -> np.ndarray:
    """bool (size,): the outputs that inputs ``start..stop-1`` of a line of ``length`` reach when it is resized to
    ``size`` with ``RESAMPLING`` (an indicator resized in float: Pillow's weights are never negative)."""
    line = np.zeros((length, 1), dtype=np.float32)
    line[start:stop] = 1.0
    return np.asarray(Image.fromarray(line).resize((1, size), RESAMPLING))[:, 0] > 0


def resized_footprint(plot_shape: tuple[int, int], size: int, n_bytes: int) -> np.ndarray:
    """bool (size, size): the pixels of a byte plot of ``plot_shape`` (H, W), resized to ``size`` x ``size`` with
    ``RESAMPLING``, that any of its first ``n_bytes`` bytes contributes to.

    The first bytes fill whole rows 0..q-1 and the first c columns of row q; Pillow resizes each axis separately,
    so their reach is rows(0..q-1) x all columns, plus row(q) x columns(0..c-1).
    """
    height, width = int(plot_shape[0]), int(plot_shape[1])
    full_rows, rest = divmod(min(int(n_bytes), height * width), width)
    footprint = np.repeat(_reach(0, full_rows, height, size)[:, np.newaxis], size, axis=1)
    if rest:
        footprint |= np.outer(_reach(full_rows, full_rows + 1, height, size), _reach(0, rest, width, size))
    return footprint


def mask_header(path, samples: np.ndarray, view: str, n_bytes: int, arrays: dict[str, np.ndarray],
                lengths: np.ndarray | None) -> tuple[np.ndarray, dict]:  # fmt: skip
    """Zero the first ``n_bytes`` bytes of every sample (see the module docstring); a copy, and what was done.

    Args:
        samples: the stored array of ``view``, uint8 (N, H, W) or (N, n), its rows the files of ``arrays``.
        arrays: the npz's columns for these rows (``relpath`` names files in errors; ``orig_height`` and
            ``orig_width`` place the bytes in a resized view).
        lengths: bytes of each file in the view (``view_lengths``).

    Returns:
        ``(masked, info)``: info is ``{"bytes", "view", "exact": False for a resized view, "masked_share": mean share
        of a sample's positions zeroed}``, recorded with the dataset.

    Raises:
        ValueError: ``n_bytes`` not a positive integer, or at least the whole byte view (every sample blank).
        DataFormatError: without ``file_size`` (or the plot's shape for a resized view) to check the files, or files
            whose every byte the mask covers: their samples would carry no information.
    """
    if int(n_bytes) != n_bytes or n_bytes < 1:
        raise ValueError(f"--mask-header must be a positive number of bytes; got {n_bytes!r}")
    view_size = view_bytes(view)
    if view_size is not None and n_bytes >= view_size:
        raise ValueError(f"--mask-header {n_bytes} would zero all {view_size:,} bytes of view {view} in {path}, so "
                         f"every sample would be blank; expected 1 to {view_size - 1:,}")  # fmt: skip
    if lengths is None:
        raise DataFormatError(path, f"file_size (int64, N) to tell which files a {n_bytes}-byte header mask blanks",
                              "no file_size")  # fmt: skip
    masked = samples.copy()
    if view_size is not None:
        masked.reshape(len(masked), -1)[:, :n_bytes] = 0
        blank = lengths <= n_bytes
        shares = np.full(len(masked), n_bytes / view_size)
    else:
        if not {"orig_height", "orig_width"} <= arrays.keys():
            raise DataFormatError(path, f"orig_height and orig_width to find the pixels of {view} that the first "
                                  f"{n_bytes} bytes reach", "no such columns")  # fmt: skip
        size = masked.shape[1]
        footprints = np.stack([resized_footprint(shape, size, n_bytes)
                               for shape in zip(arrays["orig_height"], arrays["orig_width"])])  # fmt: skip
        masked[footprints] = 0
        blank = (lengths <= n_bytes) | footprints.all(axis=(1, 2))
        shares = footprints.mean(axis=(1, 2))
    rows = np.flatnonzero(blank)
    if rows.size:
        names = _file_names(arrays.get("relpath"), rows)
        raise DataFormatError(path, f"files longer than the header mask (--mask-header {n_bytes}), so that some "
                              f"byte of each is left in {view}",
                              f"{rows.size} file(s) the mask blanks entirely: {names}",
                              hint="A blank sample carries no information: use a smaller --mask-header, or leave "
                              "these files out of the corpus")  # fmt: skip
    return masked, {"bytes": int(n_bytes), "view": view, "exact": view_size is not None,
                    "masked_share": round(float(shares.mean()), 4)}  # fmt: skip
