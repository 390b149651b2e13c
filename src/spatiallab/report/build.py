"""Build a run's report from its files alone: ``report.html`` (self-contained) and ``figures/*.png``.

Nothing is retrained: the numbers come from results.json, the images from samples/ (and permutations/), the learned
weights from models/. Each experiment's page is made by its own module (``BUILDERS``, by results.json's ``kind``);
this module only picks it, saves the figures and writes the page.
"""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path

from spatiallab import experiments, runs
from spatiallab.report import page, scale, shuffled_pixels, translation
from spatiallab.report.html import render_report
from spatiallab.report.style import close, png_bytes
from spatiallab.runs import RunFolder

REPORT_FILE = "report.html"
FIGURES_DIR = "figures"

# results.json's "kind" -> the function that makes that experiment's page, ``build(run, writer) -> page.Page``.
# A new experiment adds its report module and one line here.
BUILDERS = {
    experiments.ShuffledPixels.kind: shuffled_pixels.build,
    experiments.Translation.kind: translation.build,
    experiments.Scale.kind: scale.build,
}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


class FigureWriter:
    """Saves each figure as figures/<name>.png, returns its embedded copy as a page block, and empties the figure."""

    def __init__(self, folder: Path):
        self.folder = folder

    def add(self, name: str, figure, alt: str, caption: str) -> page.Block:
        png = png_bytes(figure)
        close(figure)
        runs.write_bytes(self.folder / f"{_slug(name)}.png", png)
        return page.figure(page.EmbeddedFigure.from_png(png, alt, caption))


def build_report(run_dir: str | os.PathLike, output: str | os.PathLike | None = None) -> Path:
    """Write the run's report and figures; return the path of the HTML file.

    Args:
        run_dir: a run folder of any experiment in ``BUILDERS`` (``spatiallab run``, ``translation``, ``scale``);
            incomplete runs are reported as far as they got.
        output: where to write the HTML (default ``<run_dir>/report.html``); the PNGs go to ``<run_dir>/figures/``.

    Returns:
        The path of the written HTML file (written to a temporary name, then renamed).

    Raises:
        FileNotFoundError: no results.json. ValueError: a kind without a report, a run with no finished or failed
        cell yet, or results not as documented. DataFormatError: samples or saved permutations not as documented.
    """
    run = RunFolder(run_dir)
    if run.kind not in BUILDERS:
        raise ValueError(f"{run.path}: a {run.kind} run; `spatiallab report` makes reports of "
                         f"{', '.join(BUILDERS)} runs")  # fmt: skip
    record = run.results
    if not record["cells"] and not record.get("failed_cells"):
        raise ValueError(f"{run.path}: the run has no finished cell yet, so there is nothing to report")
    content = BUILDERS[run.kind](run, FigureWriter(run.path / FIGURES_DIR))
    # The closed figures' artists form reference cycles (artist <-> axes <-> figure) that only the cyclic collector
    # frees, and its full pass is rare in a process holding many long-lived objects (TensorFlow's, in the lab or
    # after a run): without this, every report of a 200-cell run left ~6 MB more behind (test_report_memory.py).
    gc.collect()
    html = render_report(record, str(run.path), content)
    output = Path(output) if output is not None else run.path / REPORT_FILE
    return runs.write_bytes(output, html.encode("utf-8"))
