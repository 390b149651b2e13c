"""The in-memory form every loader returns: channels-last uint8 images and integer labels."""

from __future__ import annotations

import dataclasses

import numpy as np

from spatiallab.data.errors import DataFormatError

MAX_LISTED_LABELS = 5
# Classes numbered from the labels (K = the largest label + 1) stop here: a label of 10**9 in a file is damage, and
# naming a billion classes would exhaust memory before any training started.
MAX_NUMBERED_CLASSES = 10_000


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


@dataclasses.dataclass
class Dataset:
    """A labelled image dataset split into train and test.

    Attributes:
        name: registry name, e.g. ``"mnist"``.
        x_train, x_test: uint8 arrays of shape (N, H, W, C), channels-last, grey levels 0..255, one (H, W, C).
        y_train, y_test: integer arrays of shape (N,), class indices 0..num_classes-1 (stored as int64).
        class_names: one name per class index.
        source: where the data came from (a path, or a description such as "bundled sample").
        split: how train/test were made when the source had no test split (e.g.
            ``{"method": "stratified", "test_fraction": 0.2, "seed": 0}``); None when the source's own split is used.
        info: free-form provenance recorded with results (licence, sample sizes, ...).

    Construction checks all of this, so no loader can hand on labels that would fail deep inside training.

    Raises:
        DataFormatError: naming ``source``: images not uint8 (N, H, W, C), labels not N integers, a label outside
        0..num_classes-1 (with the count and a few of the values), or train and test images of different shapes.
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

    def __post_init__(self):
        for part in ("train", "test"):
            x = getattr(self, f"x_{part}")
            y = getattr(self, f"y_{part}")
            if x.dtype != np.uint8 or x.ndim != 4:
                raise DataFormatError(self.source, f"x_{part} as uint8 (N, H, W, C)", f"{x.dtype} {x.shape}")
            if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
                raise DataFormatError(self.source, f"y_{part} as integers of shape ({len(x)},)", f"{y.dtype} {y.shape}")
            check_labels(self.source, y, self.num_classes, f"y_{part}")
            setattr(self, f"y_{part}", y.astype(np.int64, copy=False))
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataFormatError(
                self.source, "train and test images of one shape (H, W, C)",
                f"x_train {self.x_train.shape[1:]} and x_test {self.x_test.shape[1:]}",
            )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of one image."""
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def describe(self) -> dict:
        """A JSON-ready summary for results files: name, source, image_shape [H, W, C], n_train, n_test,
        num_classes, class_names, class_counts {"train": [images per class], "test": [...]}, split and info."""
        return {
            "name": self.name,
            "source": self.source,
            "image_shape": list(self.image_shape),
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
        """The first ``train_limit`` / ``test_limit`` images (for quick runs and tests)."""
        return dataclasses.replace(
            self,
            x_train=self.x_train[:train_limit],
            y_train=self.y_train[:train_limit],
            x_test=self.x_test[:test_limit],
            y_test=self.y_test[:test_limit],
            info={**self.info, "train_limit": train_limit, "test_limit": test_limit},
        )
