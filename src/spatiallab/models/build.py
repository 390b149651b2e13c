"""Keras models from the framework-free layer specs: the one place that imports Keras for model building."""

from __future__ import annotations

from collections.abc import Callable

import keras

from spatiallab.models import layers
from spatiallab.models import specs as arch
from spatiallab.models.registry import model_specs

# How each spec type becomes a Keras layer. Extend this when adding a spec type.
# How each spec type becomes a Keras layer (keyword arguments such as ``dtype`` pass through). Extend this when
# adding a spec type.
KERAS_LAYERS: dict[type, Callable[..., keras.layers.Layer]] = {
    arch.Dense: lambda s, **kw: keras.layers.Dense(s.units, activation=s.activation, use_bias=s.use_bias, **kw),
    arch.Conv2D: lambda s, **kw: keras.layers.Conv2D(
        s.filters, s.kernel_size, activation=s.activation, use_bias=s.use_bias, padding=s.padding, **kw
    ),
    arch.MaxPool2D: lambda s, **kw: keras.layers.MaxPooling2D(s.pool_size, **kw),
    arch.Flatten: lambda s, **kw: keras.layers.Flatten(**kw),
    arch.GlobalAveragePooling2D: lambda s, **kw: keras.layers.GlobalAveragePooling2D(**kw),
    arch.Dropout: lambda s, **kw: keras.layers.Dropout(s.rate, **kw),
    arch.LocallyConnected2D: lambda s, **kw: layers.LocallyConnected2D(
        s.filters, s.kernel_size, activation=s.activation, use_bias=s.use_bias, **kw
    ),
}


def build_from_specs(specs, input_shape: tuple[int, ...], name: str = "model") -> keras.Model:
    """A Keras ``Sequential`` model for channels-last ``input_shape`` (H, W, C) made of ``specs``.

    Layers follow Keras's global dtype policy, except the last, which always computes in float32: under
    ``mixed_bfloat16`` the logits (and so the loss) stay float32, as Keras's mixed-precision guide advises.
    """
    layers = [keras.Input(shape=tuple(input_shape))]
    for index, spec in enumerate(specs):
        if type(spec) not in KERAS_LAYERS:
            raise ValueError(f"no Keras layer for spec {spec!r}")
        options = {"dtype": "float32"} if index == len(specs) - 1 else {}
        layers.append(KERAS_LAYERS[type(spec)](spec, **options))
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
