"""Benchmark: the shuffled-pixels grid on full MNIST, and the same CNN trained by a plain ``model.fit`` side by side.

Usage: python benchmarks/mnist_grid.py [--data ../shared/data/mnist.npz] [--epochs 8] [--seeds 3] [--plain-epochs 2]
Writes benchmarks/results/mnist_grid.json and prints: the accuracy table, seconds per epoch per model, the ratio
of our cell's seconds per epoch to a plain Keras fit of the same CNN (our orchestration's overhead), peak memory.
The plain fit (``--plain-epochs`` epochs) runs once before and once after the grid, so a machine whose load changes
affects both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from spatiallab import experiments  # noqa: E402
from spatiallab.cli.progress import LineProgress  # noqa: E402
from spatiallab.models.build import build_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ends = [time.perf_counter()]

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def steady_seconds_per_epoch(epoch_seconds) -> float:
    """Median epoch time after the first (which also holds graph tracing)."""
    return float(np.median(epoch_seconds[1:] if len(epoch_seconds) > 1 else epoch_seconds))


def plain_fit_seconds_per_epoch(data_path: Path, epochs: int) -> tuple[float, float]:
    """The lesson's way: load, /255, build, compile, fit, evaluate; nothing else.

    Returns (steady-state seconds per epoch, test accuracy)."""
    with np.load(data_path) as archive:
        x_train = archive["x_train"][..., None].astype("float32") / 255.0
        x_test = archive["x_test"][..., None].astype("float32") / 255.0
        y_train, y_test = archive["y_train"], archive["y_test"]
    keras.utils.set_random_seed(0)
    model = build_model("cnn")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(
        x_train, y_train, batch_size=128, epochs=epochs, validation_data=(x_test, y_test), verbose=0, callbacks=[timer]
    )
    return steady_seconds_per_epoch(np.diff(timer.ends)), float(model.evaluate(x_test, y_test, verbose=0)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "mnist.npz")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--plain-epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    plain_before = plain_fit_seconds_per_epoch(args.data, args.plain_epochs)
    config = experiments.GridConfig(
        datasets=["mnist"], models=["dense", "cnn"], seeds=list(range(args.seeds)), epochs=args.epochs,
        data_path=str(args.data),
    )  # fmt: skip
    start = time.perf_counter()
    record = experiments.run_experiment(experiments.ShuffledPixels(config), args.out / "mnist_grid_run",
                                        progress=LineProgress(), overwrite=True)  # fmt: skip
    grid_seconds = time.perf_counter() - start
    plain_after = plain_fit_seconds_per_epoch(args.data, args.plain_epochs)

    plain_per_epoch = (plain_before[0] + plain_after[0]) / 2
    per_epoch = {
        model: float(np.mean([steady_seconds_per_epoch(c["epoch_seconds"]) for c in record["cells"] if c["model"] == model]))
        for model in config.models
    }
    cnn_original = [c for c in record["cells"] if c["model"] == "cnn" and c["condition"] == "original"]
    ours_cnn_per_epoch = float(np.mean([steady_seconds_per_epoch(c["epoch_seconds"]) for c in cnn_original]))
    summary = {
        "epochs": args.epochs,
        "seeds": config.seeds,
        "grid_wall_seconds": grid_seconds,
        "sum_of_cell_fit_seconds": sum(c["train_seconds"] for c in record["cells"]),
        "steady_seconds_per_epoch": per_epoch,
        "plain_fit_cnn_seconds_per_epoch": [plain_before[0], plain_after[0]],
        "plain_fit_cnn_accuracy_after_plain_epochs": [plain_before[1], plain_after[1]],
        "ratio_ours_to_plain_cnn_per_epoch": ours_cnn_per_epoch / plain_per_epoch,
        "ratio_grid_wall_to_fit_time": grid_seconds / sum(c["train_seconds"] for c in record["cells"]),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "summary": record["summary"],
        "reliance": record["reliance"],
        "verdict": record["verdict"],
        "versions": record["versions"],
        "execution": record["execution"],
    }
    (args.out / "mnist_grid.json").write_text(json.dumps(summary, indent=2))
    for row in record["summary"]:
        ci = f"± {100 * row['half_width']:.2f}" if row["half_width"] is not None else ""
        print(f"{row['model']:8s} {row['condition']:9s} {100 * row['mean']:.2f}% {ci}  ({row['accuracies']})")
    print("\n".join(record["verdict"]))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("summary", "reliance", "verdict")}, indent=2))


if __name__ == "__main__":
    main()
