"""The report of every experiment: one command for shuffled-pixels, translation and scale runs, the opening before
the verdict, the translation and scale figures (checked on the figures' own data), the samples drawn from the saved
arrays, and learning curves on one axis with whole epochs."""

from __future__ import annotations

import html
import json

import numpy as np
import pytest
from click.testing import CliRunner

from spatiallab.cli import main
from spatiallab.report import build_report, curves, plots
from spatiallab.report import scale as scale_report
from spatiallab.report import translation as translation_report
from spatiallab.runs import RunFolder
from spatiallab.transforms import BlockPermutation, translate
from tests.runfolders import (
    SCALE_FALL,
    TRANSLATION_FALL,
    write_fake_run,
    write_fake_scale_run,
    write_fake_translation_run,
)


@pytest.fixture(scope="module")
def translation_run(tmp_path_factory):
    return write_fake_translation_run(tmp_path_factory.mktemp("runs") / "translation")


@pytest.fixture(scope="module")
def scale_run(tmp_path_factory):
    """Block sizes 7, 14 and 28: within-28 is the lesson's full shuffle, between-1 (its other form) is not run, and
    between-28 (the original) is not trained."""
    return write_fake_scale_run(tmp_path_factory.mktemp("runs") / "scale", block_sizes=(7, 14, 28))


