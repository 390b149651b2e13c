"""The report: run-folder reading, first-layer weights, figures, tables and the self-contained HTML page."""

from __future__ import annotations

import base64
import builtins
import html
import html.parser
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from spatiallab.cli import main
from spatiallab.data.errors import DataFormatError
from spatiallab.experiments import lesson
from spatiallab.report import build_report, plots, sections, tables, weights
from spatiallab.runs import RunFolder, find_runs
from spatiallab.transforms import PixelPermutation
from tests.runfolders import write_fake_run


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    return write_fake_run(tmp_path_factory.mktemp("runs") / "fake")


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """Two datasets of other shapes (colour 32x32x3, binaries 64x64x1), cnn_gap only, one seed."""
    shapes = {"colour": (32, 32, 3), "bytes": (64, 64, 1)}
    return write_fake_run(tmp_path_factory.mktemp("runs") / "mixed", shapes, ("cnn_gap",), seeds=(0,))


class _Resources(html.parser.HTMLParser):
    """Every src/href attribute of a page, and the number of <img> tags."""

    def __init__(self):
        super().__init__()
        self.links, self.images = [], 0

    def handle_starttag(self, tag, attrs):
        self.images += tag == "img"
        self.links += [value for key, value in attrs if key in ("src", "href")]


def _page(path) -> tuple[str, _Resources]:
    text = path.read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(text)
    return text, parser


def test_report_is_self_contained_and_shows_the_numbers(fake_run):
    path = build_report(fake_run)
    assert path == fake_run / "report.html"
    text, resources = _page(path)
    # Every resource is embedded (data URI) or an in-page anchor: no network needed to open it.
    assert all(link.startswith(("data:image/png;base64,", "#")) for link in resources.links), resources.links
    # samples, accuracy, reliance, curves, dense weights, cnn filters
    assert resources.images == 6
    record = json.loads((fake_run / "results.json").read_text())
    for line in record["verdict"]:
        assert line in html.unescape(text)
    dense = next(r for r in record["summary"] if (r["model"], r["condition"]) == ("dense", "original"))
    assert f"{100 * dense['mean']:.2f}" in text
    assert "101,770" in text and "34,826" in text  # the parameter table's totals
    assert "put back in image order with the inverse permutation" in text
    for png in (fake_run / "figures").glob("*.png"):
        assert Image.open(png).format == "PNG"
    embedded = {base64.b64decode(link.split(",", 1)[1]) for link in resources.links if link.startswith("data:")}
    assert (fake_run / "figures" / "accuracy.png").read_bytes() in embedded


def test_report_handles_other_shapes_and_missing_models(mixed_run):
    text, resources = _page(build_report(mixed_run))
    assert "cnn_gap on colour: first convolution" in text and "cnn_gap on bytes: first convolution" in text
    assert "first-layer weights of hidden units" not in text  # no dense model in this run
    assert "n/a (1 seed)" in text
    assert resources.images == 2 + 3 + 2  # two sample figures, accuracy/reliance/curves, two filter figures


@pytest.fixture(scope="module")
def sequence_run(tmp_path_factory):
    """Sequences (40, 1) of one dataset, linear (Flatten -> Dense(10)) and dense (Flatten -> Dense(128) -> ...)."""
    return write_fake_run(tmp_path_factory.mktemp("runs") / "seq", {"seq": (40, 1)}, ("linear", "dense"), seeds=(0,))


def _section(text: str, key: str) -> str:
    """The HTML of one section of a page, after its heading and before the next."""
    return text.split(f'<h2 id="{key}">', 1)[1].split("</h2>", 1)[1].split("<h2", 1)[0].strip()


def test_the_title_names_what_was_shuffled(fake_run, sequence_run):
    assert "<h1>Shuffled-positions experiment: " in _page(build_report(sequence_run))[0]
    assert "<h1>Shuffled-pixels experiment: " in _page(build_report(fake_run))[0]


