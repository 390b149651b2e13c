"""The scale experiment: the summary and verdict rules on made-up cells, and a tiny end-to-end run through the
command line (results files, saved permutations, the refused block size, resume of a partly deleted run)."""

from __future__ import annotations

import html
import json

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats as scipy_stats

from spatiallab import runs
from spatiallab.cli import main
from spatiallab.experiments import scale
from spatiallab.report import curves
from spatiallab.report import scale as scale_report
from spatiallab.transforms import BlockPermutation

SIZES = [2, 4, 7, 14]


def made_up_record(accuracies: dict[str, dict[str, list[float]]], seeds=(0, 1, 2), chance: float = 0.1) -> dict:
    """A results record from ``{model: {condition: [accuracy per seed]}}`` (conditions as in ``condition_name``)."""
    cells = []
    for model, by_condition in accuracies.items():
        for condition, values in by_condition.items():
            family, _, size = condition.partition("-")
            cells += [{"dataset": "digits", "model": model, "condition": condition, "family": family,
                       "block_size": int(size) if size else None, "seed": seed, "status": "ok",
                       "test_accuracy": value} for seed, value in zip(seeds, values)]  # fmt: skip
    config = {"models": list(accuracies), "families": ["within", "between"], "block_sizes": SIZES, "confidence": 0.95}
    return {"config": config, "cells": cells, "chance": chance, "failed_cells": [],
            "permutations": {"image_shape": [28, 28]}}  # fmt: skip


def curve(original: list[float], within: dict[int, list[float]], between: dict[int, list[float]]) -> dict:
    return {"original": original, **{f"within-{k}": v for k, v in within.items()},
            **{f"between-{k}": v for k, v in between.items()}}  # fmt: skip


FLAT = [0.90, 0.91, 0.92]
NOISE = {k: [0.905 + 0.01 * ((k + seed) % 3 - 1), 0.91 + 0.004 * (seed - 1), 0.915] for k, seed in zip(SIZES, range(4))}
CNN = curve([0.98, 0.97, 0.985],
            within={2: [0.979, 0.972, 0.983], 4: [0.90, 0.88, 0.91], 7: [0.60, 0.55, 0.62], 14: [0.30, 0.28, 0.33]},
            between={14: [0.978, 0.973, 0.982], 7: [0.80, 0.78, 0.83], 4: [0.40, 0.42, 0.37], 2: [0.20, 0.22, 0.18]})


def test_summary_pairs_each_condition_with_the_original_by_seed():
    record = made_up_record({"cnn": CNN})
    summary = scale.summarize(record)
    row = next(row for row in summary["curve"] if row["condition"] == "within-4")
    differences = np.subtract(CNN["original"], CNN["within-4"])
    # Bonferroni over the 8 permuted conditions: each drop interval at 1 - 0.05 / 8, two-sided
    half_width = scipy_stats.t.ppf(1 - 0.05 / 16, 2) * np.std(differences, ddof=1) / np.sqrt(3)
    assert row["drop"] == pytest.approx(differences.mean()) and row["n_pairs"] == 3
    assert (row["drop_ci_low"], row["drop_ci_high"]) == pytest.approx((differences.mean() - half_width,
                                                                       differences.mean() + half_width))  # fmt: skip
    assert row["mean"] == pytest.approx(np.mean(CNN["within-4"])) and row["status"] == "drop"
    assert row["drop_confidence"] == summary["drop_confidence"] == pytest.approx(1 - 0.05 / 8)
    accuracy_half_width = scipy_stats.t.ppf(0.975, 2) * np.std(CNN["within-4"], ddof=1) / np.sqrt(3)
    assert row["ci_high"] - row["mean"] == pytest.approx(accuracy_half_width)  # the accuracy stays at the run's 95%
    assert not row["full_shuffle"] and not any(row["full_shuffle"] for row in summary["curve"])  # 28 was not run
    assert [(row["family"], row["block_size"]) for row in summary["curve"]] == \
        [("within", k) for k in SIZES] + [("between", k) for k in SIZES]  # fmt: skip
    assert summary["summary"][0]["condition"] == "original" and summary["flatness"] == []


