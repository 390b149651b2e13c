"""Executables as byte sequences: the bytes<n> view of ``binimage dataset --bytes``, the loader's views, the header
mask and its errors, 1-NN and the layout comparison."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from spatiallab import data
from spatiallab.binimage import build_corpus, resize_plot, to_image, write_corpus
from spatiallab.cli import main
from spatiallab.data import byte_views
from spatiallab.data.errors import DataFormatError
from spatiallab.experiments import layouts

SIZES = {"alpha/a.bin": 300, "alpha/b.bin": 5_000, "alpha/c.bin": 2_048, "beta/d.bin": 1_500, "beta/e.bin": 9_000,
         "beta/f.bin": 700}  # fmt: skip


def content(relpath: str) -> bytes:
    seed = sorted(SIZES).index(relpath)
    return np.random.default_rng(seed).integers(1, 256, SIZES[relpath], dtype=np.uint8).tobytes()  # no zero byte


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "corpus"
    for relpath in SIZES:
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(content(relpath))
    return root


@pytest.fixture
def corpus(tree, tmp_path) -> Path:
    out = tmp_path / "corpus.npz"
    write_corpus(build_corpus(tree, size=16, head_bytes=1024, sequence_bytes=2048), out)
    return out


def test_sequence_view_holds_each_files_first_bytes_zero_padded_with_its_length(tree, tmp_path):
    out = tmp_path / "cli.npz"
    result = CliRunner().invoke(main, ["binimage", "dataset", str(tree), "--out", str(out), "--size", "16",
                                       "--head-bytes", "1024", "--bytes", "2048"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "bytes2048 (sequences: 3 file(s) shorter than 2,048 bytes" in result.output
    with np.load(out, allow_pickle=False) as archive:
        sequences, lengths, relpaths = archive["bytes2048"], archive["lengths"], archive["relpath"].tolist()
        assert "bytes2048" in json.loads(str(archive["meta"]))
    assert sequences.dtype == np.uint8 and sequences.shape == (6, 2048) and lengths.dtype == np.int64
    for row, relpath in enumerate(relpaths):
        expected = content(relpath)[:2048]
        assert lengths[row] == len(expected) == min(SIZES[relpath], 2048)
        assert sequences[row, : len(expected)].tobytes() == expected
        assert not sequences[row, len(expected):].any()  # padding only


def test_max_bytes_bounds_the_sequence_view(tree):
    arrays = build_corpus(tree, size=16, head_bytes=256, sequence_bytes=2048, max_bytes=1000)
    for row, relpath in enumerate(arrays["relpath"].tolist()):
        assert arrays["lengths"][row] == min(SIZES[relpath], 1000)
        assert arrays["bytes2048"][row, :1000].tobytes()[: arrays["lengths"][row]] == content(relpath)[:1000]
        assert not arrays["bytes2048"][row, 1000:].any()


def test_a_bytes_view_loads_as_sequences_and_a_head_tile_reads_in_file_order(corpus):
    sequences = data.load("binaries", corpus, view="bytes2048")
    assert sequences.kind == "sequence" and sequences.x_train.shape[1:] == (2048, 1)
    assert sequences.x_train.dtype == np.uint8
    tiles = data.load("binaries", corpus, view="head1024")
    from_tiles = data.load("binaries", corpus, view="bytes1024")  # no such key: the head1024 tile, in order
    assert tiles.kind == "image" and from_tiles.kind == "sequence"
    np.testing.assert_array_equal(from_tiles.x_train[..., 0], tiles.x_train.reshape(len(tiles.x_train), -1))
    np.testing.assert_array_equal(from_tiles.x_train[..., 0], sequences.x_train[:, :1024, 0])


def test_a_missing_view_names_the_file_the_view_and_the_views_it_has(corpus):
    with pytest.raises(DataFormatError, match=r"the view 'bytes65536'.*image views in this file: \['head1024', "
                       r"'x16'\]; sequence views: \['bytes1024', 'bytes2048'\]") as raised:  # fmt: skip
        data.load("binaries", corpus, view="bytes65536")
    assert str(corpus) in str(raised.value)
    assert str(raised.value).endswith("to make bytes65536, run `spatiallab binimage dataset DIR --out data.npz "
                                      "--bytes 65536`")  # fmt: skip
    for view, option in (("head4096", "--head-bytes 4096"), ("x64", "--size 64")):
        with pytest.raises(DataFormatError, match=f"to make {view}, run `spatiallab binimage dataset DIR --out "
                           f"data.npz {option}`"):  # fmt: skip
            data.load("binaries", corpus, view=view)
    with pytest.raises(DataFormatError, match=r"'pixels' is no view: views are named x<size>, head<n> \(images\) "
                       r"or bytes<n> \(sequences\)"):  # fmt: skip
        data.load("binaries", corpus, view="pixels")


def _masked(corpus, view, n_bytes):
    return data.load("binaries", corpus, view=view, mask_header=n_bytes)


@pytest.mark.parametrize("view", ["bytes2048", "head1024"])
def test_the_header_mask_zeroes_exactly_the_first_bytes_and_nothing_else(corpus, view):
    plain, masked = data.load("binaries", corpus, view=view), _masked(corpus, view, 200)
    for part in ("x_train", "x_test"):
        before = getattr(plain, part).reshape(len(getattr(plain, part)), -1)
        after = getattr(masked, part).reshape(len(getattr(masked, part)), -1)
        assert before[:, :200].all()  # the files have no zero byte, so a zero below is the mask's
        assert not after[:, :200].any()
        np.testing.assert_array_equal(after[:, 200:], before[:, 200:])
    assert masked.info["header_mask"] == {"bytes": 200, "view": view, "exact": True,
                                          "masked_share": round(200 / byte_views.view_bytes(view), 4)}


def test_the_mask_of_a_resized_view_removes_every_trace_of_the_header():
    """Two files that differ only in their first bytes give the same resized sample once masked."""
    rng = np.random.default_rng(0)
    for size, n_bytes in ((300_000, 300), (3_000, 100), (40_000, 1024)):
        tail = rng.integers(0, 256, size, dtype=np.uint8)
        other = tail.copy()
        other[:n_bytes] = 255 - tail[:n_bytes]
        plot, other_plot = to_image(tail.tobytes()), to_image(other.tobytes())
        footprint = byte_views.resized_footprint(plot.shape, 64, n_bytes)
        first, second = resize_plot(plot, 64), resize_plot(other_plot, 64)
        assert (first != second).any() and not (first != second)[~footprint].any()
        if size == 300_000:  # 300 bytes of a 512-byte row of 300 kB: part of the top row, not the image
            assert footprint.sum() < 64 and footprint[1:].sum() == 0


def test_a_mask_of_the_whole_byte_view_is_refused_naming_the_option_and_the_file(corpus):
    for n_bytes in (1024, 5000):
        with pytest.raises(ValueError) as raised:
            _masked(corpus, "head1024", n_bytes)
        assert str(raised.value) == (f"--mask-header {n_bytes} would zero all 1,024 bytes of view head1024 in "
                                     f"{corpus}, so every sample would be blank; expected 1 to 1,023")  # fmt: skip


@pytest.mark.parametrize("view", ["bytes2048", "x16"])
def test_files_no_longer_than_the_mask_are_named(corpus, view):
    with pytest.raises(DataFormatError, match=r"files longer than the header mask \(--mask-header 700\).*2 file\(s\) "
                       r"the mask blanks entirely: alpha/a.bin, beta/f.bin") as raised:  # fmt: skip
        _masked(corpus, view, 700)
    assert str(corpus) in str(raised.value)


def _hand_made(path: Path, **columns) -> Path:
    arrays = {"bytes8": np.full((4, 8), 7, np.uint8), "y": np.array([0, 0, 1, 1]), "class_names": np.array(["a", "b"]),
              "relpath": np.array(["a/1", "a/2", "b/3", "b/4"]), **columns}  # fmt: skip
    np.savez(path, **arrays)
    return path


def test_an_empty_prefix_is_refused_naming_the_file(tmp_path):
    path = _hand_made(tmp_path / "empty.npz", lengths=np.array([8, 0, 3, 8]))
    with pytest.raises(DataFormatError, match=r"empty.npz: expected at least one byte of every file in bytes8; found "
                       r"1 file\(s\) of 0 bytes \(an empty prefix, only padding\): a/2"):  # fmt: skip
        data.load("binaries", path, view="bytes8")
    bad = _hand_made(tmp_path / "long.npz", lengths=np.array([8, 9, 3, 8]))
    with pytest.raises(DataFormatError, match=r"long.npz: expected lengths in 0..8"):
        data.load("binaries", bad, view="bytes8")


def test_a_mask_needs_the_files_lengths(tmp_path):
    path = _hand_made(tmp_path / "bare.npz")
    assert data.load("binaries", path, view="bytes8").kind == "sequence"  # no mask: no lengths needed
    with pytest.raises(DataFormatError, match=r"bare.npz: expected file_size .* a 4-byte header mask"):
        data.load("binaries", path, view="bytes8", mask_header=4)


def test_nearest_neighbour_matches_a_brute_force_search():
    rng = np.random.default_rng(3)
    dataset = data.Dataset("toy", rng.integers(0, 256, (40, 30, 1), dtype=np.uint8), rng.integers(0, 3, 40),
                           rng.integers(0, 256, (25, 30, 1), dtype=np.uint8), rng.integers(0, 3, 25),
                           ["a", "b", "c"], "test", kind="sequence")  # fmt: skip
    train, test = dataset.x_train[..., 0].astype(float), dataset.x_test[..., 0].astype(float)
    nearest = np.linalg.norm(test[:, None, :] - train[None, :, :], axis=2).argmin(axis=1)
    expected = float((dataset.y_train[nearest] == dataset.y_test).mean())
    assert layouts.nearest_neighbour_accuracy(dataset, chunk_bytes=8 * 30 * 7) == expected  # chunks of 7 rows


def _row(model, view, mean, low, high, blind=False):
    accuracy = {"n": 3, "mean": mean, "ci_low": low, "ci_high": high}
    return {"model": model, "view": view, "layout": layouts.describe_view(view), "position_blind": blind,
            "original": accuracy, "shuffled": accuracy, "reliance": None, "epochs": 1, "seeds": [0, 1, 2]}


def test_the_layout_verdict_follows_the_intervals():
    table = {"corpus": "c.npz", "header_mask": None, "chance": 0.5, "rows": [
        _row("cnn", "head4096", 0.90, 0.88, 0.92), _row("cnn", "x64", 0.80, 0.70, 0.96),
        _row("bytes1d", "bytes4096", 0.95, 0.93, 0.97), _row("dense", "head4096", 0.94, 0.90, 0.98, blind=True),
        {"model": "1-NN", "view": "x64", "layout": "2D byte plot (resized)", "accuracy": 0.99}]}  # fmt: skip
    lines = layouts.layout_verdict(table, 0.95)
    assert lines[0].startswith("On c.npz, does the 2D layout beat the 1D sequence (the same first bytes in both)? "
                               "the reverse holds: cnn on head4096")
    assert lines[1].startswith("On c.npz, does the 2D layout beat the 1D sequence? not distinguishable: cnn on x64")
    assert lines[2].startswith("On c.npz, do models that use positions beat position-blind ones? not distinguishable")
    assert "1-NN on x64 reaches 99.0%" in lines[3] and "above the 95% interval" in lines[3]


def _unfinished(model, view, run):
    return {**_row(model, view, 0, 0, 0), "original": None, "shuffled": None, "run": run}


def _layout_lines(*rows, header_mask=None):
    table = {"corpus": "c.npz", "source": "/data/my c.npz", "header_mask": header_mask, "chance": 0.5,
             "rows": list(rows)}  # fmt: skip
    return layouts.layout_verdict(table, 0.95)


def test_a_2d_view_without_a_finished_1d_sequence_says_whether_one_was_given():
    image = _row("cnn", "head4096", 0.90, 0.88, 0.92)
    blind = _row("dense", "bytes4096", 0.80, 0.70, 0.90, blind=True)  # position-blind: no 1D layout to compare
    assert _layout_lines(image, blind)[0] == (
        "On c.npz: no claim on head4096: no run of a position-using model on a 1D sequence was given: add one (a "
        "bytes<n> view, e.g. `spatiallab run --dataset binaries --data '/data/my c.npz' --view bytes4096 --models "
        "bytes1d`).")  # fmt: skip
    # the run to add lands in the same table: the header mask too
    assert "--data '/data/my c.npz' --view bytes4096 --models bytes1d --mask-header 1024`)." in _layout_lines(
        image, blind, header_mask=1024)[0]  # fmt: skip
    (line,) = _layout_lines(image, _unfinished("bytes1d", "bytes4096", "runs/seq"))
    assert line == ("On c.npz: no claim on head4096: the 1D sequence runs given have no finished cell of a "
                    "position-using model on original positions (bytes1d on bytes4096): finish them with "
                    "`spatiallab run --resume runs/seq`.")  # fmt: skip


def test_a_1d_sequence_without_a_finished_2d_view_says_whether_one_was_given():
    sequence = _row("bytes1d", "bytes4096", 0.90, 0.88, 0.92)
    (line,) = _layout_lines(sequence)
    assert line == ("On c.npz: no claim on the 2D layout: no run of a position-using model on a 2D view was given: "
                    "add one (an x<size> or head<n> view, e.g. `spatiallab run --dataset binaries --data '/data/my "
                    "c.npz' --view head4096 --models cnn`).")  # fmt: skip
    # an interrupted run: its cnn row on x64 has no finished cell, its dense row (position-blind) has
    lines = _layout_lines(sequence, _row("dense", "x64", 0.6, 0.5, 0.7, blind=True),
                          _unfinished("cnn", "x64", "runs/bin-int2"))  # fmt: skip
    assert lines[0] == ("On c.npz: no claim on x64: the 2D view runs given have no finished cell of a "
                        "position-using model on original positions (cnn on x64): finish them with `spatiallab run "
                        "--resume runs/bin-int2`.")  # fmt: skip
    assert lines[1].startswith("On c.npz, do models that use positions beat position-blind ones? yes: bytes1d")
    (line,) = _layout_lines(_unfinished("cnn", "x64", "runs/img"), _unfinished("bytes1d", "bytes4096", "runs/seq"))
    assert line == ("On c.npz: no claim on x64: the 2D view runs given have no finished cell of a "
                    "position-using model on original positions (cnn on x64): finish them with `spatiallab run "
                    "--resume runs/img`; the 1D sequence runs given have no finished cell of a position-using model "
                    "on original positions (bytes1d on bytes4096): finish them with "
                    "`spatiallab run --resume runs/seq`.")  # fmt: skip
    # two runs of one side, each named once, in the order given
    (line,) = _layout_lines(sequence, _unfinished("cnn", "x64", "runs/a"), _unfinished("resnet", "x64", "runs/b"),
                            _unfinished("vit", "x64", "runs/a"))  # fmt: skip
    assert line.endswith("(cnn on x64, resnet on x64, vit on x64): finish them with `spatiallab run --resume runs/a` "
                         "and `spatiallab run --resume runs/b`.")  # fmt: skip


def test_the_mask_verdict_says_which_models_needed_the_header():
    def table(mask, cnn, dense):
        return {"corpus": "c.npz", "source": "c.npz", "class_names": ["a", "b"], "n_test": 10, "header_mask": mask,
                "chance": 0.5, "rows": [_row("cnn", "head4096", *cnn), _row("dense", "head4096", *dense, blind=True)]}

    lines = layouts.mask_verdict([table(None, (0.99, 0.98, 1.0), (0.9, 0.8, 1.0)),
                                  table(1024, (0.7, 0.6, 0.8), (0.88, 0.8, 0.96))], 0.95)  # fmt: skip
    assert lines[0].endswith("first 1,024 bytes zeroed: it needed the header (the 95% intervals do not overlap).")
    assert lines[1].endswith("no measurable need for the header (the 95% intervals overlap).")
    lines = layouts.mask_verdict([table(None, (0.99, 0.98, 1.0), (0.6, 0.45, 0.75)),
                                  table(1024, (0.7, 0.6, 0.8), (0.62, 0.52, 0.72))], 0.95)  # fmt: skip
    assert lines[1].endswith("no measurable need for the header (the 95% intervals overlap), but the 95% interval "
                             "of dense on head4096 with the header reaches chance, 50.0%: it may have learned "
                             "nothing; train longer or use more seeds.")  # fmt: skip


def test_an_overlap_with_a_model_whose_interval_reaches_chance_says_so():
    table = {"corpus": "c.npz", "source": "c.npz", "class_names": ["a", "b"], "n_test": 10, "header_mask": None,
             "chance": 0.5, "rows": [_row("cnn", "x64", 0.53, 0.47, 0.59), _row("bytes1d", "bytes4096", 0.6, 0.5, 0.7)]}
    line = layouts.layout_verdict(table, 0.95)[0]
    assert line.endswith("95% intervals overlap, but the 95% interval of cnn on x64 and of bytes1d on bytes4096 "
                         "reach chance, 50.0%: either may have learned nothing; train longer or use more seeds.")
    table["rows"][1] = _row("bytes1d", "bytes4096", 0.6, 0.51, 0.7)
    assert layouts.layout_verdict(table, 0.95)[0].endswith("reaches chance, 50.0%: it may have learned nothing; "
                                                           "train longer or use more seeds.")  # fmt: skip
    assert "of bytes1d" not in layouts.layout_verdict(table, 0.95)[0]


def test_every_seed_at_100_percent_is_called_a_ceiling_not_a_want_of_seeds():
    perfect = {"n": 3, "mean": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    image, sequence = _row("cnn", "head4096", 1, 1, 1), _row("bytes1d", "bytes4096", 1, 1, 1)
    image["original"] = sequence["original"] = perfect
    table = {"corpus": "c.npz", "source": "c.npz", "class_names": ["a", "b"], "n_test": 10, "chance": 0.5,
             "rows": [image, sequence]}  # fmt: skip
    (line,) = layouts.layout_verdict({**table, "header_mask": None}, 0.95)
    assert line.endswith("; every seed of both scored 100%, a ceiling more seeds would not lift: this corpus is too "
                         "easy to separate them.")  # fmt: skip
    one_seed = {**sequence, "original": {"n": 1, "mean": 1.0, "ci_low": None, "ci_high": None}}
    (line,) = layouts.layout_verdict({**table, "header_mask": None, "rows": [image, one_seed]}, 0.95)
    assert line.endswith("; one of them has no interval, from one seed or from seeds that agree exactly: use more "
                         "seeds.")  # fmt: skip
    lines = layouts.mask_verdict([{**table, "header_mask": None}, {**table, "header_mask": 1024}], 0.95)
    assert lines[0].endswith("zeroed; no claim (every seed of both scored 100%, a ceiling more seeds would not lift: "
                             "this corpus is too easy to separate them).")  # fmt: skip


def _agreeing(model, view, accuracy, blind=False):
    """A row whose three seeds all scored ``accuracy``: a zero-width interval."""
    return {**_row(model, view, accuracy, accuracy, accuracy, blind),
            "original": {"n": 3, "mean": accuracy, "ci_low": accuracy, "ci_high": accuracy}}  # fmt: skip


def test_every_seed_at_chance_is_called_learning_nothing_not_a_want_of_seeds():
    sequence = _row("bytes1d", "bytes4096", 0.875, 0.346, 1.0)
    # Keras's float32 accuracy lands a hair above chance: still chance (verdict.CHANCE_TOLERANCE)
    (line,) = _layout_lines(_agreeing("cnn", "x64", 0.5 + 1.5e-9), sequence)
    assert line.endswith("; every seed of cnn on x64 scored no better than chance at 50.0%: it learned nothing to "
                         "compare; train longer or check the data.")  # fmt: skip
    (line,) = _layout_lines(_agreeing("cnn", "x64", 0.4), sequence)  # below chance: the minority class, say
    assert "every seed of cnn on x64 scored no better than chance at 50.0%" in line
    (line,) = _layout_lines(_agreeing("cnn", "x64", 0.6), sequence)  # above chance, seeds agreeing: more seeds
    assert line.endswith("; one of them has no interval, from one seed or from seeds that agree exactly: use more "
                         "seeds.")  # fmt: skip

    def table(mask):
        return {"corpus": "c.npz", "source": "c.npz", "class_names": ["a", "b"], "n_test": 10, "chance": 0.5,
                "header_mask": mask, "rows": [_agreeing("dense", "x64", 0.5, blind=True)]}  # fmt: skip

    (line,) = layouts.mask_verdict([table(None), table(64)], 0.95)
    assert line.endswith("zeroed; no claim (every seed of both scored no better than chance at 50.0%: neither "
                         "learned anything to compare; train longer or check the data).")  # fmt: skip
    one_seed = [{**_row("dense", "x64", 0.7, None, None, blind=True),
                 "original": {"n": 1, "mean": 0.7, "ci_low": None, "ci_high": None}}]  # fmt: skip
    (line,) = layouts.mask_verdict([{**table(None), "rows": one_seed}, {**table(64), "rows": one_seed}], 0.95)
    assert line.endswith("zeroed; no claim (one of them has no interval, from one seed or from seeds that agree "
                         "exactly: use more seeds).")  # fmt: skip


def _nearest(view, accuracy):
    return {"model": "1-NN", "view": view, "layout": layouts.describe_view(view), "accuracy": accuracy}


def test_the_1nn_line_says_best_finished_where_a_model_of_its_view_is_unfinished():
    dense = _row("dense", "head4096", 0.8, 0.6, 1.0, blind=True)
    (line,) = _layout_lines(dense, _nearest("head4096", 1.0))
    assert line.endswith("(no seeds, no interval), inside the 95% interval of the best trained model there, dense on "
                         "head4096 (2D head tile, 80.0% [60.0, 100.0]).")  # fmt: skip
    best_finished = (", inside the 95% interval of the best finished trained model there, dense on head4096 (2D head "
                     "tile, 80.0% [60.0, 100.0]).")  # fmt: skip
    lines = _layout_lines(dense, _unfinished("cnn", "head4096", "runs/int"), _nearest("head4096", 1.0))
    assert lines[-1].endswith(best_finished)  # cnn has no finished cell
    two_shuffled = {**dense, "shuffled": {**dense["shuffled"], "n": 2}}  # 2 of its 3 seeds on shuffled positions
    assert _layout_lines(two_shuffled, _nearest("head4096", 1.0))[-1].endswith(best_finished)


def test_the_1nn_line_stays_where_no_trained_model_of_its_view_has_an_interval():
    reached = "On c.npz, 1-NN on x64 reaches 79.2% (no seeds, no interval), where chance is 50.0%; "
    (line,) = _layout_lines(_agreeing("dense", "x64", 0.5, blind=True), _nearest("x64", 0.792))
    assert line == reached + ("no trained model there scored above chance on average, so there is none to compare "
                              "with.")  # fmt: skip
    (line,) = _layout_lines(_unfinished("cnn", "x64", "runs/int"), _nearest("x64", 0.792))[-1:]
    assert line == reached + "no trained model there has a finished cell on original positions to compare with."
    (line,) = _layout_lines(_agreeing("dense", "x64", 0.7, blind=True), _nearest("x64", 0.792))
    assert line == reached + ("the best trained model there, dense on x64 (2D byte plot (resized), 70.0% [70.0, "
                              "70.0]), has no interval, from one seed or from seeds that agree exactly: use more "
                              "seeds.")  # fmt: skip
    # one of three seeds finished: the advice is to finish the run, not to ask for more seeds
    one_of_three = {**_row("dense", "x64", 0.5, None, None, blind=True), "shuffled": None, "run": "runs/plot",
                    "original": {"n": 1, "mean": 0.5, "ci_low": None, "ci_high": None}}  # fmt: skip
    (line,) = _layout_lines(one_of_three, _nearest("x64", 0.792))
    assert line == reached + ("the best trained model there, dense on x64 (2D byte plot (resized), 50.0%), has no "
                              "interval yet: its run is unfinished; finish it with `spatiallab run --resume "
                              "runs/plot`.")  # fmt: skip


def test_run_and_compare_on_a_sequence_and_an_image_view(corpus, tmp_path):
    """Two tiny runs (1 epoch, dense): the mask is recorded and said, and compare sets the runs side by side."""
    runner = CliRunner()
    for view in ("bytes2048", "head1024"):
        result = runner.invoke(main, ["run", "--dataset", "binaries", "--data", str(corpus), "--view", view,
                                      "--models", "dense", "--seeds", "2", "--epochs", "1", "--mask-header", "200",
                                      "--out", str(tmp_path / view), "--no-report"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert f"(view {view}, first 200 bytes zeroed)" in result.output
    record = json.loads((tmp_path / "bytes2048" / "results.json").read_text())
    assert record["config"]["loader_options"] == {"view": "bytes2048", "mask_header": 200}
    assert record["verdict"][0].startswith("Header masked: on binaries, the first 200 bytes of every file were zeroed")
    out = tmp_path / "comparison.json"
    result = runner.invoke(main, ["compare", str(tmp_path / "bytes2048"), str(tmp_path / "head1024"), "--out",
                                  str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    comparison = json.loads(out.read_text())
    (table,) = comparison["tables"]
    assert table["header_mask"] == 200
    assert [(row["view"], row["model"]) for row in table["rows"]] == [
        ("bytes2048", "dense"), ("head1024", "dense"), ("bytes2048", "1-NN"), ("head1024", "1-NN")]
    expected = layouts.nearest_neighbour_accuracy(data.load("binaries", corpus, view="head1024", mask_header=200))
    assert table["rows"][3]["accuracy"] == expected
    result = runner.invoke(main, ["compare", str(tmp_path / "bytes2048"), str(tmp_path / "bytes2048")])
    assert result.exit_code == 1 and "both train dense on bytes2048" in result.output
    # An interrupted dense,cnn run looks so: the configuration names both models, only dense's cells are finished
    interrupted = tmp_path / "interrupted"
    shutil.copytree(tmp_path / "head1024", interrupted)
    results = json.loads((interrupted / "results.json").read_text())
    # and stopped before dense's second seed on shuffled positions
    results["config"]["models"], results["complete"] = ["dense", "cnn"], False
    results["cells"] = [cell for cell in results["cells"] if (cell["condition"], cell["seed"]) != ("shuffled", 1)]
    (interrupted / "results.json").write_text(json.dumps(results))
    result = runner.invoke(main, ["compare", str(tmp_path / "bytes2048"), str(interrupted), "--out", str(out),
                                  "--no-nearest-neighbour"])  # fmt: skip
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert output.startswith(f"{interrupted}: 3 of 8 cells finished; continue with `spatiallab run --resume "
                             f"{interrupted}`")  # fmt: skip
    seeds = [line.split("│")[5].strip() for line in result.output.splitlines() if line.count("│") == 9 and
             line.split("│")[3].strip() in ("dense", "cnn")]  # fmt: skip
    assert seeds == ["2", "2 / 1", "0"]  # dense on bytes2048, dense on head1024 (a shuffled seed missing), cnn
    assert ("seeds: those finished, on original / shuffled positions where they differ; reliance: original - "
            "shuffled, paired over the seeds both finished") in output  # fmt: skip
    (table,) = json.loads(out.read_text())["tables"]
    assert table["rows"][1]["reliance"]["n_pairs"] == 1  # the table's reliance: over seed 0 alone
    assert (f"no claim on head1024: the 2D view runs given have no finished cell of a position-using model on "
            f"original positions (cnn on head1024): finish them with `spatiallab run --resume {interrupted}`; no "
            f"run of a position-using model on a 1D sequence was given: add one (a bytes<n> view, e.g. `spatiallab "
            f"run --dataset binaries --data {corpus} --view bytes4096 --models bytes1d --mask-header "
            "200`)") in output  # fmt: skip


@pytest.mark.parametrize("model, view, refusal", [
    ("cnn", "bytes2048", "model 'cnn' takes images (H, W, C); dataset 'binaries' holds uint8 sequences (2048, 1) "
                         "(view bytes2048)"),
    ("bytes1d", "x16", "model 'bytes1d' takes byte sequences (L, 1) of uint8 byte values; dataset 'binaries' holds "
                       "uint8 images (16, 16, 1) (view x16)"),
])  # fmt: skip
def test_a_model_that_does_not_take_the_view_is_an_option_error(corpus, tmp_path, model, view, refusal):
    result = CliRunner().invoke(main, ["run", "--dataset", "binaries", "--data", str(corpus), "--view", view,
                                       "--models", model, "--seeds", "1", "--epochs", "1",
                                       "--out", str(tmp_path / "run"), "--no-report"])  # fmt: skip
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())  # click wraps the usage error's lines
    assert "Invalid value for '--models'" in message and refusal in message and "Models for this data:" in message
    assert not (tmp_path / "run").exists()


def test_the_header_mask_note_names_the_fields_it_covers_and_those_it_does_not():
    from spatiallab.experiments.verdict import header_mask_note

    def note(size):
        return header_mask_note("binaries", {"bytes": size, "view": "bytes4096", "exact": True,
                                             "masked_share": size / 4096})  # fmt: skip

    assert "not ELF e_type and e_machine (bytes 16..19) or Mach-O cputype (bytes 4..7)" in note(4)
    assert "It covers Mach-O cputype; not ELF e_type and e_machine" in note(8)
    assert "It covers ELF e_type and e_machine and Mach-O cputype." in note(20)
    assert all("PE file's Machine field" in note(size) for size in (4, 64, 4096))
