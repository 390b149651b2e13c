"""The common runner and run folder, in this process: resume, overwrite, failed cells, the recorded configuration.

Killing drivers and workers for real, worker processes, Ray and the two-node cluster are in test_runner_faults.py
and test_ray_cluster.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from spatiallab import experiments, runner, runs
from spatiallab.cli import main

TINY = {"models": ["dense"], "seeds": [0, 1], "epochs": 1, "train_limit": 300, "test_limit": 100}


class _Recorder(runner.RunProgress):
    def __init__(self, stop_after: int | None = None):
        self.started, self.finished, self.stop_after = [], [], stop_after

    def start(self, total_cells, already_done):
        self.total, self.already_done = total_cells, already_done

    def cell_started(self, key):
        self.started.append(dict(key))

    def cell_finished(self, key, cell):
        self.finished.append(dict(key))
        if self.stop_after is not None and len(self.finished) >= self.stop_after:
            raise KeyboardInterrupt


def _accuracies(record: dict) -> dict:
    return {(c["model"], c["condition"], c["seed"]): (c["test_accuracy"], c["test_loss"]) for c in record["cells"]}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "whole"
    return experiments.run_experiment(experiments.ShuffledPixels(experiments.GridConfig(**TINY)), run_dir)


def test_resume_trains_only_the_missing_cells_and_matches_an_uninterrupted_run(tmp_path, uninterrupted):
    run_dir = tmp_path / "run"
    experiment = experiments.ShuffledPixels(experiments.GridConfig(**TINY))
    with pytest.raises(KeyboardInterrupt):
        experiments.run_experiment(experiment, run_dir, progress=_Recorder(stop_after=1))
    partial = runs.RunFolder(run_dir)
    assert not partial.complete and len(partial.results["cells"]) == 1
    first = partial.results["cells"][0]

    stale = run_dir / "cells" / ".mnist-sample__dense__original__seed1.json.4242.99.tmp"  # as a SIGKILL leaves it
    stale.write_text("{half")
    progress = _Recorder()
    record = experiments.run_experiment(experiment, run_dir, resume=True, progress=progress)
    assert not stale.exists()
    assert (progress.total, progress.already_done) == (4, 1)
    assert len(progress.started) == 3 and {k["seed"] for k in progress.started if k["condition"] == "original"} == {1}
    assert record["complete"] and len(record["cells"]) == 4
    assert _accuracies(record) == _accuracies(uninterrupted)
    kept = json.loads((run_dir / "cells" / f"{experiment.cell_id(first)}.json").read_text())
    assert kept["train_seconds"] == first["train_seconds"]  # the finished cell was not retrained


def test_resume_refuses_a_command_line_that_contradicts_the_run(tmp_path, uninterrupted):
    run_dir = tmp_path / "run"
    experiments.run_experiment(experiments.ShuffledPixels(experiments.GridConfig(**TINY)), run_dir,
                               progress=_Recorder())  # fmt: skip
    result = CliRunner().invoke(main, ["run", "--resume", str(run_dir), "--epochs", "3", "--models", "dense"])
    assert result.exit_code != 0
    assert "epochs: recorded 1, given 3" in result.output and "models" not in result.output.split("Error:")[1]
    assert "Traceback" not in result.output
    resumed = CliRunner().invoke(main, ["run", "--resume", str(run_dir), "--models", "dense", "--no-report"])
    assert resumed.exit_code == 0, resumed.output
    assert "4 of 4 cells already finished, 0 to train" in resumed.output  # a complete run: nothing is retrained
    assert json.loads((run_dir / "results.json").read_text())["complete"]


def test_resume_of_a_folder_without_a_run_or_of_another_experiment(tmp_path):
    result = CliRunner().invoke(main, ["run", "--resume", str(tmp_path / "nothing")])
    assert result.exit_code != 0 and "found no such file" in result.output and "Traceback" not in result.output
    run_dir = tmp_path / "pixels"
    experiments.run_experiment(experiments.ShuffledPixels(experiments.GridConfig(**TINY, conditions=["original"])),
                               run_dir)  # fmt: skip
    result = CliRunner().invoke(main, ["translation", "--resume", str(run_dir)])
    assert result.exit_code != 0 and "shuffled_pixels run, not a translation run" in result.output


def test_a_new_run_refuses_an_earlier_one_and_overwrite_removes_all_it_left(tmp_path):
    run_dir = tmp_path / "run"
    config = experiments.GridConfig(**{**TINY, "seeds": [0, 1]})
    experiments.run_experiment(experiments.ShuffledPixels(config), run_dir)
    (run_dir / "report.html").write_text("old report")
    (run_dir / "figures").mkdir()
    (run_dir / "figures" / "old.png").write_bytes(b"png")
    (run_dir / "notes.txt").write_text("the user's own file")
    with pytest.raises(FileExistsError, match="--resume"):
        experiments.run_experiment(experiments.ShuffledPixels(config), run_dir)
    smaller = experiments.GridConfig(**{**TINY, "seeds": [0]})
    experiments.run_experiment(experiments.ShuffledPixels(smaller), run_dir, overwrite=True)
    assert sorted(path.name for path in (run_dir / "cells").iterdir()) == [
        "mnist-sample__dense__original__seed0.json", "mnist-sample__dense__shuffled__seed0.json"]
    assert sorted(path.name for path in (run_dir / "models").iterdir()) == [
        "mnist-sample__dense__original__seed0.keras", "mnist-sample__dense__shuffled__seed0.keras"]
    assert not (run_dir / "report.html").exists() and not (run_dir / "figures").exists()
    assert (run_dir / "notes.txt").read_text() == "the user's own file"


def test_a_diverging_cell_is_recorded_as_failed_and_the_others_go_on(tmp_path):
    config = experiments.GridConfig(models=["dense"], seeds=[0], epochs=2, train_limit=300, test_limit=100,
                                    learning_rate=1e30)  # fmt: skip
    record = experiments.run_experiment(experiments.ShuffledPixels(config), tmp_path / "run")
    assert record["cells"] == [] and not record["complete"]
    assert [(c["condition"], c["status"]) for c in record["failed_cells"]] == [("original", "failed"),
                                                                              ("shuffled", "failed")]
    assert "TrainingDiverged: the training loss became nan" in record["failed_cells"][0]["reason"]
    assert any(line.startswith("Missing: mnist-sample dense original seed 0 failed") for line in record["verdict"])
    # a failed cell is retried on resume, with the configuration recorded in the run
    progress = _Recorder()
    experiments.run_experiment(experiments.ShuffledPixels(config), tmp_path / "run", resume=True, progress=progress)
    assert progress.already_done == 0 and len(progress.started) == 2


def test_repeated_seeds_models_or_datasets_are_refused():
    for bad in ({"seeds": [0, 0, 1]}, {"models": ["dense", "dense"]}):
        with pytest.raises(ValueError, match="must not repeat"):
            experiments.GridConfig(**bad).validate()
    result = CliRunner().invoke(main, ["run", "--seeds", "0,0,1"])
    assert result.exit_code != 0 and "repeated: 0" in result.output
    with pytest.raises(ValueError, match="repeated: 2"):
        experiments.TranslationConfig(seeds=[2, 2]).validate()


def test_the_saved_permutation_is_the_source_of_truth(tmp_path, uninterrupted):
    """A run opened elsewhere uses the permutation array it saved, not a re-draw from the seed."""
    run_dir = tmp_path / "run"
    config = experiments.GridConfig(**{**TINY, "seeds": [0]})
    experiments.run_experiment(experiments.ShuffledPixels(config), run_dir)
    run = runs.RunFolder(run_dir)
    saved = run.samples("mnist-sample")
    replaced = np.roll(saved.permutation.permutation_, 1)  # another valid permutation, as another NumPy might draw
    run.write_samples("mnist-sample", saved.x, saved.y, replaced, saved.class_names)
    assert np.array_equal(runs.RunFolder(run_dir).permutation("mnist-sample").permutation_, replaced)
    progress = _Recorder()
    (run_dir / "cells" / "mnist-sample__dense__shuffled__seed0.json").unlink()
    experiments.run_experiment(experiments.ShuffledPixels(config), run_dir, resume=True, progress=progress)
    assert [k["condition"] for k in progress.started] == ["shuffled"]
    retrained = runs.RunFolder(run_dir).cells(condition="shuffled")[0]["test_accuracy"]
    assert retrained != _accuracies(uninterrupted)[("dense", "shuffled", 0)][0]  # trained on the saved array


def test_execution_is_recorded_and_threads_default_to_the_cores_per_worker(monkeypatch):
    monkeypatch.setattr(runner, "available_cores", lambda: 8)
    assert runner.Execution().cell_threads is None
    assert runner.Execution(workers=2).cell_threads == 4
    assert runner.Execution(workers=3, threads=1).describe() == {
        "mode": "workers", "workers": 3, "threads_per_cell": 1, "ray_address": None, "cores": 8}
    with pytest.raises(ValueError, match="workers must be >= 1 or 'auto'"):
        runner.Execution(workers=0)


def test_auto_workers_one_per_core_only_for_cells_that_pay_a_workers_start_up():
    big, gib = 10_000_000, 2**30  # the bundled sample's 10 MB of arrays
    assert runner.choose_workers(12, big, 3, "tensorflow", 2, 20 * gib)[0] == 2
    assert runner.choose_workers(12, big, 3, "torch", 4, None)[0] == 4  # memory unknown: not a limit
    assert runner.choose_workers(3, big, 3, "tensorflow", 8, 20 * gib)[0] == 3  # no more workers than cells
    workers, reason = runner.choose_workers(12, 300_000, 2, "tensorflow", 2, 20 * gib)
    assert workers == 1 and "cells this small (0.3 MB of data x 2 epoch(s))" in reason
    assert runner.choose_workers(12, big, 3, "jax", 2, 20 * gib) == (
        1, "auto: one cell at a time: JAX takes no thread budget, so each cell uses every core")
    assert runner.choose_workers(1, big, 3, "tensorflow", 2, 20 * gib)[0] == 1
    assert runner.choose_workers(12, big, 3, "tensorflow", 1, 20 * gib)[0] == 1
    # each worker needs WORKER_BASE_BYTES + WORKER_DATA_FACTOR x the data: 1.05 GiB here, so 2.5 GiB holds two of four
    workers, reason = runner.choose_workers(12, big, 3, "tensorflow", 4, int(2.5 * gib))
    assert workers == 2 and "2.5 GiB of memory available, about 1.0 GiB per worker process" in reason


def test_auto_workers_are_settled_once_the_data_are_known_and_recorded_with_why(monkeypatch):
    monkeypatch.setattr(runner, "available_cores", lambda: 2)
    monkeypatch.setattr(runner, "available_memory", lambda: None)
    experiment = type("Stub", (), {"config": experiments.GridConfig(epochs=3)})()
    images = np.zeros((12_500, 28, 28, 1), np.uint8)  # 9.8 MB
    assert runner.array_bytes({"datasets": {"d": (images, [images[:10]])}, "seed": 3}) == 12_510 * 784
    settled = runner.Execution(workers="auto").resolved(experiment, {"x": images}, 12)
    assert (settled.workers, settled.cell_threads) == (2, 1)
    assert settled.describe()["reason"].startswith("auto: 2 cells at a time in worker processes, 1 thread each")
    assert runner.Execution(workers=1).resolved(experiment, {"x": images}, 12).describe().get("reason") is None
    small = runner.Execution(workers="auto").resolved(experiment, {"x": images[:100]}, 12)
    assert small.describe()["mode"] == "serial" and small.cell_threads is None
    on_ray = runner.Execution(workers="auto", ray_address="local").resolved(experiment, {"x": images}, 12)
    assert on_ray.describe()["mode"] == "ray" and on_ray.describe()["reason"] == "auto: Ray places the cells"


def test_overwrite_keeps_a_users_file_inside_the_runs_folders(tmp_path):
    run_dir = tmp_path / "run"
    config = experiments.GridConfig(**{**TINY, "seeds": [0], "conditions": ["original"], "save_models": False})
    experiments.run_experiment(experiments.ShuffledPixels(config), run_dir)
    (run_dir / "cells" / "mynote.txt").write_text("mine")
    (run_dir / "figures").mkdir()
    (run_dir / "figures" / "old.png").write_bytes(b"png")
    experiments.run_experiment(experiments.ShuffledPixels(config), run_dir, overwrite=True)
    assert (run_dir / "cells" / "mynote.txt").read_text() == "mine"
    assert not (run_dir / "figures").exists()  # only the run's PNG was there: removed, then the empty folder


def test_bad_seeds_and_untrainable_data_are_refused_before_any_folder(tmp_path):
    for options, message in ((["--seeds", "1,-2"], "seeds must lie in 0..2**32-1"),
                             (["--seeds", "99999999999999999999"], "at most 10000 seeds"),
                             (["--permutation-seed", "-1"], "permutation_seed must lie in 0..2**32-1")):  # fmt: skip
        result = CliRunner().invoke(main, ["run", "--out", str(tmp_path / "run"), *options])
        assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
        assert not (tmp_path / "run").exists()
    one_class = tmp_path / "one.npz"
    images = np.zeros((4, 28, 28), np.uint8)
    np.savez(one_class, x_train=images, y_train=np.zeros(4, np.int64), x_test=images, y_test=np.zeros(4, np.int64))
    result = CliRunner().invoke(main, ["run", "--dataset", "npz", "--data", str(one_class), "--out", str(tmp_path / "r")])
    assert result.exit_code != 0 and "one.npz: expected at least 2 classes" in result.output
    assert not (tmp_path / "r").exists()
