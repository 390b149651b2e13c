"""End to end: the grid on a few hundred real images, through the command line, and its run folder.

The verdict's sentences are tested in test_verdict.py."""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

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


def test_summary_and_reliance_recomputed_from_cells(cli_run):
    out, _ = cli_run
    record = json.loads((out / "results.json").read_text())
    dense_original = [c["test_accuracy"] for c in record["cells"] if c["model"] == "dense" and c["condition"] == "original"]
    dense_shuffled = [c["test_accuracy"] for c in record["cells"] if c["model"] == "dense" and c["condition"] == "shuffled"]
    reliance = next(row for row in record["reliance"] if row["model"] == "dense")
    assert reliance["difference"] == pytest.approx(np.mean(dense_original) - np.mean(dense_shuffled))
    summary = shuffled_pixels.summarize(record)
    assert summary["summary"] == record["summary"] and summary["verdict"] == record["verdict"]


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
