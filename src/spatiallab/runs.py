"""The run folder (``runs/<name>/``): the one owner of its format. Creating and claiming a folder, writing each
finished cell atomically (one file per cell, so an interrupted run resumes), writing the summary files, and reading a
run back for the report and the web lab. The files are described in docs/architecture.md.

Every write goes through ``atomic.atomic_path`` (a temporary name beside the target, then a rename), so a reader
never sees a half-written file and a killed run leaves only whole files behind.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import fcntl
import io
import json
import os
import platform
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from spatiallab import __version__
from spatiallab.atomic import atomic_path
from spatiallab.data.dataset import check_layout
from spatiallab.data.errors import DataFormatError

SCHEMA = 2
RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
CELLS_DIR = "cells"
MODELS_DIR = "models"
SAMPLES_DIR = "samples"
PERMUTATIONS_DIR = "permutations"
LOCK_FILE = ".lock"
SAMPLE_KEYS = ("x", "y", "permutation", "class_names")  # "permutation": shuffled-pixels runs only


_TEMPORARY = re.compile(r"\..+\.\d+\.\d+\.tmp")  # atomic.atomic_path's temporary names


# What a run writes inside its folders; --overwrite removes these and nothing else (a user's file there stays).
RUN_FILES = {CELLS_DIR: "*.json", MODELS_DIR: "*.keras", SAMPLES_DIR: "*.npz", PERMUTATIONS_DIR: "*.npz",
             "figures": "*.png"}  # fmt: skip


def _remove_run_files(path: Path) -> None:
    """Remove what an earlier run wrote in ``path``: its top-level files and the ``RUN_FILES`` in its folders (each
    folder too, once empty)."""
    for name in (RESULTS_JSON, RESULTS_CSV, LOCK_FILE, "report.html"):
        (path / name).unlink(missing_ok=True)
    for folder, pattern in RUN_FILES.items():
        if not (path / folder).is_dir() or (path / folder).is_symlink():
            continue
        for entry in (path / folder).glob(pattern):
            if entry.is_file() and not entry.is_symlink():
                entry.unlink()
        with contextlib.suppress(OSError):
            (path / folder).rmdir()  # only when empty


def _is_run_record(path: Path) -> bool:
    """Whether ``path`` is a results.json that spatiallab wrote (of any schema)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and "schema" in record and "cells" in record


class RunFolderError(OSError):
    """A run folder cannot be created, claimed or written; the message names the folder and the reason."""


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic.atomic_path``), creating the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return path


