"""The in-memory form every loader returns: channels-last uint8 images, or (N, L, C) sequences, and integer labels."""

from __future__ import annotations

import dataclasses

import numpy as np

from spatiallab.data.errors import DataFormatError
from spatiallab.data.splits import LIMIT_SEED, stratified_limit

MAX_LISTED_LABELS = 5
# Classes numbered from the labels (K = the largest label + 1) stop here: a label of 10**9 in a file is damage, and
# naming a billion classes would exhaust memory before any training started.
MAX_NUMBERED_CLASSES = 10_000
# The kinds of data a Dataset holds, each with its layout: the positions are the axes between N and C, and every
# transform that moves positions (a permutation, blocks) works on them; the channels of a position move together.
LAYOUTS = {
    "image": "uint8 (N, H, W, C)",  # grey levels 0..255, channels-last
    "sequence": "float32 or uint8 (N, L, C)",  # float32 signals (MNIST-1D), or uint8 byte values 0..255
}
SHAPE_NAMES = {"image": "(H, W, C)", "sequence": "(L, C)"}
_DTYPES = {"image": (np.uint8,), "sequence": (np.float32, np.uint8)}
_RANKS = {"image": 4, "sequence": 3}


def _some(values: np.ndarray) -> str:
    """A few distinct values, e.g. "-1, 12, 200 and 3 other values"."""
    distinct = np.unique(values)
    shown = ", ".join(str(value) for value in distinct[:MAX_LISTED_LABELS])
    hidden = len(distinct) - MAX_LISTED_LABELS
    return shown + (f" and {hidden} other values" if hidden > 0 else "")


def check_labels(source, labels: np.ndarray, num_classes: int, key: str) -> None:
    """Check that every label is a class index 0..num_classes-1.

    Raises:
        DataFormatError: naming ``source``, the labels' ``key``, how many labels are out of range and a few of them.
    """
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise DataFormatError(
            source, f"{key} as class indices 0..{num_classes - 1} ({num_classes} classes)",
            f"{int(outside.sum())} label(s) outside that range: {_some(labels[outside])}",
        )


