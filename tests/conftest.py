"""Shared fixtures: the workplace's reference data (skipped cleanly where absent) and tiny in-memory datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the checkout, or a skip saying it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def tiny_mnist():
    """300 train + 100 test images of the bundled sample (a real MNIST subset) as a Dataset."""
    from spatiallab import data

    return data.load("mnist-sample").subset(300, 100)


def write_idx(path: Path, array: np.ndarray, type_code: int = 0x08) -> Path:
    """Write ``array`` as an IDX file (big-endian header), the test's own independent writer."""
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(array.dtype.newbyteorder(">")).tobytes())
    return path
