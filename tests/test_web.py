"""The functions behind the lab page: Explore arithmetic, image conversion, predictions, binaries, Compare, CLI."""

from __future__ import annotations

import importlib.util
import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from scipy import signal, special

from spatiallab.cli import main
from spatiallab.runs import RunFolder
from spatiallab.transforms import PixelPermutation, to_float
from spatiallab.web import binaries, compare, explore, predict, read, server
from spatiallab.web.lab import LESSON_MODELS, Lab, enlarge, model_label
from tests.runfolders import write_fake_run

# ---------------------------------------------------------------------------------------------------------------- Explore


def test_correlate_valid_matches_scipy_and_keras_convention():
    rng = np.random.default_rng(0)
    image, kernel = rng.random((28, 28)), rng.normal(size=(3, 3))
    expected = signal.correlate2d(image, kernel, mode="valid")  # cross-correlation: Conv2D does not flip
    np.testing.assert_allclose(explore.correlate_valid(image, kernel), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="at least as large"):
        explore.correlate_valid(np.zeros((2, 2)), kernel)


def test_receptive_field_sums_to_the_feature_map_value():
    image = np.arange(28 * 28, dtype=np.float32).reshape(28, 28)
    kernel = explore.KERNELS["vertical edges (Sobel x)"]
    field = explore.receptive_field(image, kernel, 4, 9)
    assert field["rows"] == (4, 6) and field["columns"] == (9, 11)
    np.testing.assert_array_equal(field["patch"], image[4:7, 9:12])
    assert field["value"] == pytest.approx(explore.correlate_valid(image, kernel)[4, 9])
    assert field["value"] == pytest.approx(8.0)  # each row rises by 2 across the window, rows weighted 1, 2, 1
    with pytest.raises(ValueError, match="outside the 26x26 feature map"):
        explore.receptive_field(image, kernel, 26, 0)


def test_flat_vector_is_row_major_like_flatten():
    image = np.arange(2 * 3 * 2).reshape(2, 3, 2)
    vector = explore.flat_vector(image)
    assert vector[(1 * 3 + 2) * 2 + 1] == image[1, 2, 1]


def test_parse_kernel():
    np.testing.assert_array_equal(explore.parse_kernel("-1, 0, 1; -2 0 2\n-1 0 1"), explore.KERNELS["vertical edges (Sobel x)"])
    for bad in ("1 2 3", "a b c d e f g h i", "1 2 3 4 5 6 7 8 nan"):
        with pytest.raises(ValueError, match="expected 9"):
            explore.parse_kernel(bad)
    with pytest.raises(ValueError, match="unknown kernel"):
        explore.kernel_for("emboss")
    identity = np.zeros((3, 3), np.float32)
    identity[1, 1] = 1
    np.testing.assert_array_equal(explore.kernel_for(explore.CUSTOM, "0 0 0 0 1 0 0 0 0"), identity)


def test_parameter_counts_match_keras():
    import keras

    counts = read.parameter_counts(128, 32, 3)
    assert (counts["dense"], counts["conv"], counts["conv_output"]) == (100_480, 320, (26, 26, 32))  # the lesson's
    for units, filters, size in ((7, 5, 5), (300, 64, 1)):
        counts = read.parameter_counts(units, filters, size)
        dense = keras.layers.Dense(units)
        dense.build((None, 784))
        conv = keras.layers.Conv2D(filters, size)
        conv.build((None, 28, 28, 1))
        assert (counts["dense"], counts["conv"]) == (dense.count_params(), conv.count_params())
    with pytest.raises(ValueError):
        read.parameter_counts(0, 1, 3)
    with pytest.raises(ValueError, match="empty output"):
        read.parameter_counts(1, 1, 29)


# ---------------------------------------------------------------------------------------------------------------- images


