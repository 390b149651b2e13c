"""Checked downloads of CIFAR-10, Fashion-MNIST and MedMNIST, served from a loopback HTTP server.

No test contacts a real host: the URL table in ``spatiallab.data.sources`` is pointed at a server on 127.0.0.1 that
serves archives built here (with the builders of ``tests/test_datasets.py``), and the caches (``$HOME``,
``$KERAS_HOME``) are temporary folders. The table itself is checked against the libraries it was taken from:
Keras's installed sources always, torchvision and medmnist when importable (a vendored copy of medmnist's INFO
otherwise).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import importlib.util
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from spatiallab import data
from spatiallab.data import cifar, fashion, sources
from spatiallab.data import download as downloading
from spatiallab.data.errors import DatasetNotFoundError
from tests.test_datasets import (
    RNG, expected_cifar_images, make_cifar_folder, make_cifar_tar, make_idx_folder, save_medmnist,
)  # fmt: skip

VENDORED_MEDMNIST = Path(__file__).with_name("medmnist_info_3.0.2.json")
HTML_PAGE = b"<!DOCTYPE html>\n<html><body><h1>Download quota exceeded</h1></body></html>\n"


# ---------------------------------------------------------------- a loopback server with misbehaviours on request


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.routes[path] = (behaviour, body)``; records every path asked for in ``server.requests``.

    Behaviours: "ok"; "html" (an HTML page with Content-Type text/html); "html-as-binary" (the same page labelled
    application/octet-stream); "truncated" (half the body, then the connection closes, Content-Length promising
    all); "stall" (half the body, then silence until the test ends). Unknown paths get a 404.
    """

    def do_GET(self):
        self.server.requests.append(self.path)
        behaviour, body = self.server.routes.get(self.path, (None, b""))
        if behaviour is None:
            self.send_error(404, "Not Found")
            return
        if behaviour.startswith("html"):
            body = HTML_PAGE
        self.send_response(200)
        content_type = "text/html; charset=utf-8" if behaviour == "html" else "application/octet-stream"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if behaviour in ("truncated", "stall"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if behaviour == "stall":
                self.server.release.wait(20)
            return  # HTTP/1.0: the connection closes here, short of Content-Length
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.routes, httpd.requests, httpd.release = {}, [], threading.Event()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """Empty temporary caches: $HOME (so ~/.medmnist), $KERAS_HOME, and no Debian Fashion-MNIST package."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(fashion, "DEBIAN_FOLDER", tmp_path / "no-debian-package")
    monkeypatch.setattr(downloading, "TIMEOUT_SECONDS", 0.5)  # the stalled server is given up on quickly
    return tmp_path


def files_under(folder: Path) -> list[str]:
    """Every file under ``folder`` (hidden temporaries included), as sorted relative paths."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def served(server, name: str, body: bytes, behaviour: str = "ok") -> str:
    server.routes[f"/{name}"] = (behaviour, body)
    return f"{server.url}/{name}"


# ---------------------------------------------------------------- one tiny copy per dataset, served


@dataclasses.dataclass
class Case:
    """A dataset served from the loopback server: how to load it, where its cache is, what it should hold."""

    name: str
    options: dict
    cache: Path
    expected: dict  # the "x_test" and "y_test" arrays it should load
    files: list[str]  # the cache's files after a good download


def serve_cifar(server, monkeypatch, root: Path, behaviour: str = "ok", checksum: str | None = None) -> Case:
    batches = make_cifar_folder(root / "built" / cifar.FOLDER_NAME)
    body = make_cifar_tar(root / "built" / "cifar-10-python.tar.gz", root / "built" / cifar.FOLDER_NAME).read_bytes()
    url = served(server, "cifar-10-python.tar.gz", body, behaviour)
    sha256 = checksum or hashlib.sha256(body).hexdigest()
    monkeypatch.setattr(sources, "CIFAR10", dataclasses.replace(sources.CIFAR10, url=url, sha256=sha256, md5=None))
    test_batch = batches[cifar.TEST_FILE]
    expected = {"x_test": expected_cifar_images(test_batch[b"data"]), "y_test": np.asarray(test_batch[b"labels"])}
    return Case("cifar10", {}, root / "keras" / "datasets", expected, [sources.CIFAR10.filename])


def serve_fashion(server, monkeypatch, root: Path, behaviour: str = "ok", checksum: str | None = None) -> Case:
    arrays = make_idx_folder(root / "built")
    table = []
    for source in sources.FASHION_MNIST:
        body = (root / "built" / source.filename).read_bytes()
        url = served(server, source.filename, body, behaviour)
        table.append(dataclasses.replace(source, url=url, sha256=checksum or hashlib.sha256(body).hexdigest()))
    monkeypatch.setattr(sources, "FASHION_MNIST", tuple(table))
    expected = {"x_test": arrays["t10k-images-idx3-ubyte"][..., None], "y_test": arrays["t10k-labels-idx1-ubyte"]}
    return Case("fashion-mnist", {}, root / "keras" / "datasets" / "fashion-mnist", expected,
                sorted(source.filename for source in table))  # fmt: skip


def serve_medmnist(server, monkeypatch, root: Path, behaviour: str = "ok", checksum: str | None = None) -> Case:
    images = RNG.integers(0, 256, (8, 64, 64, 3), np.uint8)
    labels = (np.arange(8) % 4).reshape(-1, 1).astype(np.uint8)
    body = save_medmnist(root / "pathmnist_64.npz", images, labels).read_bytes()
    url = served(server, "pathmnist_64.npz?download=1", body, behaviour)
    md5 = checksum or hashlib.md5(body).hexdigest()  # md5: all medmnist publishes
    entry = dataclasses.replace(sources.MEDMNIST[("pathmnist", 64)], url=url, md5=md5)
    monkeypatch.setitem(sources.MEDMNIST, ("pathmnist", 64), entry)
    return Case("medmnist", {"flag": "pathmnist", "image_size": 64}, root / "home" / ".medmnist",
                {"x_test": images, "y_test": labels[:, 0]}, ["pathmnist_64.npz"])  # fmt: skip


SERVE = {"cifar10": serve_cifar, "fashion-mnist": serve_fashion, "medmnist": serve_medmnist}


@pytest.mark.parametrize("name", SERVE)
def test_a_good_download_lands_in_the_cache_and_loads(name, server, caches, monkeypatch, capfd):
    case = SERVE[name](server, monkeypatch, caches)
    dataset = data.load(case.name, **case.options)
    np.testing.assert_array_equal(dataset.x_test, case.expected["x_test"])
    np.testing.assert_array_equal(dataset.y_test, case.expected["y_test"])
    assert files_under(case.cache) == case.files  # under the owning library's names, no temporaries left
    for filename in case.files:
        assert (case.cache / filename).stat().st_mode & 0o777 == 0o666 & ~current_umask()  # not mkstemp's 0600
    assert data.get_entry(case.name).downloads() == []
    assert f"downloading {server.url}" in capfd.readouterr().err
    requests = len(server.requests)
    data.load(case.name, **case.options)  # the second load reads the cache: no request
    assert len(server.requests) == requests


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FAILURES = {
    "truncated": ("truncated", None, DatasetNotFoundError, r"the body was truncated: [\d,]+ of the [\d,]+ bytes"),
    "wrong checksum": ("ok", "0", ValueError, r"expected (sha256|md5) 0+; found [0-9a-f]+ for the [\d,]+ bytes"),
    "html page": ("html", None, DatasetNotFoundError, r"an HTML page \(Content-Type text/html\) instead of the file"),
    "html labelled binary": ("html-as-binary", None, DatasetNotFoundError, r"an HTML page instead of the file"),
    "stops mid-file": ("stall", None, DatasetNotFoundError, r"stopped sending after [\d,]+ of [\d,]+ bytes"),
}


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("name", SERVE)
def test_a_bad_download_leaves_nothing_and_names_url_and_problem(name, failure, server, caches, monkeypatch):
    behaviour, checksum_digit, error_type, problem = FAILURES[failure]
    checksum = None if checksum_digit is None else "0" * (32 if name == "medmnist" else 64)
    case = SERVE[name](server, monkeypatch, caches, behaviour, checksum)
    with pytest.raises(error_type, match=problem) as raised:
        data.load(case.name, **case.options)
    message = str(raised.value)
    assert server.url in message and str(case.cache) in message  # the URL and where nothing was saved
    assert files_under(caches / "keras") == [] and files_under(caches / "home") == []
    if error_type is DatasetNotFoundError:  # still offline-style advice: where to put the file
        assert "Put " in message


# ---------------------------------------------------------------- download=False, partial caches, the function itself


@pytest.mark.parametrize("name", SERVE)
def test_download_false_forbids_the_network_and_says_where_to_put_the_file(name, server, caches, monkeypatch):
    case = SERVE[name](server, monkeypatch, caches)
    with pytest.raises(DatasetNotFoundError, match="downloading was turned off") as raised:
        data.load(case.name, download=False, **case.options)
    assert str(case.cache) in str(raised.value) and "Put " in str(raised.value)
    assert server.requests == []
    assert files_under(caches / "keras") == [] and files_under(caches / "home") == []


def test_download_false_is_accepted_by_datasets_that_never_download(tmp_path):
    np.savez(tmp_path / "k.npz", x_train=np.zeros((4, 5, 5), np.uint8), y_train=np.arange(4) % 2,
             x_test=np.zeros((2, 5, 5), np.uint8), y_test=np.arange(2))  # fmt: skip
    assert data.load("npz", tmp_path / "k.npz", download=False).x_train.shape == (4, 5, 5, 1)


def test_fashion_downloads_only_the_files_missing_from_keras_cache(server, caches, monkeypatch):
    case = serve_fashion(server, monkeypatch, caches)
    case.cache.mkdir(parents=True)
    for present in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (case.cache / present).write_bytes((caches / "built" / present).read_bytes())
    assert [source.filename for source in data.get_entry("fashion-mnist").downloads()] == [
        "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    data.load("fashion-mnist")
    assert sorted(server.requests) == ["/t10k-images-idx3-ubyte.gz", "/train-labels-idx1-ubyte.gz"]
    assert files_under(case.cache) == case.files


def test_cifar_archive_fetched_by_keras_3_is_found_without_a_download(server, caches, monkeypatch):
    case = serve_cifar(server, monkeypatch, caches)
    case.cache.mkdir(parents=True)
    archive = (caches / "built" / "cifar-10-python.tar.gz").read_bytes()
    (case.cache / "cifar-10-batches-py-target_archive").write_bytes(archive)
    assert cifar.locate() == str(case.cache / "cifar-10-batches-py-target_archive")
    np.testing.assert_array_equal(data.load("cifar10").y_test, case.expected["y_test"])
    assert server.requests == []


def test_medmnist_options_are_checked_before_any_download(tmp_path, caches):
    with pytest.raises(ValueError, match=r"expected one of pathmnist, .*found 'chestmnist' \(multi-label"):
        data.load("medmnist", flag="chestmnist")
    with pytest.raises(ValueError, match=r"found 'organmnist3d' \(3-D volumes"):
        data.load("medmnist", flag="organmnist3d")
    with pytest.raises(ValueError, match=r"expected one of \(28, 64, 128, 224\) \(published sizes\); found 32"):
        data.load("medmnist", flag="pathmnist", image_size=32)
    with pytest.raises(ValueError, match="expected a flag too"):
        data.load("medmnist", image_size=64)
    with pytest.raises(ValueError, match="expected either a path or a flag"):
        data.load("medmnist", tmp_path / "x.npz", flag="pathmnist")
    with pytest.raises(DatasetNotFoundError, match=r"no \.npz in .*name a flag to download"):
        data.load("medmnist")


def test_http_errors_and_refused_connections_name_the_url(server, tmp_path):
    target = tmp_path / "out" / "file.bin"
    with pytest.raises(downloading.DownloadError, match=rf"{server.url}/absent failed: the server answered HTTP 404"):
        downloading.download(f"{server.url}/absent", target, "0" * 64)
    closed = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    port = closed.server_address[1]
    closed.server_close()
    with pytest.raises(downloading.DownloadError, match=r"could not connect \(.*refused"):
        downloading.download(f"http://127.0.0.1:{port}/x", target, "0" * 64)
    with pytest.raises(ValueError, match="needs a published sha256 or md5"):
        downloading.download(f"{server.url}/x", target)
    assert files_under(tmp_path) == []


def test_progress_lines_when_not_a_terminal(server, tmp_path, monkeypatch, capfd):
    body = bytes(range(256)) * 4000  # 1,024,000 bytes
    url = served(server, "big.bin", body)
    monkeypatch.setattr(downloading, "PROGRESS_MIN_BYTES", 1000)
    path = downloading.download(url, tmp_path / "big.bin", md5=hashlib.md5(body).hexdigest())
    assert path.read_bytes() == body
    lines = capfd.readouterr().err.splitlines()
    assert lines[0] == f"downloading {url} (1.0 MB) to {tmp_path / 'big.bin'}"
    assert lines[-1] == "  big.bin: 100% (1.0 MB of 1.0 MB)" and 5 <= len(lines) <= 12  # about one per tenth


# ---------------------------------------------------------------- the `datasets` command


def test_datasets_command_shows_what_would_be_downloaded_then_where_it_is(server, caches, monkeypatch):
    from click.testing import CliRunner

    from spatiallab.cli import main

    case = serve_cifar(server, monkeypatch, caches)
    runner = CliRunner()
    monkeypatch.setenv("COLUMNS", "400")
    listing = runner.invoke(main, ["datasets"])
    assert listing.exit_code == 0, listing.output
    cifar_row = next(line for line in listing.output.splitlines() if "cifar10" in line)
    assert "first use downloads" in cifar_row and "127.0.0.1" in cifar_row
    fashion_row = next(line for line in listing.output.splitlines() if "fashion-mnist" in line)
    assert "first use downloads 30.9 MB from fashion-mnist.s3-website.eu-central-1.amazonaws.com" in fashion_row
    offline = runner.invoke(main, ["datasets", "--no-download"])
    assert "not found (downloading is off; 30.9 MB from fashion-mnist.s3" in offline.output
    refused = runner.invoke(main, ["datasets", "cifar10", "--no-download"])
    assert refused.exit_code != 0 and "downloading was turned off" in refused.output and server.requests == []
    described = runner.invoke(main, ["datasets", "cifar10"])
    assert described.exit_code == 0, described.output
    assert "20 train + 4 test, 32x32x3, 10 classes" in described.output
    listing = runner.invoke(main, ["datasets"])
    cifar_row = next(line for line in listing.output.splitlines() if "cifar10" in line)
    size = (case.cache / sources.CIFAR10.filename).stat().st_size
    assert (f"cifar-10-python.tar.gz (cached as {case.cache / sources.CIFAR10.filename}) "
            f"({downloading.format_size(size)})") in cifar_row


def test_datasets_command_downloads_a_medmnist_flag(server, caches, monkeypatch):
    from click.testing import CliRunner

    from spatiallab.cli import main

    serve_medmnist(server, monkeypatch, caches)
    result = CliRunner().invoke(main, ["datasets", "medmnist", "--medmnist-flag", "pathmnist", "--image-size", "64"])
    assert result.exit_code == 0, result.output
    assert "pathmnist_64.npz" in result.output and "8 train + 8 test, 64x64x3, 4 classes" in result.output


# ---------------------------------------------------------------- the URL table against the libraries it came from


def library_source(module: str) -> str:
    """The text of an installed module's file, found without importing it (Keras would import TensorFlow)."""
    spec = importlib.util.find_spec(module.split(".")[0])
    if spec is None or spec.origin is None:
        pytest.skip(f"{module.split('.')[0]} is not installed")
    path = Path(spec.origin).parent.joinpath(*module.split(".")[1:]).with_suffix(".py")
    return path.read_text()


def test_table_matches_keras_sources():
    mnist = library_source("keras.src.datasets.mnist")
    assert sources.MNIST.url.rsplit("/", 1)[0] in mnist and sources.MNIST.sha256 in mnist
    cifar10 = library_source("keras.src.datasets.cifar10")
    assert f'origin = "{sources.CIFAR10.url}"' in cifar10 and sources.CIFAR10.sha256 in cifar10
    assert 'dirname = "cifar-10-batches-py-target"' in cifar10
    # get_file(fname=..., extract=True) keeps the download as f"{fname}_archive": the name our download writes
    assert 'f"{fname}_archive"' in library_source("keras.src.utils.file_utils")
    assert sources.CIFAR10.filename == "cifar-10-batches-py-target_archive"
    fashion_mnist = library_source("keras.src.datasets.fashion_mnist")
    assert 'os.path.join("datasets", "fashion-mnist")' in fashion_mnist
    assert all(f'"{source.filename}"' in fashion_mnist for source in sources.FASHION_MNIST)


def test_table_matches_torchvision():
    torchvision_datasets = pytest.importorskip("torchvision.datasets", reason="torchvision is not installed")
    assert torchvision_datasets.CIFAR10.url == sources.CIFAR10.url
    assert torchvision_datasets.CIFAR10.tgz_md5 == sources.CIFAR10.md5
    mirror = torchvision_datasets.FashionMNIST.mirrors[0]
    published = {mirror + name: md5 for name, md5 in torchvision_datasets.FashionMNIST.resources}
    assert published == {source.url: source.md5 for source in sources.FASHION_MNIST}


def check_medmnist_table(info: dict) -> None:
    two_d = {flag for flag in info if not flag.endswith("3d")}
    assert set(sources.MEDMNIST_FLAGS) == two_d - set(sources.MEDMNIST_NOT_SUPPORTED)
    for (flag, size), source in sources.MEDMNIST.items():
        suffix = "" if size == 28 else f"_{size}"
        assert (source.url, source.md5) == (info[flag][f"url{suffix}"], info[flag][f"MD5{suffix}"]), (flag, size)
        images = sum(info[flag]["n_samples"].values())
        assert source.size == images * (size * size * info[flag]["n_channels"] + 8) and not source.size_exact
        assert sources.MEDMNIST_LICENCES[flag] == info[flag]["license"]


def test_table_matches_vendored_medmnist_info():
    check_medmnist_table(json.loads(VENDORED_MEDMNIST.read_text())["INFO"])


def test_table_matches_installed_medmnist(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # importing medmnist.info creates ~/.medmnist
    info = pytest.importorskip("medmnist.info", reason="medmnist is not installed")
    if info.__version__ != "3.0.2":
        pytest.skip(f"medmnist {info.__version__} installed; the table is from 3.0.2 (see the vendored test)")
    check_medmnist_table(info.INFO)
