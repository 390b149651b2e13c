"""Benchmark: several seeds of one model trained as one vectorised Keras model, against each seed trained alone.

Usage: python benchmarks/vectorised_seeds.py [--data ../shared/data/mnist.npz] [--train 10000] [--epochs 2]
                                             [--members 3] [--models dense,cnn] [--rounds 2]
The vectorised model is one functional model holding --members (M) copies of a registered model side by side, for
seeds 0 .. M-1, and each copy stays its own training: it starts from the weights its seed gives the model alone
(checked before training), has its own input, fed its own permutation of the training images each epoch (drawn from
its seed; ``fit`` runs one epoch at a time with shuffle=False), its own loss (Keras adds the M losses, so each copy's
gradient is that of its own mean loss; Adam's update is per weight) and its own accuracy metric. A shared batch order
or an averaged loss would tie the copies together (a published Keras ensemble that shared them fitted much worse:
NNPDF #2127). Each seed is also trained alone the usual way: one ``fit`` over all epochs with shuffle=True, with
spatiallab's batch size, learning rate, precision, steps_per_execution and op determinism. Rounds alternate the order
(vectorised first, then the single models first), so the machine's load falls on both. --data and --train are those
of benchmarks/levers.py (default: 10,000 training images of the bundled sample; issue 10's measurement
uses full MNIST's: --data ../shared/data/mnist.npz).

Prints the CPU and, per model: seconds per epoch of the vectorised model (its permutations and gathers included)
against M x the single model's (the sum over seeds), each the median over rounds of epochs 2 .. --epochs (the first
holds the trace; with --epochs 1 it is all there is), their ratio (below 1: the vectorised model is faster), and each
copy's test accuracy against the single model's of the same seed (round 0; equal in distribution, not to the digit:
the batch orders differ). Writes benchmarks/results/vectorised_seeds.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from common import print_cpu, write_results  # noqa: E402

from spatiallab import data, training  # noqa: E402
from spatiallab.models import model_specs  # noqa: E402
from spatiallab.models.build import build_from_specs  # noqa: E402
from spatiallab.transforms import to_float  # noqa: E402


def member(model_name: str, input_shape: tuple[int, ...], num_classes: int, precision: str, seed: int) -> keras.Model:
    """The registered model, uncompiled, with the weights that ``training.fresh_model`` draws for ``seed`` (the same
    layers built in the same order after ``keras.utils.set_random_seed(seed)``), named ``<model>_<seed>`` so that
    several can sit in one functional model."""
    keras.utils.set_random_seed(seed)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        return build_from_specs(model_specs(model_name, num_classes), input_shape, name=f"{model_name}_{seed}")
    finally:
        keras.mixed_precision.set_global_policy(previous)


def compiled(model: keras.Model, steps_per_execution: int) -> keras.Model:
    """``model`` compiled as ``training.fresh_model`` compiles a cell's (Adam at spatiallab's learning rate, sparse
    categorical cross-entropy on the logits, accuracy), with that loss and metric on each output when there are
    several: Keras adds the outputs' losses (each of weight 1), so the total is their sum, not their mean."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    outputs = len(model.outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=training.DEFAULTS["learning_rate"]),
        loss=[loss] * outputs if outputs > 1 else loss,
        metrics=[["accuracy"]] * outputs if outputs > 1 else ["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def vectorised(model_name: str, members: list[keras.Model], input_shape: tuple[int, ...]) -> keras.Model:
    """One functional model of ``members`` side by side: input i feeds member i only, output i is its logits."""
    inputs = [keras.Input(shape=input_shape, name=f"{copy.name}_input") for copy in members]
    outputs = [copy(tensor) for copy, tensor in zip(members, inputs, strict=True)]
    return keras.Model(inputs, outputs, name=f"{model_name}_x{len(members)}")


def check_same_start(members: list[keras.Model], singles: list[keras.Model]) -> None:
    """Raise SystemExit unless each member starts from exactly the variables (weights, dropout seed states) of the
    single model of its seed: otherwise its accuracy could not be compared seed by seed."""
    for copy, single in zip(members, singles, strict=True):
        pairs = zip(copy.variables, single.variables, strict=True)
        if not all(np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)) for a, b in pairs):
            raise SystemExit(f"{copy.name}: its starting weights differ from those of the model trained alone with the "
                             "same seed; the per-seed comparison would not hold")  # fmt: skip