def _digit(size: int = 280) -> np.ndarray:
    """A white bar (a '1') on black, uint8 (size, size)."""
    image = np.zeros((size, size), dtype=np.uint8)
    image[size // 5 : 4 * size // 5, size // 2 - size // 20 : size // 2 + size // 20] = 255
    return image


def test_centre_like_mnist_fits_20_pixels_and_centres_the_mass():
    image = np.zeros((100, 100), dtype=np.uint8)
    image[5:45, 60:70] = 255  # off-centre, tall
    out = predict.centre_like_mnist(image, (28, 28))
    rows, columns = np.nonzero(out > predict.INK_LEVEL)
    assert rows.max() - rows.min() + 1 <= 20 and columns.max() - columns.min() + 1 <= 20
    assert rows.max() - rows.min() + 1 >= 19  # the long side is scaled to the 20-pixel box
    mass = out.astype(float)
    centre = (np.arange(28) @ mass.sum(1) / mass.sum(), np.arange(28) @ mass.sum(0) / mass.sum())
    assert abs(centre[0] - 13.5) <= 1 and abs(centre[1] - 13.5) <= 1
    with pytest.raises(predict.BlankImageError):
        predict.centre_like_mnist(np.zeros((10, 10), np.uint8), (28, 28))


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "I;16", "L", "RGB"])
def test_any_image_mode_becomes_the_same_model_input(mode):
    grey = _digit()
    if mode == "RGBA":  # a drawing on a transparent canvas: white ink, alpha = ink
        image = Image.fromarray(np.dstack([grey, grey, grey, grey]), "RGBA")
    elif mode == "LA":
        image = Image.fromarray(np.dstack([grey, np.full_like(grey, 255)]), "LA")
    elif mode == "P":
        image = Image.fromarray(grey).convert("P")
    elif mode == "I;16":
        image = Image.frombytes("I;16", grey.shape[::-1], (grey.astype("<u2") * 257).tobytes())
    else:
        image = Image.fromarray(grey).convert(mode)
    reference = predict.to_model_input(Image.fromarray(grey), (28, 28, 1))
    converted = predict.to_model_input(image, (28, 28, 1))
    assert converted["image"].shape == (28, 28, 1) and converted["image"].dtype == np.uint8
    np.testing.assert_array_equal(converted["image"], reference["image"])
    assert not converted["inverted"]


def test_dark_ink_on_paper_is_inverted_and_blank_refused():
    paper = 255 - _digit()
    converted = predict.to_model_input(Image.fromarray(paper), (28, 28, 1), centre=False)
    assert converted["inverted"]
    np.testing.assert_array_equal(converted["image"], predict.to_model_input(Image.fromarray(_digit()), (28, 28, 1),
                                                                             centre=False)["image"])  # fmt: skip
    blank = Image.fromarray(np.zeros((280, 280, 4), np.uint8), "RGBA")  # an untouched transparent canvas
    with pytest.raises(predict.BlankImageError, match="blank|no ink"):
        predict.to_model_input(blank, (28, 28, 1))
    with pytest.raises(ValueError, match="float"):
        predict.to_model_input(Image.fromarray(np.zeros((5, 5), np.float32), "F"), (28, 28, 1))


def test_colour_datasets_get_rgb_inputs_of_their_size():
    rgba = Image.fromarray(np.random.default_rng(0).integers(0, 256, (50, 40, 4), dtype=np.uint8), "RGBA")
    converted = predict.to_model_input(rgba, (32, 32, 3))
    assert converted["image"].shape == (32, 32, 3) and not converted["centred"]


def test_softmax_matches_scipy():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(predict.softmax(logits), special.softmax(logits, axis=1))


def test_enlarge_keeps_square_pixels():
    image = np.array([[0, 255], [10, 20]], dtype=np.uint8)
    large = enlarge(image, 3)
    assert large.shape == (6, 6) and (large[:3, 3:] == 255).all() and large[5, 0] == 10


# ---------------------------------------------------------------------------------------------------------------- models


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    return write_fake_run(tmp_path_factory.mktemp("runs") / "fake", seeds=(0,))