def test_the_weights_captions_name_hidden_units_or_classes(sequence_run):
    learned = html.unescape(_section(_page(build_report(sequence_run))[0], "learned"))
    # linear's one layer has 10 units, the class logits; dense's first layer has 128 hidden units, 16 drawn
    assert "<h3>linear on seq: weights of classes (its only layer) 0-9</h3>" in learned
    assert "Each row is one class's weights over the input positions, left to right (red positive, blue negative): " \
           "the model's only layer maps the positions straight to the class logits, so it has no hidden units." \
           in learned  # fmt: skip
    assert "<h3>dense on seq: first-layer weights of hidden units 0-15</h3>" in learned
    assert "Each row is one hidden unit's weights over the input positions, left to right" in learned
    assert learned.count("hidden unit's") == 1 and learned.count("class's") == 1


def test_a_one_condition_run_says_why_it_has_no_reliance_in_place_of_the_table(tmp_path, sequence_run):
    run_dir = write_fake_run(tmp_path / "one", model_names=("dense",), seeds=(0,), save_models=False,
                             conditions=("original",))  # fmt: skip
    reliance = html.unescape(_section(_page(build_report(run_dir))[0], "reliance"))
    assert reliance == ("<p>No spatial reliance: it is the accuracy on original minus that on shuffled pixels, "
                        "paired by seed, so it needs both conditions, and this run trained on original pixels "
                        "only.</p>")  # fmt: skip
    both = _section(_page(build_report(sequence_run))[0], "reliance")  # both conditions: table, note and figure
    assert both.count("<table") == 1 and 'alt="spatial reliance per model"' in both


def test_report_with_a_custom_layer_model(tmp_path):
    run_dir = write_fake_run(tmp_path / "lc", model_names=("locally_connected",), seeds=(0,))
    text, resources = _page(build_report(run_dir))
    assert "locally_connected" in text and "LocallyConnected2D" in text  # its rows in the parameter table
    assert "Nothing to draw: this run saved no model whose first layer is Dense or Conv2D" in text
    assert resources.images == 4  # samples, accuracy, reliance, curves


def test_report_without_saved_models_and_incomplete(tmp_path):
    run_dir = write_fake_run(tmp_path / "partial", save_models=False, complete=False, seeds=(0,))
    text, _ = _page(build_report(run_dir, tmp_path / "elsewhere.html"))
    assert "Nothing to draw" in text
    assert "This run is not complete" in text
    assert not (run_dir / "report.html").exists()  # --output was honoured


def test_an_interrupted_run_holds_the_summary_of_its_finished_cells(tmp_path):
    run = RunFolder(write_fake_run(tmp_path / "partial", save_models=False, complete=False))
    assert not run.complete and len(run.results["cells"]) == 4 and len(list((run.path / "cells").glob("*.json"))) == 4
    # Cells run model by model and seed by seed, both conditions together: the first 4 of 8 are dense's.
    assert {(c["model"], c["condition"], c["seed"]) for c in run.results["cells"]} == {
        ("dense", condition, seed) for condition in ("original", "shuffled") for seed in (0, 1)}
    dense = next(r for r in run.results["summary"] if (r["model"], r["condition"]) == ("dense", "original"))
    cells = [c["test_accuracy"] for c in run.results["cells"] if (c["model"], c["condition"]) == ("dense", "original")]
    assert dense["mean"] == pytest.approx(np.mean(cells)) and dense["n"] == len(cells) == 2
    assert [(row["model"], row["n_pairs"]) for row in run.results["reliance"]] == [("dense", 2)]  # cnn: nothing yet


def test_run_folder_errors_name_the_file(tmp_path, fake_run):
    with pytest.raises(FileNotFoundError, match="results.json"):
        RunFolder(tmp_path)
    record = json.loads((fake_run / "results.json").read_text())
    broken = tmp_path / "broken"
    (broken / "samples").mkdir(parents=True)
    (broken / "results.json").write_text(json.dumps({**record, "schema": 1}))
    with pytest.raises(ValueError, match="expected schema 2; found 1"):
        RunFolder(broken)
    (broken / "results.json").write_text("{not json")
    with pytest.raises(ValueError, match="broken/results.json: expected a JSON results file"):
        RunFolder(broken)
    (broken / "results.json").write_text(json.dumps(record))
    np.savez(broken / "samples" / "digits.npz", x=np.zeros((2, 28, 28, 1), np.uint8), y=np.zeros(2),
             permutation=np.zeros(784, np.int64), class_names=np.array(["a"]))  # fmt: skip
    with pytest.raises(DataFormatError, match="digits.npz: expected a permutation of the image's pixel positions"):
        RunFolder(broken).samples("digits")
    np.savez(broken / "samples" / "digits.npz", x=np.zeros((2, 28, 28, 1), np.uint8), y=np.zeros(2))
    with pytest.raises(DataFormatError, match=r"digits.npz: expected keys \['x', 'y', 'permutation', 'class_names'\]"):
        RunFolder(broken).samples("digits")