def train_vectorised(model: keras.Model, x: np.ndarray, y: np.ndarray, seeds: list[int], epochs: int) -> dict:
    """Train one epoch per ``fit``, each member on its own permutation of (x, y), drawn anew every epoch from its own
    generator (``numpy.random.default_rng(seed)``). Returns {"epoch_seconds" (permutations, gathers and ``fit``),
    "history" (Keras's per-output losses and accuracies, one value per epoch)}."""
    generators = [np.random.default_rng(seed) for seed in seeds]
    seconds, history = [], {}
    for _ in range(epochs):
        start = time.perf_counter()
        orders = [generator.permutation(len(x)) for generator in generators]
        fitted = model.fit([x[order] for order in orders], [y[order] for order in orders],
                           batch_size=training.DEFAULTS["batch_size"], epochs=1, shuffle=False, verbose=0)  # fmt: skip
        seconds.append(time.perf_counter() - start)
        for key, values in fitted.history.items():
            history.setdefault(key, []).extend(float(value) for value in values)
    return {"epoch_seconds": seconds, "history": history}


def train_single(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int) -> dict:
    """Train the usual way (one ``fit``, shuffle=True). Returns {"epoch_seconds" (the first holds the set-up and
    trace), "history"}, as ``train_vectorised`` does."""
    ends = []
    timer = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(time.perf_counter()))
    start = time.perf_counter()
    fitted = model.fit(x, y, batch_size=training.DEFAULTS["batch_size"], epochs=epochs, shuffle=True, verbose=0,
                       callbacks=[timer])  # fmt: skip
    history = {key: [float(value) for value in values] for key, values in fitted.history.items()}
    return {"epoch_seconds": np.diff([start, *ends]).tolist(), "history": history}


