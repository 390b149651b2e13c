"""Datasets of executables: the corpus npz from class folders, the ``binaries`` loader, and the seeded splits."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from spatiallab import data
from spatiallab.binimage import build_corpus, nataraj_width, write_corpus
from spatiallab.cli import main
from spatiallab.data.errors import DataFormatError
from spatiallab.data.splits import grouped_split, stratified_split


def random_bytes(size: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


def make_file(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture
def class_tree(tmp_path) -> Path:
    """Two class folders; a hidden file and folder, a duplicate, an empty file, a FIFO and a loose file."""
    root = tmp_path / "corpus"
    make_file(root / "alpha" / "one.bin", random_bytes(3_000, 1))
    make_file(root / "alpha" / "sub" / "two.bin", random_bytes(12_000, 2))
    make_file(root / "beta" / "three.bin", random_bytes(40_000, 3))
    make_file(root / "beta" / "copy-of-one.bin", random_bytes(3_000, 1))  # same bytes as alpha/one.bin
    make_file(root / "beta" / ".hidden.bin", random_bytes(100, 4))
    make_file(root / "beta" / ".cache" / "x.bin", random_bytes(100, 5))
    make_file(root / "beta" / "empty.bin", b"")
    os.mkfifo(root / "beta" / "pipe")
    make_file(root / "README.txt", b"loose file, no class")
    return root


def test_corpus_arrays_follow_the_shared_layout(class_tree):
    arrays = build_corpus(class_tree)
    assert arrays["relpath"].tolist() == ["alpha/one.bin", "alpha/sub/two.bin", "beta/three.bin"]
    assert arrays["group"].tolist() == ["one.bin", "sub/two.bin", "three.bin"]
    assert arrays["class_names"].tolist() == ["alpha", "beta"] and arrays["y"].tolist() == [0, 0, 1]
    assert arrays["x64"].shape == (3, 64, 64) and arrays["x64"].dtype == np.uint8
    assert arrays["head4096"].shape == (3, 64, 64)
    assert arrays["file_size"].tolist() == [3_000, 12_000, 40_000]
    assert arrays["orig_width"].tolist() == [nataraj_width(size) for size in (3_000, 12_000, 40_000)]
    assert arrays["orig_height"].tolist() == [-(-3_000 // 32), -(-12_000 // 64), -(-40_000 // 128)]
    expected_sha = hashlib.sha256((class_tree / "beta" / "three.bin").read_bytes()).hexdigest()
    assert arrays["sha256"][2] == expected_sha
    assert arrays["head4096"][0].reshape(-1)[:3_000].tobytes() == random_bytes(3_000, 1)
    assert arrays["machine"].tolist() == ["", "", ""]  # random bytes are not executables
    for key in ("y", "orig_width", "orig_height", "file_size"):
        assert arrays[key].dtype == {"y": np.int16, "file_size": np.int64}.get(key, np.int32)


def test_corpus_skips_and_lists_what_it_could_not_use(class_tree):
    meta = json.loads(str(build_corpus(class_tree)["meta"]))
    assert meta["hidden_skipped"] == 2  # .hidden.bin and the .cache folder
    assert meta["duplicates_dropped"] == 1
    assert meta["duplicates"] == [{"relpath": "beta/copy-of-one.bin", "same_as": "alpha/one.bin", "same_class": False}]
    unreadable = {item["relpath"]: item["reason"] for item in meta["unreadable"]}
    assert set(unreadable) == {"beta/empty.bin", "beta/pipe"}
    assert "empty file" in unreadable["beta/empty.bin"] and "FIFO" in unreadable["beta/pipe"]
    assert meta["loose_files_ignored"] == ["README.txt"]


def test_corpus_npz_loads_without_pickle_and_through_the_loader(class_tree, tmp_path):
    out = tmp_path / "corpus.npz"
    write_corpus(build_corpus(class_tree, size=32, head_bytes=1024), out)
    with np.load(out, allow_pickle=False) as archive:
        assert {"x32", "head1024", "meta", "sha256"} <= set(archive.files)
        json.loads(str(archive["meta"]))
    dataset = data.load("binaries", out, test_fraction=0.34)
    assert dataset.image_shape == (32, 32, 1) and dataset.info["view"] == "x32"
    assert len(dataset.x_train) + len(dataset.x_test) == 3
    assert data.load("binaries", out, view="head1024").image_shape == (32, 32, 1)


def test_cli_builds_the_dataset(class_tree, tmp_path):
    out = tmp_path / "made.npz"
    result = CliRunner().invoke(main, ["binimage", "dataset", str(class_tree), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 files in 2 classes: alpha 2, beta 1" in result.output
    assert "1 duplicate(s) by sha256 (1 in another class than its first copy: kept in the first)" in result.output
    assert "2 unreadable" in result.output and "beta/pipe" in result.output
    assert np.load(out)["x64"].shape == (3, 64, 64)


def test_corpus_rejects_a_folder_without_class_folders(tmp_path):
    make_file(tmp_path / "a.bin", b"x")
    with pytest.raises(DataFormatError, match="one subfolder per class"):
        build_corpus(tmp_path)


@pytest.fixture
def architectures_npz(tmp_path) -> Path:
    """The same 12 programs 'built' for 3 architectures: equal paths under each class folder form one group."""
    root = tmp_path / "arch"
    for class_index, architecture in enumerate(("amd64", "arm64", "s390x")):
        for program in range(12):
            content = random_bytes(500, 100 * class_index + program)
            make_file(root / architecture / f"pkg{program}" / "bin" / "tool", content)
    out = tmp_path / "arch.npz"
    write_corpus(build_corpus(root, size=16, head_bytes=256), out)
    return out


def test_loader_splits_by_group(architectures_npz):
    dataset = data.load("binaries", architectures_npz, test_fraction=0.25, split_seed=3)
    assert dataset.split["method"] == "grouped" and dataset.split["n_groups"] == 12
    with np.load(architectures_npz) as archive:
        by_image = {archive["x16"][row].tobytes(): archive["group"][row] for row in range(len(archive["y"]))}
    train_groups = {by_image[image[..., 0].tobytes()] for image in dataset.x_train}
    test_groups = {by_image[image[..., 0].tobytes()] for image in dataset.x_test}
    assert not train_groups & test_groups and len(train_groups | test_groups) == 12
    assert len(test_groups) == 3 and len(dataset.x_test) == 9  # 3 of 12 programs, each on 3 architectures


def test_loader_class_selection(architectures_npz):
    kept = data.load("binaries", architectures_npz, classes="amd64,s390x")
    assert kept.class_names == ["amd64", "s390x"] and set(kept.y_train) | set(kept.y_test) == {0, 1}
    assert kept.info["classes_left_out"] == ["arm64"]
    with pytest.raises(ValueError, match="fewer than 2 classes"):
        data.load("binaries", architectures_npz, min_class_size=13)
    with pytest.raises(ValueError, match="unknown class"):
        data.load("binaries", architectures_npz, classes="sparc")


def test_loader_names_the_views_when_one_is_missing(architectures_npz):
    with pytest.raises(DataFormatError, match=r"image views in this file: \['head256', 'x16'\]"):
        data.load("binaries", architectures_npz, view="x64")


def test_loader_errors_for_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        data.load("binaries", tmp_path / "absent.npz")
    with pytest.raises(data.DatasetNotFoundError, match="binimage dataset"):
        data.load("binaries")


def test_pe_corpus_three_large_classes(shared_data):
    path = shared_data / "binaries" / "pe_toolchain_nataraj64.npz"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    dataset = data.load("binaries", path, min_class_size=100)
    assert dataset.class_names == ["dotnet", "mingw-gcc", "msvc"]
    assert len(dataset.x_train) + len(dataset.x_test) == 190 + 1468 + 394
    assert dataset.info["classes_left_out"] == ["ghc", "go", "rust"]


def test_grouped_split_on_the_debian_corpus(shared_data):
    path = shared_data / "binaries" / "debian_arch9_nataraj64.npz"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with np.load(path) as archive:
        labels, groups = archive["y"], archive["group"]
    train, test = grouped_split(labels, groups, 0.2, seed=0)
    assert not set(groups[train]) & set(groups[test])
    assert abs(len(test) / len(labels) - 0.2) < 0.01
    share = np.bincount(labels[test], minlength=9) / np.bincount(labels, minlength=9)
    assert np.all(np.abs(share - 0.2) < 0.02)  # every architecture near 20% in test


def test_stratified_split_counts_and_determinism():
    labels = np.repeat([0, 1, 2], [50, 30, 2])
    train, test = stratified_split(labels, 0.2, seed=7)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(82))
    assert np.bincount(labels[test]).tolist() == [10, 6, 1]  # round(0.2 n), at least one of a class of two
    again = stratified_split(labels, 0.2, seed=7)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    assert not np.array_equal(test, stratified_split(labels, 0.2, seed=8)[1])


def test_grouped_split_keeps_every_group_on_one_side():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 60, 600)
    labels = rng.integers(0, 4, 600)
    train, test = grouped_split(labels, groups, 0.3, seed=1)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(600))
    assert not set(groups[train]) & set(groups[test])
    assert 0.2 < len(test) / 600 < 0.4


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_splits_reject_bad_fractions(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split([0, 1, 0, 1], fraction)


def test_byte_plot_pngs_in_class_folders_load_through_the_image_folder_loader(tmp_path):
    """The Malimg layout (class folders of byte-plot PNGs of different sizes) goes through the ``folder`` loader."""
    from spatiallab.binimage import resize_plot, save_png, to_image

    expected = {}
    for family, seed in (("famA", 1), ("famA", 2), ("famB", 3), ("famB", 4)):
        plot = to_image(random_bytes(2_000 + 5_000 * seed, seed))  # 32 or 64 bytes wide, different heights
        (tmp_path / family).mkdir(exist_ok=True)
        save_png(plot, tmp_path / family / f"{seed}.png")
        expected[resize_plot(plot, 32).tobytes()] = family
    dataset = data.load("folder", tmp_path, image_size=32, test_fraction=0.5)
    assert dataset.image_shape == (32, 32, 1) and dataset.class_names == ["famA", "famB"]
    for images, labels in ((dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)):
        for image, label in zip(images, labels):
            assert expected[image[..., 0].tobytes()] == dataset.class_names[label]


def test_cli_dataset_never_replaces_a_file_it_was_not_told_to(class_tree, tmp_path):
    earlier = make_file(tmp_path / "mine.npz", b"the user's own file")
    result = CliRunner().invoke(main, ["binimage", "dataset", str(class_tree), "--out", str(earlier)])
    assert result.exit_code == 2 and "already exist" in result.output
    assert earlier.read_bytes() == b"the user's own file"
    inside = class_tree / "alpha" / "one.bin"
    before = inside.read_bytes()
    result = CliRunner().invoke(main, ["binimage", "dataset", str(class_tree), "--out", str(inside), "--overwrite"])
    assert result.exit_code == 2 and "inside FOLDER" in result.output and inside.read_bytes() == before
    result = CliRunner().invoke(main, ["binimage", "dataset", str(class_tree), "--out", str(earlier), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert np.load(earlier)["x64"].shape == (3, 64, 64)


def test_corpus_needs_two_classes_and_names_the_empty_ones(tmp_path):
    root = tmp_path / "corpus"
    make_file(root / "alpha" / "one.bin", random_bytes(300, 1))
    make_file(root / "beta" / ".only-hidden", random_bytes(300, 2))
    with pytest.raises(DataFormatError, match=r"at least 2 class folders.*found files in \['alpha'\]"):
        build_corpus(root)
    make_file(root / "gamma" / "two.bin", random_bytes(300, 3))
    result = CliRunner().invoke(main, ["binimage", "dataset", str(root), "--out", str(tmp_path / "c.npz")])
    assert result.exit_code == 0, result.output
    assert "2 files in 2 classes: alpha 1, gamma 1" in result.output
    assert "no readable file: class folder(s) ['beta']" in result.output


def _npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x16": np.zeros((0, 4, 4), np.uint8), "y": np.zeros(0, np.int16)},
         r"with N >= 1; found uint8 \(0, 4, 4\)"),
        ({"meta": np.array("{not json")}, "meta as a JSON object; found text that is not JSON"),
        ({"meta": np.array("[1, 2]")}, "meta as a JSON object; found a JSON list"),
        ({"x32": np.zeros((4, 32, 32), np.uint8)}, r"one whole-file view.*several: \['x16', 'x32'\]"),
    ],
)
def test_loader_names_the_file_for_bad_contents(tmp_path, arrays, message):
    good = {"x16": np.zeros((4, 16, 16), np.uint8), "y": np.array([0, 0, 1, 1], np.int16),
            "class_names": np.array(["a", "b"])}
    path = _npz(tmp_path / "bad.npz", **{**good, **arrays})
    with pytest.raises(DataFormatError, match=message) as raised:
        data.load("binaries", path)
    assert str(path) in str(raised.value)


def test_loader_names_the_file_for_files_that_are_not_npz(architectures_npz, tmp_path):
    text = make_file(tmp_path / "notes.npz", b"some text, not an archive\n")
    with pytest.raises(DataFormatError, match=r"notes.npz: expected an npz \(a zip archive.*found a file starting"):
        data.load("binaries", text)
    cut = make_file(tmp_path / "cut.npz", architectures_npz.read_bytes()[:500])
    with pytest.raises(DataFormatError, match=r"cut.npz: expected a complete NumPy .npz archive.*BadZipFile"):
        data.load("binaries", cut)


def test_loader_names_the_file_when_it_cannot_split(tmp_path):
    path = _npz(tmp_path / "one-group.npz", x16=np.zeros((4, 16, 16), np.uint8), y=np.array([0, 0, 1, 1]),
                class_names=np.array(["a", "b"]), group=np.array(["g"] * 4))
    with pytest.raises(ValueError, match=r"one-group.npz: cannot split: .*at least 2 groups; found 1"):
        data.load("binaries", path)


def test_empty_npz_is_named_as_empty(tmp_path):
    with pytest.raises(DataFormatError, match="empty.npz: expected an npz .*; found an empty file"):
        data.load("binaries", make_file(tmp_path / "empty.npz", b""))


def test_classes_missing_from_a_split_are_counted_and_warned_about(tmp_path):
    from spatiallab.experiments.verdict import empty_class_warnings

    path = _npz(tmp_path / "three.npz", x16=np.zeros((9, 16, 16), np.uint8), y=np.array([0] * 4 + [1] * 4 + [2]),
                class_names=np.array(["a", "b", "lonely"]))
    described = data.load("binaries", path, test_fraction=0.25).describe()
    assert described["class_counts"] == {"train": [3, 3, 1], "test": [1, 1, 0]}
    assert empty_class_warnings({"binaries": described}) == [
        "Warning: on binaries, class lonely has no test image, so no accuracy is measured on it; use a larger "
        "dataset, another split, or --min-class-size where offered."
    ]


def test_a_run_that_fails_on_its_data_leaves_no_folder(tmp_path):
    bad = make_file(tmp_path / "bad.npz", b"not an archive")
    result = CliRunner().invoke(main, ["run", "--dataset", "binaries", "--data", str(bad), "--out",
                                       str(tmp_path / "runs" / "r")])
    assert result.exit_code == 1 and "bad.npz: expected an npz" in result.output
    assert not (tmp_path / "runs").exists()


def test_a_failed_dataset_build_leaves_no_folder(tmp_path):
    root = tmp_path / "corpus"
    make_file(root / "alpha" / "one.bin", random_bytes(300, 1))  # one class only: refused
    out = tmp_path / "new" / "nested" / "c.npz"
    result = CliRunner().invoke(main, ["binimage", "dataset", str(root), "--out", str(out)])
    assert result.exit_code == 1 and "at least 2 class folders" in result.output
    assert not (tmp_path / "new").exists()
