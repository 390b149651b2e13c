"""Benchmark: at which spatial scale each model uses the layout, on full MNIST or full Fashion-MNIST.

The scale experiment (``spatiallab scale``) at block sizes 2, 4, 7 and 14, both families (pixels shuffled within
k x k blocks; blocks moved as wholes), for dense, cnn, cnn_gap and locally_connected, 3 seeds. Dense flattens its
input, so its curve must stay flat (the experiment checks it); locally_connected has the cnn's 3x3 receptive fields
without weight sharing, so comparing the two separates locality from sharing at each scale.

Usage:
    python benchmarks/scale_grid.py --dataset mnist --data ../shared/data/mnist.npz [--epochs 3] [--seeds 3]
    python benchmarks/scale_grid.py --dataset fashion-mnist [--data /usr/share/datasets/fashion-mnist]

Writes the run folder benchmarks/results/scale_<dataset>/ (results.json, results.csv, report) and prints the CPU,
the curves per model with 95% intervals, the verdict, and the seconds per epoch per model (all cells of one run on
the same machine, so the ratios are side by side). ``--resume`` continues a run that was stopped.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from common import print_cpu  # noqa: E402
from rich.console import Console  # noqa: E402

from spatiallab import experiments, runner  # noqa: E402
from spatiallab.cli.progress import LineProgress  # noqa: E402
from spatiallab.cli.scale import print_curves  # noqa: E402
from spatiallab.experiments.scale import Scale, ScaleConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = "dense,cnn,cnn_gap,locally_connected"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    parser.add_argument("--data", default=None, help="the dataset's file or folder [default: search the usual places]")
    parser.add_argument("--models", default=MODELS)
    # 3 epochs: near convergence for the cnn on MNIST (98.9% after 3, 99.0% after 8 in mnist_grid.py) at a cost
    # the 2-core machine can pay for 27 cells per model; every model gets the same budget.
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--block-sizes", default="2,4,7,14")
    parser.add_argument("--resume", action="store_true", help="continue the run folder's missing cells")
    parser.add_argument("--workers", default="auto", help="cells at once, as `spatiallab scale --workers` (auto|N)")
    args = parser.parse_args()
    print_cpu()
    out = ROOT / "benchmarks" / "results" / f"scale_{args.dataset}"
    given = dict(
        dataset=args.dataset, data_path=args.data, models=args.models.split(","), seeds=list(range(args.seeds)),
        epochs=args.epochs, block_sizes=[int(size) for size in args.block_sizes.split(",")],
    )  # fmt: skip
    config = experiments.resume_config(out, Scale, ScaleConfig, given) if args.resume else ScaleConfig(**given)
    execution = runner.Execution(workers=args.workers if args.workers == "auto" else int(args.workers))
    record = experiments.run_experiment(Scale(config), out, progress=LineProgress(), resume=args.resume,
                                        overwrite=not args.resume, execution=execution)  # fmt: skip
    console = Console(width=170)
    print_curves(console, record)
    for model in config.models:
        seconds = [cell["seconds_per_epoch"] for cell in record["cells"] if cell["model"] == model]
        if seconds:
            console.print(f"{model}: {statistics.median(seconds):.1f} s/epoch (median over {len(seconds)} cells)")
    console.print(f"precision: {record['precision']['used']}; results: {out}/results.json")


if __name__ == "__main__":
    main()
