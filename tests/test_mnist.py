"""MNIST sources: the bundled sample, an explicit npz or IDX folder, Keras's cache, a checked download, offline."""

import gzip
import hashlib
import shutil

import numpy as np
import pytest

from spatiallab.data import DataFormatError, DatasetNotFoundError, load, load_mnist
from spatiallab.data import download as downloading
from spatiallab.data import mnist as mnist_module
from tests.conftest import write_idx


def test_bundled_sample_is_stratified_real_mnist(shared_data):
    sample = load("mnist-sample")
    assert sample.x_train.shape == (10000, 28, 28, 1) and sample.x_test.shape == (2000, 28, 28, 1)
    assert np.bincount(sample.y_train).tolist() == [1000] * 10
    assert np.bincount(sample.y_test).tolist() == [200] * 10
    with np.load(shared_data / "mnist.npz") as full:
        test_images = full["x_test"].reshape(10000, -1)
    # every bundled test image is one of the real test images (byte for byte)
    real = {row.tobytes() for row in test_images}
    assert all(image.tobytes() in real for image in sample.x_test.reshape(2000, -1)[:50])


@pytest.fixture
def small_npz(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": np.arange(6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "y_test": np.arange(4, dtype=np.uint8),
    }
    np.savez(tmp_path / "mnist.npz", **arrays)
    return tmp_path / "mnist.npz", arrays


def test_explicit_npz_like_keras(small_npz):
    path, arrays = small_npz
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    assert x_train.dtype == np.uint8 and x_train.shape == (6, 28, 28) and y_test.shape == (4,)
    np.testing.assert_array_equal(x_test, arrays["x_test"])


def test_idx_folder_gzipped_and_raw(tmp_path, shared_data):
    folder = tmp_path / "idx"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(shared_data / "mnist-idx" / name, folder / name)
    with np.load(shared_data / "mnist.npz") as full:
        write_idx(folder / "train-images-idx3-ubyte", full["x_train"][:100])  # raw, not gzipped
        write_idx(folder / "train-labels-idx1-ubyte", full["y_train"][:100])
        (x_train, y_train), (x_test, y_test) = load_mnist(folder)
        np.testing.assert_array_equal(x_test, full["x_test"])
        np.testing.assert_array_equal(y_test, full["y_test"])
    assert x_train.shape == (100, 28, 28) and y_train.dtype == np.uint8


def test_idx_folder_label_count_mismatch(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(gzip.compress(b"<html>error</html>"))
    with pytest.raises(DataFormatError, match="t10k-labels-idx1-ubyte: expected an IDX magic"):
        load_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(DataFormatError, match=r"train-labels-idx1-ubyte: expected 5 labels .* found 4 labels"):
        load_mnist(tmp_path)


def test_npz_with_wrong_keys_names_them(tmp_path):
    np.savez(tmp_path / "mnist.npz", a=np.zeros(1), b=np.zeros(1))
    with pytest.raises(DataFormatError, match=r"mnist.npz: expected keys .* found keys \['a', 'b'\]"):
        load_mnist(tmp_path / "mnist.npz")
    (tmp_path / "page.npz").write_text("<html>404</html>")
    with pytest.raises(DataFormatError, match="page.npz: expected a NumPy .npz archive"):
        load_mnist(tmp_path / "page.npz")


def test_keras_cache_used(tmp_path, monkeypatch, small_npz):
    path, arrays = small_npz
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    (tmp_path / "kh" / "datasets").mkdir(parents=True)
    shutil.copy(path, tmp_path / "kh" / "datasets" / "mnist.npz")
    (x_train, _), _ = load_mnist(download=False)
    np.testing.assert_array_equal(x_train, arrays["x_train"])


def test_download_checked_and_atomic(tmp_path, monkeypatch, small_npz):
    path, arrays = small_npz
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(mnist_module, "KERAS_URL", path.as_uri())  # a local file:// "server": no network
    monkeypatch.setattr(mnist_module, "KERAS_SHA256", "0" * 64)
    with pytest.raises(ValueError, match="expected sha256 0000"):
        load_mnist()
    folder = tmp_path / "kh" / "datasets"
    assert list(folder.iterdir()) == []  # nothing half-written or kept under the real name
    # atomic: an earlier file at the real name is untouched by a failed download (a download written in place, then
    # deleted when its checksum fails, would have replaced it), and nothing is left beside it
    earlier = folder / "mnist.npz"
    earlier.write_bytes(b"an earlier file")
    with pytest.raises(ValueError, match="expected sha256 0000"):
        downloading.download(path.as_uri(), earlier, "0" * 64)
    assert earlier.read_bytes() == b"an earlier file" and list(folder.iterdir()) == [earlier]
    earlier.unlink()
    monkeypatch.setattr(mnist_module, "KERAS_SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    (x_train, _), _ = load_mnist()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert [p.name for p in folder.iterdir()] == ["mnist.npz"]


def test_offline_message_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(mnist_module, "KERAS_URL", (tmp_path / "missing.npz").as_uri())
    with pytest.raises(DatasetNotFoundError) as error:
        load_mnist()
    message = str(error.value)
    assert str(tmp_path / "kh" / "datasets" / "mnist.npz") in message
    assert "--data" in message and "bundled sample" in message
