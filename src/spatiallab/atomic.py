"""Atomic file writes: to a temporary name beside the target, then ``os.replace`` (atomic on one filesystem)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it is renamed onto ``path``, else removed.

    A reader never sees a half-written file, and an earlier file at ``path`` survives a failed write. The file is
    created by a plain ``open``, so it gets the usual permissions (0666 less the umask).
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
