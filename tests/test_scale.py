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
                      "at k = 2 to +67.5 at k = 14; significant at k = 4, 7, 14, not at k = 2; first at k = 4 (+8.2 "
                      "points, 99.38% CI +2.6 to +13.7); the largest is +67.5 points, 99.38% CI +54.4 to +80.6, at "
                      "k = 14; 97.8% on the original images, 30.3% at worst: not a collapse to chance (10.0%) at any "
                      "size.")  # fmt: skip
    assert between.startswith("cnn: rearranging k x k blocks (largest k, the mildest, first): "
                              "the drop from the original grows from +0.1 points at "
                              "k = 14 to +77.8 at k = 2; significant at k = 7, 4, 2, not at k = 14; first at k = 7 "
                              "(+17.5 points, 99.38% CI")  # fmt: skip
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
    assert "to +86.8 at k = 28 (the lesson's full shuffle); significant at k = 4, 7, 14, 28, not at k = 2; first" \
        in within  # fmt: skip
    # within 28's seeds at 10-12%: its accuracy interval reaches chance
    assert within.endswith("; 97.8% on the original images, 11.0% at worst: a collapse, not distinguishable from "
                           "chance (10.0%), at k = 28.")  # fmt: skip
    # between's largest drop, k = 2: 77.8 of the full shuffle's 86.8 points
    assert between.endswith("; the largest is +77.8 points, 99.44% CI +56.6 to +99.1, at k = 2, 90% of the lesson's "
                            "full shuffle's drop (within k = 28: +86.8 points); 97.8% on the original images, 20.0% "
                            "at worst: not a collapse to chance (10.0%) at any size.")  # fmt: skip


def test_a_curve_that_goes_up_and_down_names_its_largest_and_smallest_drop():
    recovering = dict(CNN, **{"within-14": [0.979, 0.972, 0.983]})  # drops at 4 and 7, none at 14
    line = scale.summarize(made_up_record({"cnn": recovering}))["verdict"][0]
    assert line.startswith("cnn: shuffling pixels within k x k blocks: the drop from the original goes up and down "
                           "beyond its intervals: up from +0.0 points at k = 2 to +38.8 at k = 7 and down from +38.8 "
                           "points at k = 7 to +0.0 at k = 14; significant at k = 4, 7, not at k = 2, 14; first at "
                           "k = 4")  # fmt: skip
    # the fall that comes first along the curve is named first
    record = made_up_record({"cnn": {**CNN, "within-2": CNN["within-7"], "within-4": CNN["within-2"]}})
    assert "goes up and down beyond its intervals: down from +38.8 points at k = 2 to +0.0 at k = 4 and up from " \
        "+0.0 points at k = 4 to +67.5 at k = 14;" in scale.summarize(record)["verdict"][0]  # fmt: skip


def test_a_curve_of_one_size_gets_one_clause_and_the_singular():
    record = made_up_record({"cnn": {"original": CNN["original"], "between-1": [0.20, 0.22, 0.18]},
                             "dense": {"original": FLAT, "between-1": [0.905, 0.908, 0.915]}})  # fmt: skip
    record["config"].update(families=["between"], block_sizes=[1])
    cnn, dense, _ = scale.summarize(record)["verdict"]
    assert cnn == ("cnn: rearranging k x k blocks (largest k, the mildest, first): "
                   "the drop from the original is +77.8 points at k = 1 (the lesson's "
                   "full shuffle); significant (+77.8 points, 95% CI +71.0 to +84.7); 97.8% on the original images, "
                   "20.0% permuted: not a collapse to chance (10.0%).")  # fmt: skip
    assert dense.endswith("no condition differs measurably from the original (its one paired interval, at 95%, holds "
                          "0; the move, between-1: +0.1 points, 95% CI -1.2 to +1.3).")  # fmt: skip


