"""How arrays reach Keras's ``fit`` and ``evaluate``: the keyword arguments for one call, per backend.

On TensorFlow, ``fit`` on NumPy arrays builds a ``tf.data`` pipeline whose autotuning thread the pipeline's
iterator waits for when it is deleted, at the start of each epoch and after each evaluation. That wait can last the
rest of the thread's optimisation period: up to 2.5 s idle at an epoch start was measured on a 2-core CPU with two
cells training at once (a 2.5 s epoch taking 5 s, in 12 of 30 epochs; benchmarks/RESULTS.md, "Idle epoch starts"). So on
TensorFlow the arrays go in as our own ``tf.data.Dataset`` with autotuning off: shuffled indices, batched, then one
gather per batch, which is what Keras's own array pipeline does. JAX and torch take the arrays themselves (Keras
feeds them without ``tf.data``).
"""

from __future__ import annotations

import numpy as np

# Batches prepared ahead of the one training (one batch takes microseconds to gather; the step, milliseconds).
PREFETCH_BATCHES = 2


def fit_arguments(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> dict:
    """Keyword arguments for ``model.fit`` that train on ``x`` and ``y`` in batches of ``batch_size``, the examples
    in a new order every epoch.

    Args:
        x: inputs, (N, ...) float32. y: integer labels, (N,).
        batch_size: examples per batch; the last batch of an epoch holds the remainder.
        seed: the orders' seed on TensorFlow (the same seed, with the same global seed that
            ``keras.utils.set_random_seed`` sets, gives the same sequence of orders, epoch by epoch); on JAX and torch
            Keras draws the orders from that global seed.

    Returns:
        On TensorFlow {"x": a ``tf.data.Dataset`` of (x, y) batches, "shuffle": False (the dataset shuffles)};
        on JAX and torch {"x", "y", "batch_size", "shuffle": True}.

    Raises:
        ValueError: x holds no example, x and y hold different numbers of examples, or batch_size < 1.
    """
    if _tensorflow():
        return {"x": tensorflow_batches(x, y, batch_size, shuffle=True, seed=seed), "shuffle": False}
    _check(x, y, batch_size)
    return {"x": x, "y": y, "batch_size": batch_size, "shuffle": True}


def evaluate_arguments(x: np.ndarray, y: np.ndarray, batch_size: int) -> dict:
    """Keyword arguments for ``model.evaluate`` over ``x`` and ``y`` in their order, in batches of ``batch_size``:
    {"x": a ``tf.data.Dataset``} on TensorFlow, {"x", "y", "batch_size"} on JAX and torch.

    Raises:
        ValueError: as ``fit_arguments``.
    """
    if _tensorflow():
        return {"x": tensorflow_batches(x, y, batch_size, shuffle=False, seed=None)}
    _check(x, y, batch_size)
    return {"x": x, "y": y, "batch_size": batch_size}


def validation_arguments(x: np.ndarray, y: np.ndarray, batch_size: int) -> dict:
    """Keyword arguments for ``model.fit`` that evaluate ``x`` and ``y`` as ``evaluate_arguments`` does after its
    epochs: {"validation_data"} on TensorFlow, {"validation_data": (x, y), "validation_batch_size"} on JAX and torch.

    Raises:
        ValueError: as ``fit_arguments``.
    """
    if _tensorflow():
        return {"validation_data": tensorflow_batches(x, y, batch_size, shuffle=False, seed=None)}
    _check(x, y, batch_size)
    return {"validation_data": (x, y), "validation_batch_size": batch_size}


def _tensorflow() -> bool:
    import keras

    return keras.backend.backend() == "tensorflow"


def _check(x: np.ndarray, y: np.ndarray, batch_size: int) -> None:
    if len(x) == 0:
        raise ValueError("expected at least one example; got none")
    if len(x) != len(y):
        raise ValueError(f"expected as many labels as inputs; got {len(x)} inputs and {len(y)} labels")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")


def tensorflow_batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int | None):
    """A ``tf.data.Dataset`` of (x, y) batches with autotuning off (see the module's docstring): the example indices,
    shuffled again in every pass over it when ``shuffle`` (seeded by ``seed``), in batches of ``batch_size``, each
    batch gathered from one copy of the arrays (``tf.constant``: x's bytes once more, kept while the dataset lives).

    Returns:
        A dataset of ceil(N / batch_size) (inputs, labels) pairs per pass: x's dtype and shape but the first axis
        (batch_size, the last batch the remainder), y's dtype, (batch_size,).

    Raises:
        ValueError: as ``fit_arguments``.
    """
    _check(x, y, batch_size)
    import tensorflow as tf

    # The arrays enter as a dataset element (as in Keras's own pipeline), not captured by the gather function, which
    # would serialise a copy of them into the pipeline's graph; for the same reason the graph is not rewritten.
    arrays = tf.data.Dataset.from_tensors((tf.constant(x), tf.constant(y))).repeat()
    indices = tf.data.Dataset.range(len(x))
    if shuffle:
        indices = indices.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    batches = tf.data.Dataset.zip(indices.batch(batch_size), arrays).map(
        lambda batch, arrays: (tf.gather(arrays[0], batch), tf.gather(arrays[1], batch))
    )
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.apply_default_optimizations = False
    return batches.prefetch(PREFETCH_BATCHES).with_options(options)
