"""Progress for the grid: a rich progress bar on a terminal, plain newline-terminated lines otherwise."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from spatiallab.experiment import GridProgress


def _label(cell: dict) -> str:
    return f"{cell['dataset']} {cell['model']} {cell['condition']} seed {cell['seed']}"


class TerminalProgress(GridProgress):
    """A bar of epochs over the whole grid, with the current cell's name and last test accuracy."""

    def __init__(self, console: Console):
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("epochs"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = None

    def start(self, total_cells: int, epochs: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("starting", total=total_cells * epochs)

    def cell_started(self, index: int, cell: dict) -> None:
        self._bar.update(self._task, description=f"[{index + 1}] {_label(cell)}")

    def epoch_ended(self, epoch: int, logs: dict) -> None:
        self._bar.advance(self._task)

    def cell_finished(self, index: int, cell: dict) -> None:
        self._bar.console.print(f"  {_label(cell)}: test accuracy {100 * cell['test_accuracy']:.2f}%")

    def stop(self) -> None:
        self._bar.stop()


class LineProgress(GridProgress):
    """One line per epoch and per finished cell, for logs and pipes (no carriage returns)."""

    def __init__(self, stream=None):
        self._stream = stream or sys.stderr
        self._total = 0
        self._epochs = 0
        self._index = 0
        self._cell = {}

    def _print(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def start(self, total_cells: int, epochs: int) -> None:
        self._total, self._epochs = total_cells, epochs

    def cell_started(self, index: int, cell: dict) -> None:
        self._index, self._cell = index, cell

    def epoch_ended(self, epoch: int, logs: dict) -> None:
        self._print(
            f"[{self._index + 1}/{self._total}] {_label(self._cell)} epoch {epoch + 1}/{self._epochs}: "
            f"train accuracy {logs.get('accuracy', float('nan')):.4f}, test accuracy "
            f"{logs.get('val_accuracy', float('nan')):.4f}"
        )

    def cell_finished(self, index: int, cell: dict) -> None:
        self._print(
            f"[{index + 1}/{self._total}] {_label(cell)}: test accuracy {cell['test_accuracy']:.4f} "
            f"in {cell['train_seconds']:.1f} s"
        )

    def stop(self) -> None:
        pass


def make_progress(console: Console) -> TerminalProgress | LineProgress:
    """A bar when ``console`` is a terminal, plain lines otherwise."""
    return TerminalProgress(console) if console.is_terminal else LineProgress(console.file)
