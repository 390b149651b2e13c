"""Reports of a large run in bounded memory: no figure outlives its report, and building again costs no more.

The builds are measured with the automatic garbage collector paused: that measures what the report frees itself,
not what the collector happens to find in between. (In a process holding many long-lived objects, as the lab does
with TensorFlow loaded, the collector's full pass is rare, so the paused case is the common one.)
"""

from __future__ import annotations

import gc
import tracemalloc

import matplotlib
import pytest

from spatiallab.report.build import build_report
from tests.runfolders import write_fake_run

SEEDS = 25  # x 2 models x 2 conditions = 100 cells
MIB = 2**20


@pytest.fixture(scope="module")
def large_run(tmp_path_factory):
    return write_fake_run(tmp_path_factory.mktemp("runs") / "large", seeds=tuple(range(SEEDS)), save_models=False)


def _traced_build(run_dir) -> tuple[int, int]:
    """(traced bytes still held after the build, peak traced bytes during it), tracing already started."""
    tracemalloc.reset_peak()
    build_report(run_dir)
    return tracemalloc.get_traced_memory()


def test_building_reports_again_and_again_does_not_grow_memory(large_run):
    from matplotlib import pyplot

    build_report(large_run)  # the first build fills matplotlib's caches (fonts, text layout): not measured
    assert len(pyplot.get_fignums()) == 0
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        held_second, peak_second = _traced_build(large_run)
        held_third, peak_third = _traced_build(large_run)
    finally:
        tracemalloc.stop()
        gc.enable()
    assert len(pyplot.get_fignums()) == 0
    assert peak_third <= peak_second + 1 * MIB, f"peak grew {(peak_third - peak_second) / MIB:.1f} MiB in one build"
    assert held_third <= held_second + MIB // 2, f"{(held_third - held_second) / MIB:.1f} MiB more held after a build"


def test_figures_are_emptied_once_saved(large_run, monkeypatch):
    from spatiallab.report import build

    saved = []
    real_png_bytes = build.png_bytes
    monkeypatch.setattr(build, "png_bytes", lambda figure: saved.append(figure) or real_png_bytes(figure))
    build_report(large_run)
    assert saved and all(isinstance(figure, matplotlib.figure.Figure) and not figure.axes for figure in saved)
