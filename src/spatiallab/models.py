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

import keras

from spatiallab import architecture as arch
from spatiallab import layers


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str
    specs: Callable[[int], list]  # num_classes -> layer specs


_REGISTRY: dict[str, ModelEntry] = {}

# How each spec type becomes a Keras layer. Extend this when adding a spec type.
KERAS_LAYERS: dict[type, Callable[[object], keras.layers.Layer]] = {
    arch.Dense: lambda s: keras.layers.Dense(s.units, activation=s.activation, use_bias=s.use_bias),
    arch.Conv2D: lambda s: keras.layers.Conv2D(
        s.filters, s.kernel_size, activation=s.activation, use_bias=s.use_bias, padding=s.padding
    ),
    arch.MaxPool2D: lambda s: keras.layers.MaxPooling2D(s.pool_size),
    arch.Flatten: lambda s: keras.layers.Flatten(),
    arch.GlobalAveragePooling2D: lambda s: keras.layers.GlobalAveragePooling2D(),
    arch.Dropout: lambda s: keras.layers.Dropout(s.rate),
    arch.LocallyConnected2D: lambda s: layers.LocallyConnected2D(
        s.filters, s.kernel_size, activation=s.activation, use_bias=s.use_bias
    ),
}


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


def build_from_specs(specs, input_shape: tuple[int, ...], name: str = "model") -> keras.Model:
    """A Keras ``Sequential`` model for channels-last ``input_shape`` (H, W, C) made of ``specs``."""
    layers = [keras.Input(shape=tuple(input_shape))]
    for spec in specs:
        if type(spec) not in KERAS_LAYERS:
            raise ValueError(f"no Keras layer for spec {spec!r}")
        layers.append(KERAS_LAYERS[type(spec)](spec))
    return keras.Sequential(layers, name=name)


def build_model(name: str, input_shape: tuple[int, ...] = (28, 28, 1), num_classes: int = 10) -> keras.Model:
    """Build a fresh, uncompiled registered model.

    Args:
        name: "dense", "cnn", "cnn_gap", ... (see ``model_names()``).
        input_shape: (H, W, C) of float32 images scaled to [0, 1].
        num_classes: number of output logits.

    Returns:
        keras.Model mapping (N, H, W, C) float32 -> (N, num_classes) logits (no softmax).

    Raises:
        ValueError: unknown name, or an architecture that does not fit ``input_shape``.
    """
    specs = model_specs(name, num_classes)
    arch.walk(specs, input_shape)  # clear error before Keras's
    return build_from_specs(specs, input_shape, name=name)


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
