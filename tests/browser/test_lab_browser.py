"""The lab in a real browser: Debian's Chromium, headless, driven by Playwright, against `spatiallab lab` serving a
tiny trained run on a free local port, and a second lab started on an empty runs folder that runs are copied into
while its page is open. Screenshots of each tab go to test-artifacts/screenshots/.

Chromium is launched by path with a fresh profile (no browser download: `playwright install` is never needed).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.labserver import start_lab

CHROMIUM = Path(os.environ.get("SPATIALLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
UPLOAD_LIMIT_MB = 0.05  # 52,428 bytes: /bin/true (35 kB) fits, a 60 kB file does not

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
]
playwright_sync = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytest.importorskip("gradio", reason="the lab needs gradio: pip install 'spatiallab[lab]'")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from tests.runfolders import train_tiny_run

    return train_tiny_run(tmp_path_factory.mktemp("runs") / "tiny")


@pytest.fixture(scope="module")
def lab_url(trained_run):
    process, url, _ = start_lab([str(trained_run), "--runs", str(trained_run.parent),
                                 "--max-upload-mb", str(UPLOAD_LIMIT_MB)])  # fmt: skip
    yield url
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert f"Lab: {url}" in output


@pytest.fixture(scope="module")
def page(lab_url, tmp_path_factory):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_sync.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
        )  # fmt: skip
        context.set_default_timeout(60_000)
        page = context.new_page()
        outside, sent = [], []
        page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(
            (lab_url, "blob:", "data:")) else None)  # fmt: skip
        page.on("request", lambda request: sent.append(request.post_data or ""))
        page.goto(lab_url)
        page.sent = sent  # every request body, for the Reflect test
        yield page
        assert outside == [], f"the page fetched from outside the lab: {outside}"
        context.close()


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _draw_stroke(page, selector: str) -> None:
    """Draw a vertical stroke (a '1') down the middle of a sketchpad with the mouse."""
    box = page.locator(f"{selector} canvas").first.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for step in range(1, 16):
        page.mouse.move(x, box["y"] + box["height"] * (0.2 + 0.04 * step), steps=2)
    page.mouse.up()


def _image_source(page, selector: str) -> str:
    return page.locator(f"{selector} img").get_attribute("src")


def test_explore_tab(page):
    page.locator("#lab-heading").get_by_text("Explore shows test images of mnist-sample.").wait_for()
    page.wait_for_function("document.title == 'spatiallab lab: tiny (mnist-sample)'")  # set once the app starts
    page.wait_for_selector("#explore-maps img")
    for element in ("#explore-grid img", "#explore-shuffled img", "#explore-vector img"):
        assert page.locator(element).count() == 1
    arithmetic = page.locator("#explore-arithmetic")
    arithmetic.get_by_text("Test image 0. Feature map (10, 10) looks at input rows 10-12").wait_for()
    row = page.locator("#row-slider input[type=number]")
    row.fill("5")
    row.press("Enter")
    arithmetic.get_by_text("Test image 0. Feature map (5, 10) looks at input rows 5-7").wait_for()
    _draw_stroke(page, "#explore-sketch")
    page.get_by_label("use my drawing instead of the sample").check()
    arithmetic.get_by_text("Your drawing.").wait_for()
    box = page.locator("#kernel-box textarea")  # the preset's own numbers, read-only
    assert box.input_value() == "-1 0 1\n-2 0 2\n-1 0 1" and box.is_disabled()

    block = page.locator("#block-slider input[type=number]")
    shown = {}
    for typed, size in (("13", 14), ("7", 7)):  # no 13x13 blocks tile 28x28: the slider moves to 14
        page.wait_for_selector(".pending", state="detached")  # Gradio drops a change typed while an update runs
        block.fill(typed)
        block.press("Enter")  # the lab snaps the value to a size that tiles the image
        page.wait_for_function(f"document.querySelector('#block-slider input[type=number]').value == '{size}'")
        # the images come in the same update as the text
        page.wait_for_function(
            f"document.querySelector('#blocks-text').innerText.includes('Within {size}x{size} blocks')")
        shown[size] = [_image_source(page, f"#blocks-{name}") for name in ("within", "between")]
    assert shown[14][0] != shown[7][0] and shown[14][1] != shown[7][1]
    page.screenshot(path=SCREENSHOTS / "explore.png", full_page=True)


def test_read_tab(page):
    _open_tab(page, "Read")
    counts = page.locator("#param-count")
    counts.get_by_text("784 x 128 weights + 128 biases = 100,480").wait_for()  # the lesson's numbers
    units = page.locator("#units-slider input[type=number]")
    units.fill("10")
    units.press("Enter")
    counts.get_by_text("7,850").wait_for()  # 784 x 10 + 10, updated live
    side = page.locator("#side-slider input[type=number]")
    side.fill("56")
    side.press("Enter")
    counts.get_by_text("3,136 x 10 weights + 10 biases = 31,370").wait_for()
    assert "= 320 parameters" in counts.inner_text()  # Conv2D's count does not grow with the image
    page.locator("#model-totals").get_by_text("Whole models on 56x56x1 images").wait_for()
    page.screenshot(path=SCREENSHOTS / "read.png", full_page=True)


def test_compare_tab(page):
    _open_tab(page, "Compare")
    page.locator("#compare-accuracy").get_by_text("shuffled").first.wait_for()
    page.wait_for_selector("#compare-bars img")
    page.wait_for_selector("#compare-curves img")
    assert "dense on mnist-sample" in page.locator("#compare-verdict").inner_text()
    page.get_by_text("run to show (those in the folder").wait_for()
    page.screenshot(path=SCREENSHOTS / "compare.png", full_page=True)


def test_try_it_tab(page, trained_run, tmp_path):
    _open_tab(page, "Build")
    page.locator("#try-intro").get_by_text("Predictions of the models of run tiny (mnist-sample)").wait_for()
    page.click("#predict-drawing")  # nothing drawn yet
    page.locator("#try-message").get_by_text("Nothing to classify").wait_for()
    _draw_stroke(page, "#try-sketch")
    page.click("#predict-drawing")
    page.locator("#try-message").get_by_text("centred like MNIST").wait_for()
    page.wait_for_selector("#try-input img")
    page.wait_for_selector("#try-shuffled img")
    assert page.locator(".prediction [data-testid='label-output-value']").count() == 4
    page.screenshot(path=SCREENSHOTS / "try-drawing.png", full_page=True)

    # An RGBA upload of a test digit: the page must show what the same code computes here.
    from spatiallab.runs import RunFolder
    from spatiallab.web.lab import Lab

    samples = RunFolder(trained_run).samples("mnist-sample")
    grey = samples.x[0, ..., 0]
    path = tmp_path / "digit.png"
    Image.fromarray(np.dstack([grey, grey, grey, grey]), "RGBA").save(path)
    expected = Lab(trained_run, trained_run.parent, samples.x[..., 0], tmp_path, 1).classify(
        Image.open(path), "mnist-sample")["predictions"]  # fmt: skip
    page.locator("#try-upload input[type=file]").set_input_files(path)
    page.wait_for_function("document.querySelectorAll('.prediction [data-testid=\"label-output-value\"]').length == 4")
    for label, probabilities in expected.items():
        top = max(probabilities, key=probabilities.get)
        page.locator(".prediction", has_text=label).locator("[data-testid='label-output-value']", has_text=top).wait_for()
    page.screenshot(path=SCREENSHOTS / "try.png", full_page=True)


def test_reflect_tab(page, trained_run):
    from spatiallab import stats
    from spatiallab.runs import RunFolder

    _open_tab(page, "Reflect")
    page.locator("#reflect-answer textarea").fill("sentinel-7f3a: the order of inputs does not matter to Dense")
    page.click("#reflect-show")
    measured = page.locator("#reflect-measured")
    measured.get_by_text("Measured by run tiny").wait_for()
    dense = next(row for row in RunFolder(trained_run).results["reliance"] if row["model"] == "dense")
    reliance = stats.format_estimate(dense["difference"], dense["ci_low"], dense["ci_high"], signed=True)
    assert f"(flattens its input; the lesson: unchanged): {reliance} points" in measured.inner_text()
    assert "No scale run in" in page.locator("#reflect-scale").inner_text()
    assert not any("sentinel-7f3a" in body for body in page.sent)  # the student's answer never left the page
    page.screenshot(path=SCREENSHOTS / "reflect.png", full_page=True)


def test_binaries_tab(page, tmp_path):
    _open_tab(page, "Binaries")
    assert "Size limit: 51.2 KiB (52,428 bytes)" in page.locator("#binaries-limit").inner_text()
    page.locator("#binaries-upload input[type=file]").set_input_files("/bin/true")
    page.locator("#binaries-message").get_by_text("The uploaded copy has been deleted").wait_for()
    assert "ELF" in page.locator("#binaries-message").inner_text()
    page.wait_for_selector("#binaries-plot img")
    page.screenshot(path=SCREENSHOTS / "binaries.png", full_page=True)

    too_big = tmp_path / "big.bin"
    too_big.write_bytes(os.urandom(60_000))
    page.locator("#binaries-upload input[type=file]").set_input_files(too_big)
    page.get_by_text("exceed the maximum allowed size of 51.2 Kb").wait_for()
    page.wait_for_timeout(600)  # let the message finish fading in
    page.screenshot(path=SCREENSHOTS / "binaries-limit.png", full_page=True)


@pytest.fixture(scope="module")
def empty_lab(tmp_path_factory):
    """A second lab, with no run and an empty runs folder: (the folder, the lab's URL)."""
    runs = tmp_path_factory.mktemp("empty-runs")
    process, url, _ = start_lab(["--runs", str(runs)])
    yield runs, url
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)


