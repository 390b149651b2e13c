"""The lab's lesson tabs without a browser: Explore's block shuffles, Read's arithmetic, Reflect's measured answer,
and the page fixes (the filter box, the run picker's label, the Try-it intro after a reload, Compare's list read as
the page loads, Try it's panels only for the run's models, bad input without a traceback, the title and the images
Explore shows, a run of sequences)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from spatiallab import experiments
from spatiallab.runs import RunFolder
from spatiallab.transforms import PixelPermutation
from spatiallab.web import blocks, compare, explore, read, reflect
from spatiallab.web.lab import LESSON_MODELS, Lab
from tests.runfolders import MNIST_LIKE, FakeShuffledPixels, write_fake_run, write_fake_scale_run

DISTINCT = np.arange(28 * 28, dtype=np.int64).reshape(28, 28)  # every pixel its own value


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    return write_fake_run(tmp_path_factory.mktemp("runs") / "fake", seeds=(0, 1))


def _lab(run_dir, runs_root, tmp_path) -> Lab:
    return Lab(run_dir, runs_root, np.zeros((3, 28, 28), np.uint8), tmp_path, 1000, explore_name="bundled")


def _blocks_of(image: np.ndarray, k: int) -> list[np.ndarray]:
    """The k x k blocks of an image, row-major, each as a (k, k) array (written here, not taken from transforms)."""
    return [image[r : r + k, c : c + k] for r in range(0, image.shape[0], k) for c in range(0, image.shape[1], k)]


# ---------------------------------------------------------------------------------------------------------------- Explore


def test_block_sizes_snap_to_the_sizes_that_tile_the_image():
    assert [blocks.nearest_block_size(value, (28, 28)) for value in (1, 3, 5, 6, 10, 11, 20, 22, 28)] == [
        1, 2, 4, 7, 7, 14, 14, 28, 28]  # 3 and 11 (halfway) go to the smaller  # fmt: skip
    assert blocks.nearest_block_size(6, (28, 14)) == 7  # common divisors of 28 and 14: 1, 2, 7, 14
    assert (blocks.default_block_size((28, 28)), blocks.default_block_size((32, 32))) == (7, 8)


def test_within_keeps_each_blocks_pixels_and_between_keeps_each_block_whole():
    shuffled = blocks.shuffle_blocks(DISTINCT, 7)
    within, between = _blocks_of(shuffled["within"], 7), _blocks_of(shuffled["between"], 7)
    for before, after in zip(_blocks_of(DISTINCT, 7), within):  # same pixels in each block, not in the same order
        assert sorted(before.ravel()) == sorted(after.ravel())
    assert not np.array_equal(shuffled["within"], DISTINCT)
    originals = {block.tobytes(): index for index, block in enumerate(_blocks_of(DISTINCT, 7))}
    moved_to = [originals[block.tobytes()] for block in between]  # KeyError: a block broken up
    assert sorted(moved_to) == list(range(16)) and moved_to != list(range(16))
    # the endpoints: k = 1 within is the original, between the lesson's full shuffle from the same seed
    ends = blocks.shuffle_blocks(DISTINCT, 1)
    np.testing.assert_array_equal(ends["within"], DISTINCT)
    np.testing.assert_array_equal(ends["between"], PixelPermutation(blocks.BLOCK_SEED)(DISTINCT[np.newaxis])[0])
    with pytest.raises(ValueError, match="does not tile 28x28"):
        blocks.shuffle_blocks(DISTINCT, 5)


def test_block_lines_say_what_is_destroyed_and_kept_and_name_the_endpoints():
    lines = blocks.block_lines(7, (28, 28))
    assert "destroyed: the detail finer than 7 pixels" in lines["within"] and "kept: the layout" in lines["within"]
    assert "the 16 blocks trade places" in lines["between"] and "detail up to 7 pixels" in lines["between"]
    assert "the original" in blocks.block_lines(1, (28, 28))["within"]
    assert "the full shuffle" in blocks.block_lines(1, (28, 28))["between"]
    assert "the full shuffle" in blocks.block_lines(28, (28, 28))["within"]
    assert "the original" in blocks.block_lines(28, (28, 28))["between"]


def test_explore_blocks_uses_the_snapped_size(fake_run, tmp_path):
    lab = _lab(fake_run, tmp_path, tmp_path)
    image = lab.explore_image(0)[0]
    shown = lab.explore_blocks(image, 10)
    assert shown["block_size"] == 7 and "Within 7x7 blocks" in shown["text"]
    assert shown["within"].axes[0].get_title() == "shuffled within 7x7 blocks"


def test_the_filter_box_shows_the_filter_the_arithmetic_uses(fake_run, tmp_path):
    lab = _lab(fake_run, tmp_path, tmp_path)
    image = lab.explore_image(0)[0]
    for choice, kernel in explore.KERNELS.items():
        text, editable = explore.kernel_box(choice, "1 0 -1\n1 0 -1\n1 0 -1")  # whatever the box held before
        assert not editable
        np.testing.assert_array_equal(explore.parse_kernel(text), kernel)  # exact, the box blur's 1/9 included
        # picking 'custom' keeps the numbers shown, so the arithmetic does not change under the student
        text, editable = explore.kernel_box(explore.CUSTOM, text)
        assert editable
        assert lab.explore(image, explore.CUSTOM, text, 4, 4)["arithmetic"] == lab.explore(image, choice, "", 4, 4)["arithmetic"]


# ---------------------------------------------------------------------------------------------------------------- Read


def test_read_arithmetic_follows_the_sliders():
    lesson = read.parameter_markdown(28, 1, 128, 32, 3)
    assert "784 x 128 weights + 128 biases = **100,480**" in lesson
    assert "3 x 3 x 1 x 32 weights + 32 biases = **320**" in lesson and "**314.0x**" in lesson
    larger = read.parameter_markdown(56, 3, 128, 32, 3)  # 56*56*3 = 9,408 inputs
    assert "9,408 x 128 weights + 128 biases = **1,204,352**" in larger
    assert "3 x 3 x 3 x 32 weights + 32 biases = **896**" in larger
    assert read.parameter_markdown(4, 1, 10, 8, 5).startswith("**No Conv2D(8, 5x5) on a 4x4x1 image:**")


def test_model_totals_are_the_registered_models_counts():
    table = read.model_totals_markdown(28, 1)
    assert "| dense | 101,770 |" in table and "| cnn | 34,826 |" in table  # 784*128+128 + 128*10+10; the convnet's
    assert "| cnn | does not fit |" in read.model_totals_markdown(6, 1)  # 6 -> 4 -> 2 -> a 3x3 kernel on 1x1


# ---------------------------------------------------------------------------------------------------------------- Reflect


def _record(dense: tuple, cnn: tuple, cnn_shuffled: tuple, chance: float = 0.1) -> dict:
    """A shuffled-pixels results.json with the fields Reflect reads; tuples are (mean, ci_low, ci_high)."""
    def reliance(model, values):
        return {"dataset": "d", "model": model, "original": 0.98, "shuffled": 0.98 - values[0],
                "difference": values[0], "ci_low": values[1], "ci_high": values[2], "n_pairs": 3}  # fmt: skip

    def accuracy(condition, values):
        return {"dataset": "d", "model": "cnn", "condition": condition, "mean": values[0], "ci_low": values[1],
                "ci_high": values[2], "n": 3}  # fmt: skip

    return {"config": {"datasets": ["d"], "models": ["dense", "cnn"], "seeds": [0, 1, 2], "epochs": 5,
                       "train_limit": None, "confidence": 0.95},
            "reliance": [reliance("dense", dense), reliance("cnn", cnn)], "chance": {"d": chance},
            "summary": [accuracy("original", (0.98, 0.97, 0.99)), accuracy("shuffled", cnn_shuffled)]}  # fmt: skip


def test_reflect_reads_agreement_with_the_lesson_from_the_numbers():
    kept = reflect.measured_answer(_record((0.001, -0.003, 0.005), (0.05, 0.03, 0.07), (0.93, 0.91, 0.95)), "r")
    assert "| cnn | 98.0 | 93.0 | +5.0 [+3.0, +7.0] |" in kept
    assert "not distinguishable from no change, **as the lesson says**" in kept
    assert "83.0 points above chance (10.0%)" in kept and "**no collapse, against the lesson**" in kept
    collapsed = reflect.measured_answer(_record((0.001, -0.003, 0.005), (0.87, 0.85, 0.89), (0.11, 0.09, 0.13)), "r")
    assert "**a collapse, as the lesson says**" in collapsed and "no collapse" not in collapsed
    moved = reflect.measured_answer(_record((0.02, 0.01, 0.03), (0.05, 0.03, 0.07), (0.93, 0.91, 0.95)), "r")
    assert "**a measured change, against the lesson**" in moved
    one_seed = reflect.measured_answer(_record((0.0, None, None), (0.05, None, None), (0.93, None, None)), "r")
    assert "neither confirm nor refute" in one_seed and "claims neither a collapse nor its absence" in one_seed
    assert "as the lesson says" not in one_seed and "against the lesson" not in one_seed


def test_lesson_roles():
    names = ("dense", "cnn", "cnn_gap", "locally_connected", "gone")  # flattens; two Conv2D first; unshared; unknown
    assert [reflect.lesson_role(name) for name in names] == ["dense", "cnn", "cnn", None, None]


@pytest.fixture(scope="module")
def scale_run(tmp_path_factory):
    return write_fake_scale_run(tmp_path_factory.mktemp("scale") / "scale")


def test_reflect_shows_the_run_and_the_scale_curve(fake_run, scale_run, tmp_path):
    lab = _lab(fake_run, tmp_path, tmp_path)
    without = lab.reflect()
    assert "Measured by run fake" in without["answer"] and without["scale_figure"] is None
    assert f"No scale run in {tmp_path}/ yet" in without["scale"]
    lab = _lab(fake_run, scale_run.parent, tmp_path)
    shown = lab.reflect()
    record = RunFolder(scale_run).results
    assert "Scale run **scale** on mnist-sample, not the lab run's digits" in shown["scale"]
    assert all(line in shown["scale"] for line in record["verdict"])
    within = shown["scale_figure"].axes[0]
    cnn_line = next(bars.lines[0] for bars in within.containers if bars.get_label() == "cnn")
    expected = [100 * row["mean"] for row in record["curve"] if (row["model"], row["family"]) == ("cnn", "within")]
    np.testing.assert_allclose(np.asarray(cnn_line.get_ydata(), float), expected)  # k ascending, as in the curve


def test_find_scale_run_prefers_the_lab_runs_dataset(scale_run, tmp_path):
    other = tmp_path / "other"
    RunFolder.create(other, {"kind": "scale", "complete": True, "config": {"dataset": "cifar10"}})
    assert reflect.find_scale_run(tmp_path / "none", ["mnist-sample"]) is None
    assert reflect.find_scale_run(tmp_path, ["mnist-sample"]).path == other  # the only one, on another dataset
    (tmp_path / "scale").symlink_to(scale_run)
    os.utime(scale_run / "results.json", (1, 1))  # the older of the two
    assert reflect.find_scale_run(tmp_path, ["mnist-sample"]).name == "scale"  # older, but on the lab's dataset
    assert reflect.find_scale_run(tmp_path, ["fashion"]).path == other  # none on it: the newest


# ---------------------------------------------------------------------------------------------------------------- the page


def test_run_picker_names_its_folder_as_a_folder():
    assert compare.picker_label("runs") == "run to show (those in the folder runs/, newest first)"
    assert compare.picker_label("/data/my runs/") == "run to show (those in the folder /data/my runs/, newest first)"


def _handler(page, event: str, elem_id: str):
    """The function ``event`` runs on ``page``: triggered by the component with ``elem_id`` or, for the page's
    "load", writing to it first. There must be exactly one."""

    def named(fn, block_id) -> bool:
        if event == "load":
            return bool(fn.outputs) and fn.outputs[0].elem_id == elem_id
        return block_id in page.blocks and page.blocks[block_id].elem_id == elem_id

    found = [fn.fn for fn in page.fns.values()
             for block_id, name in fn.targets if name == event and named(fn, block_id)]  # fmt: skip
    assert len(found) == 1, f"{len(found)} functions on {event} of {elem_id}"
    return found[0]


def test_try_it_names_the_run_after_a_reload(fake_run, tmp_path):
    from spatiallab.web.app import create_app

    lab = Lab(None, tmp_path, np.zeros((3, 28, 28), np.uint8), tmp_path, 1000)
    on_load = _handler(create_app(lab), "load", "try-intro")
    assert "No trained models yet" in on_load()
    lab.use_run(fake_run)  # as a quick run trained from the page does
    assert "run **fake** (digits)" in on_load()  # what the reloaded page shows


def test_run_picker_reads_the_folder_now_and_keeps_a_listed_pick(tmp_path):
    lab = _lab(None, tmp_path, tmp_path)
    assert lab.run_picker() == ([], None)
    older = write_fake_run(tmp_path / "older", model_names=("dense",), seeds=(0,), save_models=False)
    newer = write_fake_run(tmp_path / "newer", model_names=("dense",), seeds=(0,), save_models=False)
    os.utime(older / "results.json", (1, 1))
    choices, picked = lab.run_picker()  # the same lab, the folder read again
    assert choices == [("newer", str(newer)), ("older", str(older))] and picked == str(newer)
    assert lab.run_picker(str(older)) == (choices, str(older))  # a refresh keeps the visitor's pick
    assert lab.run_picker(str(tmp_path / "gone"))[1] == str(newer)  # a pick no longer listed: the newest


def test_compare_lists_runs_written_after_the_page_was_built(tmp_path, monkeypatch):
    from spatiallab.web.app import create_app

    lab = _lab(None, tmp_path, tmp_path)
    page = create_app(lab)  # an empty runs folder
    on_load, refresh, train = (_handler(page, "load", "run-choice"), _handler(page, "click", "refresh-runs"),
                               _handler(page, "click", "quick-run"))  # fmt: skip
    picker, verdict, *_ = on_load()
    assert (picker.choices, picker.value) == ([], None) and verdict.startswith("No runs yet")
    written = write_fake_run(tmp_path / "written", seeds=(0,), save_models=False)  # `spatiallab run --out` meanwhile
    picker, verdict, accuracy, reliance, bars, curves = refresh(None)
    assert picker.value == str(written) and verdict.startswith("**Verdict for written**")
    assert accuracy["data"][0][:3] == ["digits", "dense", "original"] and bars is not None and curves is not None
    picker, verdict, *_ = on_load()  # a reload
    assert picker.choices == [("written", str(written))] and verdict.startswith("**Verdict for written**")

    quick = tmp_path / "quick-1"
    monkeypatch.setattr(compare, "quick_run", lambda runs_root, report: write_fake_run(quick, seeds=(0,),
                                                                                       save_models=False))
    os.utime(written / "results.json", (2e9, 2e9))  # listed first, yet the quick run is the one picked and shown
    picker, verdict, *_, status, intro = train()
    assert picker.value == str(quick) and verdict.startswith("**Verdict for quick-1**")
    assert picker.choices == [("written", str(written)), ("quick-1", str(quick))]
    assert status == f"Finished: {quick}" and "run **quick-1**" in intro  # the lab had no run: now it is this one
    assert refresh(str(written))[0].value == str(written)  # a refresh keeps the visitor's pick


def test_try_it_shows_only_the_pairs_the_run_has(tmp_path):
    from spatiallab.web.app import create_app

    config = experiments.GridConfig(datasets=list(MNIST_LIKE), models=["dense"], conditions=["original"], seeds=[0],
                                    epochs=1, save_models=False)  # fmt: skip
    experiments.run_experiment(FakeShuffledPixels(config, MNIST_LIKE, 10), tmp_path / "dense-only")
    lab = _lab(tmp_path / "dense-only", tmp_path, tmp_path)
    assert lab.prediction_keys() == [("dense", "original")]
    panels = [block.label for block in create_app(lab).blocks.values() if "prediction" in (block.elem_classes or [])]
    assert panels == ["dense, trained on original pixels"]
    assert ("Not in this run, so not shown: dense, trained on shuffled pixels; cnn, trained on original pixels; cnn, "
            "trained on shuffled pixels.") in lab.try_intro()  # fmt: skip
    wider = write_fake_run(tmp_path / "wider", model_names=("cnn_gap", "cnn", "dense"), seeds=(0,), save_models=False)
    lab = _lab(wider, tmp_path, tmp_path)
    assert lab.prediction_keys() == [*LESSON_MODELS, ("cnn_gap", "original"), ("cnn_gap", "shuffled")]
    assert "Not in this run" not in lab.try_intro()


def test_bad_input_is_shown_to_the_visitor_without_a_traceback(fake_run, tmp_path):
    import gradio as gr

    from spatiallab.web.app import create_app

    page = create_app(_lab(fake_run, tmp_path, tmp_path))
    with pytest.raises(gr.Error, match="expected 9") as typo:  # a custom filter of two numbers
        _handler(page, "load", "explore-grid")(0, None, False, explore.CUSTOM, "1 2", 3, 3)
    upload = tmp_path / "upload" / "notes.png"
    upload.parent.mkdir()
    upload.write_text("not an image")
    with pytest.raises(gr.Error, match="cannot be read as an image") as unreadable:
        _handler(page, "upload", "try-upload")(str(upload), "digits", True)
    assert (typo.value.print_exception, unreadable.value.print_exception) == (False, False)  # the lab's log stays clean
    assert not upload.exists()


def test_title_names_the_run_and_explore_shows_its_images(fake_run, tmp_path):
    lab = _lab(fake_run, tmp_path, tmp_path)
    samples = RunFolder(fake_run).samples("digits")
    assert lab.title() == "spatiallab lab: fake (digits)" and lab.explore_dataset == "digits"
    np.testing.assert_array_equal(lab.explore_images, samples.x[..., 0])
    assert "Explore shows test images of digits." in lab.heading()
    colour = write_fake_run(tmp_path / "colour", datasets={"pictures": (32, 32, 3)}, model_names=("dense",), seeds=(0,),
                            save_models=False)  # fmt: skip
    lab = _lab(colour, tmp_path, tmp_path)
    assert lab.explore_dataset == "bundled" and lab.explore_shape == (28, 28)
    assert "Not the run's own: run colour's images are in colour (pictures: 32x32x3)" in lab.heading()


def test_a_run_of_sequences_is_named_not_shown(tmp_path):
    from spatiallab.web.app import create_app

    run_dir = write_fake_run(tmp_path / "seq", datasets={"wave": (28, 28, 1)}, model_names=("dense",), seeds=(0, 1))
    results = run_dir / "results.json"
    record = json.loads(results.read_text())
    described = record["datasets"]["wave"]
    described.pop("image_shape", None)
    described.update(kind="sequence", input_shape=[40, 1])  # how a run of MNIST-1D records its data
    results.write_text(json.dumps(record))
    lab = _lab(run_dir, tmp_path, tmp_path)
    says = "run seq holds sequences (wave: 40x1 each); the lab's Explore shows images"
    assert lab.explore_dataset == "bundled" and says in lab.heading()
    assert says in lab.try_intro() and lab.datasets() == ["wave"]
    assert lab.classify(np.zeros((28, 28), np.uint8), "wave")["message"] == f"Nothing to classify: {says}."
    assert "| dense |" in lab.reflect()["answer"]  # the reliance numbers hold for sequences too
    create_app(lab)
