"""The progress lines of a run, fed the runner's events in the orders the runner sends them (nothing trains)."""

import io

from spatiallab.cli.progress import LineProgress


def key(seed: int) -> dict:
    return {"dataset": "mnist", "model": "cnn", "condition": "original", "seed": seed}


CELL = {"status": "ok", "test_accuracy": 0.9, "train_seconds": 1.0}


def lines_of(total: int, already_done: int, events: list[tuple[str, int]]) -> list[str]:
    """The lines ``LineProgress`` prints for ``events``: ("started" | "finished", seed) in the order they arrive."""
    stream = io.StringIO()
    progress = LineProgress(stream)
    progress.start(total, already_done)
    for event, seed in events:
        if event == "started":
            progress.cell_started(key(seed))
        else:
            progress.cell_finished(key(seed), CELL)
    return stream.getvalue().splitlines()


def test_serial_cells_are_numbered_as_they_start():
    assert lines_of(2, 0, [("started", 0), ("finished", 0), ("started", 1), ("finished", 1)]) == [
        "[1/2] started mnist cnn original seed 0 (in flight: 1)",
        "[1/2] mnist cnn original seed 0: test accuracy 90.00% in 1.0 s",
        "[2/2] started mnist cnn original seed 1 (in flight: 1)",
        "[2/2] mnist cnn original seed 1: test accuracy 90.00% in 1.0 s",
    ]


def test_two_workers_number_every_started_cell_once():
    # _pool_round with 2 workers: two cells start before either finishes; then each finish lets the next one start
    events = [("started", 0), ("started", 1), ("finished", 1), ("started", 2), ("finished", 0), ("started", 3),
              ("finished", 2), ("finished", 3)]  # fmt: skip
    started = [line for line in lines_of(4, 0, events) if "started" in line]
    assert started == [
        "[1/4] started mnist cnn original seed 0 (in flight: 1)",
        "[2/4] started mnist cnn original seed 1 (in flight: 2)",
        "[3/4] started mnist cnn original seed 2 (in flight: 2)",
        "[4/4] started mnist cnn original seed 3 (in flight: 2)",
    ]
    finished = [line.split("]")[0] for line in lines_of(4, 0, events) if "started" not in line]
    assert finished == ["[1/4", "[2/4", "[3/4", "[4/4"]  # finished lines count the finished cells


def test_a_resumed_run_and_a_cell_sent_again_keep_their_numbers():
    # 1 of 3 cells finished before the resume; seed 1's worker dies, and the runner sends it again on its own
    events = [("started", 1), ("started", 2), ("started", 1), ("finished", 1), ("finished", 2)]
    assert [line for line in lines_of(3, 1, events) if "started" in line] == [
        "[2/3] started mnist cnn original seed 1 (in flight: 1)",
        "[3/3] started mnist cnn original seed 2 (in flight: 2)",
        "[2/3] started again mnist cnn original seed 1 (in flight: 2)",
    ]