@pytest.fixture
def lab(fake_run, tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    images = np.stack([_digit(28), 255 - _digit(28)])
    return Lab(fake_run, fake_run.parent, images, uploads, upload_limit=64 * 1024)


def test_shuffled_models_receive_the_permuted_image(fake_run):
    run = RunFolder(fake_run)
    trained = predict.TrainedModels.from_run(run, "digits")
    assert set(trained.models) == set(LESSON_MODELS)
    image = _digit(28)[..., np.newaxis]
    probabilities = trained.predict(image)
    permutation = PixelPermutation(3)
    for (model, condition), values in probabilities.items():
        x = image[np.newaxis] if condition == "original" else permutation(image[np.newaxis])
        expected = special.softmax(np.asarray(trained.models[(model, condition)](to_float(x))), axis=1)[0]
        np.testing.assert_allclose(values, expected, rtol=1e-5)
        assert values.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"expected an image of shape \(28, 28, 1\)"):
        trained.predict(np.zeros((32, 32, 1), np.uint8))


def test_the_lab_applies_the_saved_permutation_array_not_a_redraw(fake_run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(fake_run, copy)
    samples_path = copy / "samples" / "digits.npz"
    with np.load(samples_path) as saved:
        samples = dict(saved)
    reversed_positions = np.arange(784)[::-1].copy()  # no seed draws this
    np.savez(samples_path, **{**samples, "permutation": reversed_positions})
    trained = predict.TrainedModels.from_run(RunFolder(copy), "digits")
    np.testing.assert_array_equal(trained.permutation.permutation_, reversed_positions)
    lab = Lab(copy, tmp_path, np.stack([_digit(28)]), tmp_path, 1000)
    np.testing.assert_array_equal(lab.explore_permutation.permutation_, reversed_positions)
    shown = lab.classify(Image.fromarray(_digit()), "digits")
    np.testing.assert_array_equal(shown["shuffled_input"][::6, ::6], shown["input"][::-6, ::-6])  # reversed = rot180


def test_classify_gives_four_predictions_or_a_message(lab):
    result = lab.classify(Image.fromarray(_digit()), "digits")
    assert set(result["predictions"]) == {model_label(*key) for key in LESSON_MODELS}
    for probabilities in result["predictions"].values():
        assert set(probabilities) == {f"c{i}" for i in range(10)}
        assert sum(probabilities.values()) == pytest.approx(1.0)
    assert result["input"].shape == (168, 168) and result["shuffled_input"].shape == (168, 168)
    np.testing.assert_array_equal(result["shuffled_input"][::6, ::6], PixelPermutation(3)(result["input"][None, ::6, ::6])[0])
    blank = lab.classify(Image.fromarray(np.zeros((280, 280, 4), np.uint8), "RGBA"), "digits")
    assert blank["predictions"] == {} and "Nothing to classify" in blank["message"]
    assert "Nothing to classify: draw a digit" in lab.classify(None, "digits")["message"]


def test_lab_without_a_run(tmp_path):
    lab = Lab(None, tmp_path, np.stack([_digit(28)]), tmp_path, 1000)
    assert "train a quick run" in lab.classify(Image.fromarray(_digit()), "mnist-sample")["message"]
    assert lab.prediction_keys() == list(LESSON_MODELS) and lab.datasets() == ["mnist-sample"]


def test_explore_views(lab):
    image, source = lab.explore_image(0)
    assert source == "test image 0"
    views = lab.explore(image, "all edges (Laplacian)", "", 3, 5, source)
    assert views["arithmetic"].startswith("**Test image 0.** Feature map (3, 5)")
    assert {"grid", "vector", "shuffled", "feature_maps", "arithmetic"} <= set(views)
    distinct = (np.arange(784) % 251).astype(np.uint8).reshape(28, 28)  # every window value different
    field = lab.explore(distinct, "all edges (Laplacian)", "", 3, 5)["field_in_shuffled"]
    shuffled = PixelPermutation(3)(distinct[np.newaxis])[0]
    np.testing.assert_array_equal([shuffled[r, c] for r, c in field], distinct[3:6, 5:8].reshape(-1))
    expected = explore.correlate_valid(image, explore.KERNELS["all edges (Laplacian)"])[3, 5]
    assert f"**{expected:g}**" in views["arithmetic"]
    assert views["vector"].axes[0].get_xlabel().startswith("input index = row x 28")
    with pytest.raises(ValueError, match="expected 9"):
        lab.explore(image, explore.CUSTOM, "1 2", 3, 5)
    drawing = Image.fromarray(np.dstack([_digit()] * 3 + [np.full((280, 280), 255, np.uint8)]), "RGBA")
    drawn, source = lab.explore_image(1, drawing)
    assert source == "your drawing" and drawn.max() == 255  # the drawing, centred
    blank = Image.fromarray(np.zeros((280, 280, 4), np.uint8), "RGBA")
    np.testing.assert_array_equal(lab.explore_image(1, blank)[0], lab.explore_images[1])  # blank: the sample


def test_parameter_markdown_is_live():
    text = read.parameter_markdown(28, 1, 10, 4, 5)
    assert "**7,850**" in text and "**104**" in text  # 784*10+10, 5*5*4+4


# ---------------------------------------------------------------------------------------------------------------- binaries


def _elf() -> Path:
    path = Path("/bin/true")
    if not path.is_file():
        pytest.skip("/bin/true (a small ELF executable) is absent")
    return path


def test_byte_plot_of_an_executable_then_upload_deleted(lab):
    folder = lab.upload_root / "abc123"
    folder.mkdir()
    upload = folder / "true"
    shutil.copyfile(_elf(), upload)
    message, figure = lab.byte_plot(upload)
    assert "ELF" in message and "deleted" in message
    assert figure.ndim == 3 and figure.shape[2] == 3
    assert not upload.exists() and not folder.exists()


def test_upload_over_the_limit_is_refused_and_deleted(lab):
    upload = lab.upload_root / "big.bin"
    upload.write_bytes(b"\x00" * (lab.upload_limit + 1))
    message, figure = lab.byte_plot(upload)
    assert message.startswith("**Refused:**") and "64.0 KiB (65,536 bytes)" in message and figure is None
    assert not upload.exists()
    with pytest.raises(binaries.UploadTooLargeError, match="65,537 bytes is larger than the limit"):
        binaries.byte_plot_with_sections(_write(lab.upload_root / "x", lab.upload_limit + 1), lab.upload_limit)


def _write(path: Path, size: int) -> Path:
    path.write_bytes(b"\x01" * size)
    return path


def test_discard_upload_never_touches_files_outside_the_upload_folder(tmp_path):
    root, outside = tmp_path / "uploads", _write(tmp_path / "mine.exe", 10)
    root.mkdir()
    assert not binaries.discard_upload(outside, root) and outside.exists()
    assert binaries.discard_upload(_write(root / "a.exe", 10), root) and root.is_dir()


def test_plain_file_gets_a_plain_byte_plot(tmp_path):
    drawn = binaries.byte_plot_with_sections(_write(tmp_path / "notes.txt", 5000))
    assert drawn["format"] is None and drawn["plot_shape"] == (157, 32) and "not a PE" in drawn["note"]


# ---------------------------------------------------------------------------------------------------------------- Compare


def test_run_view_and_choices(fake_run, tmp_path):
    view = compare.run_view(fake_run)
    assert view["accuracy"][1][0][:3] == ["digits", "dense", "original"]
    assert "dense on digits" in view["verdict"]
    partial = write_fake_run(tmp_path / "partial", save_models=False, complete=False, seeds=(0,))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "results.json").write_text("[]")
    assert compare.run_choices(tmp_path) == [("partial (incomplete)", str(partial))]
    # a translation run has no shuffled condition to compare: neither listed nor served as the newest run
    RunFolder.create(tmp_path / "translation", {"kind": "translation", "complete": True, "config": {"dataset": "d"}})
    assert compare.run_choices(tmp_path) == [("partial (incomplete)", str(partial))]
    assert server.newest_image_run(tmp_path) is None
    assert "Incomplete run" in compare.run_view(partial)["verdict"]