def _copy_run(run_dir: Path, destination: Path) -> Path:
    """A copy of a run under the destination's name (results.json's "name" too, which the Compare verdict shows)."""
    shutil.copytree(run_dir, destination)
    results = destination / "results.json"
    results.write_text(json.dumps({**json.loads(results.read_text()), "name": destination.name}))
    return destination


def test_compare_lists_runs_written_after_the_page_was_built(page, empty_lab, trained_run):
    runs, url = empty_lab
    other = page.context.new_page()  # its own tab: the first lab's page keeps its request log
    other.goto(url)
    verdict = other.locator("#compare-verdict")
    _open_tab(other, "Compare")
    verdict.get_by_text("No runs yet").wait_for()
    older = _copy_run(trained_run, runs / "older")  # `spatiallab run --out` while the page is open
    other.click("#refresh-runs")
    verdict.get_by_text("Verdict for older").wait_for()
    newer = _copy_run(trained_run, runs / "newer")
    now = time.time()
    os.utime(older / "results.json", (now - 60, now - 60))
    os.utime(newer / "results.json", (now, now))
    other.reload()  # the page reads the folder as it loads: the newest run, picked and shown
    _open_tab(other, "Compare")
    verdict.get_by_text("Verdict for newer").wait_for()
    other.wait_for_selector("#compare-bars img")
    assert other.locator("#run-choice input").input_value() == "newer"
    other.locator("#run-choice input").click()  # the visitor picks the older one
    other.locator("[data-testid=dropdown-option]", has_text="older").click()
    verdict.get_by_text("Verdict for older").wait_for()
    other.wait_for_selector(".pending", state="detached")  # the tables and figures faded until the update ends
    other.screenshot(path=SCREENSHOTS / "compare-after-reload.png", full_page=True)
    other.close()
