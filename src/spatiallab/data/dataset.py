"""The in-memory form every loader returns: channels-last uint8 images and integer labels."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Dataset:
    """A labelled image dataset split into train and test.

    Attributes:
        name: registry name, e.g. ``"mnist"``.
        x_train, x_test: uint8 arrays of shape (N, H, W, C), channels-last, grey levels 0..255.
        y_train, y_test: int64 arrays of shape (N,), class indices 0..num_classes-1.
        class_names: one name per class index.
        source: where the data came from (a path, or a description such as "bundled sample").
        split: how train/test were made when the source had no test split (e.g.
            ``{"method": "stratified", "test_fraction": 0.2, "seed": 0}``); None when the source's own split is used.
        info: free-form provenance recorded with results (licence, sample sizes, ...).
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
                raise ValueError(f"{self.name}: x_{part} must be uint8 (N, H, W, C); got {x.dtype} {x.shape}")
            if y.ndim != 1 or len(y) != len(x):
                raise ValueError(f"{self.name}: y_{part} must have shape ({len(x)},); got {y.shape}")
            setattr(self, f"y_{part}", y.astype(np.int64, copy=False))
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(
                f"{self.name}: train images {self.x_train.shape[1:]} and test images {self.x_test.shape[1:]} differ"
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
