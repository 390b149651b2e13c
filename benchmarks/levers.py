"""Benchmark: what each speed lever of a training cell gives, side by side, each variant in a fresh process.

Usage: python benchmarks/levers.py [--data ../shared/data/mnist.npz] [--train 10000] [--epochs 3] [--rounds 2]
                                   [--variants base,spe1,...]
Per variant and model (dense, cnn), two cells (seeds 0 and 1) of ``training.fit_and_evaluate`` on the first --train
training images (of the bundled sample, or of the full MNIST npz given as --data; 0 = all). Variants (each changes
one thing from ``base``, the current default): base (precision auto, op determinism, per-epoch test evaluation,
steps_per_execution per backend, the compiled model reused by the second cell, the backend's threads), spe1
(steps_per_execution 1), no-reuse (a new model compiled and traced for every cell), float32, no-eval (test split
evaluated once, after training), no-determinism, threads1 (1 intra-op thread). Rounds alternate the variants so the
machine's load falls on all of them. Prints the CPU, seconds per cell for each model and variant (median over
rounds and cells), the ratio base / variant, and accuracies. Several seeds trained as one vectorised model, a lever
that changes how cells are trained rather than one setting of a cell: benchmarks/vectorised_seeds.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from common import print_cpu, write_results

VARIANTS = ("base", "spe1", "no-reuse", "float32", "no-eval", "no-determinism", "threads1")

CHILD = r"""
import json, sys, time
variant, data_path, train, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
from spatiallab import data, training
from spatiallab.transforms import to_float
if variant == "no-determinism":
    training.enable_determinism = lambda: None
training.apply_thread_budget(1 if variant == "threads1" else None)
options = {"precision": training.choose_precision("float32" if variant == "float32" else "auto")["used"]}
if variant == "spe1":
    options["steps_per_execution"] = 1
if variant == "no-eval":
    options["evaluate_each_epoch"] = False
dataset = data.load("mnist", path=data_path) if data_path else data.load("mnist-sample")
dataset = dataset.subset(train or None, None)
x_train, x_test = to_float(dataset.x_train), to_float(dataset.x_test)
out = {}
for model in ("dense", "cnn"):
    out[model] = []
    for seed in (0, 1):
        if variant == "no-reuse":
            training._compiled.clear()
        start = time.perf_counter()
        fitted = training.fit_and_evaluate(model, x_train, dataset.y_train, x_test, dataset.y_test, 10, seed=seed,
                                           epochs=epochs, **options)
        out[model].append({"seconds": time.perf_counter() - start, "accuracy": fitted.test_accuracy,
                           "epoch_seconds": fitted.epoch_seconds, "precision": options["precision"]})
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="", help="full MNIST npz (Keras layout); default: the bundled sample")
    parser.add_argument("--train", type=int, default=10000, help="training images per cell (0: all)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    cpu = print_cpu()
    variants = args.variants.split(",")
    results = {variant: [] for variant in variants}
    for round_index in range(args.rounds):
        for variant in variants:
            command = [sys.executable, "-c", CHILD, variant, args.data, str(args.train), str(args.epochs)]
            completed = subprocess.run(command, capture_output=True, text=True, check=True,
                                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
            measured = json.loads(completed.stdout.strip().splitlines()[-1])
            results[variant].append(measured)
            shown = [f"{model} {' / '.join(format(cell['seconds'], '.2f') for cell in cells)} s "
                     f"({100 * cells[0]['accuracy']:.2f}%)" for model, cells in measured.items()]  # fmt: skip
            print(f"round {round_index} {variant:>15}: " + ", ".join(shown), flush=True)

    def median(variant: str, model: str) -> float:
        return statistics.median(cell["seconds"] for r in results[variant] for cell in r[model])

    base = {model: median("base", model) for model in ("dense", "cnn")}
    print("\nvariant          dense s  base/variant   cnn s  base/variant   accuracy dense / cnn (round 0)")
    for variant in variants:
        medians = {model: median(variant, model) for model in base}
        first = results[variant][0]
        print(f"{variant:15} {medians['dense']:7.2f} {base['dense'] / medians['dense']:12.2f} "
              f"{medians['cnn']:7.2f} {base['cnn'] / medians['cnn']:12.2f}   "
              f"{100 * first['dense'][0]['accuracy']:.2f} / {100 * first['cnn'][0]['accuracy']:.2f}")  # fmt: skip
    write_results("levers", {"cpu": cpu, "args": vars(args), "results": results})


if __name__ == "__main__":
    main()