def test_a_dense_that_moves_is_flagged_as_a_bug_and_a_flat_one_passes():
    moved = curve(FLAT, within={k: values for k, values in NOISE.items()},
                  between={**NOISE, 7: [0.70, 0.715, 0.72]})  # fmt: skip
    verdict = scale.summarize(made_up_record({"dense": moved}))
    assert verdict["flatness"][0]["status"] == "moved" and verdict["flatness"][0]["comparisons"] == 8
    assert verdict["flatness"][0]["confidence"] == pytest.approx(1 - 0.05 / 8)  # Bonferroni over the curve
    line = verdict["verdict"][0]
    assert line.startswith("BUG: dense") and "between-7: +19.8 points" in line
    assert "a bug in spatiallab, not a finding" in line and "within-" not in line

    flat = scale.summarize(made_up_record({"dense": curve(FLAT, within=NOISE, between=NOISE)}))
    assert flat["flatness"][0]["status"] == "flat"
    assert flat["verdict"][0].startswith("dense stays flat") and "99.38%" in flat["verdict"][0]


def test_a_cnn_with_a_clear_drop_gets_the_shape_of_its_curves_at_the_bonferroni_level():
    within, between, level = scale.summarize(made_up_record({"cnn": CNN}))["verdict"]
    assert within == ("cnn: shuffling pixels within k x k blocks: the drop from the original grows from +0.0 points "
                      "at k = 2 to +67.5 at k = 14; significant at k = 4, 7, 14 (first at k = 4: +8.2 points, 99.38% "
                      "CI +2.6 to +13.7), not at k = 2.")  # fmt: skip
    assert between.startswith("cnn: rearranging k x k blocks: the drop from the original grows from +0.1 points at "
                              "k = 14 to +77.8 at k = 2; significant at k = 7, 4, 2 (first at k = 7: +17.5 points, "
                              "99.38% CI")  # fmt: skip
    assert "full shuffle" not in within + between  # not measured: no reference to compare with
    assert level.startswith("Each drop interval above is at 99.38%: Bonferroni for 95% over the permuted conditions")

    # with the full shuffle measured (within 28), the within curve ends on it and between is read against it
    full = {**CNN, "within-28": [0.10, 0.12, 0.11]}
    record = made_up_record({"cnn": full})
    record["config"]["block_sizes"] = [*SIZES, 28]  # between 28 is the identity: not a condition
    summary = scale.summarize(record)
    within, between, level = summary["verdict"][1:]
    assert summary["verdict"][0].startswith("Not trained: between k = 28 leaves the images as they are")
    assert summary["drop_confidence"] == pytest.approx(1 - 0.05 / 9)  # 5 within + 4 between conditions
    assert "between-28" not in {row["condition"] for row in summary["curve"]}
    assert "to +86.8 at k = 28 (the lesson's full shuffle); significant at k = 4, 7, 14, 28 (first" in within
    # between's largest drop, k = 2: 77.8 of the full shuffle's 86.8 points
    assert between.endswith("its largest drop, at k = 2, is 90% of the lesson's full shuffle's (within k = 28: "
                            "+86.8 points).")  # fmt: skip


def test_a_curve_that_goes_up_and_down_names_its_largest_and_smallest_drop():
    recovering = dict(CNN, **{"within-14": [0.979, 0.972, 0.983]})  # drops at 4 and 7, none at 14
    line = scale.summarize(made_up_record({"cnn": recovering}))["verdict"][0]
    assert line.startswith("cnn: shuffling pixels within k x k blocks: the drop from the original goes up and down: "
                           "largest at k = 7 (+38.8 points), smallest at k = 2 (+0.0); significant at k = 4, 7 (first "
                           "at k = 4")  # fmt: skip
    assert line.endswith("not at k = 2, 14.")
    # the lesson's full shuffle as the largest: its name and its drop in one parenthesis
    record = made_up_record({"cnn": {**recovering, "within-28": [0.10, 0.12, 0.11]}})
    record["config"]["block_sizes"] = [*SIZES, 28]
    line = scale.summarize(record)["verdict"][1]
    assert "goes up and down: largest at k = 28 (the lesson's full shuffle: +86.8 points), smallest at k = 2 " \
        "(+0.0); significant" in line  # fmt: skip


