"""MNIST-1D (Greydanus & Kobak, "Scaling down deep learning with MNIST-1D", ICML 2024): ten one-dimensional digit
templates, padded, scaled, translated, sheared and noised into sequences of 40 positions.

The dataset is generated here, offline, by the ``mnist1d`` package's own generator with its default arguments
(``mnist1d.data.make_dataset(get_dataset_args())``: 5,000 sequences, the first 80% for training, its seed 42), never
by its download URL. The generator standardises all 5,000 sequences together (mean 0, standard deviation 1), so
the values are float32 signals, not grey levels: they go into the models as they are (``transforms.to_float``).

Its benchmark's training recipe (Adam, learning rate 1e-2, batch 100, 8,000 steps = 200 epochs of 4,000 sequences,
no weight decay; ``notebooks/train.py`` of github.com/greydanus/mnist1d) is the dataset's recommended training.
``PUBLISHED`` holds the test accuracies the package's README reports for the benchmark's models.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import random
from pathlib import Path

import numpy as np

from spatiallab.data.dataset import Dataset
from spatiallab.data.registry import TrainingRecipe, register_dataset

PACKAGE = "mnist1d"
CLASS_NAMES = [str(digit) for digit in range(10)]
RECIPE = TrainingRecipe(
    settings={"epochs": 200, "batch_size": 100, "learning_rate": 1e-2},
    source="MNIST-1D's reference training (Greydanus & Kobak 2024; mnist1d's notebooks/train.py: Adam, learning "
    "rate 1e-2, batch 100, 8,000 steps = 200 epochs of 4,000 sequences, no weight decay)",
)
# Test accuracy (%) on the original and on position-shuffled sequences, as published in the "Comparing MNIST and
# MNIST-1D" table of the mnist1d README (github.com/greydanus/mnist1d; also the long description of the mnist1d
# 0.0.2.post1 package on PyPI), keyed by the spatiallab model that reproduces each architecture.
PUBLISHED = {
    "linear": {"name": "Logistic regression", "original": 32.0, "shuffled": 32.0},
    "mlp1d": {"name": "MLP", "original": 68.0, "shuffled": 68.0},
    "cnn1d": {"name": "CNN", "original": 94.0, "shuffled": 56.0},
    "gru1d": {"name": "GRU", "original": 91.0, "shuffled": 57.0},
}
# The models trained when none are named: the README's architectures but the GRU, whose cells take about 3.4x as long
# as cnn1d's on CPU (benchmarks/RESULTS.md, MNIST-1D grid); name gru1d with --models to add it.
REFERENCE_MODELS = ("linear", "mlp1d", "cnn1d")
PUBLISHED_SOURCE = "the mnist1d README's table 'Comparing MNIST and MNIST-1D' (github.com/greydanus/mnist1d)"


def published_claim(model: str) -> str:
    """``"94% -> 56%"``: the published accuracy of ``model``'s architecture on original -> shuffled sequences, or
    ``"-"`` for a model the README does not report."""
    row = PUBLISHED.get(model)
    return "-" if row is None else f"{row['original']:.0f}% -> {row['shuffled']:.0f}%"


HOW_TO_GET = f"generated offline by the {PACKAGE} package, a dependency of spatiallab (pip install {PACKAGE})"


def _package_folder() -> str | None:
    """Where the generator is installed (found without importing it), or None."""
    spec = importlib.util.find_spec(PACKAGE)
    return None if spec is None or spec.origin is None else str(Path(spec.origin).parent)


@functools.cache
def _generated() -> dict:
    """The generator's output, computed once per process (about 3 s): ``generate()``'s arrays, read-only."""
    arrays = generate()
    for array in arrays.values():
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
    return arrays


def generate() -> dict:
    """Run the package's generator with its default arguments, without changing the caller's random state.

    ``make_dataset`` seeds NumPy's and Python's global generators (``set_seed(42)``) and draws from them; both are
    restored afterwards. It computes only: the ``url`` among the arguments is used by the package's download
    function, never called here.

    Returns:
        {"x_train": float32 (4000, 40, 1), "y_train": int64 (4000,), "x_test": float32 (1000, 40, 1),
        "y_test": int64 (1000,), "arguments": the generation arguments (JSON-ready, without the url),
        "version": the package's version}.

    Raises:
        ModuleNotFoundError: the mnist1d package is not installed.
    """
    import mnist1d.data  # here: its import loads matplotlib.pyplot and requests (neither is used to generate)

    arguments = mnist1d.data.get_dataset_args(as_dict=True)
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        generated = mnist1d.data.make_dataset(mnist1d.data.get_dataset_args())
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    return {
        "x_train": np.asarray(generated["x"], dtype=np.float32)[..., np.newaxis],
        "y_train": np.asarray(generated["y"], dtype=np.int64),
        "x_test": np.asarray(generated["x_test"], dtype=np.float32)[..., np.newaxis],
        "y_test": np.asarray(generated["y_test"], dtype=np.int64),
        "arguments": {key: value for key, value in arguments.items() if key != "url"},
        "version": importlib.metadata.version(PACKAGE),
    }


@register_dataset(
    "mnist1d",
    "MNIST-1D generated offline (4,000 train + 1,000 test float32 sequences of 40 positions x 1 channel, 10 classes)",
    locate=_package_folder,
    how_to_get=HOW_TO_GET,
    recipe=RECIPE,
    models=REFERENCE_MODELS,
    generator=PACKAGE,
    kind="sequence",
)
def load_mnist1d(path: str | os.PathLike | None = None) -> Dataset:
    """MNIST-1D as a sequence ``Dataset``: x float32 (N, 40, 1), y int64 (N,), 4,000 train and 1,000 test sequences,
    the generator's own split; ``info`` records the generator, its version and its arguments.

    Raises:
        ValueError: ``path`` given (the data are generated, not read from a file).
        DatasetNotFoundError: the mnist1d package is not installed.
    """
    from spatiallab.data.errors import DatasetNotFoundError

    if path is not None:
        raise ValueError(f"mnist1d is generated by the {PACKAGE} package, not read from a file; drop --data {path}")
    if _package_folder() is None:
        raise DatasetNotFoundError(f"mnist1d: the {PACKAGE} package is not installed; {HOW_TO_GET}")
    generated = _generated()
    return Dataset(
        name="mnist1d",
        x_train=generated["x_train"],
        y_train=generated["y_train"],
        x_test=generated["x_test"],
        y_test=generated["y_test"],
        class_names=list(CLASS_NAMES),
        source=f"generated offline by the {PACKAGE} package {generated['version']} (make_dataset(get_dataset_args()), "
        f"seed {generated['arguments']['seed']})",
        info={
            "generator": f"{PACKAGE} {generated['version']} make_dataset(get_dataset_args())",
            "generation_arguments": generated["arguments"],
            "reference": "Greydanus & Kobak, Scaling down deep learning with MNIST-1D, ICML 2024",
            "licence": "Apache-2.0",
        },
        kind="sequence",
    )
