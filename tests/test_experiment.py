"""End to end: the grid on a few hundred real images, through the command line, and its run folder.

The verdict's sentences are tested in test_verdict.py."""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats as scipy_stats

from spatiallab import runs
from spatiallab.cli import main
from spatiallab.experiments import shuffled_pixels


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["run", "--train-limit", "400", "--test-limit", "200", "--epochs", "2", "--seeds", "2",
         "--permutation-seed", "5", "--out", str(out), "--no-report"],
    )  # fmt: skip
    return out, result


def test_run_writes_complete_results(cli_run):
    out, result = cli_run
    assert result.exit_code == 0, result.output
    run = runs.RunFolder(out)
    record = run.results
    assert record["schema"] == runs.SCHEMA == 2 and record["kind"] == run.kind == "shuffled_pixels"
    assert record["complete"] is True and record["failed_cells"] == []
    assert record["config"]["seeds"] == [0, 1] and record["config"]["permutation_seed"] == 5
    assert record["execution"]["mode"] == "serial" and record["execution"]["workers"] == 1
    assert record["permutation"]["mnist-sample"] == {"seed": 5, "image_shape": [28, 28]}
    assert len(record["cells"]) == 2 * 2 * 2  # models x conditions x seeds
    assert {cell["params"] for cell in record["cells"] if cell["model"] == "dense"} == {101_770}
    assert record["models"]["mnist-sample"]["dense"]["params"] == 101_770
    assert record["versions"]["backend"] == "tensorflow"
    for cell in record["cells"]:
        assert cell["status"] == "ok" and set(cell["ran_on"]) >= {"host", "pid"} and "intra_op" in cell["threads"]
        assert len(cell["history"]["accuracy"]) == 2
        cell_id = shuffled_pixels.model_file_name(cell["dataset"], cell["model"], cell["condition"], cell["seed"])
        assert cell["model_file"] == f"models/{cell_id}.keras" and (out / cell["model_file"]).is_file()
        assert json.loads((out / "cells" / f"{cell_id}.json").read_text()) == cell  # the per-cell file
    assert shuffled_pixels.model_file_name("mnist-sample", "dense", "original", 0) == \
        "mnist-sample__dense__original__seed0"  # fmt: skip
    rows = list(csv.DictReader((out / runs.RESULTS_CSV).open()))
    assert len(rows) == 8 and float(rows[0]["test_accuracy"]) == pytest.approx(record["cells"][0]["test_accuracy"])
    assert rows[0]["status"] == "ok" and list(rows[0]) == list(shuffled_pixels.CSV_COLUMNS)
    samples = np.load(out / "samples" / "mnist-sample.npz")
    assert samples["x"].shape == (16, 28, 28, 1) and sorted(samples["permutation"]) == list(range(784))
    np.testing.assert_array_equal(run.permutation("mnist-sample").permutation_, samples["permutation"])


def t_interval_by_hand(values, bounds=(-np.inf, np.inf)):
    """(mean, low, high): the 95% Student-t interval of ``values``, clipped to ``bounds``; numpy and scipy only."""
    values = np.asarray(values, dtype=np.float64)
    half_width = scipy_stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return values.mean(), max(values.mean() - half_width, bounds[0]), min(values.mean() + half_width, bounds[1])


def test_summary_and_reliance_recomputed_from_cells(cli_run):
    out, _ = cli_run
    record = json.loads((out / "results.json").read_text())
    for row in record["summary"]:
        accuracy = {c["seed"]: c["test_accuracy"] for c in record["cells"]
                    if (c["model"], c["condition"]) == (row["model"], row["condition"])}  # fmt: skip
        assert row["seeds"] == [0, 1] and row["accuracies"] == [accuracy[0], accuracy[1]] and row["n"] == 2
        assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx(t_interval_by_hand(
            [accuracy[0], accuracy[1]], bounds=(0.0, 1.0)))  # fmt: skip
    assert len(record["summary"]) == 4 and len(record["reliance"]) == 2
    for row in record["reliance"]:
        accuracy = {(c["condition"], c["seed"]): c["test_accuracy"] for c in record["cells"]
                    if c["model"] == row["model"]}  # fmt: skip
        differences = [accuracy["original", seed] - accuracy["shuffled", seed] for seed in (0, 1)]
        assert (row["difference"], row["ci_low"], row["ci_high"]) == pytest.approx(t_interval_by_hand(
            differences, bounds=(-1.0, 1.0)))  # fmt: skip
        assert row["n_pairs"] == 2 and row["original"] == pytest.approx((accuracy["original", 0] + accuracy[
            "original", 1]) / 2)  # fmt: skip