def test_a_curve_of_one_size_gets_one_clause_and_the_singular():
    record = made_up_record({"cnn": {"original": CNN["original"], "between-1": [0.20, 0.22, 0.18]},
                             "dense": {"original": FLAT, "between-1": [0.905, 0.908, 0.915]}})  # fmt: skip
    record["config"].update(families=["between"], block_sizes=[1])
    cnn, dense, _ = scale.summarize(record)["verdict"]
    assert cnn == ("cnn: rearranging k x k blocks: the drop from the original is +77.8 points at k = 1 (the lesson's "
                   "full shuffle); significant (+77.8 points, 95% CI +71.0 to +84.7).")  # fmt: skip
    assert dense.endswith("no condition differs measurably from the original (its one paired interval, at 95%, holds "
                          "0; the move, between-1: +0.1 points, 95% CI -1.2 to +1.3).")  # fmt: skip


def test_curves_that_allow_no_claim_say_so():
    one_seed = scale.summarize(made_up_record({"dense": {c: v[:1] for c, v in curve(FLAT, NOISE, NOISE).items()},
                                               "cnn": {c: v[:1] for c, v in CNN.items()}}, seeds=(0,)))  # fmt: skip
    dense, cnn_within, cnn_between, _ = one_seed["verdict"]
    assert dense.startswith("dense's flatness") and "cannot be checked" in dense
    assert cnn_within == ("cnn: shuffling pixels within k x k blocks: the drop from the original grows from +0.1 "
                          "points at k = 2 to +68.0 at k = 14; no claim: k = 2, 4, 7, 14 have no interval (one seed, or "
                          "every seed gave the same difference); use more seeds.")  # fmt: skip
    assert cnn_between.startswith("cnn: rearranging k x k blocks: the drop from the original grows") and \
        "no claim" in cnn_between  # fmt: skip

    at_chance = {condition: [0.1, 0.11, 0.09] for condition in CNN}
    assert "not distinguishable from chance (20.0%) already on the original images" in \
        scale.summarize(made_up_record({"cnn": at_chance}, chance=0.2))["verdict"][0]  # fmt: skip


