"""A run folder opened for reading: its results, sample images and trained models (see docs/architecture.md).

Everything the report and the web lab show is read from these files, so a report can be rebuilt without retraining.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from spatiallab import analysis, results
from spatiallab.data.errors import DataFormatError
from spatiallab.transforms import PixelPermutation

SCHEMA = 1
SAMPLE_KEYS = ("x", "y", "permutation", "class_names")


@dataclasses.dataclass(frozen=True)
class Samples:
    """The test images a run saved for one dataset.

    Attributes:
        x: uint8 (N, H, W, C) images, channels-last, as the loader returned them.
        y: int64 (N,) class indices.
        permutation: the run's ``PixelPermutation`` for this dataset (checked against the saved array).
        class_names: one name per class index.
    """

    x: np.ndarray
    y: np.ndarray
    permutation: PixelPermutation
    class_names: list[str]


class RunFolder:
    """Read-only view of ``runs/<name>/``.

    ``results`` is the parsed results.json; a run still in progress (``complete`` false) gets its summary,
    reliance and verdict computed here from the cells written so far, exactly as the experiment does at the end.

    Raises:
        FileNotFoundError: no results.json in ``path``.
        ValueError: results.json is not a spatiallab results file of schema 1.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not (self.path / results.RESULTS_JSON).is_file():
            raise FileNotFoundError(
                f"{self.path}: expected a run folder holding {results.RESULTS_JSON} (made by `spatiallab run`); "
                f"found no such file"
            )
        self.results = results.read_results(self.path)
        if self.results.get("schema") != SCHEMA:
            raise ValueError(
                f"{self.path / results.RESULTS_JSON}: expected schema {SCHEMA}; found {self.results.get('schema')!r}"
            )
        if "summary" not in self.results:
            self.results.update(analysis.summarize(self.results))

    @property
    def name(self) -> str:
        return self.results.get("name") or self.path.name

    @property
    def datasets(self) -> list[str]:
        """Datasets of the run's configuration, in order."""
        return list(self.results["config"]["datasets"])

    def models(self, dataset: str) -> list[str]:
        """Model names with at least one finished cell on ``dataset``, in the configuration's order."""
        present = {cell["model"] for cell in self.cells(dataset=dataset)}
        return [model for model in self.results["config"]["models"] if model in present]

    def image_shape(self, dataset: str) -> tuple[int, int, int]:
        """(H, W, C) of the dataset's images."""
        return tuple(self.results["datasets"][dataset]["image_shape"])

    def cells(self, **match) -> list[dict]:
        """The finished cells whose fields equal ``match`` (e.g. ``dataset="mnist", model="dense"``), by seed."""
        found = [cell for cell in self.results["cells"] if all(cell.get(key) == value for key, value in match.items())]
        return sorted(found, key=lambda cell: cell["seed"])

    def permutation(self, dataset: str) -> PixelPermutation:
        """The pixel permutation of the shuffled condition on ``dataset``, rebuilt from its seed in results.json."""
        described = self.results.get("permutation", {}).get(dataset)
        seed = described["seed"] if described else self.results["config"]["permutation_seed"]
        return PixelPermutation(seed, self.image_shape(dataset)[:2])

    def samples(self, dataset: str) -> Samples:
        """The saved test images of ``dataset`` and the run's pixel permutation.

        Raises:
            FileNotFoundError: no samples/<dataset>.npz.
            DataFormatError: missing keys, wrong dtypes, or a permutation that differs from results.json's seed.
        """
        path = self.path / "samples" / f"{dataset}.npz"
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in SAMPLE_KEYS if key not in archive.files]
            if missing:
                raise DataFormatError(path, f"keys {list(SAMPLE_KEYS)}", f"keys {sorted(archive.files)}")
            x, y = archive["x"], archive["y"].astype(np.int64)
            saved = archive["permutation"]
            class_names = [str(name) for name in archive["class_names"]]
        if x.dtype != np.uint8 or x.ndim != 4 or len(y) != len(x):
            raise DataFormatError(path, "x uint8 (N, H, W, C) and y (N,)", f"x {x.dtype} {x.shape}, y {y.shape}")
        permutation = self.permutation(dataset)
        if not np.array_equal(permutation.permutation_, saved):
            raise DataFormatError(
                path, f"the permutation of results.json (seed {permutation.seed}, {permutation.image_shape})",
                f"a different array of shape {saved.shape}",
            )  # fmt: skip
        return Samples(x=x, y=y, permutation=permutation, class_names=class_names)

    def model_path(self, dataset: str, model: str, condition: str, seed: int | None = None) -> Path | None:
        """The saved model of a cell (lowest seed when ``seed`` is None), or None when none was saved."""
        match = {"dataset": dataset, "model": model, "condition": condition}
        if seed is not None:
            match["seed"] = seed
        for cell in self.cells(**match):
            if cell.get("model_file") and (self.path / cell["model_file"]).is_file():
                return self.path / cell["model_file"]
        return None

    def load_model(self, dataset: str, model: str, condition: str, seed: int | None = None):
        """The trained Keras model of a cell, or None when its file is absent (see ``model_path``)."""
        path = self.model_path(dataset, model, condition, seed)
        if path is None:
            return None
        import keras

        from spatiallab import models  # noqa: F401  (registers custom layers such as LocallyConnected2D)

        return keras.saving.load_model(path, compile=False)


def find_runs(runs_root: str | os.PathLike) -> list[Path]:
    """Run folders (those holding a results.json) directly under ``runs_root``, newest first; [] if none."""
    root = Path(runs_root)
    if not root.is_dir():
        return []
    found = [child for child in root.iterdir() if (child / results.RESULTS_JSON).is_file()]
    return sorted(found, key=lambda child: (child / results.RESULTS_JSON).stat().st_mtime, reverse=True)
