"""Benchmark: spatiallab against the lesson's own plain script on the same full-MNIST grid and CPU, and the accuracy
parity of bfloat16 against float32.

Usage: python benchmarks/speed_vs_lesson.py [--data ../shared/data/mnist.npz] [--seeds 3] [--epochs 5] [--rounds 1]
                                            [--sides lesson,spatiallab,float32,workers2]
                                            [--spatiallab-args "..."]
The grid: dense + cnn x original + shuffled x seeds, full MNIST. Sides, alternating within each round so the
machine's load falls on all of them:
- ``lesson``: benchmarks/lesson_script.py (float32, plain ``model.fit``, Keras defaults: what the lesson's 20 lines do);
- ``spatiallab``: ``spatiallab run`` with its defaults (precision auto) plus ``--spatiallab-args``;
- ``float32``: the same ``spatiallab run`` with ``--precision float32``: the parity reference;
- ``workers2``: the same ``spatiallab run`` with ``--workers 2`` (two cells at once, one thread each).
Prints the CPU, each side's wall time, the ratio lesson / spatiallab, mean accuracy per cell with 95% intervals, and,
when ``spatiallab`` ran in bfloat16, the difference bfloat16 - float32 in test accuracy and in spatial reliance,
paired by seed, with 95% intervals. Writes benchmarks/results/speed_vs_lesson.json.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

from common import print_cpu, timed_command, write_results

from spatiallab import stats

ROOT = Path(__file__).resolve().parents[1]
# The sides besides ``lesson`` and ``spatiallab``: ``spatiallab run`` with one option changed from its defaults.
VARIANTS = {"float32": ["--precision", "float32"], "workers2": ["--workers", "2"]}


def lesson_side(args, folder: Path) -> dict:
    seeds = ",".join(str(seed) for seed in range(args.seeds))
    timed = timed_command([sys.executable, str(ROOT / "benchmarks" / "lesson_script.py"), "--data", str(args.data),
                           "--seeds", seeds, "--epochs", str(args.epochs)])  # fmt: skip
    cells = [json.loads(line) for line in timed["stdout"].splitlines() if line.startswith("{")]
    return {**timed, "cells": cells, "precision": "float32"}


def spatiallab_side(args, folder: Path, extra: list[str]) -> dict:
    out = folder / "run"
    timed = timed_command([sys.executable, "-m", "spatiallab", "run", "--dataset", "mnist", "--data", str(args.data),
                           "--models", "dense,cnn", "--seeds", str(args.seeds), "--epochs", str(args.epochs),
                           "--no-report", "--out", str(out), *extra])  # fmt: skip
    record = json.loads((out / "results.json").read_text())
    cells = [{key: cell[key] for key in ("model", "condition", "seed", "test_accuracy", "train_seconds")}
             for cell in record["cells"]]  # fmt: skip
    return {**timed, "cells": cells, "precision": record["precision"]["used"], "execution": record["execution"]}


def by_cell(side: dict) -> dict:
    return {(cell["model"], cell["condition"], cell["seed"]): cell["test_accuracy"] for cell in side["cells"]}


def parity(test: dict, reference: dict) -> list[str]:
    """Paired-by-seed differences test - reference, in accuracy per cell and in reliance per model."""
    test_cells, reference_cells = by_cell(test), by_cell(reference)
    lines = []
    for model in ("dense", "cnn"):
        seeds = sorted({seed for (m, _, seed) in reference_cells if m == model})
        for condition in ("original", "shuffled"):
            first = [test_cells[(model, condition, seed)] for seed in seeds]
            second = [reference_cells[(model, condition, seed)] for seed in seeds]
            row = stats.paired_difference(first, second)
            lines.append(f"  {model:5} {condition:8} accuracy difference: "
                         f"{stats.format_estimate(row['difference'], row['ci_low'], row['ci_high'], True, 2)} points")
        reliance = [[cells[(model, "original", s)] - cells[(model, "shuffled", s)] for s in seeds]
                    for cells in (test_cells, reference_cells)]  # fmt: skip
        row = stats.paired_difference(*reliance)
        lines.append(f"  {model:5} reliance difference: "
                     f"{stats.format_estimate(row['difference'], row['ci_low'], row['ci_high'], True, 2)} points")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "mnist.npz")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sides", default="lesson,spatiallab,float32",
                        help=f"comma-separated, from: lesson, spatiallab, {', '.join(VARIANTS)}")
    parser.add_argument("--spatiallab-args", default="", help="extra options for the spatiallab side")
    args = parser.parse_args()
    cpu = print_cpu()
    sides = args.sides.split(",")
    results = {side: [] for side in sides}
    with tempfile.TemporaryDirectory() as folder:
        for round_index in range(args.rounds):
            for side in sides:
                where = Path(folder) / f"{side}-{round_index}"
                if side == "lesson":
                    result = lesson_side(args, where)
                elif side == "spatiallab":
                    result = spatiallab_side(args, where, shlex.split(args.spatiallab_args))
                else:
                    result = spatiallab_side(args, where, [*shlex.split(args.spatiallab_args), *VARIANTS[side]])
                result.pop("stdout")
                results[side].append(result)
                print(f"round {round_index} {side:>10}: {result['wall_seconds']:7.1f} s wall, "
                      f"{result['peak_rss_mib']:6.0f} MiB peak, precision {result['precision']}", flush=True)
    print("\nside        wall s per round        mean accuracy per cell (%), 95% CI over seeds")
    for side in sides:
        walls = [r["wall_seconds"] for r in results[side]]
        print(f"{side:10} " + " ".join(f"{w:7.1f}" for w in walls))
        cells = by_cell(results[side][0])
        for model in ("dense", "cnn"):
            for condition in ("original", "shuffled"):
                values = [v for (m, c, _), v in cells.items() if (m, c) == (model, condition)]
                row = stats.t_interval(values, bounds=stats.ACCURACY_BOUNDS)
                estimate = stats.format_estimate(row["mean"], row["ci_low"], row["ci_high"], False, 2)
                print(f"    {model:5} {condition:8} {estimate}")
    if "lesson" in results and "spatiallab" in results:
        lesson, ours = ([r["wall_seconds"] for r in results[side]] for side in ("lesson", "spatiallab"))
        ratio = sum(lesson) / sum(ours)
        print(f"\nratio lesson / spatiallab (wall time, all rounds): {ratio:.2f}")
    if "spatiallab" in results and "float32" in results and results["spatiallab"][0]["precision"] == "bfloat16":
        print("\nparity, bfloat16 - float32 (paired by seed, round 0):")
        print("\n".join(parity(results["spatiallab"][0], results["float32"][0])))
    write_results("speed_vs_lesson", {"cpu": cpu, "args": vars(args), "results": results})


if __name__ == "__main__":
    main()
