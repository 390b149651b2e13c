"""The one error type every loader raises for bad input files."""

from __future__ import annotations

import os


class DataFormatError(ValueError):
    """A data file or folder is not what the loader expected.

    The message always names the file, what was expected and what was found, e.g.
    ``mnist.npz: expected key 'x_train' (uint8, N x 28 x 28); found keys ['a', 'b']``.
    """

    def __init__(self, path: str | os.PathLike | None, expected: str, found: str, hint: str = ""):
        self.path = None if path is None else os.fspath(path)
        self.expected = expected
        self.found = found
        where = f"{self.path}: " if self.path is not None else ""
        message = f"{where}expected {expected}; found {found}"
        if hint:
            message += f". {hint}"
        super().__init__(message)


class DatasetNotFoundError(FileNotFoundError):
    """No copy of a dataset could be found (or downloaded); the message says where to put one."""