def test_curves_that_allow_no_claim_say_so():
    one_seed = scale.summarize(made_up_record({"dense": {c: v[:1] for c, v in curve(FLAT, NOISE, NOISE).items()},
                                               "cnn": {c: v[:1] for c, v in CNN.items()}}, seeds=(0,)))  # fmt: skip
    dense, cnn_within, cnn_between, _ = one_seed["verdict"]
    assert dense.startswith("dense's flatness") and "cannot be checked" in dense
    # without intervals no shape is claimed: the point estimates, listed
    assert cnn_within == ("cnn: shuffling pixels within k x k blocks: the drop from the original is +0.1, +8.0, "
                          "+38.0, +68.0 points at k = 2, 4, 7, 14; no claim: k = 2, 4, 7, 14 have no interval (one "
                          "seed, or every seed gave the same difference); use more seeds.")  # fmt: skip
    assert cnn_between.startswith("cnn: rearranging k x k blocks (largest k, the mildest, first): "
                                  "the drop from the original is +0.2, +18.0, +58.0, "
                                  "+78.0 points at k = 14, 7, 4, 2; no claim") and "grows" not in cnn_between

    at_chance = {condition: [0.1, 0.11, 0.09] for condition in CNN}
    assert "not distinguishable from chance (20.0%) already on the original images" in \
        scale.summarize(made_up_record({"cnn": at_chance}, chance=0.2))["verdict"][0]  # fmt: skip


def test_intervals_too_wide_to_read_are_called_so_not_flat():
    # two seeds whose drops differ by 2 points: t(df = 1) at 99.38% is about 102, so every drop interval (+6.0 -+ 102
    # points, clipped to +100) holds both 0 and the whole 61% on the original
    wide = {condition: [0.62, 0.60] if condition == "original" else [0.55, 0.55] for condition in CNN}
    dense = {condition: values[:2] for condition, values in curve(FLAT, NOISE, NOISE).items()}
    within, between, flatness, _, clipped = scale.summarize(made_up_record({"cnn": wide, "dense": dense},
                                                                           seeds=(0, 1)))["verdict"]  # fmt: skip
    assert within == ("cnn: shuffling pixels within k x k blocks: the drop from the original is +6.0, +6.0, +6.0, +6.0 "
                      "points at k = 2, 4, 7, 14; no claim: the intervals are too wide to read (2 seeds at the 99.38% "
                      "level: each holds both no drop and a drop to 0% accuracy); use more seeds; 61.0% on the "
                      "original images, 55.0% at worst.")  # fmt: skip
    assert "flat" not in between and "no size costs" not in between and "too wide to read" in between
    assert flatness == ("dense's flatness (it must not move: every condition permutes the pixels) cannot be checked: "
                        "within-2, within-4, within-7, within-14, between-2, between-4, between-7, between-14 have an "
                        "interval too wide to rule anything out; use more seeds.")  # fmt: skip
    assert clipped == ("A drop bound of -100.0 or +100.0 points is clipped: its t interval reaches past the largest "
                       "possible difference of two accuracies.")  # fmt: skip
    # three seeds read the same curve: no clipped bound, no note
    assert not any("clipped" in line for line in scale.summarize(made_up_record({"cnn": CNN}))["verdict"])


