"""Checked downloads: stream to a temporary name beside the target, verify sha256, then rename."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path


class ChecksumError(ValueError):
    """The downloaded file's sha256 differs from the expected one (nothing was kept)."""


def download(url: str, target: str | os.PathLike, sha256: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``target`` atomically.

    The bytes go to a temporary file in the target's folder; the file is renamed to ``target`` only when its sha256
    equals ``sha256``, so an interrupted or wrong download never leaves a file under the real name.

    Raises:
        OSError / urllib.error.URLError: the network or the disk failed. ChecksumError: wrong content.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ChecksumError(f"{url}: expected sha256 {sha256}; found {digest.hexdigest()} (file discarded)")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return target
