"""Sequences (N, L, C) as a kind of data: the Dataset's checks, the permutation and the block permutations over the
L positions, the model input, the sparse test curve of long runs, and both experiments end to end on MNIST-1D."""

from __future__ import annotations

import html
import io
import json

import numpy as np
import pytest
from rich.console import Console

from spatiallab import data, experiments, runs, stats, training, transforms
from spatiallab.data.dataset import Dataset
from spatiallab.data.errors import DataFormatError
from spatiallab.experiments.scale import default_block_sizes
from spatiallab.transforms import BlockPermutation, PixelPermutation


def sequences(count: int, length: int = 40, channels: int = 1, dtype=np.float32) -> np.ndarray:
    """Sequences whose value at (n, position, channel) is 1000 n + 10 position + channel: every entry tells where it
    came from."""
    n, position, channel = np.meshgrid(np.arange(count), np.arange(length), np.arange(channels), indexing="ij")
    return (1000 * n + 10 * position + channel).astype(dtype)


def sequence_dataset(**changes) -> Dataset:
    arrays = {"x_train": sequences(6), "y_train": np.arange(6) % 2, "x_test": sequences(4), "y_test": np.arange(4) % 2}
    return Dataset(**{"name": "toy", "class_names": ["a", "b"], "source": "toy.npz", "kind": "sequence",
                      **arrays, **changes})  # fmt: skip


# ---------------------------------------------------------------- the Dataset


def test_a_sequence_dataset_has_its_positions_and_no_image_shape():
    dataset = sequence_dataset()
    assert dataset.input_shape == (40, 1) and dataset.positions_shape == (40,)
    with pytest.raises(ValueError, match="toy holds sequences of shape \\(40, 1\\), not images; use input_shape"):
        dataset.image_shape
    byte_values = sequence_dataset(x_train=sequences(6, dtype=np.uint8), x_test=sequences(4, dtype=np.uint8))
    assert byte_values.describe()["dtype"] == "uint8"


@pytest.mark.parametrize(("changes", "message"), [
    ({"x_train": sequences(6, dtype=np.float64)}, r"toy.npz: expected x_train as float32 or uint8 \(N, L, C\); found "
                                                  r"float64 \(6, 40, 1\)"),
    ({"x_test": sequences(4)[..., 0]}, r"expected x_test as float32 or uint8 \(N, L, C\); found float32 \(4, 40\)"),
    ({"x_test": np.where(np.arange(40)[None, :, None] == 3, np.nan, sequences(4)).astype(np.float32)},
     r"expected x_test of finite values; found 4 NaN or infinite value\(s\)"),
    ({"x_test": sequences(4, length=39)}, r"train and test sequences of one shape \(L, C\); found x_train \(40, 1\) "
                                          r"and x_test \(39, 1\)"),
    ({"x_test": sequences(4, dtype=np.uint8)}, r"train and test sequences of one dtype; found x_train float32 and "
                                               r"x_test uint8"),
    ({"kind": "video"}, r"expected a dataset kind in \['image', 'sequence'\]; found 'video'"),
])  # fmt: skip
def test_bad_sequences_are_refused_naming_the_source(changes, message):
    with pytest.raises(DataFormatError, match=message):
        sequence_dataset(**changes)


def test_images_are_not_sequences():
    with pytest.raises(DataFormatError, match=r"expected x_train as float32 or uint8 \(N, L, C\); found uint8 "
                                              r"\(6, 28, 28, 1\)"):
        sequence_dataset(x_train=np.zeros((6, 28, 28, 1), np.uint8), x_test=np.zeros((4, 28, 28, 1), np.uint8))


# ---------------------------------------------------------------- the permutation over L positions


def test_the_permutation_of_positions_is_a_bijection_applied_alike_to_train_and_test_channels_together():
    permutation = PixelPermutation(3, (40,))
    assert np.array_equal(np.sort(permutation.permutation_), np.arange(40))
    assert not np.array_equal(permutation.permutation_, np.arange(40))
    train, test = sequences(5, channels=3), sequences(2, channels=3)
    shuffled_train, shuffled_test = permutation(train), permutation(test)
    for shuffled, original in ((shuffled_train, train), (shuffled_test, test)):
        # output position i holds input position permutation_[i], all three channels of it, in every sequence
        assert np.array_equal(shuffled, original[:, permutation.permutation_])
        assert np.array_equal(shuffled % 10, original % 10)  # the channels stay in their order
    assert np.array_equal(permutation.inverse(shuffled_train), train)
    assert np.array_equal(permutation(sequences(4)[..., 0]), sequences(4)[..., 0][:, permutation.permutation_])
    rebuilt = PixelPermutation.from_array(permutation.permutation_, (40,), seed=3)
    assert np.array_equal(rebuilt(test), shuffled_test) and rebuilt.to_dict() == {"seed": 3, "image_shape": [40]}


