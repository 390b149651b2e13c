"""Benchmark: seconds per training epoch of locally_connected against cnn (and dense) on MNIST-size inputs.

The models alternate epoch by epoch (cnn, locally_connected, dense, cnn, ...), so a change in the machine's load
affects all of them; the ratio per round and its median are printed. Each model is warmed up on one batch first
(graph tracing is not counted). Training runs as in the grid: ``spatiallab.training`` settings, deterministic ops.

Usage:
    nice -n 10 .venv/bin/python benchmarks/locally_connected_speed.py [--data ../shared/data/mnist.npz] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from spatiallab import data, training  # noqa: E402
from spatiallab.models.build import build_model  # noqa: E402
from spatiallab.transforms import to_float  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("cnn", "locally_connected", "dense")


def compiled(name: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = build_model(name, (28, 28, 1), 10)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=training.DEFAULTS["learning_rate"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist.npz"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dataset = data.load("mnist", args.data)
    x_train, y_train = to_float(dataset.x_train), dataset.y_train
    training.enable_determinism()
    batch = training.DEFAULTS["batch_size"]
    built = {name: compiled(name) for name in MODELS}
    for model in built.values():
        model.fit(x_train[:batch], y_train[:batch], batch_size=batch, epochs=1, verbose=0)
    seconds = {name: [] for name in MODELS}
    for round_index in range(args.rounds):
        for name, model in built.items():
            start = time.perf_counter()
            model.fit(x_train, y_train, batch_size=batch, epochs=1, shuffle=True, verbose=0)
            seconds[name].append(time.perf_counter() - start)
        ratio = seconds["locally_connected"][-1] / seconds["cnn"][-1]
        print(f"round {round_index + 1}: " + ", ".join(f"{name} {seconds[name][-1]:.1f} s" for name in MODELS)
              + f"; locally_connected / cnn = {ratio:.2f}", flush=True)  # fmt: skip
    ratios = [local / conv for local, conv in zip(seconds["locally_connected"], seconds["cnn"], strict=True)]
    print(f"{len(x_train):,} images of 28x28x1 per epoch, batch {batch}; shared, loaded 2-core machine")
    for name in MODELS:
        params = built[name].count_params()
        print(f"  {name:18s} median {statistics.median(seconds[name]):6.1f} s/epoch  ({params:,} params)")
    per_round = [round(ratio, 2) for ratio in ratios]
    print(f"  locally_connected / cnn: median ratio {statistics.median(ratios):.2f} (per round {per_round})")


if __name__ == "__main__":
    main()