def test_end_to_end_run_saves_permutations_and_resumes_only_missing_cells(tmp_path):
    run_dir = tmp_path / "run"
    arguments = ["scale", "--train-limit", "300", "--test-limit", "100", "--epochs", "1", "--block-sizes", "7,14,28",
                 "--seeds", "2", "--models", "dense", "--out", str(run_dir)]  # fmt: skip
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    record = json.loads((run_dir / runs.RESULTS_JSON).read_text())
    assert record["kind"] == "scale" and record["complete"] and record["config"]["block_sizes"] == [7, 14, 28]
    assert len(record["cells"]) == 12  # 2 seeds x (original + within 7, 14, 28 + between 7, 14); between 28 = original
    assert {cell["condition"] for cell in record["cells"]} == {"original", "within-7", "within-14", "within-28",
                                                               "between-7", "between-14"}  # fmt: skip
    assert record["permutations"]["identity"] == ["between-28"]
    assert len(record["summary"]) == 6 and len(record["curve"]) == 5
    assert record["models"]["dense"]["position_blind"] and record["flatness"][0]["model"] == "dense"
    assert record["flatness"][0]["comparisons"] == 5 and record["drop_confidence"] == pytest.approx(0.99)
    assert record["verdict"][0].startswith("Not trained: between k = 28 leaves the images as they are")
    assert record["verdict"][1].startswith(("dense stays flat", "dense's flatness", "BUG: dense"))
    assert "Not trained: between k = 28" in " ".join(result.output.split())
    assert "block size k" in result.output and "Verdict" in result.output and record["verdict"][0][:20] in result.output
    # the report: both families' curves of the model, the samples under the saved permutations, the verdict
    assert f"Report: {run_dir / 'report.html'}" in result.output
    assert {path.name for path in (run_dir / "figures").glob("*.png")} == {"scale_curves.png",
                                                                          "samples_mnist-sample.png"}  # fmt: skip
    page = html.unescape((run_dir / "report.html").read_text(encoding="utf-8"))
    assert all(line in page for line in record["verdict"]) and "What the lesson predicted" in page
    # image runs' words (a sequence run's are in test_sequences.py)
    assert "\"within k\" shuffles the pixels inside every k x k block" in page
    assert "\"between k\" moves whole k x k blocks" in page and "from the image size leftward" in page
    assert "The lesson tested only the endpoints: the original images, and the full shuffle (within k = the image " \
        "size, or between k = 1): on MNIST dense ~97.8% -> ~97.8%." in page  # fmt: skip
    assert "Sample images" in page and "Test images (top row) under each of the run's permutations" in page
    assert scale_report.no_verdict(record) == "No model has finished cells on the original images and a permuted " \
        "one yet."  # fmt: skip
    figure = curves.scale_curves(record["curve"], record["summary"], (28, 28), record["chance"])
    assert figure.axes[0].get_xlabel() == "block size k (pixels)"
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    original = record["summary"][0]["mean"]
    assert list(lines["within"].get_xdata()) == [1, 7, 14, 28] and list(lines["between"].get_xdata()) == [7, 14, 28]
    assert lines["within"].get_ydata()[0] == lines["between"].get_ydata()[-1] == pytest.approx(100 * original)
    csv_lines = (run_dir / runs.RESULTS_CSV).read_text().splitlines()
    assert csv_lines[0].startswith("dataset,model,condition,family,block_size,seed,status,test_accuracy")
    assert len(csv_lines) == 13

    with np.load(run_dir / "permutations" / "mnist-sample.npz") as saved:
        assert sorted(saved.files) == ["between-14", "between-7", "image_shape", "seed", "within-14", "within-28",
                                       "within-7"]  # fmt: skip
        for family in ("within", "between"):
            for size in (7, 14):
                np.testing.assert_array_equal(saved[f"{family}-{size}"], BlockPermutation(family, size, 0).permutation_)
        within_7, between_7 = saved["within-7"], saved["between-7"]

    cell_files = sorted((run_dir / "cells").glob("*.json"))
    kept = {path.name: path.read_bytes() for path in cell_files}
    for name in ("mnist-sample__dense__original__seed1.json", "mnist-sample__dense__between-14__seed0.json"):
        (run_dir / "cells" / name).unlink()
        del kept[name]
    (run_dir / "report.html").unlink()
    resumed = CliRunner().invoke(main, ["scale", "--resume", str(run_dir), "--no-report"])
    assert resumed.exit_code == 0, resumed.output
    assert "Report:" not in resumed.output and not (run_dir / "report.html").exists()
    assert "resuming: 10 of 12 cells already finished, 2 to train" in resumed.output
    assert {path.name: path.read_bytes() for path in (run_dir / "cells").glob("*.json") if path.name in kept} == kept
    after = runs.RunFolder(run_dir).results
    assert after["complete"] and len(after["cells"]) == 12 and after["config"] == record["config"]
    assert [cell["test_accuracy"] for cell in after["cells"]] == [cell["test_accuracy"] for cell in record["cells"]]

    contradicting = CliRunner().invoke(main, ["scale", "--resume", str(run_dir), "--block-sizes", "2"])
    assert contradicting.exit_code != 0 and "block_sizes: recorded [7, 14, 28], given [2]" in contradicting.output

    # a resumed run applies the saved arrays: a file whose within-7 is not a within permutation is refused
    arrays = dict(np.load(run_dir / "permutations" / "mnist-sample.npz"))
    np.savez(run_dir / "permutations" / "mnist-sample.npz", **{**arrays, "within-7": between_7})
    (run_dir / "cells" / "mnist-sample__dense__within-7__seed0.json").unlink()
    tampered = CliRunner().invoke(main, ["scale", "--resume", str(run_dir)])
    assert tampered.exit_code == 1 and "expected a within permutation of block size 7" in tampered.output
    assert not np.array_equal(within_7, between_7)


def test_a_saved_permutation_is_applied_as_saved_even_where_a_new_draw_differs(tmp_path):
    # a run folder keeps the arrays it was trained with, e.g. a between 20 saved as the identity of its 2 blocks
    path = tmp_path / "mnist1d.npz"
    np.savez(path, image_shape=np.asarray([40]), seed=np.int64(0), **{"between-20": np.arange(40)})
    saved = scale.read_permutations(path, [("between", 20)], (40,), 0)["between-20"]
    np.testing.assert_array_equal(saved.permutation_, np.arange(40))
    assert not np.array_equal(BlockPermutation("between", 20, 0, (40,)).permutation_, np.arange(40))