def test_the_saved_permutation_array_is_the_one_applied(tmp_path, fake_run):
    """Not a re-draw from the recorded seed: a run must open the same on any NumPy build."""
    record = json.loads((fake_run / "results.json").read_text())
    run_dir = tmp_path / "saved"
    (run_dir / "samples").mkdir(parents=True)
    (run_dir / "results.json").write_text(json.dumps(record))
    saved = np.arange(784)[::-1].copy()
    np.savez(run_dir / "samples" / "digits.npz", x=np.zeros((2, 28, 28, 1), np.uint8), y=np.zeros(2),
             permutation=saved, class_names=np.array(["a"]))  # fmt: skip
    run = RunFolder(run_dir)
    np.testing.assert_array_equal(run.samples("digits").permutation.permutation_, saved)
    np.testing.assert_array_equal(run.permutation("digits").permutation_, saved)
    assert run.permutation("digits").seed == 3  # the recorded seed, kept as metadata


def test_samples_permutation_matches_transforms(fake_run):
    samples = RunFolder(fake_run).samples("digits")
    assert samples.x.shape == (16, 28, 28, 1)
    np.testing.assert_array_equal(samples.permutation.permutation_, PixelPermutation(3).permutation_)


def test_find_runs_newest_first(tmp_path):
    older = write_fake_run(tmp_path / "a", save_models=False, seeds=(0,))
    newer = write_fake_run(tmp_path / "b", save_models=False, seeds=(0,))
    (tmp_path / "not-a-run").mkdir()
    import os

    os.utime(older / "results.json", (1, 1))
    assert find_runs(tmp_path) == [newer, older]
    assert find_runs(tmp_path / "missing") == []
    translation = RunFolder.create(tmp_path / "t", {"kind": "translation", "config": {"dataset": "digits"}}).path
    old_schema = tmp_path / "old"
    old_schema.mkdir()
    (old_schema / "results.json").write_text(json.dumps({"schema": 1, "cells": []}))
    os.utime(old_schema / "results.json", (2, 2))
    os.utime(translation / "results.json", (3, 3))
    assert find_runs(tmp_path) == [newer, translation, old_schema, older]
    assert find_runs(tmp_path, kind="shuffled_pixels") == [newer, older]  # the old schema cannot be opened: left out
    assert find_runs(tmp_path, kind="translation") == [translation]


def test_dense_weights_of_shuffled_model_match_original_after_inverse_permutation():
    """A Dense model on permuted pixels is the original model with permuted weight rows: un-permuting the weight
    images must give the original model's images exactly (and both models agree on every input)."""
    import keras

    from spatiallab.models.build import build_model

    shape = (28, 28, 1)
    permutation = PixelPermutation(7)
    original = build_model("dense", shape)
    shuffled = build_model("dense", shape)
    kernel, bias = original.layers[1].get_weights()
    shuffled.set_weights([kernel[permutation.permutation_], bias, *original.get_weights()[2:]])
    x = np.random.default_rng(1).random((3, *shape)).astype(np.float32)
    np.testing.assert_allclose(original(x), shuffled(permutation(x)), rtol=1e-5, atol=1e-5)

    images = weights.dense_weight_images(original, shape)
    # Keras's Flatten is row-major: pixel (r, c) of unit u is kernel[r * 28 + c, u].
    assert images.shape == (128, 28, 28, 1)
    assert images[5, 3, 4, 0] == kernel[3 * 28 + 4, 5]
    np.testing.assert_array_equal(weights.dense_weight_images(shuffled, shape, permutation), images)
    assert weights.first_layer_kind(original) == "dense"
    assert isinstance(original, keras.Model)


