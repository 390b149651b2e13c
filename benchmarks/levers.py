"""Benchmark: what each speed lever of one training cell gives, side by side, each variant in a fresh process.

Usage: python benchmarks/levers.py [--train 10000] [--epochs 3] [--rounds 2] [--variants base,spe16,...]
One cell = ``training.fit_and_evaluate`` of dense and of cnn on the first --train images of the bundled sample
(the default run's size), seed 0. Variants (each changes one thing from ``base``, the current default):
base (precision auto, op determinism, per-epoch test evaluation, steps_per_execution 1, the backend's threads),
float32, spe16 / spe64 (steps_per_execution), no-eval (test split evaluated once, after training), no-determinism,
threads1 (1 intra-op thread). Rounds alternate the variants so the machine's load falls on all of them. Prints the
CPU, seconds per cell for each model and variant (median over rounds), the ratio base / variant, and accuracies.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from common import print_cpu, write_results

VARIANTS = ("base", "float32", "spe16", "spe64", "no-eval", "no-determinism", "threads1")

CHILD = r"""
import json, sys, time
variant, train, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
from spatiallab import data, training
from spatiallab.transforms import to_float
if variant == "no-determinism":
    training.enable_determinism = lambda: None
training.apply_thread_budget(1 if variant == "threads1" else None)
options = {"precision": training.choose_precision("float32" if variant == "float32" else "auto")["used"]}
if variant.startswith("spe"):
    options["steps_per_execution"] = int(variant[3:])
if variant == "no-eval":
    options["evaluate_each_epoch"] = False
dataset = data.load("mnist-sample").subset(train, None)
x_train, x_test = to_float(dataset.x_train), to_float(dataset.x_test)
out = {}
for model in ("dense", "cnn"):
    start = time.perf_counter()
    fitted = training.fit_and_evaluate(model, x_train, dataset.y_train, x_test, dataset.y_test, 10, seed=0,
                                       epochs=epochs, **options)
    out[model] = {"seconds": time.perf_counter() - start, "accuracy": fitted.test_accuracy,
                  "epoch_seconds": fitted.epoch_seconds, "precision": options["precision"]}
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    cpu = print_cpu()
    variants = args.variants.split(",")
    results = {variant: [] for variant in variants}
    for round_index in range(args.rounds):
        for variant in variants:
            completed = subprocess.run([sys.executable, "-c", CHILD, variant, str(args.train), str(args.epochs)],
                                       capture_output=True, text=True, check=True,
                                       env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
            measured = json.loads(completed.stdout.strip().splitlines()[-1])
            results[variant].append(measured)
            print(f"round {round_index} {variant:>15}: " + ", ".join(
                f"{model} {m['seconds']:.2f} s ({100 * m['accuracy']:.2f}%)" for model, m in measured.items()),
                flush=True)  # fmt: skip
    base = {model: statistics.median(r[model]["seconds"] for r in results["base"]) for model in ("dense", "cnn")}
    print("\nvariant          dense s  base/variant   cnn s  base/variant   accuracy dense / cnn (round 0)")
    for variant in variants:
        medians = {model: statistics.median(r[model]["seconds"] for r in results[variant]) for model in base}
        first = results[variant][0]
        print(f"{variant:15} {medians['dense']:7.2f} {base['dense'] / medians['dense']:12.2f} "
              f"{medians['cnn']:7.2f} {base['cnn'] / medians['cnn']:12.2f}   "
              f"{100 * first['dense']['accuracy']:.2f} / {100 * first['cnn']['accuracy']:.2f}")  # fmt: skip
    write_results("levers", {"cpu": cpu, "args": vars(args), "results": results})


if __name__ == "__main__":
    main()