def test_reliance_pairs_cells_by_seed():
    # each seed moves both conditions by a large shared offset; seed 1's shuffled cell failed, and the cells are
    # listed out of seed order. Original - shuffled per shared seed: 0.05, 0.07, 0.06 (seeds 0, 2, 3).
    original = {0: 0.62, 1: 0.50, 2: 0.91, 3: 0.77}
    shuffled = {3: 0.71, 0: 0.57, 2: 0.84}
    cells = [{"dataset": "mnist", "model": "dense", "condition": condition, "seed": seed, "test_accuracy": value,
              "train_seconds": 1.0, "params": 10}
             for condition, values in (("shuffled", shuffled), ("original", original))
             for seed, value in values.items()]  # fmt: skip
    record = {"config": {"datasets": ["mnist"], "models": ["dense"], "conditions": ["original", "shuffled"],
                         "seeds": [0, 1, 2, 3]}, "chance": {"mnist": 0.1}, "cells": cells}  # fmt: skip
    summary = shuffled_pixels.summarize(record)
    (reliance,) = summary["reliance"]
    # mean 0.06, sample std 0.01, t(0.975, df=2) = 4.302653 -> half width 0.024841; unpaired, the offsets would
    # make the interval some 0.64 wide around 0
    assert reliance["n_pairs"] == 3 and reliance["difference"] == pytest.approx(0.06)
    assert (reliance["ci_low"], reliance["ci_high"]) == pytest.approx((0.06 - 0.024841, 0.06 + 0.024841), abs=1e-6)
    assert reliance["original"] == pytest.approx((0.62 + 0.91 + 0.77) / 3)  # over the shared seeds only
    rows = {row["condition"]: row for row in summary["summary"]}
    assert rows["original"]["seeds"] == [0, 1, 2, 3] and rows["original"]["mean"] == pytest.approx(0.70)
    assert rows["shuffled"]["accuracies"] == [0.57, 0.84, 0.71]
    assert summary["verdict"] == [
        "dense on mnist: 76.7% -> 70.7%, a 6.0-point drop (95% CI +3.5 to +8.5 points): not a collapse to chance (10.0%)."
    ]


def test_table_and_verdict_printed(cli_run):
    _, result = cli_run
    assert "Shuffled-pixels experiment on mnist-sample" in result.output
    assert "Verdict (from the numbers above)" in result.output
    assert "101,770" in result.output and "34,826" in result.output
    record = json.loads((cli_run[0] / "results.json").read_text())
    dense = next(row for row in record["summary"] if (row["model"], row["condition"]) == ("dense", "original"))
    assert f"{100 * dense['mean']:.1f} [{100 * dense['ci_low']:.1f}, {100 * dense['ci_high']:.1f}]" in result.output
    # plain progress lines when not a terminal: each epoch, and each cell as it finishes
    assert "mnist-sample cnn shuffled seed 1 epoch 2: train accuracy" in result.output
    assert "[8/8] mnist-sample cnn shuffled seed 1: test accuracy" in result.output
    assert "\r" not in result.output


def test_existing_run_is_not_overwritten(cli_run):
    out, _ = cli_run
    before = (out / "results.json").read_bytes()
    result = CliRunner().invoke(main, ["run", "--epochs", "1", "--seeds", "1", "--out", str(out)])
    assert result.exit_code != 0 and "already holds a run" in result.output and f"--resume {out}" in result.output
    # --resume keeps the finished cells, so it refuses the options that would write elsewhere or delete them
    # (resuming itself is tested in test_runner.py)
    result = CliRunner().invoke(main, ["run", "--resume", str(out), "--overwrite"])
    assert result.exit_code != 0 and "--overwrite would delete them" in result.output
    result = CliRunner().invoke(main, ["run", "--resume", str(out), "--out", str(out.parent / "other")])
    assert result.exit_code != 0 and f"--out {out.parent / 'other'} names another" in result.output
    assert (out / "results.json").read_bytes() == before


def test_bad_options():
    runner = CliRunner()
    assert "unknown model 'mlp'" in runner.invoke(main, ["run", "--models", "mlp"]).output
    assert "expected a count" in runner.invoke(main, ["run", "--seeds", "a,b"]).output
