"""Datasets: loaders for each format family, all registered by name in one registry.

``load(name, path=None, **options)`` returns a ``Dataset`` of channels-last uint8 images, or (N, L, C) sequences
(``mnist1d``), and integer labels.
``load_mnist(path=None)`` returns full MNIST exactly like ``keras.datasets.mnist.load_data()``.
"""

from spatiallab.data import mnist  # noqa: F401  (registers mnist-sample and mnist)
from spatiallab.data import fashion  # noqa: F401  (registers fashion-mnist)
from spatiallab.data import cifar  # noqa: F401  (registers cifar10)
from spatiallab.data import medmnist  # noqa: F401  (registers medmnist)
from spatiallab.data import folders  # noqa: F401  (registers folder)
from spatiallab.data import npz  # noqa: F401  (registers npz)
from spatiallab.data import binaries  # noqa: F401  (registers binaries)
from spatiallab.data import mnist1d  # noqa: F401  (registers mnist1d)
from spatiallab.data.dataset import Dataset
from spatiallab.data.errors import DataFormatError, DatasetNotFoundError
from spatiallab.data.idx import read_idx
from spatiallab.data.mnist import load_mnist
from spatiallab.data.registry import UnknownOptionsError, check_options, dataset_names, get_entry, load

__all__ = [
    "DataFormatError",
    "Dataset",
    "DatasetNotFoundError",
    "UnknownOptionsError",
    "check_options",
    "dataset_names",
    "get_entry",
    "load",
    "load_mnist",
    "read_idx",
]
