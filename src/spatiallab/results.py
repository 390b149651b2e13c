"""Results files of a run: atomic writes (temporary name, then rename) and reading them back."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from spatiallab.atomic import atomic_path

RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
CSV_COLUMNS = (
    "dataset",
    "model",
    "condition",
    "seed",
    "test_accuracy",
    "test_loss",
    "train_seconds",
    "seconds_per_epoch",
    "epochs",
    "params",
    "permutation_seed",
)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, data) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def write_csv(path: str | os.PathLike, rows, columns=CSV_COLUMNS) -> Path:
    """Rows (dicts) as CSV with the given columns, written atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(path, buffer.getvalue())


def read_results(run_dir: str | os.PathLike) -> dict:
    """The parsed ``results.json`` of a run folder.

    Raises:
        FileNotFoundError: no results.json there. ValueError: not valid JSON or not a spatiallab results file.
    """
    path = Path(run_dir) / RESULTS_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: expected a JSON results file; found invalid JSON ({error})") from None
    if not isinstance(data, dict) or "schema" not in data or "cells" not in data:
        raise ValueError(f"{path}: expected a spatiallab results file (keys 'schema', 'cells'); found something else")
    return data
