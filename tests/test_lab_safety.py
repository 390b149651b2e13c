"""The lab's safety against its visitors: uploads deleted once used, no route serving a file outside the lab's own
folders (asked of a real server on 127.0.0.1), and drawing-pad values read right in every shape Gradio sends."""

from __future__ import annotations

import http.client
import shutil
import signal
import types
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatiallab.web import predict
from tests.labserver import start_lab

SECRET = b"outside the served folders"

# ------------------------------------------------------------------------------------------------ a real lab server


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`spatiallab lab` without a run on a free loopback port, started in a folder holding a Gradio examples cache
    (as another Gradio app would leave), with TMPDIR pointed here so its private upload folder can be found."""
    pytest.importorskip("gradio", reason="the lab needs gradio: pip install 'spatiallab[lab]'")
    base = tmp_path_factory.mktemp("lab")
    folders = {name: base / name for name in ("tmp", "cwd", "runs")}
    for folder in folders.values():
        folder.mkdir()
    outside = base / "outside.txt"
    outside.write_bytes(SECRET)
    examples = folders["cwd"] / ".gradio" / "cached_examples" / "1"
    examples.mkdir(parents=True)
    (examples / "secret.txt").write_bytes(SECRET)
    process, url, port = start_lab(["--runs", str(folders["runs"])], cwd=folders["cwd"],
                                   environment={"TMPDIR": str(folders["tmp"])})
    (upload_root,) = folders["tmp"].glob("spatiallab-lab-uploads-*")
    (upload_root / "link-to-file").symlink_to(outside)  # links a visitor cannot make, but a bug might
    (upload_root / "link-to-folder").symlink_to(base, target_is_directory=True)
    yield types.SimpleNamespace(url=url, port=port, root=upload_root, base=base, outside=outside)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert f"Lab: {url}" in output and not upload_root.exists()


def _get(served, raw_path: str) -> tuple[int, bytes]:
    """GET ``raw_path`` exactly as written (no client-side normalisation of dots or escapes)."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        connection.request("GET", raw_path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _traversals(served) -> dict[str, str]:
    root, outside = str(served.root), str(served.outside)
    up_to_base = f"{root}/../../outside.txt"  # root is base/tmp/spatiallab-lab-uploads-*
    return {
        "absolute path": f"/gradio_api/file={outside}",
        "absolute /etc/passwd": "/gradio_api/file=/etc/passwd",
        "without the API prefix": f"/file={outside}",
        "without the API prefix, relative": "/file=../../../../../../etc/passwd",
        "deprecated /file/ route": f"/gradio_api/file/{outside}",
        "relative to the server's folder": "/gradio_api/file=../outside.txt",
        "dot segments out of the upload folder": f"/gradio_api/file={up_to_base}",
        "all of it URL-encoded": "/gradio_api/file=" + urllib.parse.quote(up_to_base, safe=""),
        "%2e%2e%2f": "/gradio_api/file=" + f"{root}/%2e%2e%2f%2e%2e%2foutside.txt",
        "%2e%2e%2f relative": "/gradio_api/file=%2e%2e%2foutside.txt",
        "double-encoded": "/gradio_api/file=" + f"{root}/%252e%252e%252f%252e%252e%252foutside.txt",
        "backslashes": "/gradio_api/file=" + f"{root}\\..\\..\\outside.txt",
        "NUL before a safe suffix": f"/gradio_api/file={outside}%00.png",
        "symlink to a file, in the upload folder": f"/gradio_api/file={root}/link-to-file",
        "symlink to a folder, in the upload folder": f"/gradio_api/file={root}/link-to-folder/outside.txt",
        "Gradio's examples cache under the current folder": "/gradio_api/file=.gradio/cached_examples/1/secret.txt",
        "the same, absolute": f"/gradio_api/file={served.base}/cwd/.gradio/cached_examples/1/secret.txt",
        "/static/ with encoded dots": "/static/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/assets/ with encoded dots": "/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/svelte/ with encoded dots": "/svelte/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "root with encoded dots": "/..%2f..%2f..%2f..%2fetc%2fpasswd",
    }


TRAVERSALS = list(_traversals(types.SimpleNamespace(root="R", outside="O", base="B")))


@pytest.mark.parametrize("name", TRAVERSALS)
def test_no_route_serves_a_file_outside_the_served_folders(served, name):
    status, body = _get(served, _traversals(served)[name])
    assert status in (400, 403, 404), f"{name}: HTTP {status}"
    assert SECRET not in body and b"root:" not in body


def test_the_file_route_does_serve_the_lab_s_own_folder(served):
    """The control for the refusals above: a file inside the upload folder is served."""
    inside = served.root / "inside" / "served.txt"
    inside.parent.mkdir()
    inside.write_bytes(b"served")
    try:
        assert _get(served, f"/gradio_api/file={inside}") == (200, b"served")
    finally:
        shutil.rmtree(inside.parent)


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("endpoint", ["/classify_upload", "/draw"])  # the Try-it and Binaries tabs
def test_uploads_are_deleted_once_used(served, tmp_path, monkeypatch, endpoint):
    from gradio_client import Client, handle_file

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")  # the client's telemetry: its argument alone is ignored
    upload = tmp_path / "digit-upload.png"
    Image.fromarray(_digit_mask().astype(np.uint8) * 255).save(upload)
    before = _files(served.root)
    client = Client(served.url, verbose=False, analytics_enabled=False)
    arguments = (handle_file(str(upload)),) + (("mnist-sample", True) if endpoint == "/classify_upload" else ())
    client.predict(*arguments, api_name=endpoint)
    left = {name: data for name, data in _files(served.root).items() if name not in before}
    assert not [name for name, data in left.items() if name.endswith(upload.name) or data == upload.read_bytes()]


