"""The JAX and torch backends end to end: `spatiallab run` in a fresh process with KERAS_BACKEND set, on a small part
of the bundled sample, recording the backend, its version, the precision and the thread budget in effect, then a
bfloat16 run in the same process; and what ``--precision auto`` decides on a backend where bfloat16's speed is not
established."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from spatiallab import training

# 2,000 train images, 1 epoch: 16 Adam steps, enough for every cell to land well above chance (10%) on every
# backend (measured: dense ~75-79%, cnn ~65-70% original and ~36-46% shuffled), in ~20-40 s per backend on 2 cores.
SMALL_RUN = ["--train-limit", "2000", "--test-limit", "500", "--seeds", "1", "--epochs", "1", "--models", "dense,cnn",
             "--threads", "1", "--no-report"]  # fmt: skip
BFLOAT16_RUN = ["--precision", "bfloat16", "--models", "dense", "--train-limit", "1000", "--test-limit", "300",
                "--seeds", "1", "--epochs", "1", "--no-report"]  # fmt: skip
CHANCE = 0.1  # ten balanced classes

# `spatiallab run` once per argument list, one after the other in this one process: the backend is imported once.
RUNS_SCRIPT = """
import json, sys
from spatiallab.cli import main
for arguments in json.loads(sys.argv[1]):
    main(["run", *arguments], standalone_mode=False)
"""


def _runs_on_backend(backend: str, runs: dict) -> dict:
    """``{out folder: options}``: each `spatiallab run OPTIONS --out FOLDER`, in turn, in one new process with
    KERAS_BACKEND=backend; ``{out folder: its results.json}``."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"KERAS_BACKEND={backend} needs the {backend} package: pip install '.[{backend}]'")
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    arguments = [[*options, "--out", str(out)] for out, options in runs.items()]
    completed = subprocess.run([sys.executable, "-c", RUNS_SCRIPT, json.dumps(arguments)], capture_output=True,
                               text=True, env=environment, timeout=300)  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    return {out: json.loads((out / "results.json").read_text()) for out in runs}


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_run_end_to_end_on_backend_then_bfloat16_trains(tmp_path, backend):
    records = _runs_on_backend(backend, {tmp_path / "run": SMALL_RUN, tmp_path / "bfloat16": BFLOAT16_RUN})
    record = records[tmp_path / "run"]
    assert record["versions"]["backend"] == backend
    assert record["versions"]["backend_version"] == importlib.metadata.version(backend)  # e.g. "2.13.0+cpu"
    assert record["precision"]["requested"] == "auto" and record["precision"]["used"] == "float32"
    assert backend in record["precision"]["reason"]
    assert not record["failed_cells"]
    cells = {(cell["model"], cell["condition"]): cell for cell in record["cells"]}
    assert set(cells) == {(model, condition) for model in ("dense", "cnn") for condition in ("original", "shuffled")}
    for cell in cells.values():
        assert cell["test_accuracy"] > 2.5 * CHANCE, cell
        assert cell["precision"] == "float32"
        assert (tmp_path / "run" / cell["model_file"]).is_file()
    assert cells["dense", "original"]["test_accuracy"] > 0.6
    # torch takes the budget; XLA has no thread setting, so a JAX cell records its backend's default
    expected_threads = {"intra_op": 1, "inter_op": 1} if backend == "torch" else {
        "intra_op": "backend default", "inter_op": "backend default"}  # fmt: skip
    assert all(cell["threads"] == expected_threads for cell in cells.values())

    bfloat16 = records[tmp_path / "bfloat16"]
    assert bfloat16["versions"]["backend"] == backend
    assert bfloat16["precision"] == {"requested": "bfloat16", "used": "bfloat16", "reason": "asked for"}
    assert [cell["precision"] for cell in bfloat16["cells"]] == ["bfloat16", "bfloat16"]
    assert all(cell["test_accuracy"] > 2.5 * CHANCE for cell in bfloat16["cells"])


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_auto_is_float32_where_bfloat16_speed_is_not_established(monkeypatch, backend):
    import keras

    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    monkeypatch.setattr(training, "cpu_flags", lambda: {"avx512f", "avx512_bf16", "amx_bf16"})  # a CPU that could
    choice = training.choose_precision("auto")
    assert choice["used"] == "float32" and backend in choice["reason"] and "not established" in choice["reason"]
    assert training.choose_precision("bfloat16")["used"] == "bfloat16"


def test_cells_in_new_processes_train_on_this_backend(monkeypatch):
    import keras

    from spatiallab import runner

    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")  # a Ray node's own default may be another
    environment = runner._cell_environment(2)
    assert environment["KERAS_BACKEND"] == "jax"
    assert environment["TF_NUM_INTRAOP_THREADS"] == "2" and environment["OMP_NUM_THREADS"] == "2"
