"""Progress of a run: a rich bar of finished cells on a terminal, plain newline-terminated lines otherwise. Both name
the cells in flight (several at once with --workers or --ray)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from spatiallab.runner import RunProgress


def _label(key: dict) -> str:
    return f"{key['dataset']} {key['model']} {key['condition']} seed {key['seed']}"


def precision_text(choice: dict) -> str:
    """``precision: bfloat16 (auto: ...)``: the line a run prints before its first cell."""
    return f"precision: {choice['used']} ({choice['reason']})"


def execution_text(described: dict) -> str | None:
    """``cells: auto: 2 cells at a time ...``: the line a run prints before its first cell when ``--workers auto``
    chose (``runner.Execution.describe()``'s "reason"); None when the user gave the number."""
    return f"cells: {described['reason']}" if described.get("reason") else None


def _outcome(cell: dict) -> str:
    if cell.get("status") == "failed":
        return f"FAILED ({cell.get('reason')})"
    return f"test accuracy {100 * cell['test_accuracy']:.2f}% in {cell['train_seconds']:.1f} s"


class _CellProgress(RunProgress):
    """Counts finished cells, numbers the cells as they start (the cells finished before a resume come first) and
    keeps the names of those in flight."""

    def __init__(self):
        self.total = self.done = self.already_done = 0
        self.in_flight: list[str] = []
        self.started: dict[str, int] = {}  # label -> its number among the run's started cells, 1-based

    def start(self, total_cells: int, already_done: int) -> None:
        self.total, self.done, self.already_done = total_cells, already_done, already_done
        if already_done:
            self._print(f"resuming: {already_done} of {total_cells} cells already finished, "
                        f"{total_cells - already_done} to train")  # fmt: skip

    def cell_started(self, key: dict) -> None:
        # a cell sent again after its worker died is still the same one: it keeps its number and is in flight once
        self.started.setdefault(_label(key), self.already_done + len(self.started) + 1)
        if _label(key) not in self.in_flight:
            self.in_flight.append(_label(key))
        self._update()

    def cell_finished(self, key: dict, cell: dict) -> None:
        if _label(key) in self.in_flight:
            self.in_flight.remove(_label(key))
        self.done += 1
        self._print(f"[{self.done}/{self.total}] {_label(key)}: {_outcome(cell)}")
        self._update()

    def precision_chosen(self, choice: dict) -> None:
        self._note(precision_text(choice))

    def execution_chosen(self, described: dict) -> None:
        if execution_text(described):
            self._note(execution_text(described))

    def _update(self) -> None: ...

    def _print(self, text: str) -> None:
        raise NotImplementedError

    def _note(self, text: str) -> None:
        """A line about the whole run, before its first cell (the precision, where the cells run)."""
        self._print(text)


class TerminalProgress(_CellProgress):
    """A bar of finished cells over the whole run; its text names the cells in flight."""

    def __init__(self, console: Console):
        super().__init__()
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("cells"),
                             TimeElapsedColumn(), console=console, transient=True)  # fmt: skip
        self._task = None

    def start(self, total_cells: int, already_done: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("starting", total=total_cells, completed=already_done)
        super().start(total_cells, already_done)

    def _note(self, text: str) -> None:
        self._bar.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def _update(self) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=self.done,
                             description="training " + ("; ".join(self.in_flight) or "-"))  # fmt: skip

    def _print(self, text: str) -> None:
        self._bar.console.print(f"  {text}")

    def stop(self) -> None:
        self._bar.stop()


class LineProgress(_CellProgress):
    """One line per cell started, per epoch (cells trained in this process) and per finished cell. A started line's
    ``[k/N]`` numbers the cell among the started ones (k of the run's N cells; in worker mode several start before
    any finishes), a finished line's counts the finished ones."""

    def __init__(self, stream=None):
        super().__init__()
        self._stream = stream or sys.stderr
        self._epochs = {}

    def _print(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def cell_started(self, key: dict) -> None:
        again = " again" if _label(key) in self.started else ""
        super().cell_started(key)
        self._print(f"[{self.started[_label(key)]}/{self.total}] started{again} {_label(key)} "
                    f"(in flight: {len(self.in_flight)})")  # fmt: skip

    def epoch_ended(self, key: dict, epoch: int, logs: dict) -> None:
        test = logs.get("val_accuracy")  # absent in the epochs a long run does not evaluate the test split
        self._print(
            f"  {_label(key)} epoch {epoch + 1}: train accuracy {logs.get('accuracy', float('nan')):.4f}"
            + ("" if test is None else f", test accuracy {test:.4f}")
        )


def make_progress(console: Console) -> TerminalProgress | LineProgress:
    """A bar when ``console`` is a terminal, plain lines otherwise."""
    return TerminalProgress(console) if console.is_terminal else LineProgress(console.file)