def test_quick_run_trains_reports_and_shows_progress(tmp_path):
    reported = []
    settings = {**compare.QUICK_RUN, "models": ["dense"], "conditions": ["original"], "epochs": 1,
                "train_limit": 200, "test_limit": 100}  # fmt: skip
    run_dir = compare.quick_run(tmp_path, lambda done, text: reported.append((done, text)), settings)
    assert run_dir.parent == tmp_path and (run_dir / "report.html").is_file()
    fractions = [done for done, _ in reported]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("test accuracy" in text for _, text in reported)


# ---------------------------------------------------------------------------------------------------------------- server, CLI


def listening(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (raises OSError when the port is taken), checked by connecting to it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((host, port))
    listener.listen(1)
    with socket.create_connection((host, port), timeout=5):
        pass
    return listener


def loopback_hosts() -> list[str]:
    """127.0.0.1, and ::1 where this machine has IPv6 loopback."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return ["127.0.0.1"]
    return ["127.0.0.1", "::1"]


def test_free_port_can_be_listened_on_and_is_not_one_in_use():
    for host in loopback_hosts():
        first = server.free_port(host)
        with listening(host, first):  # free: bound, listened on and connected to
            second = server.free_port(host)  # asked again while the first is held: another port
            assert second != first
            listening(host, second).close()
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    if ephemeral.is_file():  # the operating system's choice, not a number picked by the caller
        low, high = map(int, ephemeral.read_text().split())
        assert all(low <= server.free_port() <= high for _ in range(20))


def test_the_lab_serves_the_newest_complete_run_on_images_and_says_why(tmp_path, fake_run):
    assert server.newest_image_run(tmp_path) is None
    assert server.newest_image_run(fake_run.parent) == fake_run
    assert server.choose_run(None, tmp_path) == (
        None, f"Run: none (no complete run on images under {tmp_path}); train a quick run on the Build tab")
    # a newer run on sequences only (MNIST-1D's, say) has nothing to draw: passed over for the older image run
    write_fake_run(fake_run.parent / "waves", datasets={"waves": (40, 1)}, model_names=("dense",), seeds=(0,))
    run, line = server.choose_run(None, fake_run.parent)
    assert run == fake_run and line.startswith(f"Run: {fake_run} (the newest complete run on images under")
    assert server.choose_run(tmp_path / "given", fake_run.parent) == (tmp_path / "given", f"Run: {tmp_path / 'given'}")


def test_app_builds_offline(lab):
    from spatiallab.web.app import create_app

    blocks = create_app(lab)
    assert blocks.title == "spatiallab lab: fake (digits)" and blocks.analytics_enabled is False
    tabs = [block.label for block in blocks.blocks.values() if type(block).__name__ == "Tab"]
    assert tabs == ["Explore", "Read", "Build", "Compare", "Reflect", "Binaries"]  # the lesson's order


def test_lab_help_lists_the_tabs_the_page_builds(lab):
    from spatiallab.web.app import create_app

    built = [block.label for block in create_app(lab).blocks.values() if type(block).__name__ == "Tab"]
    result = CliRunner().invoke(main, ["lab", "--help"])
    assert result.exit_code == 0
    assert re.findall(r"^ {4}(\w[^:\n]*):", result.output, re.MULTILINE) == built  # the tab lines, one indent in
    assert "Build: a quick run, then Try it: the run's models" in result.output  # Try it is Build's second half


def test_lab_without_gradio_says_which_extra_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gradio" else real(name, *a))
    result = CliRunner().invoke(main, ["lab"])
    assert result.exit_code != 0 and "pip install 'spatiallab[lab]'" in result.output


def test_lab_refuses_a_busy_port_and_an_unknown_host_before_starting():
    import socket

    from click.testing import CliRunner

    from spatiallab.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["lab", "--port", str(port)])
    assert result.exit_code == 2 and f"port {port} is in use; pass --port 0 for a free one" in result.output
    result = CliRunner().invoke(main, ["lab", "--host", "192.0.2.1", "--port", "0"])  # TEST-NET: on no machine
    assert result.exit_code == 2 and "cannot listen on 192.0.2.1:0" in result.output
    assert "Traceback" not in result.output