def test_conv_filters_and_wrong_layer_errors():
    from spatiallab.models.build import build_model

    cnn = build_model("cnn", (32, 32, 3))
    filters = weights.conv_filters(cnn)
    kernel = cnn.layers[0].get_weights()[0]  # (3, 3, 3, 32)
    assert filters.shape == (32, 3, 3, 3)
    np.testing.assert_array_equal(filters[9], kernel[..., 9])
    assert weights.first_layer_kind(cnn) == "conv"
    with pytest.raises(ValueError, match="expected a first Dense layer with 3072 inputs"):
        weights.dense_weight_images(cnn, (32, 32, 3))
    with pytest.raises(ValueError, match="expected a first Conv2D layer"):
        weights.conv_filters(build_model("dense", (28, 28, 1)))


def test_accuracy_bars_draw_means_in_percent(fake_run):
    record = RunFolder(fake_run).results
    figure = plots.accuracy_bars(record["summary"], record["chance"])
    heights = sorted(round(patch.get_height(), 6) for patch in figure.axes[0].patches)
    assert heights == sorted(round(100 * row["mean"], 6) for row in record["summary"])
    assert figure.axes[0].get_ylabel() == "test accuracy (%)"


def test_learning_curves_one_line_per_cell_and_split(fake_run):
    record = RunFolder(fake_run).results
    figure = plots.learning_curves(record["cells"])
    lines = [line for axes in figure.axes for line in axes.get_lines()]
    assert len(lines) == 2 * len(record["cells"])  # train and test per cell
    assert figure.axes[0].get_xlabel() == "epoch"
    np.testing.assert_allclose(lines[0].get_ydata(), 100 * np.asarray(record["cells"][0]["history"]["accuracy"]))


def test_reliance_plot_marks_each_difference(fake_run):
    record = RunFolder(fake_run).results
    figure = plots.reliance_plot(record["reliance"])
    points = [line.get_xdata()[0] for line in figure.axes[0].get_lines() if line.get_marker() == "o"]
    assert points == pytest.approx([100 * row["difference"] for row in record["reliance"]])


def test_tables(fake_run):
    record = RunFolder(fake_run).results
    header, rows = tables.accuracy_table(record)
    assert len(rows) == len(record["summary"]) and header[4] == "test accuracy (%)"
    first = record["summary"][0]
    assert rows[0][5] == f"[{100 * first['ci_low']:.2f}, {100 * first['ci_high']:.2f}]"
    _, params = tables.parameter_table(record)
    totals = {row[1]: row[5] for row in params if row[2] == "total"}
    assert totals == {"dense": "101,770", "cnn": "34,826"}
    assert all(row[5] == row[6] for row in params)  # analytic == Keras
    _, cells = tables.cell_table(record)
    assert len(cells) == len(record["cells"])
    _, data_rows = tables.dataset_table(record)
    # chance: the largest class's share of the test split, classes 0-5 twice among the 16 test labels (i % 10)
    assert [row[4:] for row in data_rows] == [["100 / 16", "the source's own", "12.50", ""]]
    assert data_rows[0][3] == ("10: c0 (10 / 2), c1 (10 / 2), c2 (10 / 2), c3 (10 / 2), c4 (10 / 2), c5 (10 / 2), "
                               "c6 (10 / 1), c7 (10 / 1), c8 (10 / 1), c9 (10 / 1)")  # train / test per class
    uncounted = {key: value for key, value in record["datasets"]["digits"].items() if key != "class_counts"}
    assert tables.dataset_table({**record, "datasets": {"digits": uncounted}})[1][0][3].startswith("10: c0, c1, c2")
    split = {"test_fraction": 0.2, "seed": 0, "method": "grouped", "column": "group"}
    grouped = {**record, "datasets": {"digits": {**record["datasets"]["digits"], "split": split}}}
    assert tables.dataset_table(grouped)[1][0][5] == "test_fraction 0.2; seed 0; method grouped; column group"
    counted = {"digits": {**record["datasets"]["digits"], "class_names": ["a", "b"], "num_classes": 2,
                          "class_counts": {"train": [60, 40], "test": [16, 0]},
                          "info": {"view": "x64", "classes_left_out": ["c", "d"], "train_limit": None}}}
    row = tables.dataset_table({**record, "datasets": counted})[1][0]
    assert row[3] == "2: a (60 / 16), b (40 / 0)" and row[7] == "view x64; classes_left_out c, d"