def test_an_unchecked_flatness_names_only_the_reasons_that_apply():
    unfinished = {condition: values for condition, values in curve(FLAT, NOISE, NOISE).items()
                  if condition != "between-2"}  # fmt: skip
    assert scale.summarize(made_up_record({"dense": unfinished}))["verdict"] == [(
        "dense's flatness (it must not move: every condition permutes the pixels) cannot be checked: 1 of 8 conditions "
        "is not finished; finish the run (--resume).")]
    one_seed = {condition: values[:1] for condition, values in unfinished.items()}
    assert scale.summarize(made_up_record({"dense": one_seed}, seeds=(0,)))["verdict"][0].endswith(
        "cannot be checked: 1 of 8 conditions is not finished; within-2, within-4, within-7, within-14, between-4, "
        "between-7, between-14 have no interval (one seed, or a zero-width one); finish the run (--resume) and use "
        "more seeds.")  # fmt: skip


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
        "Error: Invalid value for '--block-sizes': block size 5 does not tile 28x28 images (k must divide the "
        "height and the width); valid sizes: 1, 2, 4, 7, 14, 28")
    assert "started" not in result.output and not (tmp_path / "run").exists()
    bad = CliRunner().invoke(main, ["scale", "--block-sizes", "2,x"])
    assert bad.exit_code == 2 and "expected block sizes such as 2,4,7,14" in bad.output
    for family, size, others in (("within", "1", "2, 4, 7, 14, 28"), ("between", "28", "1, 2, 4, 7, 14")):
        out = tmp_path / f"{family}-{size}"
        identity = CliRunner().invoke(main, ["scale", "--families", family, "--block-sizes", size, "--models",
                                             "dense", "--out", str(out)])  # fmt: skip
        assert identity.exit_code == 2 and not out.exists()
        assert (f"Invalid value for '--block-sizes': block sizes {size} permute nothing on mnist-sample: {family} k = "
                f"{size} leaves the images as they are, so there is only the original condition, which every run "
                f"trains anyway; give sizes that permute them: {family}: {others}") in " ".join(identity.output.split())
    repeated = CliRunner().invoke(main, ["scale", "--families", "within,within", "--out", str(tmp_path / "r")])
    assert repeated.exit_code == 2
    assert "'--families': families must not repeat an item; repeated: within" in repeated.output
    # the option's words, not the configuration field's (block_sizes)
    twice = CliRunner().invoke(main, ["scale", "--block-sizes", "2,2", "--out", str(tmp_path / "twice")])
    assert twice.exit_code == 2 and twice.output.strip().splitlines()[-1] == \
        "Error: Invalid value for '--block-sizes': block sizes must not repeat an item; repeated: 2"  # fmt: skip


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
    with pytest.raises(ValueError, match="^block sizes must not repeat an item; repeated: 2$"):
        config.validate()
    # the values themselves, comma-joined, never a Python list
    for config, message in ((scale.ScaleConfig(block_sizes=[0, 2, -1]), r"; got 0, -1$"),
                            (scale.ScaleConfig(seeds=[1, -2, 2**32]), r"; got -2, 4294967296$"),
                            (scale.ScaleConfig(families=["rows"]), r"expected one of within, between$")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            config.validate()


def test_a_curve_without_a_significant_drop_names_its_largest_in_one_unnested_clause():
    from spatiallab.experiments.verdict import family_sentence

    rows = [{"block_size": 14, "drop": 0.02, "drop_ci_low": -0.01, "drop_ci_high": 0.05, "status": "none"},
            {"block_size": 28, "drop": 0.086, "drop_ci_low": -1.0, "drop_ci_high": 1.0, "status": "none",
             "full_shuffle": True}]  # fmt: skip
    sentence = family_sentence("linear", "within", rows, 1 - 0.05 / 13)
    assert sentence.endswith("; no size costs a significant drop; the largest is +8.6 points, 99.62% CI -100.0 to "
                             "+100.0, at k = 28 (the lesson's full shuffle).")  # fmt: skip
    assert sentence.count("(") == sentence.count(")") == 2  # two parentheses, never one inside another


def curve_row(k: int, drop: tuple[float, float, float], accuracy: tuple[float, float, float] = (0.9, 0.89, 0.91),
              **extra) -> dict:  # fmt: skip
    """A made-up curve row at block size ``k``: ``drop`` and ``accuracy`` as (estimate, ci_low, ci_high)."""
    row = {"block_size": k, "drop": drop[0], "drop_ci_low": drop[1], "drop_ci_high": drop[2], "mean": accuracy[0],
           "ci_low": accuracy[1], "ci_high": accuracy[2], **extra}  # fmt: skip
    return {**row, "status": scale.drop_status(row)}


def nesting(text: str) -> int:
    """The deepest parenthesis in ``text``: 1 for ``a (b) c``, 2 for ``a (b (c))``."""
    depth = deepest = 0
    for character in text:
        depth += {"(": 1, ")": -1}.get(character, 0)
        deepest = max(deepest, depth)
    return deepest


# the walk-through's cnn on mnist-sample (3 seeds, 3 epochs): drops and accuracies as its tables printed them
WALK_ORIGINAL = {"mean": 0.968, "ci_low": 0.966, "ci_high": 0.970}
WALK_WITHIN = [curve_row(2, (0.006, 0.004, 0.008), (0.962, 0.959, 0.964)),
               curve_row(4, (0.051, 0.031, 0.070), (0.917, 0.909, 0.925)),
               curve_row(7, (0.083, 0.047, 0.119), (0.885, 0.873, 0.898)),
               curve_row(14, (0.076, 0.023, 0.130), (0.891, 0.876, 0.907)),
               curve_row(28, (0.102, 0.062, 0.142), (0.866, 0.855, 0.877), full_shuffle=True)]  # fmt: skip
WALK_BETWEEN = [curve_row(2, (0.061, 0.031, 0.091), (0.907, 0.896, 0.919)),
                curve_row(4, (0.058, 0.033, 0.083), (0.910, 0.902, 0.917)),
                curve_row(7, (0.048, 0.019, 0.078), (0.919, 0.910, 0.929)),
                curve_row(14, (0.033, 0.014, 0.052), (0.935, 0.929, 0.940))]  # fmt: skip


def test_a_small_drop_at_every_size_reads_apart_from_a_fall_to_chance():
    from spatiallab.experiments.verdict import family_sentence

    level = 1 - 0.05 / 9
    within = family_sentence("cnn", "within", WALK_WITHIN, level, original=WALK_ORIGINAL, chance=0.1)
    # k = 7 (+8.3) above k = 14 (+7.6) is noise: their intervals overlap, so the curve is not called up and down;
    # the full shuffle is named where the sentence first reaches k = 28, not again
    assert within == ("cnn: shuffling pixels within k x k blocks: the drop from the original grows from +0.6 points at "
                      "k = 2 to +10.2 at k = 28 (the lesson's full shuffle); significant at every size, already at "
                      "k = 2 (+0.6 points, 99.44% CI +0.4 to +0.8); the largest is +10.2 points, 99.44% CI +6.2 to "
                      "+14.2, at k = 28; 96.8% on the original images, 86.6% at worst: not "
                      "a collapse to chance (10.0%) at any size.")  # fmt: skip
    between = family_sentence("cnn", "between", WALK_BETWEEN, level, full_shuffle={**WALK_WITHIN[-1], "family":
                              "within"}, original=WALK_ORIGINAL, chance=0.1)  # fmt: skip
    assert between == ("cnn: rearranging k x k blocks (largest k, the mildest, first): "
                       "the drop from the original is flat within its intervals (+3.3 "
                       "to +6.1 points); significant at every size, already at k = 14 (+3.3 points, 99.44% CI +1.4 to "
                       "+5.2); the largest is +6.1 points, 99.44% CI +3.1 to +9.1, at k = 2, 60% of the lesson's full "
                       "shuffle's drop (within k = 28: +10.2 points); 96.8% on the original images, 90.7% at worst: "
                       "not a collapse to chance (10.0%) at any size.")  # fmt: skip

    # the same model falling to chance from k = 7: the accuracy intervals there reach 10%, k = 28's a zero-width one
    falling = [curve_row(2, (0.006, 0.004, 0.008), (0.962, 0.959, 0.964)),
               curve_row(4, (0.300, 0.200, 0.400), (0.668, 0.600, 0.730)),
               curve_row(7, (0.848, 0.800, 0.900), (0.120, 0.080, 0.160)),
               curve_row(14, (0.858, 0.820, 0.900), (0.110, 0.095, 0.130)),
               curve_row(28, (0.868, 0.850, 0.880), (0.100, 0.100, 0.100), full_shuffle=True)]  # fmt: skip
    fall = family_sentence("cnn", "within", falling, level, original=WALK_ORIGINAL, chance=0.1)
    assert fall.endswith("; 96.8% on the original images, 10.0% at worst: a collapse, not distinguishable from chance "
                         "(10.0%), at k = 7, 14, 28.")  # fmt: skip
    # a size whose accuracy interval stays above chance (11% to 13%) is left out of the collapse
    assert "at k = 7, 28." in family_sentence("cnn", "within", [*falling[:3], curve_row(14, (0.858, 0.82, 0.9), (
        0.12, 0.11, 0.13)), falling[4]], level, original=WALK_ORIGINAL, chance=0.1)  # fmt: skip


def test_a_curve_is_called_up_and_down_only_where_intervals_part_in_the_reversed_order():
    from spatiallab.experiments.verdict import curve_shape

    # point estimates up, down, up, but every reversal within the intervals: the rise from k = 2 is what holds
    zigzag = [curve_row(2, (0.01, 0.0, 0.02)), curve_row(4, (0.20, 0.10, 0.30)), curve_row(7, (0.15, 0.05, 0.25)),
              curve_row(14, (0.25, 0.15, 0.35))]  # fmt: skip
    assert curve_shape(zigzag) == "grows from +1.0 points at k = 2 to +25.0 at k = 14"
    # the fall from k = 4 to k = 7 now parts its intervals (0.10 above 0.08): up and down
    zigzag[2] = curve_row(7, (0.04, 0.0, 0.08))
    assert curve_shape(zigzag) == ("goes up and down beyond its intervals: up from +1.0 points at k = 2 to +25.0 at "
                                   "k = 14 and down from +20.0 points at k = 4 to +4.0 at k = 7")  # fmt: skip
    # intervals that touch are not apart
    assert curve_shape([curve_row(2, (0.4, 0.3, 0.5)), curve_row(4, (0.2, 0.1, 0.3))]) == \
        "is flat within its intervals (+20.0 to +40.0 points)"  # fmt: skip
    assert curve_shape([curve_row(2, (0.4, 0.31, 0.5)), curve_row(4, (0.2, 0.1, 0.3))]) == \
        "shrinks from +40.0 points at k = 2 to +20.0 at k = 4"  # fmt: skip


def test_a_sequence_curve_names_its_first_significant_size_without_nested_brackets():
    from spatiallab.experiments.verdict import family_sentence, position_words

    # the walk-through's cnn1d on MNIST-1D (2 seeds): only the full shuffle, k = 40, costs a significant drop
    rows = [curve_row(4, (0.120, -0.612, 0.853), (0.624, 0.5, 0.75)),
            curve_row(10, (0.164, -0.218, 0.546), (0.581, 0.45, 0.71)),
            curve_row(40, (0.203, 0.076, 0.330), (0.542, 0.44, 0.64), full_shuffle=True)]  # fmt: skip
    sentence = family_sentence("cnn1d", "within", rows, 0.99, position_words({"kind": "sequence"}),
                               original={"mean": 0.7445}, chance=0.106)  # fmt: skip
    assert sentence == ("cnn1d: shuffling positions within blocks of k positions: the drop from the original is flat "
                        "within its intervals (+12.0 to +20.3 points); significant at k = 40, not at k = 4, 10; first "
                        "at k = 40 (the lesson's full shuffle: +20.3 points, 99% CI +7.6 to +33.0); 74.5% on the "
                        "original sequences, 54.2% at worst: not a collapse to chance (10.6%) at any "
                        "size.")  # fmt: skip
    assert nesting(sentence) == 1


def test_the_largest_drop_is_named_once():
    from spatiallab.experiments.verdict import family_sentence

    # the benign end costs the most: "already at k = 14" names the largest, so no second clause repeats it
    rows = [curve_row(14, (0.3, 0.2, 0.4)), curve_row(7, (0.1, 0.05, 0.15))]
    full_shuffle = curve_row(28, (0.5, 0.4, 0.6), family="within")
    assert family_sentence("cnn", "between", rows, 0.95, full_shuffle=full_shuffle) == (
        "cnn: rearranging k x k blocks (largest k, the mildest, first): "
        "the drop from the original shrinks from +30.0 points at k = 14 to +10.0 at "
        "k = 7; significant at every size, already at k = 14 (+30.0 points, 95% CI +20.0 to +40.0); the largest drop "
        "is 60% of the lesson's full shuffle's drop (within k = 28: +50.0 points).")  # fmt: skip
