"""The model registry: each architecture is a list of layer specs, built into a Keras 3 model that outputs logits.

Registered models (``model_names()``):
    dense     Flatten -> Dense(128, relu) -> Dense(classes): the lesson's model (101,770 parameters on MNIST).
    cnn       Conv2D(32, 3x3) -> MaxPool -> Conv2D(64, 3x3) -> MaxPool -> Flatten -> Dropout(0.5) -> Dense(classes):
              the Keras examples' MNIST convnet (34,826 parameters on MNIST).
    cnn_gap   the same convolutions, then global average pooling instead of Flatten: its head cannot memorise where
              a feature was.
    locally_connected  the cnn with both Conv2D replaced by LocallyConnected2D (same 3x3 receptive fields, no weight
              sharing): separates locality from weight sharing (2,470,346 parameters on MNIST).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from spatiallab.models import specs as arch


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str
    specs: Callable[[int], list]  # num_classes -> layer specs


_REGISTRY: dict[str, ModelEntry] = {}

def register_model(name: str, description: str):
    """Decorator registering ``specs(num_classes) -> list of layer specs`` under ``name``."""

    def decorate(specs):
        _REGISTRY[name] = ModelEntry(name, description, specs)
        return specs

    return decorate


def model_names() -> list[str]:
    return list(_REGISTRY)


def get_entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; expected one of {model_names()}")
    return _REGISTRY[name]


def model_specs(name: str, num_classes: int = 10) -> list:
    """The layer specs of a registered model, ending in ``num_classes`` logits."""
    return get_entry(name).specs(num_classes)


def model_params(name: str, input_shape: tuple[int, ...], num_classes: int = 10) -> int:
    """Exact trainable + non-trainable parameter count of a registered model on ``input_shape`` (H, W, C), from its
    specs' formulas (equal to Keras's ``count_params``; checked in the tests)."""
    return arch.total_params(model_specs(name, num_classes), input_shape)


@register_model("dense", "Flatten -> Dense(128, relu) -> Dense(classes): the lesson's Dense model")
def dense_specs(num_classes: int) -> list:
    return [arch.Flatten(), arch.Dense(128, activation="relu"), arch.Dense(num_classes)]


def _convolutions(layer=arch.Conv2D) -> list:
    """The convnet's feature extractor; ``layer`` is Conv2D or LocallyConnected2D (same receptive fields)."""
    return [
        layer(32, 3, activation="relu"),
        arch.MaxPool2D(2),
        layer(64, 3, activation="relu"),
        arch.MaxPool2D(2),
    ]


@register_model("cnn", "Conv(32)-Pool-Conv(64)-Pool-Flatten-Dropout-Dense: the Keras examples' MNIST convnet")
def cnn_specs(num_classes: int) -> list:
    return [*_convolutions(), arch.Flatten(), arch.Dropout(0.5), arch.Dense(num_classes)]


@register_model("cnn_gap", "the cnn's convolutions with global average pooling instead of Flatten")
def cnn_gap_specs(num_classes: int) -> list:
    return [*_convolutions(), arch.GlobalAveragePooling2D(), arch.Dropout(0.5), arch.Dense(num_classes)]


@register_model("locally_connected", "the cnn with unshared 3x3 kernels (LocallyConnected2D): locality, no sharing")
def locally_connected_specs(num_classes: int) -> list:
    return [*_convolutions(arch.LocallyConnected2D), arch.Flatten(), arch.Dropout(0.5), arch.Dense(num_classes)]