# -------------------------------------------------------------------------------------------- the drawing pad's value


def _digit_mask(size: int = 280) -> np.ndarray:
    """A '7' as a bool (size, size) mask: a bar across the top and a stroke down the middle."""
    mask = np.zeros((size, size), bool)
    mask[60:90, 70:210] = True
    mask[60:230, 150:180] = True
    return mask


def _rgba(mask: np.ndarray, ink: int, paper: int | None) -> Image.Image:
    """Strokes of grey ``ink`` on ``paper`` (opaque), or on a clear canvas when ``paper`` is None."""
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    if paper is not None:
        rgba[...] = (paper, paper, paper, 255)
    rgba[mask] = (ink, ink, ink, 255)
    return Image.fromarray(rgba, "RGBA")


def _model_input(value) -> np.ndarray:
    return predict.to_model_input(predict.drawing_image(value), (28, 28, 1))["image"]


@pytest.fixture(scope="module")
def expected():
    """What the white-on-black digit becomes: the reference every way of sending it must match."""
    return predict.to_model_input(Image.fromarray(_digit_mask().astype(np.uint8) * 255), (28, 28, 1))["image"]


def test_gradio_6_sketchpad_value_white_strokes_on_black(expected):
    mask = _digit_mask()
    value = {"background": _rgba(np.zeros_like(mask), 0, 0), "layers": [_rgba(mask, 255, None)],
             "composite": _rgba(mask, 255, 0)}  # fmt: skip
    np.testing.assert_array_equal(_model_input(value), expected)


def test_value_without_a_composite_is_flattened_from_its_layers(expected):
    mask = _digit_mask()
    top, stroke = mask.copy(), mask.copy()
    top[90:] = False  # the bar on one layer, the stroke on another
    stroke[:90] = False
    black = np.zeros((280, 280, 3), np.uint8)
    value = {"background": black, "layers": [_rgba(top, 255, None), _rgba(stroke, 255, None)], "composite": None}
    np.testing.assert_array_equal(_model_input(value), expected)


@pytest.mark.parametrize("ink", [0, 255, 128], ids=["black", "white", "grey"])
def test_strokes_on_a_clear_layer_are_ink_whatever_their_colour(expected, ink):
    mask = _digit_mask()
    value = {"background": None, "layers": [_rgba(mask, ink, None)], "composite": _rgba(mask, ink, None)}
    np.testing.assert_array_equal(_model_input(value), expected)


def test_black_on_white_is_inverted(expected):
    mask = _digit_mask()
    flattened = _rgba(mask, 0, 255).convert("RGB")  # Gradio flattens a non-RGBA pad's composite onto white
    result = predict.to_model_input(predict.drawing_image({"background": None, "layers": [], "composite": flattened}),
                                    (28, 28, 1))  # fmt: skip
    assert result["inverted"]
    np.testing.assert_array_equal(result["image"], expected)


def test_numpy_and_filepath_values_read_the_same(expected, tmp_path):
    mask = _digit_mask()
    path = tmp_path / "composite.png"
    _rgba(mask, 0, None).save(path)
    np.testing.assert_array_equal(_model_input({"composite": np.asarray(_rgba(mask, 255, 0))}), expected)
    np.testing.assert_array_equal(_model_input({"composite": str(path), "layers": []}), expected)
    np.testing.assert_array_equal(_model_input(_rgba(mask, 255, 0)), expected)  # a plain image, not a dict


@pytest.mark.parametrize("value", [
    {"background": np.zeros((280, 280, 3), np.uint8), "layers": [], "composite": None},  # the pad as the page starts
    {"background": None, "layers": [_rgba(np.zeros((280, 280), bool), 0, None)], "composite": None},
    {"background": None, "layers": [], "composite": _rgba(np.zeros((280, 280), bool), 0, None)},  # all clear
    {"background": None, "layers": [], "composite": _rgba(np.zeros((280, 280), bool), 0, 255)},  # all white
], ids=["black background only", "clear layer only", "clear composite", "white composite"])  # fmt: skip
def test_an_empty_canvas_is_blank(value):
    with pytest.raises(predict.BlankImageError):
        _model_input(value)


def test_nothing_at_all_is_no_drawing():
    assert predict.drawing_image(None) is None
    assert predict.drawing_image({"background": None, "layers": [], "composite": None}) is None
    with pytest.raises(ValueError, match="got dict"):
        predict.drawing_image({"composite": {"path": "x.png"}})


def test_read_upload_reads_then_deletes_only_inside_the_upload_folder(tmp_path):
    root = tmp_path / "uploads"
    (root / "abc").mkdir(parents=True)
    upload = root / "abc" / "digit.png"
    _rgba(_digit_mask(), 255, 0).save(upload)
    image = predict.read_upload(upload, root)
    assert image.size == (280, 280) and not upload.exists() and not upload.parent.exists()
    broken = root / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(OSError):
        predict.read_upload(broken, root)
    assert not broken.exists()
    outside = tmp_path / "mine.png"
    _rgba(_digit_mask(), 255, 0).save(outside)
    predict.read_upload(outside, root)
    assert outside.exists()  # read, never deleted: it is not an upload
