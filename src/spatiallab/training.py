"""Training and evaluation of one model on one dataset: seeded, Adam, batch 128, inputs float32 / 255."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import keras
import numpy as np

from spatiallab import models

DEFAULTS = {
    "batch_size": 128,  # the Keras MNIST examples' batch size, also the lesson's
    "learning_rate": 1e-3,  # Adam's default step size; no tuning per model, so the comparison is fair
}

_determinism_enabled = False


def enable_determinism() -> None:
    """Make TensorFlow pick deterministic kernels (same seed on CPU -> same per-epoch metrics).

    JAX on CPU is deterministic for a fixed seed already; torch is left to its defaults.
    """
    global _determinism_enabled
    if _determinism_enabled:
        return
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    _determinism_enabled = True


@dataclasses.dataclass
class FitResult:
    """A trained model and its measurements.

    history: per-epoch lists "accuracy", "loss" (training) and "val_accuracy", "val_loss" (the test split).
    epoch_seconds: wall-clock seconds of each epoch, test evaluation included (the first also holds tracing).
    """

    model: keras.Model
    history: dict[str, list[float]]
    test_accuracy: float
    test_loss: float
    train_seconds: float
    epoch_seconds: list[float]


def fit_and_evaluate(
    model_name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    num_classes: int,
    seed: int,
    epochs: int,
    batch_size: int = DEFAULTS["batch_size"],
    learning_rate: float = DEFAULTS["learning_rate"],
    on_epoch_end: Callable[[int, dict], None] | None = None,
) -> FitResult:
    """Train a fresh registered model with a fixed seed and evaluate it on the test split.

    Args:
        model_name: a registered model ("dense", "cnn", ...).
        x_train, x_test: float32 (N, H, W, C) in [0, 1] (see ``transforms.to_float``).
        y_train, y_test: integer class indices (N,).
        num_classes: number of logits.
        seed: seeds Python, NumPy and the backend (weights, dropout, batch order).
        epochs: passes over the training set.
        on_epoch_end: called as ``on_epoch_end(epoch_index, logs)`` after each epoch.

    Returns:
        FitResult; test_accuracy is a fraction in [0, 1], train_seconds wall-clock seconds of ``fit``.
    """
    enable_determinism()
    keras.utils.set_random_seed(seed)
    model = models.build_model(model_name, x_train.shape[1:], num_classes)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    epoch_ends = []

    def epoch_ended(epoch, logs):
        epoch_ends.append(time.perf_counter())
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs)

    callbacks = [keras.callbacks.LambdaCallback(on_epoch_end=epoch_ended)]
    start = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_test, y_test),
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    train_seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    return FitResult(
        model=model,
        history={key: [float(value) for value in values] for key, values in history.history.items()},
        test_accuracy=float(test_accuracy),
        test_loss=float(test_loss),
        train_seconds=train_seconds,
        epoch_seconds=list(np.diff([start, *epoch_ends])),
    )