def _report_text(run_dir) -> str:
    """``spatiallab report RUN_DIR`` through the command line; the page's text, unescaped."""
    result = CliRunner().invoke(main, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert f"Report: {run_dir / 'report.html'}" in result.output
    return html.unescape((run_dir / "report.html").read_text(encoding="utf-8"))


def _opening_then_verdict(text: str) -> None:
    """The page opens with the question, the lesson's prediction and what to look at, all before the verdict."""
    places = [text.index(marker) for marker in ('id="opening"', "What the lesson predicted", "What to look at first",
                                                'id="verdict"')]  # fmt: skip
    assert places == sorted(places)


def test_translation_report_has_its_curve_samples_table_and_verdict(translation_run):
    text = _report_text(translation_run)
    record = RunFolder(translation_run).results
    assert {path.name for path in (translation_run / "figures").glob("*.png")} == {
        "samples_mnist-sample.png", "translation_curve.png", "learning_curves.png"}
    _opening_then_verdict(text)
    assert "none: it must relearn the pattern at every position" in text and "moved 1 to 2 pixels" in text
    assert [line.split(":")[0] for line in record["verdict"]] == ["dense", "cnn"]
    assert all(line in text for line in record["verdict"])
    dense_at_2 = next(row for row in record["curve"] if (row["model"], row["distance"]) == ("dense", 2))
    assert f"{100 * dense_at_2['drop']:+.1f} [" in text  # the drop column: +20.0 points for the made-up dense
    assert dense_at_2["drop"] == pytest.approx(2 * TRANSLATION_FALL["dense"])


def test_translation_curve_draws_each_model_with_its_band_and_chance(translation_run):
    record = RunFolder(translation_run).results
    figure = curves.translation_curve(record["curve"], record["chance"])
    axes = figure.axes[0]
    lines = {line.get_label(): line for line in axes.get_lines()}
    for model in ("dense", "cnn"):
        rows = [row for row in record["curve"] if row["model"] == model]
        np.testing.assert_array_equal(lines[model].get_xdata(), [0, 1, 2])
        np.testing.assert_allclose(lines[model].get_ydata(), [100 * row["mean"] for row in rows])
    assert len(axes.collections) == 2  # one shaded interval per model (two seeds)
    np.testing.assert_allclose(lines["chance"].get_ydata(), [100 * record["chance"]] * 2)


def test_translation_samples_are_the_saved_images_shifted(translation_run):
    saved = RunFolder(translation_run).samples("mnist-sample")
    assert saved.permutation is None and saved.x.shape == (16, 28, 28, 1)
    rows = dict(translation_report.shifted_rows(saved.x[:4], 2))
    assert list(rows) == ["unshifted", "down 2 px", "up 2 px", "right 2 px", "left 2 px"]
    np.testing.assert_array_equal(rows["left 2 px"], translate(saved.x[:4], 0, -2))


def test_scale_report_has_both_curves_the_tables_and_the_verdict(scale_run):
    text = _report_text(scale_run)
    record = RunFolder(scale_run).results
    assert {path.name for path in (scale_run / "figures").glob("*.png")} == {"samples_mnist-sample.png",
                                                                            "scale_curves.png"}  # fmt: skip
    _opening_then_verdict(text)
    assert "The lesson tested only the endpoints" in text and "cnn ~99.2% -> ~random" in text
    assert record["verdict"] and all(line in text for line in record["verdict"])
    assert record["verdict"][0].startswith("Not trained: between k = 28 leaves the images as they are")
    assert record["verdict"][1].startswith("dense stays flat")  # the made-up dense never moves
    # the drop's level is said where the table is, and is the one the verdict and the flatness check use
    assert "Drop: accuracy on the original images minus under the permutation, paired by seed, with its 99% " \
        "interval: Bonferroni for 95% over the permuted conditions" in text  # fmt: skip
    assert record["verdict"][-1].startswith("Each drop interval above is at 99%: Bonferroni for 95%")
    assert record["flatness"][0]["confidence"] == record["drop_confidence"] == pytest.approx(1 - 0.05 / 5)
    assert "within: accuracy (%)" in text and "Flatness of the position-blind models" in text


def test_scale_curves_hold_both_families_and_name_the_endpoints(scale_run):
    record = RunFolder(scale_run).results
    figure = curves.scale_curves(record["curve"], record["summary"], (28, 28), record["chance"])
    cnn = figure.axes[1]
    assert cnn.get_title() == "cnn"
    lines = {line.get_label(): line for line in cnn.get_lines()}
    original = next(row for row in record["summary"] if (row["model"], row["condition"]) == ("cnn", "original"))
    within = {row["block_size"]: row["mean"] for row in record["curve"] if row["condition"].startswith("within")
              and row["model"] == "cnn"}  # fmt: skip
    # within runs from its original endpoint (k = 1) to the full shuffle (k = 28); between from k = 7 to the original
    np.testing.assert_array_equal(lines["within"].get_xdata(), [1, 7, 14, 28])
    np.testing.assert_allclose(lines["within"].get_ydata(), 100 * np.array([original["mean"], *within.values()]))
    np.testing.assert_array_equal(lines["between"].get_xdata(), [7, 14, 28])
    assert lines["between"].get_ydata()[-1] == pytest.approx(100 * original["mean"])
    assert within[28] == pytest.approx(original["mean"] - 3 * SCALE_FALL)
    # the endpoints are marked on the axes without text (no label overlaps a curve or another) and named once each
    # in the figure's legend, with the full shuffle that was not run
    assert len(cnn.texts) == len(figure.axes[0].texts) == 0
    markers = [line for line in cnn.get_lines() if line.get_label().startswith("_")]
    assert sorted((line.get_marker(), line.get_xdata()[0]) for line in markers) == [("o", 28), ("s", 1), ("s", 28)]
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == ["within", "between", "chance", "original images (within k = 1, between k = 28)",
                      "lesson's full shuffle (within k = 28; between k = 1: not run)"]


def test_scale_samples_use_the_saved_permutations_not_a_redraw(scale_run, tmp_path):
    run = RunFolder(scale_run)
    saved = scale_report._permutations(run, run.results)
    assert list(saved) == ["within-7", "within-14", "within-28", "between-7", "between-14"]  # between-28: original
    np.testing.assert_array_equal(saved["within-7"].permutation_, BlockPermutation("within", 7, 0).permutation_)
    # another valid array in the file is what the report applies, whatever the recorded seed would re-draw
    with np.load(scale_run / "permutations" / "mnist-sample.npz") as archive:
        arrays = dict(archive)
    other = BlockPermutation("within", 7, 99).permutation_
    copy = tmp_path / "copy"
    (copy / "permutations").mkdir(parents=True)
    (copy / "results.json").write_text((scale_run / "results.json").read_text())
    np.savez(copy / "permutations" / "mnist-sample.npz", **{**arrays, "within-7": other})
    np.testing.assert_array_equal(scale_report._permutations(RunFolder(copy), run.results)["within-7"].permutation_,
                                  other)  # fmt: skip
    text = html.unescape(build_report(copy).read_text())
    assert "this run saved no sample images" in text  # the copy has no samples/: said, not drawn


def test_shuffled_pixels_report_opens_with_the_lesson_and_its_column(tmp_path):
    run_dir = write_fake_run(tmp_path / "mnist", {"mnist-like": (28, 28, 1)}, save_models=False, seeds=(0,))
    text = _report_text(run_dir)
    _opening_then_verdict(text)
    assert "cnn: ~99.2% on original MNIST, ~random with the pixels shuffled." in text
    assert "<th>lesson said</th>" in text and "<td>~99.2% -> ~random</td>" in text
    other = write_fake_run(tmp_path / "other", save_models=False, seeds=(0,))  # dataset "digits"
    assert "The lesson's numbers are for MNIST; it gave none for digits." in _report_text(other)


@pytest.mark.parametrize("epochs", [1, 3])
def test_learning_curves_share_one_axis_and_tick_whole_epochs(tmp_path, epochs):
    run_dir = write_fake_run(tmp_path / "run", save_models=False, seeds=(0,), epochs=epochs)
    cells = RunFolder(run_dir).results["cells"]
    figure = plots.learning_curves(cells)
    visible = [axes for axes in figure.axes if axes.get_visible()]
    assert len(visible) == 2 and visible[0].get_ylim() == visible[1].get_ylim()
    for axes in visible:
        assert list(axes.get_xticks()) == list(range(1, epochs + 1))
    text = html.unescape((build_report(run_dir)).read_text())
    assert "running mean over the epoch's batches" in text and "with dropout active (cnn)" in text
    assert ("With one epoch each line is a single point" in text) == (epochs == 1)


def test_a_run_of_an_unknown_kind_is_refused_naming_the_kinds(tmp_path):
    RunFolder.create(tmp_path / "odd", {"kind": "mystery", "config": {"models": []}})
    with pytest.raises(ValueError, match="a mystery run; `spatiallab report` makes reports of shuffled_pixels, "
                                         "translation, scale runs"):  # fmt: skip
        build_report(tmp_path / "odd")
    assert json.loads((tmp_path / "odd" / "results.json").read_text())["kind"] == "mystery"
