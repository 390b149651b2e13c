"""Executables as images: the npz written by ``spatiallab binimage dataset`` (and the shared corpora's files).

The layout is documented in ``spatiallab.binimage.corpus``: image views such as ``x64`` (the whole file's Nataraj
byte plot resized to 64x64) and ``head4096`` (the first 4096 bytes as a 64x64 tile), sequence views ``bytes<n>`` (the
first n bytes in file order; see ``byte_views``), labels ``y``, ``class_names``, and optionally ``group``. The
file has no train/test split, so one is made with a fixed seed: grouped by ``group`` when the file has that column
(one program built for several architectures never sits in both train and test), stratified by class otherwise
(``spatiallab.data.splits``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from spatiallab.data import archives, byte_views
from spatiallab.data.dataset import Dataset, check_labels
from spatiallab.data.errors import DataFormatError, DatasetNotFoundError
from spatiallab.data.registry import register_dataset
from spatiallab.data.splits import grouped_split, stratified_split

HOW_TO_GET = "--data PATH to an npz written by `spatiallab binimage dataset DIR --out data.npz`"
# Columns read beside the view: the split's groups, the bytes of each file (lengths), and for the header mask the
# files' names and byte-plot shapes.
COLUMNS = ("group", "meta", "file_size", "relpath", "orig_height", "orig_width")


def _read_arrays(path: Path, view: str | None) -> tuple[dict[str, np.ndarray], str, str]:
    """The arrays of the file, the view and the key that stores it (``byte_views.stored_key``)."""
    with archives.open_npz(path, "an npz") as archive:
        keys = set(archive.keys)
        views = byte_views.views_in(keys)
        whole_file_views = [key for key in views["image"] if byte_views.WHOLE_FILE_VIEW.fullmatch(key)]
        if view is None and len(whole_file_views) > 1:
            raise DataFormatError(path, "one whole-file view x<size>, or a view chosen with view= (--view)",
                                  f"several: {whole_file_views}")
        if view is None:
            view = next(iter(whole_file_views), None)
        key = None if view is None else byte_views.stored_key(view, keys)
        if {"y", "class_names"} - keys or key is None:
            offered = (f"image views in this file: {views['image']}; sequence views: {views['sequence']}"
                       if views["image"] or views["sequence"] else "")  # fmt: skip
            making = byte_views.how_to_make(view or "x64") if key is None else ""
            raise DataFormatError(
                path, f"keys y, class_names and the view {view or 'x64'!r} (x<size> or head<n>: uint8 N x H x W; "
                "bytes<n>: uint8 N x n, or the head<n> tile)", f"keys {sorted(keys)}",
                hint="; ".join(part for part in (offered, making) if part),
            )
        lengths = (byte_views.LENGTHS_KEY,) if key == view and byte_views.view_kind(view) == "sequence" else ()
        arrays = {name: archive.read(name) for name in ("y", "class_names", key, *COLUMNS, *lengths) if name in keys}
    return arrays, view, key


def _check(path: Path, arrays: dict[str, np.ndarray], view: str, key: str) -> None:
    byte_views.check_view(path, view, key, arrays[key])
    images, labels, names = arrays[key], arrays["y"], arrays["class_names"]
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise DataFormatError(path, f"y as integers of shape ({len(images)},)", f"{labels.dtype} {labels.shape}")
    if names.ndim != 1 or names.dtype.kind != "U" or len(names) == 0:
        raise DataFormatError(path, "class_names as strings (N_classes,)", f"{names.dtype} {names.shape}")
    check_labels(path, labels, len(names), "y")
    if "group" in arrays and arrays["group"].shape != labels.shape:
        raise DataFormatError(path, f"group of shape {labels.shape}", f"{arrays['group'].shape}")


def _meta(path: Path, arrays: dict[str, np.ndarray]) -> dict:
    if "meta" not in arrays:
        return {}
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, "meta as a JSON object", f"text that is not JSON ({error})") from None
    if not isinstance(meta, dict):
        raise DataFormatError(path, "meta as a JSON object", f"a JSON {type(meta).__name__}")
    return meta


def _selected_classes(path, names: np.ndarray, labels: np.ndarray, classes, min_class_size: int) -> list[int]:
    if isinstance(classes, str):
        classes = [name.strip() for name in classes.split(",") if name.strip()]
    unknown = sorted(set(classes or []) - set(names.tolist()))
    if unknown:
        raise ValueError(f"{path}: unknown class(es) {unknown}; the file has {names.tolist()}")
    counts = np.bincount(labels, minlength=len(names))
    return [index for index, name in enumerate(names)
            if (not classes or name in classes) and counts[index] >= min_class_size]


@register_dataset(
    "binaries",
    "executables as Nataraj byte-plot images or byte sequences: an npz of `spatiallab binimage dataset` (grouped or "
    "stratified split)",
    locate=lambda: None,
    how_to_get=HOW_TO_GET,
    kind=None,  # the view decides: images (x<size>, head<n>) or sequences (bytes<n>)
)
def load_binaries(
    path: str | os.PathLike | None = None,
    view: str | None = None,
    test_fraction: float = 0.2,
    split_seed: int = 0,
    min_class_size: int = 1,
    classes: str | list[str] | None = None,
    mask_header: int | None = None,
) -> Dataset:
    """An executables npz as a ``Dataset``: x uint8 (N, H, W, 1) images or (N, n, 1) byte sequences, y int64 (N,),
    split with a fixed seed.

    Args:
        path: the npz (``spatiallab binimage dataset`` output, or ``shared/data/binaries/*.npz``).
        view: the view (``byte_views``): "x64" (whole file, resized) or "head4096" (first 4096 bytes as a tile) give
            images; "bytes4096" (first 4096 bytes in file order; in a file without that key, its head4096 tile) gives
            sequences (``Dataset.kind == "sequence"``). None picks the whole-file view ``x<size>`` (a
            DataFormatError when the file has several: choose one).
        test_fraction, split_seed: the split (``splits.grouped_split`` when the file has ``group``, else
            ``splits.stratified_split``), recorded in ``Dataset.split``.
        min_class_size: leave out classes with fewer files than this (the PE corpus has classes of 28, 3 and 2
            files; 100 keeps its three large ones); the classes left out are recorded in ``info``.
        classes: keep only these class names (a list, or a comma-separated string).
        mask_header: zero the first this many bytes of every file's sample, train and test alike
            (``byte_views.mask_header``: exact in a byte view, every pixel they reach in a resized one); recorded in
            ``info["header_mask"]``.

    Raises:
        DatasetNotFoundError: no path. FileNotFoundError: no such file. DataFormatError: not a regular file, not
        a complete npz (see ``archives.open_npz``), missing keys or the view (the message lists the views the file
        has), wrong dtypes or shapes, no rows, a label outside 0..len(class_names)-1, meta not a JSON object, a file
        with no byte in the view, or files the header mask would blank entirely. ValueError: unknown class names,
        fewer than 2 classes left, too few samples or groups to split, or a header mask of the whole byte view.
    """
    if path is None:
        raise DatasetNotFoundError(f"the binaries dataset needs a path: {HOW_TO_GET}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file (expected an npz of executables as images)")
    arrays, view, key = _read_arrays(path, view)
    _check(path, arrays, view, key)
    meta = _meta(path, arrays)
    max_bytes = meta.get("max_bytes") if isinstance(meta.get("max_bytes"), int) else None
    lengths = byte_views.view_lengths(path, arrays, view, key, max_bytes)
    names, labels = arrays["class_names"], arrays["y"].astype(np.int64)
    kept = _selected_classes(path, names, labels, classes, min_class_size)
    if len(kept) < 2:
        raise ValueError(f"{path}: fewer than 2 classes left after selection (min_class_size={min_class_size}, "
                         f"classes={classes}); class sizes {dict(zip(names.tolist(), np.bincount(labels).tolist()))}")
    rows = np.flatnonzero(np.isin(labels, kept))
    new_label = np.full(len(names), -1, dtype=np.int64)
    new_label[kept] = np.arange(len(kept))
    labels = new_label[labels[rows]]
    split = {"test_fraction": test_fraction, "seed": split_seed}
    try:
        if "group" in arrays:
            groups = arrays["group"][rows]
            train, test = grouped_split(labels, groups, test_fraction, split_seed)
            split.update(method="grouped", column="group", n_groups=len(np.unique(groups)),
                         n_test_groups=len(np.unique(groups[test])))
        else:
            train, test = stratified_split(labels, test_fraction, split_seed)
            split["method"] = "stratified"
    except ValueError as error:
        raise ValueError(f"{path}: cannot split: {error}") from None
    split["test_share"] = round(len(test) / len(labels), 4)
    samples, masked = arrays[key][rows], {}
    if mask_header is not None:
        columns = {name: arrays[name][rows] for name in ("relpath", "orig_height", "orig_width") if name in arrays}
        samples, mask = byte_views.mask_header(path, samples, view, mask_header, columns,
                                               None if lengths is None else lengths[rows])  # fmt: skip
        masked = {"header_mask": mask}
    samples = byte_views.model_input(view, samples)
    dropped = [name for index, name in enumerate(names.tolist()) if index not in kept]
    made = meta.get(view) or (f"{meta.get(key, key)}, read in file order" if key != view else meta.get("image", ""))
    return Dataset(
        name="binaries",
        x_train=samples[train], y_train=labels[train], x_test=samples[test], y_test=labels[test],
        class_names=[str(names[index]) for index in kept],
        source=str(path),
        split=split,
        info={"view": view, "view_made": made, "classes_left_out": dropped, "min_class_size": min_class_size,
              "n_files": int(len(rows)), **masked},
        kind=byte_views.view_kind(view),
    )
