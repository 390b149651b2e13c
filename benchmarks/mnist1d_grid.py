"""Benchmark: MNIST-1D's shuffled-positions experiment with its reference models and training recipe, beside the
numbers its authors publish.

Usage: python benchmarks/mnist1d_grid.py [--seeds 5] [--models linear,mlp1d,cnn1d,gru1d] [--workers N] [--epochs E]
       [--train-limit N --test-limit N] [--precision float32]
Every model, on the original and on the position-shuffled sequences (one fixed permutation of the 40 positions, the
same for train and test), 5 seeds, MNIST-1D's recipe (Adam, learning rate 1e-2, batch 100, 200 epochs = 8,000 steps,
no weight decay) unless --epochs is given. Prints the table (test accuracy, mean [95% CI] over seeds per cell;
reliance = original - shuffled with its seed-paired interval) beside the published accuracies, seconds per model
and the wall time, with the CPU; writes benchmarks/results/mnist1d.json and the run folder
benchmarks/results/mnist1d_run/.

A full run trains 40 cells of 200 epochs (the GRU about 10x the CNN's time); ``--epochs 1 --seeds 2 --train-limit
300 --test-limit 100`` checks the script in under a minute.

Precision is float32 by default, as the reference was trained; ``--precision auto`` may choose bfloat16.
(Not named ``mnist1d.py``: Python puts a script's folder first on its path, so that name would hide the mnist1d
package from the generator.)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from common import print_cpu, write_results  # noqa: E402

from spatiallab import experiments, models, runner, stats  # noqa: E402
from spatiallab.cli.progress import LineProgress  # noqa: E402
from spatiallab.data import mnist1d  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def published_estimate(model: str) -> tuple[str, str, str]:
    """The published original, shuffled and their difference, in %, or dashes for a model not published."""
    row = mnist1d.PUBLISHED.get(model)
    if row is None:
        return "-", "-", "-"
    return f"{row['original']:.0f}", f"{row['shuffled']:.0f}", f"{row['original'] - row['shuffled']:+.0f}"


def table(record: dict, seconds: dict[str, float]) -> list[str]:
    """The benchmark's table as lines of text: ours beside the published numbers, per model."""
    level = stats.confidence_label(record["config"]["confidence"])
    summary = {(row["model"], row["condition"]): row for row in record["summary"]}
    reliance = {row["model"]: row for row in record["reliance"]}

    def estimate(row, value="mean", signed=False):
        return "-" if row is None else stats.format_estimate(row[value], row["ci_low"], row["ci_high"], signed)

    header = (f"{'model':7s} {'params':>7s} | {'original':>18s} {'shuffled':>18s} {'reliance (points)':>20s} | "
              f"{'published':>9s} {'shuffled':>8s} {'diff':>5s} | {'s/cell':>7s} {'s/model':>8s}")
    lines = [f"MNIST-1D, test accuracy %, mean [{level} CI] over seeds (ours) | MNIST-1D README (published)", header]
    for model in record["config"]["models"]:
        cells = [cell for cell in record["cells"] if cell["model"] == model]
        per_cell = seconds[model] / len(cells) if cells else float("nan")
        lines.append(
            f"{model:7s} {record['models']['mnist1d'][model]['params']:>7,} | "
            f"{estimate(summary.get((model, 'original'))):>18s} {estimate(summary.get((model, 'shuffled'))):>18s} "
            f"{estimate(reliance.get(model), 'difference', signed=True):>20s} | "
            + " ".join(f"{value:>{width}s}" for value, width in zip(published_estimate(model), (9, 8, 5)))
            + f" | {per_cell:>7.1f} {seconds[model]:>8.1f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    reference = [name for name in mnist1d.PUBLISHED if name in models.model_names()]
    parser.add_argument("--models", default=",".join(reference), help="comma-separated registered models")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's 200")
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--workers", type=int, default=1, help="cells trained at once, each in its own process")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per cell")
    parser.add_argument("--precision", default="float32", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--resume", action="store_true", help="keep the cells an interrupted run saved")
    args = parser.parse_args()

    cpu = print_cpu()
    config = experiments.GridConfig(
        datasets=["mnist1d"], models=[name.strip() for name in args.models.split(",") if name.strip()],
        seeds=list(range(args.seeds)), epochs=args.epochs, train_limit=args.train_limit, test_limit=args.test_limit,
        precision=args.precision, save_models=False,
    )  # fmt: skip
    start = time.perf_counter()
    record = experiments.run_experiment(
        experiments.ShuffledPixels(config), args.out / "mnist1d_run", resume=args.resume, overwrite=not args.resume, progress=LineProgress(),
        execution=runner.Execution(workers=args.workers, threads=args.threads),
    )  # fmt: skip
    wall = time.perf_counter() - start
    seconds = {model: sum(cell["train_seconds"] for cell in record["cells"] if cell["model"] == model)
               for model in config.models}  # fmt: skip

    print()
    print("\n".join(table(record, seconds)))
    print(f"\nPublished: {mnist1d.PUBLISHED_SOURCE}. Ours: {len(record['cells'])} cells, epochs "
          f"{record['config']['epochs']}, batch {record['config']['batch_size']}, learning rate "
          f"{record['config']['learning_rate']:g}, precision {record['precision']['used']}, "
          f"{record['execution']['mode']} ({args.workers} worker(s)).")
    print(f"Wall time: {wall:.0f} s for the whole benchmark; fit seconds per model above (sum over its cells).")
    print("\n".join(record["verdict"]))
    write_results("mnist1d", {
        "cpu": cpu, "wall_seconds": wall, "seconds_per_model": seconds, "published": mnist1d.PUBLISHED,
        "published_source": mnist1d.PUBLISHED_SOURCE, "config": record["config"], "training": record["training"],
        "precision": record["precision"], "execution": record["execution"], "versions": record["versions"],
        "summary": record["summary"], "reliance": record["reliance"], "verdict": record["verdict"],
    })  # fmt: skip


if __name__ == "__main__":
    main()
