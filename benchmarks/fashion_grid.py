"""Benchmark: the shuffled-pixels grid on full Fashion-MNIST for dense, cnn, cnn_gap and locally_connected.

The lesson says Dense degrades on harder images while CNNs hold, and credits the CNN's advantage to local 3x3
neighbourhoods and weight sharing together. Fashion-MNIST (same size as MNIST, harder classes) tests the first
claim; locally_connected (the cnn's 3x3 receptive fields without sharing) separates the two parts of the second.

Usage (1 h 17 min on 2 shared, loaded CPU cores with the defaults, most of it locally_connected):
    nice -n 10 .venv/bin/python benchmarks/fashion_grid.py [--data /usr/share/datasets/fashion-mnist] [--epochs 2]

Data: Debian's ``dataset-fashion-mnist`` package (the original IDX files) unless --data says otherwise.
Writes benchmarks/results/fashion_grid/results.json (the grid's run folder) and prints the accuracy table with
spatial reliance, the parameters per model, and the seconds per training epoch per model with the ratio to cnn
(all cells of one run on the same machine, so the ratio is measured side by side).
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from spatiallab import experiments  # noqa: E402
from spatiallab.cli.progress import LineProgress  # noqa: E402
from spatiallab.cli.run import print_summary  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["dense", "cnn", "cnn_gap", "locally_connected"]


def speed_table(record: dict) -> Table:
    """Mean seconds per epoch per model over all its cells, and the ratio to the cnn's."""
    per_model = {
        model: statistics.mean(cell["seconds_per_epoch"] for cell in record["cells"] if cell["model"] == model)
        for model in record["config"]["models"]
    }
    table = Table(title="Training speed on 60,000 images of 28x28x1 (batch 128; shared, loaded 2-core machine)")
    for column in ("model", "params", "s / epoch", "ratio to cnn"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for model, seconds in per_model.items():
        params = record["models"]["fashion-mnist"][model]["params"]
        ratio = f"{seconds / per_model['cnn']:.2f}x" if "cnn" in per_model else "-"
        table.add_row(model, f"{params:,}", f"{seconds:.1f}", ratio)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder or npz [default: search the usual places]")
    # 2 epochs: the whole grid (24 cells) took 1 h 17 min on 2 shared, loaded cores; 3 would take about 2 hours,
    # mostly locally_connected, which trains 2-3.5x slower per epoch than the cnn. All models get the same budget.
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fashion_grid"))
    args = parser.parse_args()
    config = experiments.GridConfig(
        datasets=["fashion-mnist"], models=MODELS, seeds=list(range(args.seeds)), epochs=args.epochs,
        data_path=args.data, save_models=False,
    )  # fmt: skip
    record = experiments.run_experiment(experiments.ShuffledPixels(config), args.out, progress=LineProgress(),
                                        overwrite=True)  # fmt: skip
    console = Console(width=160)
    print_summary(console, record)
    console.print(speed_table(record))
    console.print(f"Results: {args.out}/results.json")


if __name__ == "__main__":
    main()
