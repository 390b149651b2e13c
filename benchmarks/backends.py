"""Benchmark: seconds per epoch of each Keras backend (TensorFlow, JAX, torch) for each model and precision, each
backend in its own fresh process, so the README can say which backend is fastest for what.

Usage: python benchmarks/backends.py [--data ../shared/data/mnist.npz] [--train 10000] [--test 2000] [--epochs 3]
                                     [--backends tensorflow,jax,torch] [--models dense,cnn,cnn_gap]
                                     [--precisions float32,bfloat16] [--threads N] [--rounds 1]
One measurement = ``training.fit_and_evaluate`` as ``spatiallab run`` calls it (seed 0, batch 128, Adam 1e-3, the
test split evaluated after every epoch) on the first --train / --test images of full MNIST (--data: Keras's
mnist.npz or the IDX folder) or, without --data, of the bundled sample. Seconds per epoch is the median of epochs
2.. (the first holds tracing and compilation, printed apart); with --epochs 1 it is that one epoch. Rounds run the
backends in turn so the machine's load falls on all of them. Prints the CPU and its flags, each backend's version,
what ``--precision auto`` picks there and why, the thread budget in effect, a table of seconds per epoch and test
accuracy, and the fastest backend per model and precision. Writes benchmarks/results/backends.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys

from common import print_cpu, write_results

CHILD = r"""
import json, sys
options = json.loads(sys.argv[1])
import keras
from spatiallab import data, runs, training
from spatiallab.transforms import to_float
threads = training.apply_thread_budget(options["threads"])
dataset = (data.load("mnist", options["data"]) if options["data"] else data.load("mnist-sample"))
dataset = dataset.subset(options["train"], options["test"])
x_train, x_test = to_float(dataset.x_train), to_float(dataset.x_test)
out = {"versions": runs.library_versions(), "auto": training.choose_precision("auto"), "threads": threads,
       "train": len(x_train), "test": len(x_test), "cells": []}
for model in options["models"]:
    for precision in options["precisions"]:
        fitted = training.fit_and_evaluate(model, x_train, dataset.y_train, x_test, dataset.y_test,
                                           dataset.num_classes, seed=0, epochs=options["epochs"], precision=precision)
        out["cells"].append({"model": model, "precision": precision, "epoch_seconds": fitted.epoch_seconds,
                             "test_accuracy": fitted.test_accuracy})
print(json.dumps(out))
"""


def seconds_per_epoch(epoch_seconds: list[float]) -> float:
    """The median of epochs 2.. (the first also traces and compiles); the only epoch when there is one."""
    return statistics.median(epoch_seconds[1:] or epoch_seconds)


def run_backend(backend: str, options: dict) -> dict:
    """One fresh process with KERAS_BACKEND=backend; its measurements. Raises SystemExit with its stderr on failure."""
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run([sys.executable, "-c", CHILD, json.dumps(options)], capture_output=True, text=True,
                               env=environment)  # fmt: skip
    if completed.returncode != 0:
        raise SystemExit(f"KERAS_BACKEND={backend} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="full MNIST (mnist.npz or the IDX folder); default: the sample")
    parser.add_argument("--train", type=int, default=10000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--models", default="dense,cnn,cnn_gap")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--threads", type=int, default=None, help="per-process thread budget (default: the backend's)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    cpu = print_cpu()
    backends = []
    for backend in args.backends.split(","):
        if importlib.util.find_spec(backend) is None:
            print(f"{backend}: not installed, left out (pip install '.[{backend}]')")
        else:
            backends.append(backend)
    options = {"data": args.data, "train": args.train, "test": args.test, "epochs": args.epochs,
               "models": args.models.split(","), "precisions": args.precisions.split(","), "threads": args.threads}
    measured = {backend: [] for backend in backends}
    for round_index in range(args.rounds):
        for backend in backends:
            result = run_backend(backend, options)
            measured[backend].append(result)
            if round_index == 0:
                print(f"{backend} {result['versions']['backend_version']}: {result['train']} train / {result['test']} "
                      f"test images, threads {result['threads']}; auto -> {result['auto']['used']} "
                      f"({result['auto']['reason']})", flush=True)  # fmt: skip
    rows = []
    for backend, results in measured.items():
        for index, cell in enumerate(results[0]["cells"]):
            epochs = [result["cells"][index]["epoch_seconds"] for result in results]
            rows.append({"backend": backend, **{key: cell[key] for key in ("model", "precision")},
                         "seconds_per_epoch": statistics.median(seconds_per_epoch(seconds) for seconds in epochs),
                         "first_epoch_seconds": statistics.median(seconds[0] for seconds in epochs),
                         "test_accuracy": cell["test_accuracy"]})  # fmt: skip
    print(f"\nseconds per epoch ({'median of epochs 2..' if args.epochs > 1 else 'one epoch'}, median over "
          f"{args.rounds} round(s)); accuracy after {args.epochs} epoch(s), round 0")
    print(f"{'model':10} {'precision':9} {'backend':10} {'s/epoch':>8} {'1st epoch':>9} {'accuracy':>8}")
    for row in sorted(rows, key=lambda row: (row["model"], row["precision"], row["seconds_per_epoch"])):
        print(f"{row['model']:10} {row['precision']:9} {row['backend']:10} {row['seconds_per_epoch']:8.3f} "
              f"{row['first_epoch_seconds']:9.2f} {100 * row['test_accuracy']:7.2f}%")
    print("\nfastest:")
    for model in options["models"]:
        for precision in options["precisions"]:
            ranked = sorted((row for row in rows if (row["model"], row["precision"]) == (model, precision)),
                            key=lambda row: row["seconds_per_epoch"])  # fmt: skip
            if ranked:
                ratios = ", ".join(f"{row['backend']} x{row['seconds_per_epoch'] / ranked[0]['seconds_per_epoch']:.2f}"
                                   for row in ranked[1:])  # fmt: skip
                print(f"  {model} {precision}: {ranked[0]['backend']}" + (f" ({ratios} as long)" if ratios else ""))
    write_results("backends", {"cpu": cpu, "args": vars(args), "rows": rows, "measured": measured})


if __name__ == "__main__":
    main()