@pytest.mark.parametrize("shape", [(40,), (28, 28)])
def test_no_condition_is_the_identity_for_any_seed(shape):
    size = int(np.prod(shape))
    permuted = scale.conditions(list(scale.FAMILIES), scale.default_block_sizes(shape), shape)[1:]
    assert {k for _, k in permuted} == ({2, 4, 5, 8, 10, 20, 40} if shape == (40,) else {2, 4, 7, 14, 28})
    for family, k in permuted:
        for seed in range(10):
            permutation = BlockPermutation(family, k, seed, shape).permutation_
            assert not np.array_equal(permutation, np.arange(size)), (family, k, seed)
            # still a bijection with the family's structure (from_array refuses anything else)
            BlockPermutation.from_array(permutation, shape, seed, family=family, block_size=k)


def test_a_block_size_that_does_not_tile_the_images_is_refused_before_training(tmp_path):
    result = CliRunner().invoke(main, ["scale", "--block-sizes", "5,7", "--models", "dense", "--out",
                                       str(tmp_path / "run")])  # fmt: skip
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "Error: Invalid value for '--block-sizes': block size 5 does not tile 28x28 images (k must divide the height and the width); valid sizes: "
        "1, 2, 4, 7, 14, 28")
    assert "started" not in result.output and not (tmp_path / "run").exists()
    bad = CliRunner().invoke(main, ["scale", "--block-sizes", "2,x"])
    assert bad.exit_code == 2 and "expected block sizes such as 2,4,7,14" in bad.output
    identity = CliRunner().invoke(main, ["scale", "--families", "within", "--block-sizes", "1", "--models", "dense",
                                         "--out", str(tmp_path / "identity")])  # fmt: skip
    assert identity.exit_code == 2 and not (tmp_path / "identity").exists()
    assert "Invalid value for '--block-sizes': block sizes [1] leave the positions (28, 28) of mnist-sample as they " \
        "are for every family asked for" in " ".join(identity.output.split())  # fmt: skip
    assert "give sizes that permute them: within: 2, 4, 7, 14, 28" in " ".join(identity.output.split())
    repeated = CliRunner().invoke(main, ["scale", "--families", "within,within", "--out", str(tmp_path / "r")])
    assert repeated.exit_code == 2 and "'--families': families must not repeat an item; repeated: within" in repeated.output


def test_default_block_sizes_reach_the_full_shuffle_and_identities_are_not_conditions():
    assert scale.default_block_sizes((28, 28)) == [2, 4, 7, 14, 28]  # within 28: the lesson's full shuffle
    assert scale.default_block_sizes((6, 12)) == [2, 3, 6]  # k = 6 leaves two blocks on 6x12: not an endpoint
    assert scale.default_block_sizes((29, 29)) == [29]
    # within 1 and between 28 are the original images again; between 1 is the full shuffle, within 28 too
    assert scale.conditions(["within", "between"], [28, 1, 7], (28, 28)) == [
        ("original", None), ("within", 7), ("within", 28), ("between", 1), ("between", 7)]
    assert scale.identity_conditions(["within", "between"], [1, 7, 28], (28, 28)) == ["within-1", "between-28"]
    assert scale.conditions(["between"], [6], (6, 12)) == [("original", None), ("between", 6)]  # two blocks move
    assert scale.conditions(["between"], [40], (40,)) == [("original", None)]
    config = scale.ScaleConfig(block_sizes=[2, 2])
    with pytest.raises(ValueError, match="block_sizes must not repeat an item; repeated: 2"):
        config.validate()


def test_a_curve_without_a_significant_drop_names_its_largest_in_one_unnested_clause():
    from spatiallab.experiments.verdict import family_sentence

    rows = [{"block_size": 14, "drop": 0.02, "drop_ci_low": -0.01, "drop_ci_high": 0.05, "status": "none"},
            {"block_size": 28, "drop": 0.086, "drop_ci_low": -1.0, "drop_ci_high": 1.0, "status": "none",
             "full_shuffle": True}]  # fmt: skip
    sentence = family_sentence("linear", "within", rows, 1 - 0.05 / 13)
    assert sentence.endswith("; no size costs a significant drop; the largest is +8.6 points, 99.62% CI -100.0 to "
                             "+100.0, at k = 28 (the lesson's full shuffle).")  # fmt: skip
    assert sentence.count("(") == sentence.count(")") == 2  # the full shuffle named twice, never inside another
