"""The Compare tab: any run's table, bars and curves from its files, and a quick run on the bundled sample."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path

from spatiallab.report import plots, tables
from spatiallab.runs import RunFolder, find_runs

# The quick run: small enough to finish in about a minute on a laptop CPU, large enough that dense and cnn clear
# chance on the original pixels. It is a demonstration, not a measurement (one seed: no interval).
QUICK_RUN = {
    "datasets": ["mnist-sample"],  # bundled, no download
    "models": ["dense", "cnn"],  # the lesson's two models
    "seeds": [0],
    "epochs": 2,
    "train_limit": 3000,  # of the sample's 10,000 training images
    "test_limit": 1000,  # of its 2,000 test images
}


def run_choices(runs_root: str | os.PathLike) -> list[tuple[str, str]]:
    """(label, path) of every run under ``runs_root``, newest first; the label says whether it is complete."""
    choices = []
    for path in find_runs(runs_root, kind="shuffled_pixels"):
        try:
            complete = RunFolder(path).results.get("complete")
        except ValueError:
            continue  # not a spatiallab results file: leave it out of the list
        choices.append((path.name if complete else f"{path.name} (incomplete)", str(path)))
    return choices


def picker_label(runs_root: str | os.PathLike) -> str:
    """The run picker's label, naming the folder it lists as a folder (``runs/``), not as another run."""
    return f"run to show (those in the folder {Path(runs_root).as_posix().rstrip('/')}/, newest first)"


def run_view(run_dir: str | os.PathLike) -> dict:
    """What the Compare tab shows for one run.

    Returns:
        {"accuracy": (header, rows), "reliance": (header, rows), "bars": Figure, "curves": Figure,
         "verdict": markdown text}.

    Raises:
        FileNotFoundError, ValueError: see ``RunFolder``.
    """
    run = RunFolder(run_dir)
    record = run.results
    verdict = "\n".join(f"- {line}" for line in record["verdict"]) or "- no model has both conditions yet"
    status = "" if record.get("complete") else f"\n\n*Incomplete run: {len(record['cells'])} cells so far.*"
    return {
        "accuracy": tables.accuracy_table(record),
        "reliance": tables.reliance_table(record),
        "bars": plots.accuracy_bars(record["summary"], record.get("chance")),
        "curves": plots.learning_curves(record["cells"]),
        "verdict": f"**Verdict for {run.name}**\n\n{verdict}{status}",
    }


def quick_run(runs_root: str | os.PathLike, report: Callable[[float, str], None], settings: dict = QUICK_RUN) -> Path:
    """Train the ``QUICK_RUN`` grid into ``<runs_root>/quick-<time>`` and build its report.

    Args:
        runs_root: the folder of runs.
        report: called as ``report(fraction_done, description)`` after every epoch and cell.
        settings: ``GridConfig`` fields (defaults: ``QUICK_RUN``).

    Returns:
        The new run folder.
    """
    from spatiallab import experiments, runner
    from spatiallab.report import build_report

    config = experiments.GridConfig(**settings)

    class _Progress(runner.RunProgress):
        def start(self, total_cells: int, already_done: int) -> None:
            self.total, self.done, self.cells, self.label = total_cells * config.epochs, 0, 0, "starting"
            report(0.0, "loading the bundled sample")

        def cell_started(self, key: dict) -> None:
            self.cells += 1
            self.label = f"cell {self.cells}: {key['model']} on {key['condition']} pixels"

        def epoch_ended(self, key: dict, epoch: int, logs: dict) -> None:
            self.done += 1
            accuracy = logs.get("val_accuracy")
            suffix = f", test accuracy {100 * accuracy:.1f}%" if accuracy is not None else ""
            report(self.done / self.total, f"{self.label}, epoch {epoch + 1}{suffix}")

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = Path(runs_root) / f"quick-{stamp}"
    experiments.run_experiment(experiments.ShuffledPixels(config), run_dir, progress=_Progress())
    report(1.0, "writing the report")
    build_report(run_dir)
    return run_dir
