"""The IDX reader on the real MNIST files and on corrupt variants built here."""

import gzip

import numpy as np
import pytest

from spatiallab.data import DataFormatError, read_idx
from tests.conftest import write_idx


def test_real_test_images(shared_data):
    images = read_idx(shared_data / "mnist-idx" / "t10k-images-idx3-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert images.mean() == pytest.approx(33.7912, abs=1e-4)  # stated in shared/data/README.md


def test_real_labels_match_npz(shared_data):
    labels = read_idx(shared_data / "mnist-idx" / "train-labels-idx1-ubyte.gz")
    with np.load(shared_data / "mnist.npz") as archive:
        np.testing.assert_array_equal(labels, archive["y_train"])
    assert np.bincount(labels)[:3].tolist() == [5923, 6742, 5958]


def test_gzip_recognised_by_signature_not_name(tmp_path, shared_data):
    raw = gzip.decompress((shared_data / "mnist-idx" / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "labels.gz").write_bytes(raw)  # raw bytes under a .gz name
    (tmp_path / "labels.bin").write_bytes(gzip.compress(raw))  # gzip under a plain name
    np.testing.assert_array_equal(read_idx(tmp_path / "labels.gz"), read_idx(tmp_path / "labels.bin"))
    assert read_idx(tmp_path / "labels.bin").shape == (10000,)


def test_other_types_big_endian(tmp_path):
    values = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    result = read_idx(write_idx(tmp_path / "ints.idx", values, type_code=0x0C))
    np.testing.assert_array_equal(result, values)
    floats = np.linspace(0, 1, 5, dtype=np.float32)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "f.idx", floats, type_code=0x0D)), floats)


@pytest.mark.parametrize(
    "content, found",
    [
        (b"", "0 bytes"),
        (b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "HTML page"),
        (bytes([0, 0, 0x08, 3]) + (10).to_bytes(4, "big"), "found 8 bytes in all"),
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), "first bytes 00 00 07 01"),
    ],
)
def test_corrupt_files_name_file_expected_and_found(tmp_path, content, found):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataFormatError) as error:
        read_idx(path)
    message = str(error.value)
    assert str(path) in message and "expected" in message and found in message


def test_truncated_and_trailing(tmp_path):
    good = write_idx(tmp_path / "good", np.zeros((4, 2, 2), np.uint8)).read_bytes()
    (tmp_path / "short").write_bytes(good[:-3])
    (tmp_path / "long").write_bytes(good + b"\0")
    with pytest.raises(DataFormatError, match=r"expected 32 bytes .* found 29 bytes: the file is truncated"):
        read_idx(tmp_path / "short")
    with pytest.raises(DataFormatError, match="trailing bytes"):
        read_idx(tmp_path / "long")


def test_truncated_gzip(tmp_path, shared_data):
    raw = (shared_data / "mnist-idx" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFormatError, match="cut.gz: expected a complete gzip stream"):
        read_idx(tmp_path / "cut.gz")