def check_layout(source, x: np.ndarray, kind: str, key: str) -> None:
    """Check that ``x`` (the examples stored under ``key``) is in the layout of its ``kind`` (``LAYOUTS``), with
    finite values when it holds floats.

    Raises:
        DataFormatError: naming ``source``: an unknown kind, another dtype or rank, or NaN / infinite values.
    """
    if kind not in LAYOUTS:
        raise DataFormatError(source, f"a dataset kind in {list(LAYOUTS)}", repr(kind))
    if x.dtype not in _DTYPES[kind] or x.ndim != _RANKS[kind]:
        raise DataFormatError(source, f"{key} as {LAYOUTS[kind]}", f"{x.dtype} {x.shape}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        found = f"{int((~np.isfinite(x)).sum())} NaN or infinite value(s)"
        raise DataFormatError(source, f"{key} of finite values", found)


def numbered_class_names(source, *labels: np.ndarray) -> list[str]:
    """Class names "0".."K-1" for files that store no names, K = the largest label + 1 over all ``labels``.

    Raises:
        DataFormatError: a negative label, or K above ``MAX_NUMBERED_CLASSES``.
    """
    values = np.concatenate([np.asarray(part).ravel() for part in labels])
    expected = f"labels 0..K-1 with K at most {MAX_NUMBERED_CLASSES:,} (classes are numbered from the labels)"
    negative = values[values < 0]
    if negative.size:
        raise DataFormatError(source, expected, f"{negative.size} negative label(s): {_some(negative)}")
    largest = int(values.max(initial=0))
    if largest >= MAX_NUMBERED_CLASSES:
        raise DataFormatError(source, expected, f"a largest label of {largest}")
    return [str(index) for index in range(largest + 1)]


class LimitError(ValueError):
    """A limit above the examples its split holds (``Dataset.subset``); ``split`` is "train" or "test"."""

    def __init__(self, message: str, split: str):
        super().__init__(message)
        self.split = split


@dataclasses.dataclass
class Dataset:
    """A labelled dataset of images or sequences, split into train and test.

    Attributes:
        name: registry name, e.g. ``"mnist"``.
        x_train, x_test: for ``kind="image"``, uint8 arrays of shape (N, H, W, C), channels-last, grey levels 0..255;
            for ``kind="sequence"``, arrays of shape (N, L, C): float32 signals (finite values) or uint8 byte values.
            One shape and dtype for both splits.
        y_train, y_test: integer arrays of shape (N,), class indices 0..num_classes-1 (stored as int64).
        class_names: one name per class index.
        source: where the data came from (a path, or a description such as "bundled sample").
        split: how train/test were made when the source had no test split (e.g.
            ``{"method": "stratified", "test_fraction": 0.2, "seed": 0}``); None when the source's own split is used.
        info: free-form provenance recorded with results (licence, sample sizes, generation arguments, ...).
        kind: ``"image"`` or ``"sequence"`` (see ``LAYOUTS``): which axes are positions, (H, W) or (L,).

    Construction checks all of this, so no loader can hand on data that would fail deep inside training.

    Raises:
        DataFormatError: naming ``source``: an unknown kind, arrays not in the kind's layout (``LAYOUTS``), a NaN or
        infinite value in float sequences, labels not N integers, a label outside 0..num_classes-1 (with the count
        and a few of the values), or train and test arrays of different shapes or dtypes.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str
    split: dict | None = None
    info: dict = dataclasses.field(default_factory=dict)
    kind: str = "image"

    def __post_init__(self):
        for part in ("train", "test"):
            x = getattr(self, f"x_{part}")
            y = getattr(self, f"y_{part}")
            check_layout(self.source, x, self.kind, f"x_{part}")
            if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
                raise DataFormatError(self.source, f"y_{part} as integers of shape ({len(x)},)", f"{y.dtype} {y.shape}")
            check_labels(self.source, y, self.num_classes, f"y_{part}")
            setattr(self, f"y_{part}", y.astype(np.int64, copy=False))
        examples = "images" if self.kind == "image" else "sequences"
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataFormatError(
                self.source, f"train and test {examples} of one shape {SHAPE_NAMES[self.kind]}",
                f"x_train {self.x_train.shape[1:]} and x_test {self.x_test.shape[1:]}",
            )
        if self.x_train.dtype != self.x_test.dtype:
            raise DataFormatError(self.source, f"train and test {examples} of one dtype",
                                  f"x_train {self.x_train.dtype} and x_test {self.x_test.dtype}")  # fmt: skip

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example as a model receives it: (H, W, C) of an image, (L, C) of a sequence."""
        return tuple(self.x_train.shape[1:])

    @property
    def positions_shape(self) -> tuple[int, ...]:
        """The shape of the positions a permutation moves (channels move with their position): (H, W) or (L,)."""
        return self.input_shape[:-1]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of one image.

        Raises:
            ValueError: the dataset holds sequences (use ``input_shape``).
        """
        if self.kind != "image":
            raise ValueError(f"{self.name} holds {self.kind}s of shape {self.input_shape}, not images; "
                             "use input_shape")  # fmt: skip
        return self.input_shape

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def describe(self) -> dict:
        """A JSON-ready summary for results files: name, source, kind, input_shape ([H, W, C] or [L, C]), dtype,
        image_shape [H, W, C] (images only), n_train, n_test, num_classes, class_names, class_counts
        {"train": [examples per class], "test": [...]}, split and info."""
        return {
            "name": self.name,
            "source": self.source,
            "kind": self.kind,
            "input_shape": list(self.input_shape),
            "dtype": str(self.x_train.dtype),
            **({"image_shape": list(self.input_shape)} if self.kind == "image" else {}),
            "n_train": int(len(self.x_train)),
            "n_test": int(len(self.x_test)),
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "class_counts": {part: np.bincount(getattr(self, f"y_{part}"), minlength=self.num_classes).tolist()
                             for part in ("train", "test")},
            "split": self.split,
            **({"info": self.info} if self.info else {}),
        }

    def subset(self, train_limit: int | None = None, test_limit: int | None = None) -> "Dataset":
        """``train_limit`` / ``test_limit`` examples of each split (None: all), drawn per class in proportion to its
        share with the fixed ``splits.LIMIT_SEED`` (``splits.stratified_limit``), so that a limit keeps the class
        proportions and chance; in the source's order. ``info`` records the limits, and the method and seed when
        one is given.

        Raises:
            ValueError: a limit below 1. LimitError (a ValueError): a limit above its split's size (asking for more
            examples than exist is a mistake, not a request for all), naming the split and its size.
        """
        for split, limit, labels in (("train", train_limit, self.y_train), ("test", test_limit, self.y_test)):
            if limit is not None and limit > len(labels):
                raise LimitError(f"{split}_limit {limit} is more than the {len(labels):,} {split} examples of "
                                 f"{self.name}; expected 1 to {len(labels):,} (no limit keeps them all)", split)

        def keep(labels, limit):
            return slice(None) if limit is None else stratified_limit(labels, limit, LIMIT_SEED)

        train, test = keep(self.y_train, train_limit), keep(self.y_test, test_limit)
        given = train_limit is not None or test_limit is not None
        limited = {"limit_method": "stratified by class", "limit_seed": LIMIT_SEED} if given else {}
        return dataclasses.replace(
            self,
            x_train=self.x_train[train],
            y_train=self.y_train[train],
            x_test=self.x_test[test],
            y_test=self.y_test[test],
            info={**self.info, "train_limit": train_limit, "test_limit": test_limit, **limited},
        )
