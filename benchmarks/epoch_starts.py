"""Benchmark: idle time at epoch starts when two cells train at once, with Keras fed NumPy arrays (its own tf.data
pipeline, autotuned) against spatiallab's batches (``spatiallab.batches``: tf.data with autotuning off).

Usage: python benchmarks/epoch_starts.py [--data ../shared/data/mnist.npz] [--train 30000] [--epochs 6] [--rounds 3]
                                         [--model cnn]
Each round runs both sides, alternating which goes first; a side is two processes started together, each training one
cell (``training.fit_and_evaluate``: seed 0, one thread, precision auto, the test split evaluated after each epoch)
on the first --train training images of full MNIST. The ``arrays`` side differs in one thing: the arrays go to
``fit`` themselves, as on JAX and torch. Per epoch after the first (which holds the tracing): its wall seconds and the
process's CPU seconds (all its threads); wall minus CPU is at least the time no thread of it ran. Prints the
CPU, per side the epochs' wall and idle seconds (median and max), how many epochs idled over 1 s, and accuracies.
Writes benchmarks/results/epoch_starts.json. TensorFlow backend only (the other backends do not use tf.data).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from common import print_cpu, write_results

SIDES = ("arrays", "batches")

CHILD = r"""
import json, sys, time
side, data_path, train, epochs, model = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
from spatiallab import batches, data, training
from spatiallab.transforms import to_float
if side == "arrays":
    batches._tensorflow = lambda: False  # the arrays themselves, as JAX and torch get them
training.apply_thread_budget(1)
dataset = data.load("mnist", path=data_path).subset(train or None, None)
x_train, x_test = to_float(dataset.x_train), to_float(dataset.x_test)
marks = [(time.perf_counter(), time.process_time())]
def mark(epoch, logs):
    marks.append((time.perf_counter(), time.process_time()))
fitted = training.fit_and_evaluate(model, x_train, dataset.y_train, x_test, dataset.y_test, 10, seed=0, epochs=epochs,
                                   precision=training.choose_precision("auto")["used"], on_epoch_end=mark)
walls = [b[0] - a[0] for a, b in zip(marks, marks[1:])]
cpus = [b[1] - a[1] for a, b in zip(marks, marks[1:])]
print(json.dumps({"wall": walls, "cpu": cpus, "accuracy": fitted.test_accuracy}))
"""


def side_pair(args, side: str) -> list[dict]:
    """Two processes of ``side`` started together; their per-epoch wall and CPU seconds and accuracy."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1",
                   "TF_NUM_INTEROP_THREADS": "1"}  # fmt: skip
    command = [sys.executable, "-c", CHILD, side, str(args.data), str(args.train), str(args.epochs), args.model]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
                 for _ in range(2)]  # fmt: skip
    cells = []
    for process in processes:
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"{side} failed:\n{stderr.decode()[-3000:]}")
        cells.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/mnist.npz")
    parser.add_argument("--train", type=int, default=30000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="cnn")
    args = parser.parse_args()
    cpu = print_cpu()
    results = {side: [] for side in SIDES}
    for round_index in range(args.rounds):
        for side in SIDES if round_index % 2 == 0 else SIDES[::-1]:
            cells = side_pair(args, side)
            results[side] += cells
            walls = ", ".join(" ".join(f"{wall:.2f}" for wall in cell["wall"][1:]) for cell in cells)
            print(f"round {round_index} {side:8} epoch seconds after the first: {walls}", flush=True)
    print()
    for side in SIDES:
        walls = [wall for cell in results[side] for wall in cell["wall"][1:]]
        idles = [wall - cpu for cell in results[side] for wall, cpu in zip(cell["wall"][1:], cell["cpu"][1:])]
        accuracies = sorted({round(cell["accuracy"], 4) for cell in results[side]})
        print(f"{side:8} epochs {len(walls)}: wall median {statistics.median(walls):.2f} s, max {max(walls):.2f} s; "
              f"idle median {statistics.median(idles):.2f} s, max {max(idles):.2f} s, {sum(i > 1 for i in idles)} "
              f"epoch(s) idle over 1 s; test accuracy {accuracies}")  # fmt: skip
    write_results("epoch_starts", {"cpu": cpu, "args": vars(args), "results": results})


if __name__ == "__main__":
    main()