def test_the_permutation_refuses_another_length_or_rank():
    permutation = PixelPermutation(0, (40,))
    with pytest.raises(ValueError, match=r"expected sequences \(N, 40\[, C\]\); got \(2, 39, 1\)"):
        permutation(sequences(2, length=39))
    with pytest.raises(ValueError, match=r"expected a permutation of the 40 positions 0..39"):
        PixelPermutation.from_array(np.arange(39), (40,))


def test_the_full_shuffle_of_40_positions_is_numpys_first_permutation_of_40():
    assert np.array_equal(PixelPermutation(5, (40,)).permutation_, np.random.default_rng(5).permutation(40))


# ---------------------------------------------------------------- block permutations over L positions


def test_block_sizes_of_a_sequence_are_the_divisors_of_its_length():
    assert transforms.valid_block_sizes((40,)) == [1, 2, 4, 5, 8, 10, 20, 40]
    assert default_block_sizes((40,)) == [2, 4, 5, 8, 10, 20, 40]  # within 40: the full shuffle
    with pytest.raises(ValueError, match=r"block size 3 does not tile 40-position sequences \(k must divide the "
                                         r"length\); valid sizes: 1, 2, 4, 5, 8, 10, 20, 40"):
        BlockPermutation("within", 3, 0, (40,))


