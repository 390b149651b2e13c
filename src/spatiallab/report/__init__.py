"""The run report: figures and tables made only from a run folder's files, and one self-contained HTML page.

``build_report(run_dir)`` writes ``<run_dir>/report.html`` and ``<run_dir>/figures/*.png`` and returns the HTML path.
"""

from spatiallab.report.build import build_report

__all__ = ["build_report"]
