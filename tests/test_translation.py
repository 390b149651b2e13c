"""Translation: the zero-fill shift against a per-pixel definition, the shift list, the curve's statistics, and a
tiny end-to-end run through the API and the command line."""

from __future__ import annotations

import io

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console
from scipy import stats as scipy_stats

from spatiallab import data, experiments, runs
from spatiallab.cli import main
from spatiallab.cli.translation import print_curve
from spatiallab.experiments import translation
from spatiallab.transforms import translate


def shifted_by_definition(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """out[n, i, j] = images[n, i - dy, j - dx] inside the image, else 0 -- one pixel at a time."""
    out = np.zeros_like(images)
    height, width = images.shape[1:3]
    for i in range(height):
        for j in range(width):
            if 0 <= i - dy < height and 0 <= j - dx < width:
                out[:, i, j] = images[:, i - dy, j - dx]
    return out


@pytest.mark.parametrize("dy, dx", [(0, 0), (1, 0), (-2, 0), (0, 3), (0, -1), (2, -3), (-4, 4), (5, 0), (0, -9)])
@pytest.mark.parametrize("shape, dtype", [((3, 5, 6), np.uint8), ((2, 5, 6, 3), np.float32)])
def test_translate_matches_the_definition(dy, dx, shape, dtype):
    images = (np.random.default_rng(0).random(shape) * 255 + 1).astype(dtype)
    result = translate(images, dy, dx)
    assert result.dtype == images.dtype and result.shape == images.shape
    np.testing.assert_array_equal(result, shifted_by_definition(images, dy, dx))


def test_translate_moves_content_down_and_right_and_loses_what_leaves():
    image = np.zeros((1, 4, 4), np.uint8)
    image[0, 1, 1] = 9
    assert np.argwhere(translate(image, 2, 1)[0]).tolist() == [[3, 2]]
    assert not translate(image, 3, 0).any()  # pushed past the bottom edge: gone, no wrap-around
    back = translate(translate(image, 0, -1), 0, 1)
    np.testing.assert_array_equal(back, image)  # column 0 was empty, so nothing was lost


def test_translate_refuses_bad_input():
    with pytest.raises(ValueError, match=r"expected images \(N, H, W\[, C\]\); got shape \(4, 4\)"):
        translate(np.zeros((4, 4)), 1, 0)
    with pytest.raises(ValueError, match="whole pixels"):
        translate(np.zeros((1, 4, 4)), 0.5, 0)


def test_sequences_are_refused_before_loading_where_registered_so_and_once_loaded_otherwise(monkeypatch, tmp_path):
    def no_load(*args, **kwargs):
        raise AssertionError("the dataset was loaded")

    monkeypatch.setattr(data, "load", no_load)
    config = translation.TranslationConfig(dataset="mnist1d", models=["dense"], seeds=[0], epochs=1)
    with pytest.raises(experiments.ConfigError, match=r"so it expected images; mnist1d holds sequences: give an "):
        experiments.run_experiment(experiments.Translation(config), tmp_path / "run")
    assert not (tmp_path / "run").exists()
    # a binaries byte view: its view option, not its name, decides the kind, so the check waits for the data
    assert data.get_entry("binaries").kind is None
    waves = np.random.default_rng(0).random((6, 40, 1)).astype(np.float32)
    views = data.Dataset("binaries", waves, np.arange(6) % 2, waves, np.arange(6) % 2, ["a", "b"], "views.npz",
                         kind="sequence")  # fmt: skip
    config = translation.TranslationConfig(dataset="binaries", models=["dense"], seeds=[0], epochs=1)
    config.validate()
    with pytest.raises(experiments.ConfigError, match=r"binaries holds sequences \(40, 1\): give an image dataset"):
        experiments.Translation(config).load(preloaded={"binaries": views})


def test_shift_list():
    rows = translation.shifts(2)
    assert len(rows) == 9 and rows[0] == {"distance": 0, "direction": "none", "dy": 0, "dx": 0}
    assert {(row["dy"], row["dx"]) for row in rows if row["distance"] == 2} == {(2, 0), (-2, 0), (0, 2), (0, -2)}
    assert all(max(abs(row["dy"]), abs(row["dx"])) == row["distance"] for row in rows)


def test_summary_averages_directions_then_seeds():
    accuracy = {0: {"none": 0.9}, 1: {"none": 0.8}}
    accuracy[0].update(down=0.5, up=0.6, right=0.7, left=0.8)  # seed 0 at 1 px: mean 0.65
    accuracy[1].update(down=0.4, up=0.4, right=0.5, left=0.5)  # seed 1 at 1 px: mean 0.45
    cells = [{"dataset": "digits", "model": "dense", "condition": "original", "seed": seed, "status": "ok",
              "train_seconds": 1.0, "epochs": 1, "params": 10,
              "shifts": [{"distance": int(direction != "none"), "direction": direction, "dy": 0, "dx": 0,
                          "test_accuracy": value, "test_loss": 1 - value} for direction, value in by_direction.items()]}
             for seed, by_direction in accuracy.items()]  # fmt: skip
    summary = translation.summarize({"config": {"models": ["dense"]}, "cells": cells})
    assert len(summary["rows"]) == 10 and summary["rows"][0]["seed"] == 0 and summary["rows"][0]["params"] == 10
    at_one = next(row for row in summary["curve"] if row["distance"] == 1)
    assert at_one["accuracies"] == pytest.approx([0.65, 0.45]) and at_one["mean"] == pytest.approx(0.55)
    half_width = scipy_stats.t.ppf(0.975, 1) * np.std([0.65, 0.45], ddof=1) / np.sqrt(2)
    assert at_one["half_width"] == pytest.approx(half_width)
    # drop paired by seed: 0.9 - 0.65 and 0.8 - 0.45
    assert at_one["drop"] == pytest.approx(0.3)
    drop_half = scipy_stats.t.ppf(0.975, 1) * np.std([0.25, 0.35], ddof=1) / np.sqrt(2)
    assert at_one["drop_ci_high"] - at_one["drop"] == pytest.approx(drop_half)
    left = next(row for row in summary["by_direction"] if row["direction"] == "left")
    assert left["mean"] == pytest.approx(0.65)
    # a run's confidence level is the one its intervals use
    narrower = translation.summarize({"config": {"models": ["dense"], "confidence": 0.8}, "cells": cells})
    at_one_80 = next(row for row in narrower["curve"] if row["distance"] == 1)
    assert at_one_80["half_width"] == pytest.approx(scipy_stats.t.ppf(0.9, 1) * np.std([0.65, 0.45], ddof=1) / np.sqrt(2))


def summarized(accuracies: dict[str, list[tuple[float, ...]]], chance: float = 0.1) -> dict:
    """``summarize`` of cells whose accuracy at distance d is the d-th number of their seed's tuple (one direction
    per distance: the mean over directions is that number)."""
    cells = [{"dataset": "digits", "model": model, "condition": "original", "seed": seed, "status": "ok",
              "train_seconds": 1.0, "epochs": 1, "params": 10,
              "shifts": [{"distance": distance, "direction": "none" if distance == 0 else "down", "dy": distance,
                          "dx": 0, "test_accuracy": value, "test_loss": 1.0} for distance, value in enumerate(values)]}
             for model, per_seed in accuracies.items() for seed, values in enumerate(per_seed)]  # fmt: skip
    return translation.summarize({"config": {"models": list(accuracies)}, "cells": cells, "chance": chance})


def test_the_verdict_says_how_far_each_model_is_shift_invariant_beside_the_lesson():
    summary = summarized({
        "cnn": [(0.99, 0.98, 0.60, 0.40), (0.98, 0.99, 0.58, 0.38), (0.99, 0.97, 0.62, 0.37)],  # 1 px: no drop
        "dense": [(0.97, 0.60, 0.40, 0.30), (0.96, 0.62, 0.41, 0.31), (0.975, 0.58, 0.39, 0.29)],
        "cnn_gap": [(0.90, 0.91, 0.89, 0.91), (0.92, 0.90, 0.93, 0.90), (0.91, 0.90, 0.90, 0.92)],
        "locally_connected": [(0.90, 0.80, 0.75, 0.70)],
    })  # fmt: skip
    cnn, dense, cnn_gap, locally_connected = summary["verdict"]
    # cnn's drop at 3 px per seed: 0.59, 0.60, 0.62: mean 60.3 points, t(0.975, 2) * sd / sqrt(3) = 3.8
    half = scipy_stats.t.ppf(0.975, 2) * np.std([0.59, 0.60, 0.62], ddof=1) / np.sqrt(3)
    assert cnn.startswith(f"cnn: 98.7% unshifted -> 38.3% at 3 px, a drop of 60.3 points (95% CI "
                          f"[{100 * (0.603333 - half):+.1f}, {100 * (0.603333 + half):+.1f}] points): not "
                          "shift-invariant beyond ~1 px, with the first significant drop at 2 px;")
    assert cnn.endswith("the lesson said of Conv2D layers: translation invariance built in: the same filter slides "
                        "over every position.")
    assert "not shift-invariant even at 1 px, the smallest shift" in dense
    assert dense.endswith("the lesson said of Dense layers: translation invariance none: it must relearn the pattern "
                          "at every position.")
    assert cnn_gap.startswith("cnn_gap: 91.0% unshifted -> 91.0% at 3 px, not distinguishable from no change")
    assert "no measurable cost of shifts up to 3 px" in cnn_gap and "Conv2D layers" in cnn_gap
    # one seed: no interval, no claim; and the lesson's row covers neither weight sharing without Conv2D
    assert locally_connected == ("locally_connected: 90.0% unshifted -> 70.0% at 3 px (+20.0 points; one seed, so no "
                                 "interval: use more seeds to tell a shift's cost from noise).")
    assert [translation.lesson_layer(model) for model in ("dense", "cnn", "cnn_gap", "locally_connected")] == [
        "Dense", "Conv2D", "Conv2D", None]


def test_run_writes_files_prints_the_curve_and_refuses_to_overwrite(tmp_path):
    config = translation.TranslationConfig(models=["dense"], seeds=[0], max_shift=2, epochs=1, train_limit=300,
                                           test_limit=100)  # fmt: skip
    record = experiments.run_experiment(experiments.Translation(config), tmp_path / "run")
    written = runs.RunFolder(tmp_path / "run")
    assert written.kind == "translation" and written.results == record
    assert record["complete"] and record["failed_cells"] == [] and record["models"]["dense"]["params"] == 101_770
    assert len(record["cells"]) == 1 and record["cells"][0]["status"] == "ok" and record["cells"][0]["model_file"] is None
    assert len(record["rows"]) == 9  # 1 seed x (unshifted + 4 directions x 2 distances)
    assert (tmp_path / "run" / "cells" / "mnist-sample__dense__seed0.json").is_file()
    assert not (tmp_path / "run" / "translation.json").exists() and not (tmp_path / "run" / "translation.csv").exists()
    csv_lines = (tmp_path / "run" / runs.RESULTS_CSV).read_text().splitlines()
    assert csv_lines[0].startswith("dataset,model,seed,distance,direction,dy,dx,test_accuracy") and len(csv_lines) == 10
    at_two = [row["test_accuracy"] for row in record["rows"] if row["distance"] == 2]
    assert record["curve"][2]["mean"] == pytest.approx(np.mean(at_two))
    unshifted = next(row for row in record["rows"] if row["distance"] == 0)
    assert unshifted["test_accuracy"] == pytest.approx(record["cells"][0]["test_accuracy"])  # d = 0 is the test set

    console = Console(file=io.StringIO(), width=200)
    print_curve(console, record)
    printed = console.file.getvalue()
    assert "0 px" in printed and "2 px" in printed and "101,770" in printed
    assert f"{100 * record['curve'][2]['mean']:.1f}" in printed

    with pytest.raises(FileExistsError, match="already holds a run"):
        experiments.run_experiment(experiments.Translation(config), tmp_path / "run")
    again = CliRunner().invoke(main, ["translation", "--models", "dense", "--out", str(tmp_path / "run")])
    assert again.exit_code != 0 and "already holds a run" in again.output
    bad = CliRunner().invoke(main, ["translation", "--models", "nope", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "unknown model 'nope'" in bad.output
    assert not (tmp_path / "run" / "report.html").exists()  # the API writes results; the commands write the report
    report = CliRunner().invoke(main, ["report", str(tmp_path / "run")])
    assert report.exit_code == 0 and (tmp_path / "run" / "report.html").is_file(), report.output
    assert (tmp_path / "run" / "figures" / "translation_curve.png").is_file()


def test_translation_resume_keeps_finished_cells_and_retrains_the_rest(tmp_path):
    config = translation.TranslationConfig(models=["dense"], seeds=[0, 1], max_shift=1, epochs=1, train_limit=200,
                                           test_limit=50)  # fmt: skip
    run_dir = tmp_path / "run"
    first = experiments.run_experiment(experiments.Translation(config), run_dir)
    kept = (run_dir / "cells" / "mnist-sample__dense__seed0.json").read_bytes()
    (run_dir / "cells" / "mnist-sample__dense__seed1.json").unlink()
    result = CliRunner().invoke(main, ["translation", "--resume", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert "resuming: 1 of 2 cells already finished, 1 to train" in result.output
    assert f"Report: {run_dir / 'report.html'}" in result.output and (run_dir / "report.html").is_file()
    assert (run_dir / "cells" / "mnist-sample__dense__seed0.json").read_bytes() == kept
    resumed = runs.RunFolder(run_dir).results
    assert resumed["complete"] and resumed["config"] == first["config"]  # the recorded config, not the defaults
    assert [row["test_accuracy"] for row in resumed["rows"]] == [row["test_accuracy"] for row in first["rows"]]
    assert len((run_dir / runs.RESULTS_CSV).read_text().splitlines()) == 1 + 2 * 5
    contradicting = CliRunner().invoke(main, ["translation", "--resume", str(run_dir), "--max-shift", "3"])
    assert contradicting.exit_code != 0 and "max_shift: recorded 1, given 3" in contradicting.output


def test_a_translation_run_that_fails_on_its_data_leaves_no_folder(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an archive")
    result = CliRunner().invoke(main, ["translation", "--dataset", "binaries", "--data", str(bad),
                                       "--out", str(tmp_path / "runs" / "t")])
    assert result.exit_code == 1 and "bad.npz: expected an npz" in result.output
    assert not (tmp_path / "runs").exists()