def test_accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of ``x`` whose largest logit is its label (a member is evaluated on its own, sharing the
    vectorised model's weights)."""
    logits = model.predict(x, batch_size=training.EVALUATION_BATCH_SIZE, verbose=0)
    return float(np.mean(np.argmax(logits, axis=1) == y))


def one_round(model_name: str, arrays: dict, args, precision: str, steps_per_execution: int,
              vectorised_first: bool) -> dict:  # fmt: skip
    """Build, check and train the vectorised model and the M single models of ``model_name``: {"order",
    "vectorised": {"epoch_seconds", "history", "accuracy" (per seed)}, "single": per seed {"epoch_seconds",
    "history", "accuracy"}}, seeds in order."""
    seeds = list(range(args.members))
    shape, classes = arrays["x_train"].shape[1:], arrays["num_classes"]
    members = [member(model_name, shape, classes, precision, seed) for seed in seeds]
    singles = [member(model_name, shape, classes, precision, seed) for seed in seeds]
    check_same_start(members, singles)
    ensemble = compiled(vectorised(model_name, members, shape), steps_per_execution)
    for single in singles:
        compiled(single, steps_per_execution)
    x, y = arrays["x_train"], arrays["y_train"]
    trainings = {
        "vectorised": lambda: train_vectorised(ensemble, x, y, seeds, args.epochs),
        "single": lambda: [train_single(single, x, y, args.epochs) for single in singles],
    }
    order = ["vectorised", "single"] if vectorised_first else ["single", "vectorised"]
    result = {"order": order, **{name: trainings[name]() for name in order}}
    result["vectorised"]["accuracy"] = [test_accuracy(copy, arrays["x_test"], arrays["y_test"]) for copy in members]
    for single, trained in zip(singles, result["single"], strict=True):
        trained["accuracy"] = test_accuracy(single, arrays["x_test"], arrays["y_test"])
    return result


def round_line(result: dict) -> str:
    """ "vectorised epochs 3.10 / 2.40 s; seed 0 1.20 / 0.80 s, seed 1 ..." in the order the round trained them."""

    def epochs(trained: dict) -> str:
        return " / ".join(f"{seconds:.2f}" for seconds in trained["epoch_seconds"]) + " s"

    parts = {"vectorised": f"vectorised epochs {epochs(result['vectorised'])}",
             "single": ", ".join(f"seed {seed} {epochs(trained)}" for seed, trained in enumerate(result["single"]))}
    return "; ".join(parts[name] for name in result["order"])


def median_epoch(runs: list[list[float]]) -> float:
    """Median seconds per epoch over ``runs`` (lists of epoch seconds), leaving out each run's first epoch (set-up
    and trace) unless it is the only one."""
    return statistics.median(second for seconds in runs for second in (seconds[1:] or seconds))


def summary(rounds: list[dict]) -> dict:
    """The table's row of one model: vectorised and M x single seconds per epoch, their ratio, round 0's accuracies."""
    ensemble = median_epoch([r["vectorised"]["epoch_seconds"] for r in rounds])
    members = len(rounds[0]["single"])
    alone = sum(median_epoch([r["single"][seed]["epoch_seconds"] for r in rounds]) for seed in range(members))
    return {"members": members, "vectorised_epoch_seconds": ensemble, "singles_epoch_seconds": alone,
            "ratio": ensemble / alone, "vectorised_accuracy": rounds[0]["vectorised"]["accuracy"],
            "single_accuracy": [trained["accuracy"] for trained in rounds[0]["single"]]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="", help="full MNIST npz (Keras layout); default: the bundled sample")
    parser.add_argument("--train", type=int, default=10000, help="training images (0: all)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--members", type=int, default=3, help="seeds in the vectorised model (0 .. members-1)")
    parser.add_argument("--models", default="dense,cnn")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.members < 2 or args.epochs < 1 or args.rounds < 1:
        parser.error(f"expected --members >= 2, --epochs >= 1, --rounds >= 1; got {args.members}, {args.epochs}, "
                     f"{args.rounds}")  # fmt: skip
    cpu = print_cpu()
    training.enable_determinism()
    precision = training.choose_precision("auto")["used"]
    steps_per_execution = training.default_steps_per_execution()
    dataset = data.load("mnist", path=args.data) if args.data else data.load("mnist-sample")
    dataset = dataset.subset(args.train or None, None)
    arrays = {"x_train": to_float(dataset.x_train), "y_train": dataset.y_train, "x_test": to_float(dataset.x_test),
              "y_test": dataset.y_test, "num_classes": dataset.num_classes}  # fmt: skip
    print(f"{len(dataset.y_train):,} training / {len(dataset.y_test):,} test images, {args.epochs} epoch(s), batch "
          f"{training.DEFAULTS['batch_size']}, {precision}, steps_per_execution {steps_per_execution}, "
          f"{keras.backend.backend()}", flush=True)  # fmt: skip
    results = {}
    for model_name in args.models.split(","):
        rounds = []
        for round_index in range(args.rounds):
            rounds.append(one_round(model_name, arrays, args, precision, steps_per_execution, round_index % 2 == 0))
            print(f"round {round_index} {model_name}: {round_line(rounds[-1])}", flush=True)
        results[model_name] = {"rounds": rounds, "summary": summary(rounds)}
    print("\nmodel       M  vectorised s/epoch  M x single s/epoch  ratio   test accuracy % per seed: member / alone")
    for model_name, result in results.items():
        row = result["summary"]
        pairs = ", ".join(f"{seed}: {100 * ours:.2f} / {100 * alone:.2f}" for seed, (ours, alone) in
                          enumerate(zip(row["vectorised_accuracy"], row["single_accuracy"], strict=True)))  # fmt: skip
        print(f"{model_name:10} {row['members']:2} {row['vectorised_epoch_seconds']:19.3f} "
              f"{row['singles_epoch_seconds']:19.3f} {row['ratio']:6.2f}   {pairs}")  # fmt: skip
    write_results("vectorised_seeds", {"cpu": cpu, "args": vars(args), "backend": keras.backend.backend(),
                                       "keras": keras.__version__, "precision": precision,
                                       "steps_per_execution": steps_per_execution,
                                       "batch_size": training.DEFAULTS["batch_size"], "results": results})  # fmt: skip


if __name__ == "__main__":
    main()
