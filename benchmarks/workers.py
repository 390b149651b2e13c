"""Benchmark: one grid run serially, with two worker processes, and as Ray tasks, back to back in one invocation.

Usage: python benchmarks/workers.py [--data ../shared/data/mnist.npz] [--seeds 3] [--epochs 2] [--rounds 1]
Each side is the ``spatiallab run`` command line (full MNIST, dense + cnn x original + shuffled) in its own process:
serial (the default: one process, the backend's own thread count), ``--workers 2`` (one thread each on 2 cores) and
``--ray`` (a private local Ray instance; its start-up is part of what it costs). Prints the CPU, each side's wall
time, its ratio to serial, the peak memory of its whole process tree (RSS summed over the driver and every process
it started, sampled every 0.2 s), and the mean accuracy per cell; writes benchmarks/results/workers.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from common import print_cpu, timed_command, write_results

ROOT = Path(__file__).resolve().parents[1]
SIDES = {"serial": [], "workers2": ["--workers", "2"], "ray": ["--ray"]}


def run_side(name: str, arguments: list[str], common: list[str], folder: Path) -> dict:
    out = folder / name
    timed = timed_command([sys.executable, "-m", "spatiallab", "run", *common, *arguments, "--out", str(out),
                           "--no-report"])  # fmt: skip
    record = json.loads((out / "results.json").read_text())
    return {"side": name, "wall_seconds": timed["wall_seconds"], "peak_rss_mib": timed["peak_rss_mib"],
            "accuracy": {f"{c['model']}/{c['condition']}/seed{c['seed']}": c["test_accuracy"] for c in record["cells"]},
            "train_seconds": sum(c["train_seconds"] for c in record["cells"]), "precision": record["precision"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "mnist.npz")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the three sides this many times, alternating")
    parser.add_argument("--sides", default=",".join(SIDES), help=f"comma-separated subset of {','.join(SIDES)}")
    args = parser.parse_args()
    cpu = print_cpu()
    common = ["--dataset", "mnist", "--data", str(args.data), "--models", "dense,cnn", "--seeds", str(args.seeds),
              "--epochs", str(args.epochs)]  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for round_index in range(args.rounds):
            for name in args.sides.split(","):
                result = run_side(name, SIDES[name], common, Path(folder) / f"round{round_index}")
                result["round"] = round_index
                results.append(result)
                print(f"round {round_index} {name:>9}: {result['wall_seconds']:7.1f} s wall, "
                      f"{result['peak_rss_mib']:7.0f} MiB peak", flush=True)  # fmt: skip
    serial = [r["wall_seconds"] for r in results if r["side"] == "serial"]
    print("\nside       wall s (mean)  serial / side  peak MiB")
    for name in args.sides.split(","):
        walls = [r["wall_seconds"] for r in results if r["side"] == name]
        peaks = [r["peak_rss_mib"] for r in results if r["side"] == name]
        ratio = f"{sum(serial) / sum(walls):.2f}" if serial else "-"
        print(f"{name:9} {sum(walls) / len(walls):13.1f}  {ratio:>13}  {max(peaks):8.0f}")
    first = {r["side"]: r["accuracy"] for r in results if r["round"] == 0}
    cells = sorted(next(iter(first.values())))
    print("\ncell: test accuracy per side (round 0)")
    for cell in cells:
        print(f"  {cell}: " + ", ".join(f"{side} {first[side][cell]:.4f}" for side in first))
    write_results("workers", {"cpu": cpu, "args": vars(args), "results": results})


if __name__ == "__main__":
    main()