@pytest.mark.parametrize("k", [2, 5, 8])
def test_within_keeps_every_position_in_its_block_and_between_moves_whole_blocks(k):
    within = BlockPermutation("within", k, 1, (40,)).permutation_
    assert np.array_equal(within // k, np.arange(40) // k)  # each position comes from its own block
    assert not np.array_equal(within, np.arange(40))
    between = BlockPermutation("between", k, 1, (40,)).permutation_.reshape(-1, k)
    starts = between[:, 0]
    assert np.all(starts % k == 0) and np.array_equal(between, starts[:, None] + np.arange(k))  # whole, in order
    assert sorted(starts // k) == list(range(40 // k)) and not np.array_equal(starts, np.arange(0, 40, k))
    x = sequences(3, channels=2)
    block = BlockPermutation.from_array(within, (40,), 1, family="within", block_size=k)
    assert np.array_equal(block.inverse(block(x)), x)


def test_the_endpoints_at_k_equal_to_the_length():
    full = PixelPermutation(4, (40,)).permutation_
    assert np.array_equal(BlockPermutation("within", 40, 4, (40,)).permutation_, full)
    assert np.array_equal(BlockPermutation("between", 40, 4, (40,)).permutation_, np.arange(40))
    assert np.array_equal(BlockPermutation("between", 1, 4, (40,)).permutation_, full)


def test_a_saved_array_without_the_familys_structure_is_refused():
    broken = BlockPermutation("within", 5, 0, (40,)).permutation_.copy()
    broken[[0, 39]] = broken[[39, 0]]  # a position leaves its block
    with pytest.raises(ValueError, match="expected a 'within' block permutation with 5-position blocks"):
        BlockPermutation.from_array(broken, (40,), family="within", block_size=5)


# ---------------------------------------------------------------- the model input and long runs' curves


def test_the_model_input_divides_bytes_by_255_and_keeps_float_signals():
    signal = np.array([[[-1.5], [2.25]]], np.float32)
    assert transforms.to_float(signal) is signal
    assert transforms.to_float(np.array([0, 51, 255], np.uint8)).tolist() == pytest.approx([0, 0.2, 1])
    with pytest.raises(ValueError, match="expected uint8 .* or float32 .* examples; got float64"):
        transforms.to_float(np.zeros(3))


def test_a_long_run_evaluates_the_test_split_every_few_epochs():
    assert [training.evaluation_interval(epochs) for epochs in (1, 50, 51, 200)] == [1, 1, 2, 4]
    x = sequences(20) / np.float32(40_000)
    fitted = training.fit_and_evaluate("linear", x, np.arange(20) % 2, x[:10], np.arange(10) % 2, 2, seed=0,
                                       epochs=51, batch_size=20)  # fmt: skip
    assert len(fitted.history["accuracy"]) == 51 and fitted.history["val_epochs"] == list(range(2, 51, 2))
    assert len(fitted.history["val_accuracy"]) == 25


# ---------------------------------------------------------------- both experiments end to end on MNIST-1D


@pytest.fixture(scope="module")
def mnist1d():
    return {"mnist1d": data.load("mnist1d")}


def test_shuffled_positions_end_to_end_on_a_few_hundred_sequences(tmp_path, mnist1d):
    config = experiments.GridConfig(datasets=["mnist1d"], models=["dense"], seeds=[0, 1], epochs=1, train_limit=300,
                                    test_limit=100, permutation_seed=4)  # fmt: skip
    record = experiments.run_experiment(experiments.ShuffledPixels(config), tmp_path, preloaded=mnist1d)
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["complete"] and len(written["cells"]) == 4
    assert written["permutation"]["mnist1d"] == {"seed": 4, "image_shape": [40]}
    assert written["config"]["batch_size"] == 100 and written["config"]["learning_rate"] == 0.01
    assert written["training"]["epochs"] == {"value": 1, "source": "given"}
    assert written["training"]["batch_size"]["source"].startswith("recommended for mnist1d")
    assert written["datasets"]["mnist1d"]["info"]["generation_arguments"]["seed"] == 42
    assert written["models"]["mnist1d"]["dense"]["params"] == 40 * 128 + 128 + 128 * 10 + 10
    saved = runs.RunFolder(tmp_path).samples("mnist1d")
    assert saved.x.dtype == np.float32 and saved.x.shape == (16, 40, 1)
    assert np.array_equal(saved.x, mnist1d["mnist1d"].subset(300, 100).x_test[:16])
    assert np.array_equal(saved.permutation.permutation_, PixelPermutation(4, (40,)).permutation_)
    assert len(record["reliance"]) == 1 and record["verdict"]
    assert all("pixel" not in line for line in record["verdict"]), record["verdict"]
    assert (tmp_path / "results.csv").read_text().count("mnist1d,dense") == 4

    from spatiallab.report import build_report

    assert build_report(tmp_path).is_file() and (tmp_path / "figures" / "samples_mnist1d.png").is_file()


def test_the_scale_experiment_on_blocks_of_positions(tmp_path, mnist1d):
    config = experiments.ScaleConfig(dataset="mnist1d", models=["dense"], seeds=[0, 1], epochs=1, block_sizes=[5, 20],
                                     train_limit=200, test_limit=100)  # fmt: skip
    record = experiments.run_experiment(experiments.Scale(config), tmp_path, preloaded=mnist1d)
    assert record["complete"] and len(record["cells"]) == 2 * 5
    assert record["permutations"]["image_shape"] == [40]
    with np.load(tmp_path / record["permutations"]["file"]) as saved:
        assert saved["image_shape"].tolist() == [40]
        assert np.array_equal(saved["between-5"], BlockPermutation("between", 5, 0, (40,)).permutation_)
    assert {row["condition"] for row in record["curve"]} == {"within-5", "within-20", "between-5", "between-20"}
    assert all("pixel" not in line for line in record["verdict"]), record["verdict"]

    # the report and the terminal speak of sequences, positions and blocks of k positions, read from the data's kind
    from spatiallab.cli.scale import print_curves
    from spatiallab.report import build_report, curves, sections
    from spatiallab.report import scale as scale_report

    assert record["datasets"]["mnist1d"]["kind"] == "sequence"
    page = html.unescape(build_report(tmp_path).read_text(encoding="utf-8"))
    assert "Sample sequences" in page and "Test sequences (top row) under each of the run's permutations" in page
    assert "\"within k\" shuffles the positions inside every block of k positions" in page
    assert "\"between k\" moves whole blocks of k positions" in page
    # (dense is no model of the README's table, so no published number follows)
    assert "MNIST-1D's README tested only the endpoints: the original sequences, and the full shuffle (within k = " \
        "the sequence length, or between k = 1)." in page  # fmt: skip
    assert "every condition is a permutation of the positions" in page and "from the sequence length leftward" in page
    assert "Square: the original sequences (within k = 1 and between k = the sequence length leave them" in page
    assert "Drop: accuracy on the original sequences minus under the permutation" in page
    assert [word for word in ("k x k", "pixel", "original images", "image size", "Sample images") if word in page] == []
    figure = curves.scale_curves(record["curve"], record["summary"], (40,), record["chance"],
                                 words=sections.terms(record))  # fmt: skip
    assert figure.axes[0].get_xlabel() == "block size k (positions)"
    assert [text.get_text() for text in figure.legends[0].get_texts()][3] == \
        "original sequences (within k = 1, between k = 40)"  # fmt: skip

    console = Console(file=io.StringIO(), width=200)
    print_curves(console, {**record, "verdict": []})  # no line yet: the report's words for it
    printed = console.file.getvalue()
    assert "Scale on mnist1d: dense" in printed and "200 train / 100 test sequences" in printed
    assert scale_report.no_verdict(record) in printed
    assert scale_report.no_verdict(record) == "No model has finished cells on the original sequences and a permuted " \
        "one yet."  # fmt: skip
    assert "image" not in printed and "pixel" not in printed


def test_seeds_with_the_same_difference_in_float32_accuracies_give_a_zero_width_interval():
    # two seeds whose shuffled model got 4 of 100 test sequences more right, as Keras reports them (float32)
    original, shuffled = np.float32([0.16, 0.08]).tolist(), np.float32([0.20, 0.12]).tolist()
    assert original[0] - shuffled[0] != original[1] - shuffled[1]  # rounding, not variation
    interval = stats.paired_difference(original, shuffled, 0.995)
    assert interval["ci_low"] == interval["ci_high"] == pytest.approx(-0.04)
