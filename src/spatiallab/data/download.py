"""Checked downloads: stream a URL to a temporary name beside the target, verify its published checksum, rename.

The bytes go through ``spatiallab.atomic.atomic_path``, so the real name only ever holds a complete file whose
checksum matched; whatever goes wrong, the temporary file is removed and nothing is left behind. Each failure says
which URL, which target and what was wrong:

- no connection, or an HTTP error status                           -> ``DownloadError``
- an HTML page (a login, quota or error page) served instead of the file -> ``DownloadError``
- a body shorter than its Content-Length (the connection closed early)   -> ``DownloadError``
- a server that stops sending mid-file (nothing for ``TIMEOUT_SECONDS``)  -> ``DownloadError``
- a complete body whose sha256 (or md5) is not the published one         -> ``ChecksumError``

Progress goes to stderr for files of ``PROGRESS_MIN_BYTES`` or more: a rich bar on a terminal, plain lines at every
tenth otherwise (logs and pipes).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from spatiallab.atomic import atomic_path
from spatiallab.data.errors import DatasetNotFoundError
from spatiallab.data.sources import Source

TIMEOUT_SECONDS = 30.0  # per connection attempt and per read: a server silent this long has stopped
CHUNK_BYTES = 1 << 16
PROGRESS_MIN_BYTES = 1 << 20  # smaller files take well under a second; their start line is enough
HTML_STARTS = (b"<!doctype html", b"<html")
SNIFF_BYTES = 512  # the first bytes looked at for an HTML page served in place of the file
TURNED_OFF = "downloading was turned off (download=False, --no-download)"  # the loaders' reason when offline


class DownloadError(OSError):
    """A download did not complete (no connection, an HTTP error, an HTML page, a cut-short or stalled body).

    Attributes: ``url``, ``target`` (the path nothing was saved at) and ``problem`` (what was wrong).
    """

    def __init__(self, url: str, target: Path, problem: str):
        self.url, self.target, self.problem = url, Path(target), problem
        super().__init__(f"download of {url} failed: {problem}. Nothing was saved at {target} (no partial file kept)")


class ChecksumError(ValueError):
    """A complete download whose checksum differs from the published one (the file was deleted)."""

    def __init__(self, url: str, target: Path, algorithm: str, expected: str, found: str, received: int):
        self.url, self.target = url, Path(target)
        super().__init__(
            f"{url}: expected {algorithm} {expected}; found {found} for the {received:,} bytes received. The file "
            f"was deleted (nothing saved at {target}). Try again; if it persists, the server's copy is not the "
            f"published file"
        )


def format_size(size: int | None) -> str:
    """``170498071`` -> ``"170.5 MB"`` (decimal units, as download sites and rich's progress use); None -> "?"."""
    from rich.filesize import decimal

    return "?" if size is None else decimal(size)


def _content_length(response) -> int | None:
    try:
        value = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _of(received: int, promised: int | None) -> str:
    return f"{received:,} of {promised:,} bytes" if promised is not None else f"{received:,} bytes"


class _Lines:
    """Plain progress lines at every tenth of ``total`` (every 10 MB when the total is unknown)."""

    def __init__(self, name: str, total: int | None):
        self._name, self._total, self._received, self._next = name, total, 0, 0.1 if total else 10**7

    def __call__(self, count: int) -> None:
        self._received += count
        if self._total:
            if self._received >= self._next * self._total:
                fraction = self._received / self._total
                print(f"  {self._name}: {fraction:.0%} ({format_size(self._received)} of {format_size(self._total)})",
                      file=sys.stderr, flush=True)  # fmt: skip
                self._next = int(fraction * 10 + 1) / 10
        elif self._received >= self._next:
            print(f"  {self._name}: {format_size(self._received)}", file=sys.stderr, flush=True)
            self._next += 10**7


@contextlib.contextmanager
def _progress(url: str, target: Path, total: int | None) -> Iterator[Callable[[int], None]]:
    """Announce the download on stderr, then yield ``advance(count)``: a bar on a terminal, lines otherwise."""
    from rich.console import Console

    console = Console(stderr=True)
    announce = f"downloading {url} ({format_size(total)}) to {target}"
    console.print(announce, soft_wrap=True, markup=False, highlight=False)
    if total is not None and total < PROGRESS_MIN_BYTES:
        yield lambda count: None
    elif console.is_terminal:
        from rich import progress

        columns = (progress.TextColumn(target.name), progress.BarColumn(), progress.DownloadColumn(),
                   progress.TransferSpeedColumn(), progress.TimeRemainingColumn())  # fmt: skip
        with progress.Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(target.name, total=total)
            yield lambda count: bar.advance(task, count)
    else:
        yield _Lines(target.name, total)


def _open(url: str, target: Path, timeout: float):
    try:
        return urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:
        raise DownloadError(url, target, f"the server answered HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise DownloadError(url, target, f"could not connect ({error.reason})") from None
    except (TimeoutError, http.client.HTTPException, ConnectionError) as error:
        raise DownloadError(url, target, f"no answer ({type(error).__name__}: {error})") from None


def _stream(url: str, target: Path, temporary: Path, digest, size: int | None, timeout: float):
    """Copy the body of ``url`` into ``temporary`` while hashing it; returns (bytes received, Content-Length).

    Raises ``DownloadError`` for an HTML page (by its Content-Type or its first bytes), a broken or stalled body.
    """
    received, head = 0, b""
    with _open(url, target, timeout) as response, open(temporary, "wb") as out:
        promised = _content_length(response)
        content_type = response.headers.get_content_type()
        if content_type == "text/html":
            problem = "the server sent an HTML page (Content-Type text/html) instead of the file"
            raise DownloadError(url, target, problem)
        read = getattr(response, "read1", response.read)  # read1: what has arrived, so counts stay exact
        with _progress(url, target, promised if promised is not None else size) as advance:
            while True:
                try:
                    chunk = read(CHUNK_BYTES)
                except TimeoutError:
                    problem = f"the server stopped sending after {_of(received, promised)} (nothing for {timeout:g} s)"
                    raise DownloadError(url, target, problem) from None
                except http.client.IncompleteRead as error:
                    problem = f"the body was truncated: {_of(received + len(error.partial), promised)} arrived"
                    raise DownloadError(url, target, problem) from None
                except (OSError, http.client.HTTPException) as error:
                    problem = f"the connection broke after {_of(received, promised)} ({type(error).__name__}: {error})"
                    raise DownloadError(url, target, problem) from None
                if head is not None:  # the first bytes, until they are known not to be an HTML page
                    head += chunk
                    if len(head) >= SNIFF_BYTES or not chunk:
                        if head[:SNIFF_BYTES].lstrip().lower().startswith(HTML_STARTS):
                            problem = f"the server sent an HTML page instead of the file ({head[:60]!r}...)"
                            raise DownloadError(url, target, problem)
                        head = None
                if not chunk:
                    return received, promised
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
                advance(len(chunk))


def download(
    url: str, target: str | os.PathLike, sha256: str | None = None, *, md5: str | None = None,
    size: int | None = None, timeout: float | None = None,
) -> Path:  # fmt: skip
    """Download ``url`` to ``target`` atomically, checked against its published checksum.

    Args:
        url: an http(s) or file URL.
        target: the final path; its folder is created. An existing file there is replaced only by a good download.
        sha256, md5: the published checksum (hex); sha256 is used when both are given, and one is required.
        size: the expected length in bytes, used for the progress total when the server sends no Content-Length.
        timeout: seconds to wait for the connection and for each read (default ``TIMEOUT_SECONDS``).

    Returns:
        ``target`` as a Path, holding the complete, checked file (mode 0666 less the umask).

    Raises:
        ValueError: no checksum given. DownloadError (an OSError): no connection, an HTTP error, an HTML page, a
        truncated or stalled body. ChecksumError (a ValueError): wrong content. OSError: the disk failed. In every
        case nothing is left at ``target`` or beside it.
    """
    if not (sha256 or md5):
        raise ValueError(f"{url}: a checked download needs a published sha256 or md5; got neither")
    algorithm, expected = ("sha256", sha256.lower()) if sha256 else ("md5", md5.lower())
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.new(algorithm)
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    with atomic_path(target) as temporary:
        received, promised = _stream(url, target, temporary, digest, size, timeout)
        if promised is not None and received < promised:
            problem = f"the body was truncated: {received:,} of the {promised:,} bytes its Content-Length promised"
            raise DownloadError(url, target, problem)
        if digest.hexdigest() != expected:
            raise ChecksumError(url, target, algorithm, expected, digest.hexdigest(), received)
    return target


def fetch(source: Source, folder: str | os.PathLike) -> Path:
    """Download ``source`` to ``folder / source.filename``, checked against its published checksum.

    Returns the path of the checked file. Raises as ``download`` does.
    """
    algorithm, expected = source.checksum
    size = source.size if source.size_exact else None
    return download(source.url, Path(folder) / source.filename, size=size, **{algorithm: expected})


def fetch_missing(missing: list[Source], folder: str | os.PathLike, allowed: bool, not_found: str, put: str) -> Path:
    """A loader's last resort: download ``missing`` into ``folder``, or say why not and where to put the files.

    Args:
        missing: the sources not yet in ``folder`` (each fetched with ``fetch``, one after another).
        folder: the cache folder (the owning library's, so that library finds them too).
        allowed: False forbids the network (the loader's ``download``).
        not_found: what was searched, e.g. "CIFAR-10 not found in Keras's cache (~/.keras/datasets)".
        put: where to put the files by hand and how to get them.

    Returns:
        ``folder`` as a Path, now holding every file of ``missing``.

    Raises:
        DatasetNotFoundError: ``allowed`` is False, or a download failed (the message then says how: no
        connection, an HTML page, a truncated or stalled body): "{not_found}, and {reason}. {put}".
        ChecksumError: a complete download is not the published file (nothing kept).
    """
    if not missing:
        return Path(folder)
    if allowed:
        try:
            for source in missing:
                fetch(source, folder)
            return Path(folder)
        except OSError as error:
            reason = f"the download failed ({error})"
    else:
        reason = TURNED_OFF
    raise DatasetNotFoundError(f"{not_found}, and {reason}. {put}")
