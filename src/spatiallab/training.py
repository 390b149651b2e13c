"""Training and evaluation of one model on one dataset: seeded, Adam (batch size and learning rate given, by default
``DEFAULTS``), inputs as ``transforms.to_float`` makes them, with a per-process thread budget. Keras is imported
inside the functions, so the defaults here load without the backend."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable

import numpy as np

from spatiallab import batches

DEFAULTS = {
    "batch_size": 128,  # the Keras MNIST examples' batch size, also the lesson's
    "learning_rate": 1e-3,  # Adam's default step size; no tuning per model, so the comparison is fair
}
# What every cell is trained with besides those settings (recorded in results.json's "training").
OPTIMIZER = "Adam (keras.optimizers.Adam: beta_1 0.9, beta_2 0.999, epsilon 1e-7), no weight decay"
# The learning curves' test points per cell: the test split is evaluated after every epoch up to this many epochs,
# then every ``evaluation_interval(epochs)`` epochs (MNIST-1D's 200 epochs: every 4th). Each evaluation is one pass
# over the test split, which on the small 1-D models costs about a third of a training epoch; 50 points still show
# a curve's shape.
MAX_CURVE_POINTS = 50
# Test images per batch when evaluating: no gradients are kept, so a large batch costs little memory and fewer calls.
EVALUATION_BATCH_SIZE = 512

PRECISIONS = ("auto", "float32", "bfloat16")
# CPU flags with fast bfloat16 arithmetic that TensorFlow's oneDNN kernels use (AMX tiles; AVX-512 BF16 dot products).
BFLOAT16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
# oneDNN's names for the instruction sets its ``ONEDNN_MAX_CPU_ISA`` variable may cap it at (``DNNL_MAX_CPU_ISA`` is
# the older name) that hold bfloat16 dot products; under a lower cap oneDNN has no bfloat16 kernels (under AVX2 a
# bfloat16 convolution fails to build and a bfloat16 matrix product aborts the process). oneDNN's documentation,
# "CPU Dispatcher Control".
ONEDNN_BFLOAT16_ISAS = ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16",
                        "AVX10_1_512", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2",
                        "DEFAULT", "ALL")  # fmt: skip
# Whether ``auto`` may choose bfloat16 at all: only because the parity benchmark (benchmarks/RESULTS.md, "Precision"
# and "Idle epoch starts") found the paired difference in spatial reliance between bfloat16 and float32 within
# +-0.5 points, or holding 0 and narrower than those 1.0 points.
AUTO_MAY_CHOOSE_BFLOAT16 = True

# Training batches per call into the backend (Keras's ``compile(steps_per_execution=...)``) where the backend allows
# more than one: the same arithmetic with less Python overhead per batch. On full MNIST it cut the Dense epoch from
# 1.32 s to 0.76 s (benchmarks/RESULTS.md, "Levers"); torch's trainer accepts only 1.
STEPS_PER_EXECUTION = {"tensorflow": 32, "jax": 32, "torch": 1}

_determinism_enabled = False
# One compiled model per architecture, input shape, class count, precision, learning rate and steps per execution,
# reused by the next cell of that kind with fresh weights (``fresh_model``): a new model would be traced again. The
# kinds used least recently are dropped beyond ``COMPILED_KINDS_KEPT`` (a grid has one kind per model and dataset).
COMPILED_KINDS_KEPT = 8
_compiled: dict[tuple, object] = {}


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none: macOS, Windows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _onednn_enabled() -> bool:
    """Whether TensorFlow runs its CPU kernels through oneDNN (its x86 Linux default; TF_ENABLE_ONEDNN_OPTS=0: off)."""
    try:
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled()) and os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0"
    except ImportError:
        return False


def onednn_isa_cap() -> tuple[str, str] | None:
    """(the variable, its value in upper case) when ``ONEDNN_MAX_CPU_ISA`` (or oneDNN's older name for it,
    ``DNNL_MAX_CPU_ISA``, read only without the first, as oneDNN does) caps the instruction sets oneDNN may use; None
    when neither is set. ``choose_precision`` takes any value outside ``ONEDNN_BFLOAT16_ISAS`` as a cap below
    bfloat16, a misspelt one too (oneDNN would ignore it): float32 is the choice that cannot fail."""
    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        value = os.environ.get(name, "").strip()
        if value:
            return name, value.upper()
    return None


def choose_precision(requested: str) -> dict:
    """The precision a run trains in, and why.

    ``float32`` and ``bfloat16`` are taken as asked (on every backend). ``auto`` picks Keras's ``mixed_bfloat16``
    (bfloat16 compute, float32 weights, float32 logits and loss) where it is fast: the TensorFlow backend on a CPU with
    AMX-BF16 or AVX512-BF16 and oneDNN in use, not capped below them (``onednn_isa_cap``); float32 everywhere else
    (bfloat16 emulated on other CPUs is slower than float32). On JAX and torch ``auto`` picks float32: bfloat16's
    speed there is not established (JAX and torch do not say whether their CPU kernels use the bfloat16
    instructions, and a first timing on a busy 2-core AMX CPU was too noisy to decide) and its accuracy parity was
    measured on TensorFlow only. ``benchmarks/backends.py`` times both precisions per backend.

    Returns:
        {"requested": str, "used": "float32" | "bfloat16", "reason": str}.

    Raises:
        ValueError: ``requested`` is not one of ``PRECISIONS``.
        PrecisionUnavailable: bfloat16 asked for on TensorFlow with oneDNN capped below bfloat16 instructions.
    """
    import keras

    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}; got {requested!r}")
    backend = keras.backend.backend()
    cap = onednn_isa_cap() if backend == "tensorflow" else None
    below_bfloat16 = cap is not None and cap[1] not in ONEDNN_BFLOAT16_ISAS
    if requested == "bfloat16" and below_bfloat16:
        raise PrecisionUnavailable(f"bfloat16 cannot train here: oneDNN is capped at {cap[1]} ({cap[0]}), which has no "
                                   f"bfloat16 kernels (its processes abort); use float32 or auto, or lift the cap")
    if requested != "auto":
        return {"requested": requested, "used": requested, "reason": "asked for"}
    flags = sorted(set(BFLOAT16_CPU_FLAGS) & cpu_flags())
    if backend != "tensorflow":
        used, reason = "float32", (f"auto: bfloat16's speed and accuracy parity are measured on the TensorFlow "
                                   f"backend only; on {backend} they are not established")  # fmt: skip
    elif not flags:
        used, reason = "float32", "auto: this CPU has neither AMX-BF16 nor AVX512-BF16"
    elif not _onednn_enabled():
        used, reason = "float32", "auto: TensorFlow is not using oneDNN here (TF_ENABLE_ONEDNN_OPTS=0?)"
    elif below_bfloat16:
        used, reason = "float32", (f"auto: oneDNN is capped at {cap[1]} ({cap[0]}), below this CPU's bfloat16 "
                                   f"instructions")  # fmt: skip
    elif not AUTO_MAY_CHOOSE_BFLOAT16:
        used, reason = "float32", "auto: bfloat16 did not keep spatial reliance within 0.5 points in our benchmark"
    else:
        used, reason = "bfloat16", f"auto: this CPU has {' and '.join(flags)} and TensorFlow uses it through oneDNN"
    return {"requested": requested, "used": used, "reason": reason}


def evaluation_interval(epochs: int) -> int:
    """Epochs between two evaluations of the test split during training: 1 up to ``MAX_CURVE_POINTS`` epochs, then
    ceil(epochs / MAX_CURVE_POINTS), so a cell has at most ``MAX_CURVE_POINTS`` points on its test curve."""
    return max(1, math.ceil(epochs / MAX_CURVE_POINTS))


def enable_determinism() -> None:
    """Make TensorFlow pick deterministic kernels (same seed on CPU -> same per-epoch metrics).

    JAX and torch on CPU need no switch: with a fixed seed and thread count they repeat every per-epoch metric for
    these models (checked by training twice in one process and in two processes).
    """
    import keras

    global _determinism_enabled
    if _determinism_enabled:
        return
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    _determinism_enabled = True


class PrecisionUnavailable(ValueError):
    """The precision asked for cannot train in this process (bfloat16 under a oneDNN cap without bfloat16 kernels:
    oneDNN aborts the process at the first bfloat16 matrix product, a convolution fails to build)."""


class TrainingDiverged(ArithmeticError):
    """The training loss became NaN or infinite; the message names the epoch."""


class ThreadBudgetError(RuntimeError):
    """The backend already runs with another thread count in this process (it is fixed at its first operation)."""


def thread_environment(threads: int | None) -> dict[str, str]:
    """The environment variables that give a new process a budget of ``threads`` CPU threads ({} for None).

    TensorFlow reads ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` once at start-up (``OMP_NUM_THREADS`` and
    threadpoolctl do not bind it); OpenMP and BLAS code reads ``OMP_NUM_THREADS``. Inter-op parallelism is 1, so the
    budget is not multiplied by concurrently running operations.
    """
    if threads is None:
        return {}
    return {"TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": str(threads)}


def apply_thread_budget(threads: int | None) -> dict:
    """Give this process's backend ``threads`` CPU threads, before its first operation; return what is in effect.

    TensorFlow: its intra-op and inter-op pools (fixed at its first operation). torch: ``torch.set_num_threads`` and
    one inter-op thread (settable once per process). JAX: nothing binds XLA's CPU pool, so "backend default" is
    recorded (all the cores the process may use).

    Returns:
        {"intra_op": int | "backend default", "inter_op": int | "backend default"}, recorded with every cell.

    Raises:
        ThreadBudgetError: TensorFlow has already run an operation here with a different thread count, or torch
        already has more than one inter-op thread (only a new process can change it; the runner then trains in a
        worker process).
    """
    if threads is None:
        return {"intra_op": "backend default", "inter_op": "backend default"}
    import keras

    os.environ.update(thread_environment(threads))
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        threading = tf.config.threading
        if (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()) != (threads, 1):
            try:
                threading.set_intra_op_parallelism_threads(threads)
                threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:
                raise ThreadBudgetError(
                    f"TensorFlow already runs in this process with its own thread count; {threads} thread(s) per cell "
                    f"need a new process"
                ) from None
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
        if torch.get_num_interop_threads() != 1:
            try:
                torch.set_num_interop_threads(1)
            except RuntimeError:  # torch allows it once, before its first inter-op parallel work
                raise ThreadBudgetError(
                    f"torch already runs in this process with {torch.get_num_interop_threads()} inter-op threads; "
                    f"{threads} thread(s) per cell need a new process"
                ) from None
    elif backend == "jax":
        # XLA's CPU runtime has no thread setting: it sizes its pool from the CPU affinity mask when JAX starts
        # (limit it with `taskset`), so the record says what is in effect rather than the budget asked for.
        return {"intra_op": "backend default", "inter_op": "backend default"}
    return {"intra_op": threads, "inter_op": 1}


def default_steps_per_execution() -> int:
    """``STEPS_PER_EXECUTION`` for the Keras backend in use (1 for one not listed)."""
    import keras

    return STEPS_PER_EXECUTION.get(keras.backend.backend(), 1)


def fresh_model(model_name: str, input_shape: tuple[int, ...], num_classes: int, precision: str, seed: int,
                learning_rate: float, steps_per_execution: int):  # fmt: skip
    """A compiled model (Adam, sparse categorical cross-entropy on float32 logits, accuracy) with the weights that
    ``build_model`` draws after ``keras.utils.set_random_seed(seed)`` and a fresh optimizer state.

    The first call for a kind of model (name and layer specs, input shape, classes, precision, learning rate, steps
    per execution) compiles a new one; later calls give back that same object with the new weights copied in (every variable:
    weights and the dropout layers' seed states) and the optimizer's iteration count and moments set to zero, its
    state before a first step. Keras traces its training and evaluation functions once per model, about a second
    per cell on these models; the numbers are those of a new model to every digit (tests/test_training.py). The
    model a fit returned is thus valid until the next ``fresh_model`` of its kind in this process.
    """
    import keras

    from spatiallab.models import model_specs
    from spatiallab.models.build import build_model

    keras.utils.set_random_seed(seed)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        model = build_model(model_name, input_shape, num_classes)  # its layers keep the policy they got here
    finally:
        keras.mixed_precision.set_global_policy(previous)
    specs = repr(model_specs(model_name, num_classes))  # the layers themselves: a name registered again is new
    kind = (keras.backend.backend(), model_name, specs, tuple(input_shape), num_classes, precision, learning_rate,
            steps_per_execution)  # fmt: skip
    compiled = _compiled.pop(kind, None)  # put back last: the most recently used kind
    if compiled is None:
        while len(_compiled) >= COMPILED_KINDS_KEPT:
            del _compiled[next(iter(_compiled))]
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
            steps_per_execution=steps_per_execution,
        )
        _compiled[kind] = model
        return model
    _compiled[kind] = compiled
    for target, source in zip(compiled.variables, model.variables, strict=True):
        target.assign(source)
    for variable in compiled.optimizer.variables:
        if variable.name != "learning_rate":  # the iteration count, Adam's first and second moments
            variable.assign(keras.ops.zeros(variable.shape, variable.dtype))
    return compiled


def evaluate(model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The loss and accuracy of a compiled ``model`` (``fresh_model``'s loss and metric) on ``x`` and ``y``, in
    batches of ``EVALUATION_BATCH_SIZE``.

    Args:
        x: float32 inputs, (N, ...) as ``fit_and_evaluate`` takes them. y: integer class indices, (N,).

    Returns:
        (mean cross-entropy loss in nats, accuracy as a fraction in [0, 1]).

    Raises:
        ValueError: x and y hold different numbers of examples (``batches.evaluate_arguments``).
    """
    loss, accuracy = model.evaluate(**batches.evaluate_arguments(x, y, EVALUATION_BATCH_SIZE), verbose=0)
    return float(loss), float(accuracy)


def check_finite(fitted: "FitResult") -> None:
    """Raise ``TrainingDiverged`` naming the first NaN or infinite number among a fit's test metrics and history
    (results files hold finite numbers only)."""
    numbers = {"test_accuracy": [fitted.test_accuracy], "test_loss": [fitted.test_loss], **fitted.history}
    for name, values in numbers.items():
        for epoch, value in enumerate(values):
            if not math.isfinite(value):
                where = f" after epoch {epoch + 1}" if name in fitted.history else ""
                raise TrainingDiverged(f"{name} became {value}{where}")


@dataclasses.dataclass
class FitResult:
    """A trained model and its measurements.

    history: per-epoch lists "accuracy", "loss" (training); "val_accuracy", "val_loss" (the test split) at the
        epochs in "val_epochs" (1-based: every epoch, or every ``evaluation_interval(epochs)``-th of a long run).
    epoch_seconds: wall-clock seconds of each epoch, test evaluation included (the first also holds tracing).
    """

    model: object  # keras.Model
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
    precision: str = "float32",
    steps_per_execution: int | None = None,
    evaluate_each_epoch: bool = True,
) -> FitResult:
    """Train a fresh registered model with a fixed seed and evaluate it on the test split.

    Args:
        model_name: a registered model ("dense", "cnn", ...).
        x_train, x_test: float32 (N, H, W, C) images or (N, L, C) sequences, as ``transforms.to_float`` makes them.
        y_train, y_test: integer class indices (N,).
        num_classes: number of logits.
        seed: seeds Python, NumPy and the backend (weights, dropout, batch order).
        epochs: passes over the training set.
        on_epoch_end: called as ``on_epoch_end(epoch_index, logs)`` after each epoch.
        precision: "float32", or "bfloat16" for Keras's ``mixed_bfloat16`` policy (logits and loss stay float32).
        steps_per_execution: training batches run per call into the backend (Keras's ``compile`` option; more
            means less Python overhead per batch, the same arithmetic); None: ``default_steps_per_execution()``.
        evaluate_each_epoch: evaluate the test split during training for the learning curves ("val_*" in the
            history, at the epochs listed in "val_epochs", 1-based): after every epoch up to ``MAX_CURVE_POINTS``
            epochs, then every ``evaluation_interval(epochs)`` epochs. False evaluates it once, after training.

    Returns:
        FitResult; test_accuracy is a fraction in [0, 1] (the last epoch's evaluation of the test split when it
        had one, else one evaluation after ``fit``), train_seconds wall-clock seconds of ``fit``. Its model is
        reused by the next fit of the same kind in this process (``fresh_model``): save or evaluate it before.

    Raises:
        TrainingDiverged: the training loss became NaN or infinite (training stops at that epoch).
    """
    import keras  # here, not at the top: configurations and the command line load without the backend

    if precision not in ("float32", "bfloat16"):
        raise ValueError(f"precision must be float32 or bfloat16 here (see choose_precision); got {precision!r}")
    enable_determinism()
    if steps_per_execution is None:
        steps_per_execution = default_steps_per_execution()
    model = fresh_model(model_name, x_train.shape[1:], num_classes, precision, seed, learning_rate,
                        steps_per_execution)  # fmt: skip
    epoch_ends = []

    def epoch_ended(epoch, logs):
        epoch_ends.append(time.perf_counter())
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs)

    callbacks = [keras.callbacks.TerminateOnNaN(), keras.callbacks.LambdaCallback(on_epoch_end=epoch_ended)]
    interval = evaluation_interval(epochs)
    start = time.perf_counter()
    validation = batches.validation_arguments(x_test, y_test, EVALUATION_BATCH_SIZE) if evaluate_each_epoch else {}
    history = model.fit(
        **batches.fit_arguments(x_train, y_train, batch_size, seed),
        **validation,
        epochs=epochs,
        validation_freq=interval,
        verbose=0,
        callbacks=callbacks,
    )
    train_seconds = time.perf_counter() - start
    for epoch, loss in enumerate(history.history.get("loss", [])):
        if not math.isfinite(loss):
            raise TrainingDiverged(f"the training loss became {loss} in epoch {epoch + 1} of {epochs}")
    if len(history.history.get("loss", [])) < epochs:  # TerminateOnNaN stopped inside an epoch
        raise TrainingDiverged(f"the training loss became NaN in epoch {len(history.history['loss']) + 1} of {epochs}")
    curves = {key: [float(value) for value in values] for key, values in history.history.items()}
    if evaluate_each_epoch:
        curves["val_epochs"] = list(range(interval, epochs + 1, interval))
    if evaluate_each_epoch and curves["val_epochs"][-1] == epochs:  # the last epoch's evaluation is the final one
        test_loss, test_accuracy = curves["val_loss"][-1], curves["val_accuracy"][-1]
    else:
        del validation  # its copy of the test split; evaluate makes its own
        test_loss, test_accuracy = evaluate(model, x_test, y_test)
    return FitResult(
        model=model,
        history=curves,
        test_accuracy=float(test_accuracy),
        test_loss=float(test_loss),
        train_seconds=train_seconds,
        epoch_seconds=list(np.diff([start, *epoch_ends])),
    )

