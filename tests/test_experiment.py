"""End to end: the grid on a few hundred real images, through the command line, and its results files."""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from spatiallab import analysis, results
from spatiallab.cli import main
from spatiallab.verdict import verdict_line, write_verdict


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
    record = results.read_results(out)
    assert record["complete"] is True
    assert record["config"]["seeds"] == [0, 1] and record["config"]["permutation_seed"] == 5
    assert record["permutation"]["mnist-sample"] == {"seed": 5, "image_shape": [28, 28]}
    assert len(record["cells"]) == 2 * 2 * 2  # models x conditions x seeds
    assert {cell["params"] for cell in record["cells"] if cell["model"] == "dense"} == {101_770}
    assert record["versions"]["backend"] == "tensorflow"
    for cell in record["cells"]:
        assert len(cell["history"]["accuracy"]) == 2
        assert (out / cell["model_file"]).is_file()
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 8 and float(rows[0]["test_accuracy"]) == pytest.approx(record["cells"][0]["test_accuracy"])
    samples = np.load(out / "samples" / "mnist-sample.npz")
    assert samples["x"].shape == (16, 28, 28, 1) and sorted(samples["permutation"]) == list(range(784))


def test_summary_and_reliance_recomputed_from_cells(cli_run):
    out, _ = cli_run
    record = json.loads((out / "results.json").read_text())
    dense_original = [c["test_accuracy"] for c in record["cells"] if c["model"] == "dense" and c["condition"] == "original"]
    dense_shuffled = [c["test_accuracy"] for c in record["cells"] if c["model"] == "dense" and c["condition"] == "shuffled"]
    reliance = next(row for row in record["reliance"] if row["model"] == "dense")
    assert reliance["difference"] == pytest.approx(np.mean(dense_original) - np.mean(dense_shuffled))
    assert analysis.summarize(record)["summary"] == record["summary"]


def test_table_and_verdict_printed(cli_run):
    _, result = cli_run
    assert "Shuffled-pixels experiment on mnist-sample" in result.output
    assert "Verdict (from the numbers above)" in result.output
    assert "101,770" in result.output and "34,826" in result.output
    record = json.loads((cli_run[0] / "results.json").read_text())
    dense = next(row for row in record["summary"] if (row["model"], row["condition"]) == ("dense", "original"))
    assert f"{100 * dense['mean']:.1f} [{100 * dense['ci_low']:.1f}, {100 * dense['ci_high']:.1f}]" in result.output
    assert "epoch 2/2" in result.output  # plain progress lines when not a terminal
    assert "\r" not in result.output


def test_existing_run_is_not_overwritten(cli_run):
    out, _ = cli_run
    before = (out / "results.json").read_bytes()
    result = CliRunner().invoke(main, ["run", "--epochs", "1", "--seeds", "1", "--out", str(out)])
    assert result.exit_code != 0 and "already holds a run" in result.output
    assert (out / "results.json").read_bytes() == before


def test_verdict_sentences():
    base = {"model": "cnn", "dataset": "mnist"}
    drop = {**base, "original": 0.991, "shuffled": 0.950, "difference": 0.041, "ci_low": 0.03, "ci_high": 0.05}
    assert verdict_line(drop, 0.1) == (
        "cnn on mnist: 99.1% -> 95.0%, a 4.1-point drop (95% CI +3.0 to +5.0 points): not a collapse to chance (10.0%)."
    )
    same = {**base, "original": 0.976, "shuffled": 0.975, "difference": 0.001, "ci_low": -0.003, "ci_high": 0.005}
    assert verdict_line(same, 0.1) == ("cnn on mnist: 97.6% -> 97.5%, not distinguishable from no change "
                                       "(+0.1 points, 95% CI -0.3 to +0.5 points).")
    at_chance = {**base, "original": 0.5, "shuffled": 0.5, "difference": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    assert verdict_line(at_chance, 0.5) == (
        "cnn on mnist: 50.0% -> 50.0%: at chance (50.0%) already on original pixels, so the model learned nothing "
        "for shuffling to remove (+0.0 points); train longer or check the data."
    )
    assert "at chance" not in verdict_line(at_chance, None)
    one_seed = {**drop, "ci_low": None, "ci_high": None}
    assert verdict_line(one_seed, 0.1) == (
        "cnn on mnist: 99.1% -> 95.0% (+4.1 points; one seed, so no interval: use more seeds to tell this from noise)."
    )
    assert ", an 8.1-point drop" in verdict_line({**drop, "difference": 0.081}, 0.1)
    chance = {**drop, "shuffled": 0.12, "difference": 0.871, "ci_low": 0.8, "ci_high": 0.9}
    assert "a collapse to chance" in verdict_line(chance, 0.1)
    # 7 of 411 test files on every seed: equal in exact arithmetic, a last-bit apart after float subtraction
    identical = {**drop, "difference": 0.017, "ci_low": 0.01703163017031628, "ci_high": 0.01703163017031639,
                 "n_pairs": 3}
    assert verdict_line(identical, 0.1) == (
        "cnn on mnist: 99.1% -> 95.0% (+1.7 points; all 3 seeds gave the same difference, so the interval has zero "
        "width and says nothing of the uncertainty: use more seeds)."
    )


def test_verdict_ranks_models_only_as_far_as_the_intervals_allow():
    def row(model, difference, low, high):
        return {"model": model, "dataset": "mnist", "original": 0.9, "shuffled": 0.9 - difference,
                "difference": difference, "ci_low": low, "ci_high": high, "n_pairs": 3}

    apart = write_verdict([row("cnn", 0.04, 0.03, 0.05), row("dense", 0.0, -0.003, 0.003)], {"mnist": 0.1})
    assert apart[-1] == ("On mnist, cnn relies most on pixel positions (4.0 points lost to shuffling), "
                         "dense least (0.0).")
    overlapping = write_verdict([row("cnn", 0.05, -0.5, 0.6), row("dense", 0.0, -0.1, 0.1)], {"mnist": 0.1})
    assert overlapping[-1].endswith("; their intervals overlap, so this order is not established.")
    one_seed = write_verdict([row("cnn", 0.05, None, None), row("dense", 0.0, None, None)], {"mnist": 0.1})
    assert one_seed[-1].endswith("; without an interval for both, this order may be noise.")
    zero_width = write_verdict([row("cnn", 0.05, 0.05, 0.05), row("dense", 0.0, -0.1, 0.1)], {"mnist": 0.1})
    assert zero_width[-1].endswith("; without an interval for both, this order may be noise.")
    with_chance = write_verdict([row("cnn", 0.05, 0.03, 0.07), {**row("dense", 0.0, -0.1, 0.1), "original": 0.1}],
                                {"mnist": 0.1})
    assert len(with_chance) == 2 and "at chance" in with_chance[1]  # no ranking with the model at chance
    tied = write_verdict([row("cnn", 0.0, None, None), row("dense", 0.0, None, None)], {"mnist": 0.1})
    assert tied[-1] == "On mnist, every model lost the same to shuffling (0.0 points)."


def test_bad_options():
    runner = CliRunner()
    assert "unknown model 'mlp'" in runner.invoke(main, ["run", "--models", "mlp"]).output
    assert "expected a count" in runner.invoke(main, ["run", "--seeds", "a,b"]).output