def test_the_published_column_is_the_lessons_for_mnist_and_the_mnist1d_readmes_for_mnist1d():
    def reliance(datasets):
        rows = [{"dataset": dataset, "model": model, "original": 0.9, "shuffled": 0.5, "difference": 0.4,
                 "ci_low": None, "n_pairs": 1} for dataset, model in datasets]  # fmt: skip
        return tables.reliance_table({"config": {"datasets": list(dict.fromkeys(d for d, _ in datasets))},
                                      "reliance": rows})  # fmt: skip

    header, rows = reliance([("mnist", "cnn"), ("mnist", "linear")])
    assert header[-1] == "lesson said" and [row[-1] for row in rows] == ["~99.2% -> ~random", "-"]
    header, rows = reliance([("mnist1d", "cnn1d"), ("mnist1d", "dense")])
    assert header[-1] == "MNIST-1D README said" and [row[-1] for row in rows] == ["94% -> 56%", "-"]
    header, rows = reliance([("mnist", "dense"), ("mnist1d", "mlp1d")])
    assert header[-1] == "lesson / MNIST-1D README said" and [row[-1] for row in rows] == ["~97.8% -> ~97.8%",
                                                                                           "68% -> 68%"]
    header, rows = reliance([("fashion-mnist", "cnn")])  # nobody published numbers for it
    assert header[-1] == "lesson said" and rows[0][-1] == "-"
    assert "MNIST only" in lesson.claim_note(["mnist"]) and "mnist1d README" in lesson.claim_note(["mnist1d"])
    assert lesson.claim_note(["mnist", "mnist1d"]).startswith("lesson: the lesson's own numbers")


def test_the_words_follow_the_kind_of_data():
    record = {"datasets": {"mnist": {"kind": "image"}, "mnist1d": {"kind": "sequence"}, "old": {}}}
    assert sections.terms(record, "mnist1d") == sections.Terms("sequence", "position", "the order of the positions",
                                                               "block of k positions", "sequence length")
    assert sections.terms(record, "mnist").blocks == "k x k blocks"
    assert sections.terms(record, "mnist1d").blocks == "blocks of k positions"
    assert sections.terms(record, "old").examples == "images"  # runs made before sequences record no kind
    assert sections.terms(record).examples == "examples" and sections.terms({}).positions == "pixels"


def failing_midway(monkeypatch, folder):
    """Make every file opened for writing under ``folder`` take half of its first write, then fail (a full disk)."""
    real_open = io.open

    class HalfWriter:
        def __init__(self, stream):
            self.stream = stream

        def write(self, data):
            self.stream.write(bytes(data)[: len(data) // 2])
            self.stream.flush()
            raise OSError(28, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.stream.close()

        def __getattr__(self, name):
            return getattr(self.stream, name)

    def opened(file, mode="r", *args, **kwargs):
        stream = real_open(file, mode, *args, **kwargs)
        writing = any(flag in mode for flag in "wax+")
        inside = isinstance(file, (str, os.PathLike)) and Path(file).resolve().is_relative_to(folder.resolve())
        return HalfWriter(stream) if writing and inside else stream

    monkeypatch.setattr(io, "open", opened)
    monkeypatch.setattr(builtins, "open", opened)


def test_png_is_written_atomically_and_decodes(tmp_path, fake_run, monkeypatch):
    from spatiallab.report.style import png_bytes, save_png

    figure = plots.learning_curves(RunFolder(fake_run).results["cells"])
    path = tmp_path / "curves.png"
    path.write_bytes(b"the earlier figure")
    with monkeypatch.context() as patch:
        failing_midway(patch, tmp_path)
        with pytest.raises(OSError, match="No space left"):
            save_png(figure, path)
    # the failed write left the earlier file whole and nothing beside it (a plain write leaves half a PNG)
    assert path.read_bytes() == b"the earlier figure" and [p.name for p in tmp_path.iterdir()] == ["curves.png"]
    assert save_png(figure, path) == path
    assert path.read_bytes() == png_bytes(figure) and Image.open(path).format == "PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def test_cli_report(tmp_path):
    run_dir = write_fake_run(tmp_path / "run", save_models=False, seeds=(0,))
    result = CliRunner().invoke(main, ["report", str(run_dir), "--output", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert f"Report: {tmp_path / 'r.html'}" in result.output
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code != 0 and "expected a run folder holding results.json" in result.output
