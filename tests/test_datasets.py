"""Dataset loaders: Fashion-MNIST, CIFAR-10 (python batches), MedMNIST, image folders and Keras-style npz.

Every fixture file is built here in the format's official layout; each bad-input case checks that the error names the
file, what was expected and what was found, and that the user's files are left unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatiallab import data
from spatiallab.data import cifar, fashion, folders
from spatiallab.data.errors import DataFormatError, DatasetNotFoundError
from tests.conftest import write_idx
from tests.test_data_conformance import fails_instead_of_hanging

RNG = np.random.default_rng(0)


def digest_tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (hidden ones included), to prove a loader changed nothing."""
    files = sorted(path for path in root.rglob("*") if path.is_file())
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


# ---------------------------------------------------------------- builders of tiny files in official layouts


def make_idx_folder(folder: Path, n_train: int = 20, n_test: int = 10) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": RNG.integers(0, 256, (n_train, 28, 28), np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": RNG.integers(0, 256, (n_test, 28, 28), np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(n_test, dtype=np.uint8) % 10,
    }
    for name, array in arrays.items():
        raw = write_idx(folder / name, array).read_bytes()
        (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        (folder / name).unlink()
    return arrays


class Py2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2 strings (BINSTRING), as the official CIFAR batches (cPickle, Python 2) do."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_string(self, obj):
        raw = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[bytes] = save_py2_string
    dispatch[str] = save_py2_string


def python2_pickle(obj) -> bytes:
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    # numpy 1 (which wrote the official files) names the module numpy.core.multiarray
    return buffer.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def make_cifar_folder(folder: Path, per_batch: int = 4, dump=python2_pickle) -> dict[str, dict]:
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in (*cifar.TRAIN_FILES, cifar.TEST_FILE):
        batches[name] = {
            b"batch_label": f"{name} of 5".encode(),
            b"labels": [int(label) for label in RNG.integers(0, 10, per_batch)],
            b"data": RNG.integers(0, 256, (per_batch, 3072), np.uint8),
            b"filenames": [f"img_{index}.png".encode() for index in range(per_batch)],
        }
        (folder / name).write_bytes(dump(batches[name]))
    meta = {b"label_names": [name.encode() for name in CIFAR_NAMES], b"num_cases_per_batch": per_batch}
    (folder / cifar.META_FILE).write_bytes(dump(meta))
    return batches


def make_cifar_tar(path: Path, folder: Path, mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as archive:
        archive.add(folder, arcname=cifar.FOLDER_NAME)
    return path


def save_png(path: Path, array: np.ndarray, mode: str | None = None, **params) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array, mode) if mode else Image.fromarray(array)
    image.save(path, **params)
    return path


def make_image_folder(root: Path, per_class: int = 5, size: tuple[int, int] = (12, 10)) -> Path:
    for label in ("adialer", "allaple", "yuner"):
        for index in range(per_class):
            save_png(root / label / f"{index}.png", RNG.integers(0, 256, size, np.uint8))
    return root


# ---------------------------------------------------------------- one contract for every registered dataset


def tiny(name: str, tmp_path: Path) -> tuple[str | None, dict]:
    """A tiny copy of dataset ``name`` in tmp_path: (path to pass, loader options)."""
    if name == "mnist-sample":
        return None, {}
    if name in ("mnist", "fashion-mnist"):
        make_idx_folder(tmp_path / name)
        return str(tmp_path / name), {}
    if name == "cifar10":
        make_cifar_folder(tmp_path / "cifar")
        return str(tmp_path / "cifar"), {}
    if name == "medmnist":
        np.savez(tmp_path / "pathmnist.npz", train_images=RNG.integers(0, 256, (12, 28, 28, 3), np.uint8),
                 train_labels=(np.arange(12) % 9).reshape(-1, 1).astype(np.uint8),
                 test_images=RNG.integers(0, 256, (9, 28, 28, 3), np.uint8),
                 test_labels=(np.arange(9) % 9).reshape(-1, 1).astype(np.uint8))  # fmt: skip
        return str(tmp_path / "pathmnist.npz"), {}
    if name == "folder":
        return str(make_image_folder(tmp_path / "malimg")), {"image_size": 8}
    if name == "npz":
        np.savez(tmp_path / "k.npz", x_train=RNG.integers(0, 256, (10, 9, 7), np.uint8), y_train=np.arange(10) % 4,
                 x_test=RNG.integers(0, 256, (4, 9, 7), np.uint8), y_test=np.arange(4))  # fmt: skip
        return str(tmp_path / "k.npz"), {}
    if name == "binaries":
        np.savez(tmp_path / "bin.npz", x8=RNG.integers(0, 256, (12, 8, 8), np.uint8), y=np.arange(12) % 3,
                 class_names=np.array(["elf", "pe", "macho"]))  # fmt: skip
        return str(tmp_path / "bin.npz"), {}
    pytest.skip(f"no tiny builder for dataset {name!r} in this test")


@pytest.mark.parametrize("name", data.dataset_names())
def test_every_dataset_meets_the_loader_contract(name, tmp_path):
    path, options = tiny(name, tmp_path)
    before = digest_tree(tmp_path)
    dataset = data.load(name, path, **options)
    for x, y in ((dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)):
        assert x.dtype == np.uint8 and x.ndim == 4 and x.shape[-1] in (1, 3)
        assert y.dtype == np.int64 and y.shape == (len(x),)
        assert 0 <= y.min() and y.max() < dataset.num_classes
    assert len(dataset.class_names) == dataset.num_classes >= 2
    json.dumps(dataset.describe())  # results files must be able to record it
    again = data.load(name, path, **options)
    np.testing.assert_array_equal(again.x_train, dataset.x_train)
    np.testing.assert_array_equal(again.y_test, dataset.y_test)
    assert digest_tree(tmp_path) == before


# ---------------------------------------------------------------- Fashion-MNIST


def test_fashion_mnist_from_an_idx_folder(tmp_path):
    arrays = make_idx_folder(tmp_path / "fm")
    dataset = data.load("fashion-mnist", tmp_path / "fm")
    np.testing.assert_array_equal(dataset.x_train[..., 0], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(dataset.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert dataset.class_names[0] == "T-shirt/top" and dataset.class_names[9] == "Ankle boot"


def test_fashion_mnist_found_in_keras_cache_when_debian_package_absent(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion, "DEBIAN_FOLDER", tmp_path / "no-such-folder")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert fashion.locate() is None
    with pytest.raises(DatasetNotFoundError, match="dataset-fashion-mnist"):
        data.load("fashion-mnist", download=False)
    make_idx_folder(tmp_path / "keras" / "datasets" / "fashion-mnist")
    assert fashion.locate() == str(tmp_path / "keras" / "datasets" / "fashion-mnist")
    assert data.load("fashion-mnist").x_train.shape == (20, 28, 28, 1)


def test_fashion_mnist_missing_file_names_folder_and_file(tmp_path):
    make_idx_folder(tmp_path / "fm")
    (tmp_path / "fm" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataFormatError, match=r"fm: expected a file named t10k-labels-idx1-ubyte \(or \.gz\)"):
        data.load("fashion-mnist", tmp_path / "fm")


def test_debian_fashion_mnist_package():
    if fashion.DEBIAN_FOLDER.is_dir() is False:
        pytest.skip(f"{fashion.DEBIAN_FOLDER} absent (Debian package dataset-fashion-mnist not installed)")
    dataset = data.load("fashion-mnist")
    assert dataset.x_train.shape == (60000, 28, 28, 1) and dataset.x_test.shape == (10000, 28, 28, 1)
    # Fashion-MNIST is balanced: 6,000 train and 1,000 test images per class (Xiao et al. 2017, Table 1).
    assert np.bincount(dataset.y_train).tolist() == [6000] * 10
    assert np.bincount(dataset.y_test).tolist() == [1000] * 10


# ---------------------------------------------------------------- CIFAR-10


def expected_cifar_images(rows: np.ndarray) -> np.ndarray:
    """The format's definition, pixel by pixel: channel c of pixel (r, k) is byte c*1024 + r*32 + k of the row."""
    images = np.zeros((len(rows), 32, 32, 3), np.uint8)
    for row in range(32):
        for column in range(32):
            for channel in range(3):
                images[:, row, column, channel] = rows[:, channel * 1024 + row * 32 + column]
    return images


@pytest.mark.parametrize("source", ["folder", "parent-folder", "tar.gz", "tar"])
def test_cifar_official_python2_batches(tmp_path, source):
    batches = make_cifar_folder(tmp_path / "cifar-10-batches-py")
    path = {
        "folder": tmp_path / "cifar-10-batches-py",
        "parent-folder": tmp_path,
        "tar.gz": make_cifar_tar(tmp_path / "cifar-10-python.tar.gz", tmp_path / "cifar-10-batches-py"),
        "tar": make_cifar_tar(tmp_path / "cifar-10-python.tar", tmp_path / "cifar-10-batches-py", "w"),
    }[source]
    dataset = data.load("cifar10", path)
    train_rows = np.concatenate([batches[name][b"data"] for name in cifar.TRAIN_FILES])
    np.testing.assert_array_equal(dataset.x_train, expected_cifar_images(train_rows))
    np.testing.assert_array_equal(dataset.x_test, expected_cifar_images(batches["test_batch"][b"data"]))
    assert dataset.y_train.tolist() == sum((batches[name][b"labels"] for name in cifar.TRAIN_FILES), [])
    assert dataset.y_test.shape == (4,) and dataset.class_names == CIFAR_NAMES


@pytest.mark.parametrize("protocol", [2, 5])
def test_cifar_batches_repickled_by_python3(tmp_path, protocol):
    batches = make_cifar_folder(tmp_path / "c", dump=lambda obj: pickle.dumps(obj, protocol=protocol))
    dataset = data.load("cifar10", tmp_path / "c")
    np.testing.assert_array_equal(dataset.x_test, expected_cifar_images(batches["test_batch"][b"data"]))


class Payload:
    """A pickle gadget: unpickling it would create a folder."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.makedirs, (str(self.target),))


def test_cifar_refuses_a_pickle_that_would_run_code(tmp_path):
    make_cifar_folder(tmp_path / "c")
    marker = tmp_path / "created-by-the-pickle"
    (tmp_path / "c" / "data_batch_3").write_bytes(pickle.dumps({b"data": Payload(marker), b"labels": []}, protocol=2))
    with pytest.raises(DataFormatError, match=r"data_batch_3: expected a pickle of numpy arrays.*refused to construct"):
        data.load("cifar10", tmp_path / "c")
    assert not marker.exists()


@pytest.mark.parametrize(
    "damage, message",
    [
        ({b"data": np.zeros((4, 1024), np.uint8), b"labels": [0] * 4}, r"b'data' as uint8 \(n, 3072\); found uint8"),
        ({b"data": np.zeros((4, 3072), np.float32), b"labels": [0] * 4}, r"b'data' as uint8 .*found float32"),
        ({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 10]},
         r"b'labels' as class indices 0..9 \(10 classes\); found 1 label\(s\) outside that range: 10"),
        ({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1]},
         r"b'labels' as 4 integers; found list of shape \(2,\)"),
        ({b"pixels": np.zeros((4, 3072), np.uint8)},
         r"a dict with keys b'data' and b'labels'; found keys \['pixels'\]"),
        ([1, 2, 3], r"a dict with keys b'data' and b'labels'; found a pickled list"),
    ],
)
def test_cifar_bad_batch_contents(tmp_path, damage, message):
    make_cifar_folder(tmp_path / "c")
    (tmp_path / "c" / "test_batch").write_bytes(python2_pickle(damage))
    with pytest.raises(DataFormatError, match=r"test_batch: expected " + message):
        data.load("cifar10", tmp_path / "c")


def test_cifar_missing_batch_and_not_a_pickle_and_not_a_tar(tmp_path):
    make_cifar_folder(tmp_path / "c")
    make_cifar_tar(tmp_path / "c.tar.gz", tmp_path / "c")
    (tmp_path / "c" / "data_batch_5").unlink()
    with pytest.raises(DataFormatError, match=r"c: expected the files data_batch_1.*found none named data_batch_5"):
        data.load("cifar10", tmp_path / "c")
    make_cifar_tar(tmp_path / "short.tar.gz", tmp_path / "c")
    with pytest.raises(DataFormatError, match=r"short.tar.gz: expected members cifar-10-batches-py/data_batch_1.*"
                                              r"found no data_batch_5 among \['batches.meta'"):
        data.load("cifar10", tmp_path / "short.tar.gz")
    (tmp_path / "c" / "data_batch_5").write_bytes(b"<html>404 not found</html>")
    with pytest.raises(DataFormatError, match=r"data_batch_5: expected a pickled CIFAR batch; found"):
        data.load("cifar10", tmp_path / "c")
    (tmp_path / "fake.tar.gz").write_bytes(b"not a tar at all")
    with pytest.raises(DataFormatError, match=r"fake.tar.gz: expected cifar-10-python.tar.gz \(a gzipped tar\)"):
        data.load("cifar10", tmp_path / "fake.tar.gz")
    before = digest_tree(tmp_path)
    data.load("cifar10", tmp_path / "c.tar.gz")  # nothing extracted beside the archive, nothing changed
    assert digest_tree(tmp_path) == before


# ---------------------------------------------------------------- MedMNIST


def save_medmnist(path: Path, train_images, train_labels, test_images=None, test_labels=None, **extra) -> Path:
    np.savez(path, train_images=train_images, train_labels=train_labels,
             test_images=train_images if test_images is None else test_images,
             test_labels=train_labels if test_labels is None else test_labels, **extra)  # fmt: skip
    return path


def test_medmnist_grey_labels_squeezed_and_val_left_out(tmp_path):
    images = RNG.integers(0, 256, (6, 28, 28), np.uint8)
    labels = np.array([[0], [3], [1], [3], [2], [0]], np.uint8)
    path = save_medmnist(tmp_path / "organamnist.npz", images, labels, val_images=images[:2], val_labels=labels[:2])
    dataset = data.load("medmnist", path)
    np.testing.assert_array_equal(dataset.x_train[..., 0], images)
    assert dataset.y_train.tolist() == [0, 3, 1, 3, 2, 0] and dataset.num_classes == 4
    assert dataset.info["n_val_unused"] == 2 and dataset.info["task"] == "organamnist"


def test_medmnist_refuses_multi_label(tmp_path):
    path = save_medmnist(tmp_path / "chestmnist.npz", RNG.integers(0, 256, (5, 28, 28), np.uint8),
                         RNG.integers(0, 2, (5, 14)).astype(np.uint8))  # fmt: skip
    with pytest.raises(DataFormatError, match=r"chestmnist.npz: expected train_labels with one class per image.*"
                                              r"found multi-label labels \(5, 14\).*single-label"):
        data.load("medmnist", path)


def test_medmnist_refuses_volumes_missing_keys_and_non_npz(tmp_path):
    volume = save_medmnist(tmp_path / "organmnist3d.npz", np.zeros((3, 28, 28, 28), np.uint8), np.zeros((3, 1)))
    with pytest.raises(DataFormatError, match=r"organmnist3d.npz: expected train_images as uint8 .*3-D volumes"):
        data.load("medmnist", volume)
    np.savez(tmp_path / "odd.npz", images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataFormatError, match=r"odd.npz: expected MedMNIST keys .*found keys \['images'\]"):
        data.load("medmnist", tmp_path / "odd.npz")
    (tmp_path / "page.npz").write_bytes(b"<!doctype html>")
    with pytest.raises(DataFormatError, match=r"page.npz: expected a MedMNIST .npz archive .*found an HTML page"):
        data.load("medmnist", tmp_path / "page.npz")


# ---------------------------------------------------------------- image folders


def test_folder_channel_rule_for_every_mode(tmp_path):
    root = tmp_path / "modes"
    pixel = np.full((4, 4, 3), (200, 100, 50), np.uint8)
    save_png(root / "rgb" / "a.png", pixel)
    save_png(root / "rgb" / "b.jpg", pixel, quality=100)
    save_png(root / "rgb" / "c.bmp", pixel)
    save_png(root / "rgb" / "d.tif", pixel)
    save_png(root / "rgba" / "a.png", np.full((4, 4, 4), (200, 100, 50, 128), np.uint8))
    save_png(root / "grey" / "a.png", np.full((4, 4), 90, np.uint8))
    save_png(root / "grey" / "b.png", np.full((4, 4, 2), (200, 51), np.uint8), "LA")
    save_png(root / "grey16" / "a.png", np.array([[0, 128, 129, 1000], [65535, 257, 0, 0]] * 2, np.uint16))
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    (root / "pal").mkdir()
    palette.save(root / "pal" / "a.png")
    before = digest_tree(root)

    images, labels, classes, info = folders.read_image_folder(root)
    assert classes == ["grey", "grey16", "pal", "rgb", "rgba"] and info["channels"] == 3  # RGB files present
    by_class = {name: images[labels == index] for index, name in enumerate(classes)}
    np.testing.assert_array_equal(by_class["rgb"][0, 0, 0], (200, 100, 50))  # PNG, BMP, TIFF are lossless
    assert np.abs(by_class["rgb"][1].astype(int) - (200, 100, 50)).max() <= 3  # JPEG
    np.testing.assert_array_equal(by_class["rgba"][0, 0, 0], (100, 50, 25))  # round(c * 128 / 255) over black
    np.testing.assert_array_equal(by_class["grey"][0, 0, 0], (90, 90, 90))  # grey copied to R, G, B
    np.testing.assert_array_equal(by_class["grey"][1, 0, 0], (40, 40, 40))  # round(200 * 51 / 255)
    np.testing.assert_array_equal(by_class["grey16"][0, :2, :, 0], [[0, 0, 1, 4], [255, 1, 0, 0]])  # round(v/257)
    np.testing.assert_array_equal(by_class["pal"][0, 0, 0], (10, 20, 30))

    grey, _, _, grey_info = folders.read_image_folder(root, channels=1)
    luma = round((200 * 299 + 100 * 587 + 50 * 114) / 1000)  # ITU-R 601-2, 124.2
    assert grey.shape[-1] == 1 and abs(int(grey[labels == 3][0, 0, 0, 0]) - luma) <= 1
    assert digest_tree(root) == before


def test_folder_default_channels_is_one_for_greyscale_malimg_like_folders(tmp_path):
    root = make_image_folder(tmp_path / "malimg")
    save_png(root / "yuner" / "wide16.png", np.full((12, 10), 4096, np.uint16))
    dataset = data.load("folder", root)
    assert dataset.image_shape == (12, 10, 1) and dataset.class_names == ["adialer", "allaple", "yuner"]
    assert dataset.split == {"method": "stratified", "test_fraction": 0.2, "seed": 0}
    assert np.bincount(dataset.y_test).tolist() == [1, 1, 1] and len(dataset.y_train) == 13


def test_folder_skips_hidden_entries(tmp_path):
    root = make_image_folder(tmp_path / "m", per_class=2)
    (root / ".DS_Store").write_bytes(b"\0junk")
    (root / "adialer" / ".thumbs").write_bytes(b"junk")
    save_png(root / ".cache" / "x.png", np.zeros((3, 3), np.uint8))
    (root / "README.txt").write_text("not a class")
    images, labels, classes, _ = folders.read_image_folder(root)
    assert classes == ["adialer", "allaple", "yuner"] and len(images) == 6


def test_folder_mixed_sizes_need_image_size_then_bilinear_resize(tmp_path):
    root = tmp_path / "sizes"
    save_png(root / "a" / "flat.png", np.full((10, 20), 77, np.uint8))
    half = np.zeros((16, 16), np.uint8)
    half[:, 8:] = 255
    save_png(root / "b" / "half.png", half)
    with pytest.raises(DataFormatError, match=r"sizes: expected images of one size.*found 2 sizes.*--image-size"):
        folders.read_image_folder(root)
    images, labels, _, info = folders.read_image_folder(root, image_size=8)
    assert images.shape == (2, 8, 8, 1) and info["resized_to"] == [8, 8]
    assert (images[labels == 0] == 77).all()  # stretching a flat image keeps it flat
    halved = images[labels == 1][0, 0, :, 0]
    assert (halved[:3] == 0).all() and (halved[5:] == 255).all() and 0 < halved[3] < halved[4] < 255  # averaged edge


def test_folder_reports_unreadable_files_by_path(tmp_path):
    root = make_image_folder(tmp_path / "m", per_class=3)
    (root / "allaple" / "notes.txt").write_text("hello")
    truncated = save_png(tmp_path / "whole.png", RNG.integers(0, 256, (12, 10), np.uint8)).read_bytes()[:45]
    (root / "yuner" / "cut.png").write_bytes(truncated)  # header readable, pixel data missing
    before = digest_tree(root)
    with pytest.raises(DataFormatError, match=r"m: expected readable image files .* 1 unreadable file\(s\): .*notes"):
        data.load("folder", root)
    (root / "allaple" / "notes.txt").unlink()
    with pytest.raises(DataFormatError, match=r"1 unreadable file\(s\): \S*yuner/cut.png \((OSError|SyntaxError)"):
        data.load("folder", root)
    with pytest.warns(UserWarning, match="cut.png"):
        dataset = data.load("folder", root, skip_unreadable=True)
    assert len(dataset.x_train) + len(dataset.x_test) == 9 and dataset.info["skipped"] == [str(root / "yuner/cut.png")]
    before.pop(str(root / "allaple" / "notes.txt"))
    assert digest_tree(root) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_folder_lists_a_fifo_as_unreadable_without_opening_it(tmp_path):
    root = make_image_folder(tmp_path / "m", per_class=2)
    os.mkfifo(root / "yuner" / "pipe.png")  # opening it would wait forever for a writer
    with fails_instead_of_hanging(), pytest.raises(
        DataFormatError, match=r"1 unreadable file\(s\): \S*yuner/pipe.png \(a named pipe \(FIFO\), not a regular file"
    ):
        data.load("folder", root)
    with fails_instead_of_hanging(), pytest.warns(UserWarning, match="pipe.png"):
        dataset = data.load("folder", root, skip_unreadable=True)
    assert len(dataset.x_train) + len(dataset.x_test) == 6 and dataset.info["skipped"] == [str(root / "yuner/pipe.png")]


def test_folder_layout_errors(tmp_path):
    save_png(tmp_path / "one" / "only" / "a.png", np.zeros((3, 3), np.uint8))
    with pytest.raises(DataFormatError, match=r"one: expected at least 2 class subfolders.*found 1: \['only'\]"):
        data.load("folder", tmp_path / "one")
    root = make_image_folder(tmp_path / "m", per_class=2)
    (root / "empty").mkdir()
    with pytest.raises(DataFormatError, match=r"empty: expected at least one image file per class folder"):
        data.load("folder", root)
    (root / "empty").rmdir()
    save_png(root / "yuner" / "nested" / "a.png", np.zeros((3, 3), np.uint8))
    with pytest.raises(DataFormatError, match=r"yuner: expected image files directly inside.*\['nested'\]"):
        data.load("folder", root)
    with pytest.raises(DatasetNotFoundError, match="needs a path"):
        data.load("folder")


# ---------------------------------------------------------------- Keras-style npz


def test_npz_any_shape_channels_first_converted_and_labels_squeezed(tmp_path):
    planar = RNG.integers(0, 256, (5, 3, 6, 5), np.uint8)  # (N, C, H, W)
    np.savez(tmp_path / "c.npz", x_train=planar, y_train=np.arange(5).reshape(-1, 1), x_test=planar[:2],
             y_test=np.array([[1], [0]]))  # fmt: skip
    dataset = data.load("npz", tmp_path / "c.npz")
    assert dataset.image_shape == (6, 5, 3) and dataset.y_test.tolist() == [1, 0] and dataset.num_classes == 5
    assert dataset.x_train[2, 5, 1, 2] == planar[2, 2, 5, 1] and "converted" in dataset.info["layout"]


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x_train": np.zeros((2, 4, 4), np.float32)}, r"x_train as uint8 \(N, H, W\) or \(N, H, W, C\); found f"),
        ({"y_train": np.array([0, -1])}, r"labels 0..K-1 .*; found 1 negative label\(s\): -1"),
        ({"x_test": np.zeros((2, 5, 5), np.uint8)}, r"train and test images of one shape; found x_train \(4, 4\)"),
        ({"x_train": np.zeros((2, 5, 5, 7), np.uint8), "x_test": np.zeros((2, 5, 5, 7), np.uint8)},
         r"x_train as \(N, H, W\) or \(N, H, W, C\) with C in \(1, 3, 4\); found shape \(2, 5, 5, 7\)"),
    ],
)
def test_npz_bad_input(tmp_path, arrays, message):
    good = {"x_train": np.zeros((2, 4, 4), np.uint8), "y_train": np.array([0, 1]),
            "x_test": np.zeros((2, 4, 4), np.uint8), "y_test": np.array([1, 0])}  # fmt: skip
    np.savez(tmp_path / "bad.npz", **{**good, **arrays})
    with pytest.raises(DataFormatError, match=r"bad.npz: expected " + message):
        data.load("npz", tmp_path / "bad.npz")


# ---------------------------------------------------------------- the Dataset's own checks, which every loader gets


def test_dataset_names_out_of_range_labels_with_their_count_and_a_few_values():
    images = np.zeros((9, 2, 2, 1), np.uint8)
    labels = np.array([0, 12, 12, -3, 40, 41, 42, 43, 44])
    with pytest.raises(DataFormatError, match=r"^digits.npz: expected y_train as class indices 0..9 \(10 classes\); "
                                              r"found 8 label\(s\) outside that range: -3, 12, 40, 41, 42 and 2 other "
                                              r"values$"):
        data.Dataset("d", images, labels, images[:1], np.zeros(1, np.int64), CIFAR_NAMES, "digits.npz")
    with pytest.raises(DataFormatError, match=r"digits.npz: expected y_test as integers of shape \(1,\); found float"):
        data.Dataset("d", images, labels % 10, images[:1], np.zeros(1), CIFAR_NAMES, "digits.npz")


def test_dataset_names_the_file_when_train_and_test_images_differ(tmp_path):
    path = save_medmnist(tmp_path / "mixed.npz", RNG.integers(0, 256, (4, 28, 28), np.uint8), np.zeros((4, 1), int),
                         RNG.integers(0, 256, (2, 64, 64), np.uint8), np.ones((2, 1), int))  # fmt: skip
    with pytest.raises(DataFormatError, match=r"mixed.npz: expected train and test images of one shape \(H, W, C\); "
                                              r"found x_train \(28, 28, 1\) and x_test \(64, 64, 1\)"):
        data.load("medmnist", path)


# ---------------------------------------------------------------- registry options and the `datasets` command


def test_an_option_a_dataset_does_not_take_is_named(tmp_path):
    make_idx_folder(tmp_path / "fm")
    with pytest.raises(ValueError, match=r"'fashion-mnist' does not take option\(s\) \['image_size'\]; it takes none"):
        data.load("fashion-mnist", tmp_path / "fm", image_size=32)


def test_datasets_command_lists_every_dataset_and_describes_one(tmp_path):
    from click.testing import CliRunner

    from spatiallab.cli import main

    listing = CliRunner().invoke(main, ["datasets"])
    assert listing.exit_code == 0, listing.output
    for name in data.dataset_names():
        assert name in listing.output
    root = make_image_folder(tmp_path / "malimg", per_class=5, size=(6, 9))
    described = CliRunner().invoke(main, ["datasets", "folder", "--data", str(root), "--channels", "3"])
    assert described.exit_code == 0, described.output
    assert "12 train + 3 test, 6x9x3, 3 classes" in described.output and "adialer, allaple, yuner" in described.output
    missing = CliRunner().invoke(main, ["datasets", "folder"])
    assert missing.exit_code != 0 and "needs a path" in missing.output
