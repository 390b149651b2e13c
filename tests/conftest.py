"""Shared fixtures: the reference data beside the checkout (skipped cleanly where absent), tiny in-memory datasets,
and a guard that keeps every test in this process off the network beyond loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


_connect = socket.socket.connect


def _loopback_only(self, address):
    """``socket.connect`` for tests: Unix sockets and loopback addresses only; anything else is refused at once."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise ConnectionRefusedError(f"tests may not reach {host}: only loopback is allowed")
    return _connect(self, address)


@pytest.fixture(autouse=True)
def no_network_beyond_loopback(monkeypatch):
    """Every test: a connection to any host but loopback fails at once (a download that would reach a real server
    fails instead of hanging or leaving the machine)."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the checkout, or a skip saying it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} is absent (full MNIST and the executable corpora; only "
                    f"this repository's development setup has it)")
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