def write_json(path: str | os.PathLike, data) -> Path:
    """``data`` as indented JSON, atomically. NaN and infinity are refused (ValueError): JSON has no such numbers."""
    return write_bytes(path, (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8"))


def write_csv(path: str | os.PathLike, rows, columns) -> Path:
    """Rows (dicts) as CSV with the given columns (extra keys ignored), atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_bytes(path, buffer.getvalue().encode("utf-8"))


def library_versions() -> dict:
    """Versions of spatiallab, Python, NumPy, Keras and the Keras backend in use, and the platform string."""
    import keras

    backend = keras.backend.backend()
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    backend_version = sys.modules[backend_module].__version__ if backend_module in sys.modules else None
    return {
        "spatiallab": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": backend_version,
        "platform": platform.platform(),
    }


def config_differences(recorded: dict, given: dict) -> list[str]:
    """The keys of ``given`` whose values differ from ``recorded`` (a run's configuration), as ``key: a != b``."""
    return [
        f"{key}: recorded {recorded.get(key)!r}, given {value!r}"
        for key, value in sorted(given.items())
        if recorded.get(key) != value
    ]


@dataclasses.dataclass(frozen=True)
class Samples:
    """The test images a run saved for one dataset.

    Attributes:
        x: the examples as the loader returned them: uint8 (N, H, W, C) images, channels-last, or (N, L, C)
            sequences (float32 or uint8; see ``data.dataset.LAYOUTS``).
        y: int64 (N,) class indices.
        permutation: the shuffled condition's ``PixelPermutation``, made from the saved array (the source of truth);
            None in the runs of experiments without that condition (translation, scale).
        class_names: one name per class index.
    """

    x: np.ndarray
    y: np.ndarray
    permutation: object  # transforms.PixelPermutation
    class_names: list[str]


class RunFolder:
    """A run folder: ``RunFolder(path)`` opens one for reading, ``RunFolder.create`` makes or claims one.

    ``results`` is the parsed results.json: the run's header (``kind``, config, versions, datasets, ...), its finished
    ``cells`` and the summary the experiment wrote after the last of them.

    Raises:
        FileNotFoundError: no results.json in ``path``.
        ValueError: results.json is not a spatiallab results file of this schema.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        results_path = self.path / RESULTS_JSON
        if not results_path.is_file():
            raise FileNotFoundError(
                f"{self.path}: expected a run folder holding {RESULTS_JSON} (made by `spatiallab run` or another "
                f"experiment); found no such file"
            )
        try:
            self.results = json.loads(results_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{results_path}: expected a JSON results file; found invalid JSON ({error})") from None
        if not isinstance(self.results, dict) or "cells" not in self.results:
            raise ValueError(f"{results_path}: expected a spatiallab results file (keys 'schema', 'cells')")
        if self.results.get("schema") != SCHEMA:
            raise ValueError(f"{results_path}: expected schema {SCHEMA}; found {self.results.get('schema')!r}")

    # -- creating and writing -------------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike, header: dict, overwrite: bool = False) -> RunFolder:
        """Make ``path`` a new run folder holding ``header`` as its results.json (no cells yet).

        With ``overwrite``, what an earlier run wrote there (results, report, and the ``RUN_FILES`` in its cells,
        models, samples, permutations and figures folders) is removed first; any other file is the user's and is
        kept, inside those folders too. A folder with such entries but no run's results.json is never emptied.

        Raises:
            FileExistsError: an earlier run is there and ``overwrite`` is False, or the folder holds entries of
                a run's names without being a run.
            RunFolderError: the folder cannot be created or written (named, with the reason).
        """
        path = Path(path)
        results = path / RESULTS_JSON
        if results.exists() and not overwrite:
            raise FileExistsError(
                f"{path}: already holds a run ({RESULTS_JSON}); continue it with --resume {path}, choose another "
                f"--out, or pass --overwrite to replace it"
            )
        if results.exists() and not _is_run_record(results):
            raise FileExistsError(f"{results}: expected a spatiallab results file to replace; found another file. "
                                  f"Choose another --out")  # fmt: skip
        if not results.exists():
            taken = [name for name in (CELLS_DIR, MODELS_DIR, SAMPLES_DIR, PERMUTATIONS_DIR)
                     if (path / name).exists() and any((path / name).iterdir())]  # fmt: skip
            if taken:
                raise FileExistsError(f"{path}: holds {', '.join(f'{name}/' for name in taken)} but no "
                                      f"{RESULTS_JSON}, so it is not a run spatiallab may replace; choose another "
                                      f"--out")  # fmt: skip
        try:
            path.mkdir(parents=True, exist_ok=True)
            if overwrite and results.exists():
                _remove_run_files(path)
            write_json(results, {**header, "schema": SCHEMA, "cells": []})
        except OSError as error:
            raise RunFolderError(f"{path}: cannot write the run folder ({error.strerror or error})") from None
        return cls(path)

    def _write(self, relative: str, write, *args) -> Path:
        try:
            return write(self.path / relative, *args)
        except (OSError, ValueError) as error:  # ValueError: a NaN, which JSON cannot hold
            reason = getattr(error, "strerror", None) or error
            raise RunFolderError(f"{self.path}: cannot write {relative} ({reason})") from None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder for one run at a time (an exclusive ``flock`` on ``.lock``; released when the process
        ends, however it ends).

        Raises:
            RunFolderError: another process holds it (two ``--resume`` of one run would train the same cells).
        """
        try:
            handle = open(self.path / LOCK_FILE, "a")
        except OSError as error:
            raise RunFolderError(f"{self.path}: cannot write {LOCK_FILE} ({error.strerror or error})") from None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunFolderError(f"{self.path}: another spatiallab process is running this run; wait for it "
                                     f"to end or stop it first") from None  # fmt: skip
            yield

    def write_cell(self, cell_id: str, cell: dict, model_bytes: bytes | None = None) -> dict:
        """Save one finished (or failed) cell: its model file first, then ``cells/<cell_id>.json``.

        The JSON is written last, so a cell file on disk always means its model file is complete too. Returns the
        cell with ``model_file`` set (a path relative to the run folder, or None).
        """
        cell = dict(cell, model_file=None)
        if model_bytes is not None:
            cell["model_file"] = f"{MODELS_DIR}/{cell_id}.keras"
            self._write(cell["model_file"], write_bytes, model_bytes)
        self._write(f"{CELLS_DIR}/{cell_id}.json", write_json, cell)
        return cell

    def remove_stale_temporaries(self) -> list[Path]:
        """Delete what a run killed in the middle of an atomic write left: files named like ``atomic_path``'s
        temporaries (``.<name>.<pid>.<thread>.tmp``) anywhere in the folder. Returns the paths removed."""
        stale = [path for path in self.path.rglob(".*.tmp") if _TEMPORARY.fullmatch(path.name) and path.is_file()]
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def finished_cells(self) -> dict[str, dict]:
        """Cells saved so far, by cell id: those whose file parses and whose model file (if any) exists.

        A damaged or partial cell file (it cannot be, unless edited by hand) counts as not finished: it is retrained.
        """
        found = {}
        for path in sorted((self.path / CELLS_DIR).glob("*.json")):
            try:
                cell = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError, UnicodeDecodeError):
                continue
            if not isinstance(cell, dict) or "status" not in cell:
                continue
            if cell.get("model_file") and not (self.path / cell["model_file"]).is_file():
                continue
            found[path.stem] = cell
        return found

    def write_results(self, record: dict, csv_rows: list[dict], csv_columns) -> None:
        """Replace results.json with ``record`` and results.csv with ``csv_rows``, each atomically."""
        self.results = {**record, "schema": SCHEMA}
        self._write(RESULTS_JSON, write_json, self.results)
        self._write(RESULTS_CSV, write_csv, csv_rows, csv_columns)

    def write_arrays(self, relative: str, **arrays: np.ndarray) -> None:
        """Save ``arrays`` as one compressed npz at ``relative`` (a path inside the run folder), atomically."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        self._write(relative, write_bytes, buffer.getvalue())

    def write_samples(self, dataset: str, x: np.ndarray, y: np.ndarray, permutation: np.ndarray | None,
                      class_names: list[str]) -> None:  # fmt: skip
        """Save ``samples/<dataset>.npz``: a few test images (uint8 (N, H, W, C)), their labels, the permutation array
        of the shuffled condition (int64 (H*W,), what the report and the lab apply; None: a run without that
        condition, and no ``permutation`` key) and the class names."""
        arrays = {} if permutation is None else {"permutation": np.asarray(permutation, dtype=np.int64)}
        self.write_arrays(f"{SAMPLES_DIR}/{dataset}.npz", x=x, y=y.astype(np.int64), **arrays,
                          class_names=np.array(class_names, dtype=str))  # fmt: skip

    # -- reading --------------------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.results.get("name") or self.path.name

    @property
    def kind(self) -> str:
        """The experiment that wrote the run: "shuffled_pixels", "translation", ..."""
        return self.results.get("kind", "shuffled_pixels")

    @property
    def complete(self) -> bool:
        return bool(self.results.get("complete"))

    @property
    def config(self) -> dict:
        return self.results["config"]

    @property
    def datasets(self) -> list[str]:
        """Datasets of the run's configuration, in order."""
        return list(self.config.get("datasets") or [self.config["dataset"]])

    def models(self, dataset: str) -> list[str]:
        """Model names with at least one finished cell on ``dataset``, in the configuration's order."""
        present = {cell["model"] for cell in self.cells(dataset=dataset)}
        return [model for model in self.config["models"] if model in present]

    def image_shape(self, dataset: str) -> tuple[int, int, int]:
        """(H, W, C) of the dataset's images.

        Raises:
            ValueError: the dataset holds sequences (see ``input_shape``).
        """
        if self.data_kind(dataset) != "image":
            raise ValueError(f"{self.path}: {dataset} holds {self.data_kind(dataset)}s, not images; use input_shape")
        return self.input_shape(dataset)

    def data_kind(self, dataset: str) -> str:
        """``Dataset.kind`` of the dataset: "image" or "sequence" (runs made before sequences: "image")."""
        return self.results["datasets"][dataset].get("kind", "image")

    def input_shape(self, dataset: str) -> tuple[int, ...]:
        """One example's shape: (H, W, C) of an image, (L, C) of a sequence."""
        described = self.results["datasets"][dataset]
        return tuple(described.get("input_shape") or described["image_shape"])

    def cells(self, **match) -> list[dict]:
        """The finished cells whose fields equal ``match`` (e.g. ``dataset="mnist", model="dense"``), by seed."""
        found = [cell for cell in self.results["cells"] if all(cell.get(key) == value for key, value in match.items())]
        return sorted(found, key=lambda cell: cell["seed"])

    def has_samples(self, dataset: str) -> bool:
        """Whether the run saved sample images (and so its permutation) for ``dataset``."""
        return (self.path / SAMPLES_DIR / f"{dataset}.npz").is_file()

    def samples(self, dataset: str) -> Samples:
        """The saved test images of ``dataset`` and the run's permutation array (where the run has one).

        Raises:
            FileNotFoundError: no samples/<dataset>.npz.
            DataFormatError: missing keys, wrong dtypes, or a permutation that is not one of the H*W positions.
        """
        path = self.path / SAMPLES_DIR / f"{dataset}.npz"
        try:
            with np.load(path, allow_pickle=False) as archive:
                missing = [key for key in SAMPLE_KEYS if key not in archive.files and key != "permutation"]
                if missing:
                    raise DataFormatError(path, f"keys {list(SAMPLE_KEYS)} (permutation: shuffled-pixels runs only)",
                                          f"keys {sorted(archive.files)}")  # fmt: skip
                x, y = archive["x"], archive["y"].astype(np.int64)
                permutation = archive["permutation"].astype(np.int64) if "permutation" in archive.files else None
                class_names = [str(name) for name in archive["class_names"]]
        except (ValueError, OSError, EOFError) as error:
            if isinstance(error, (DataFormatError, FileNotFoundError)):
                raise
            found = f"an unreadable file ({error})"
            raise DataFormatError(path, "a samples npz written by spatiallab", found) from None
        check_layout(path, x, self.data_kind(dataset), "x")
        if len(y) != len(x):
            raise DataFormatError(path, f"y of shape ({len(x)},), one label per example", f"y {y.shape}")
        if permutation is not None:
            from spatiallab.transforms import PixelPermutation

            seed = self.results.get("permutation", {}).get(dataset, {}).get("seed", self.config.get("permutation_seed"))
            try:
                permutation = PixelPermutation.from_array(permutation, x.shape[1:-1], seed)
            except ValueError as error:
                positions = "the image's pixel positions" if x.ndim == 4 else "the sequence's positions"
                raise DataFormatError(path, f"a permutation of {positions}", str(error)) from None
        return Samples(x=x, y=y, permutation=permutation, class_names=class_names)

    def permutation(self, dataset: str):
        """The shuffled condition's ``PixelPermutation`` on ``dataset``, from the saved array (not re-drawn from the
        seed: NumPy promises the same random stream only on the same build, and a run must open anywhere).

        Raises:
            DataFormatError: the samples file holds no permutation (a run without a shuffled condition).
        """
        permutation = self.samples(dataset).permutation
        if permutation is None:
            path = self.path / SAMPLES_DIR / f"{dataset}.npz"
            raise DataFormatError(path, "the shuffled condition's permutation array", "no 'permutation' key")
        return permutation

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

        from spatiallab.models import layers  # noqa: F401  (registers custom layers such as LocallyConnected2D)

        return keras.saving.load_model(path, compile=False)


def find_runs(runs_root: str | os.PathLike, kind: str | None = None) -> list[Path]:
    """Run folders (those holding a results.json) directly under ``runs_root``, newest first; [] if none.

    ``kind`` keeps only runs of that experiment (runs of older schemas, which cannot be opened, are left out too).
    """
    root = Path(runs_root)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        if not (child / RESULTS_JSON).is_file():
            continue
        if kind is not None:
            try:
                if RunFolder(child).kind != kind:
                    continue
            except (ValueError, OSError):
                continue
        found.append(child)
    return sorted(found, key=lambda child: (child / RESULTS_JSON).stat().st_mtime, reverse=True)
