"""Keras models from the framework-free layer specs: the one place that imports Keras for model building."""

from __future__ import annotations

from collections.abc import Callable

import keras

from spatiallab.models import layers
from spatiallab.models import specs as arch
from spatiallab.models.registry import model_specs

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
    arch.ZeroPadding1D: lambda s, **kw: keras.layers.ZeroPadding1D(s.padding, **kw),
    arch.Conv1D: lambda s, **kw: keras.layers.Conv1D(
        s.filters, s.kernel_size, strides=s.strides, activation=s.activation, use_bias=s.use_bias, **kw
    ),
    arch.GatedConv1D: lambda s, **kw: layers.GatedConv1D(s.filters, s.kernel_size, s.strides, **kw),
    arch.GlobalMaxPooling1D: lambda s, **kw: keras.layers.GlobalMaxPooling1D(**kw),
    arch.GRU: lambda s, **kw: (
        keras.layers.Bidirectional(keras.layers.GRU(s.units, return_sequences=s.return_sequences), **kw)
        if s.bidirectional
        else keras.layers.GRU(s.units, return_sequences=s.return_sequences, **kw)
    ),
    arch.ByteTokens: lambda s, **kw: layers.ByteTokens(**kw),
    arch.Embedding: lambda s, **kw: keras.layers.Embedding(s.input_dim, s.output_dim, **kw),
    arch.Residual: lambda s, **kw: layers.Residual([keras_layer(inner) for inner in s.inner], **kw),
}


def keras_layer(spec, **options) -> keras.layers.Layer:
    """The Keras layer of one spec (``options`` such as ``dtype`` pass through).

    Raises:
        ValueError: no Keras layer is known for the spec's type.
    """
    if type(spec) not in KERAS_LAYERS:
        raise ValueError(f"no Keras layer for spec {spec!r}")
    return KERAS_LAYERS[type(spec)](spec, **options)


def build_from_specs(specs, input_shape: tuple[int, ...], name: str = "model") -> keras.Model:
    """A Keras ``Sequential`` model for channels-last ``input_shape`` ((H, W, C) or (L, C)) made of ``specs``.

    Layers follow Keras's global dtype policy, except the last, which always computes in float32: under
    ``mixed_bfloat16`` the logits (and so the loss) stay float32, as Keras's mixed-precision guide advises.
    """
    layers = [keras.Input(shape=tuple(input_shape))]
    for index, spec in enumerate(specs):
        options = {"dtype": "float32"} if index == len(specs) - 1 else {}
        layers.append(keras_layer(spec, **options))
    return keras.Sequential(layers, name=name)


def build_model(name: str, input_shape: tuple[int, ...] = (28, 28, 1), num_classes: int = 10) -> keras.Model:
    """Build a fresh, uncompiled registered model.

    Args:
        name: "dense", "cnn", "cnn1d", ... (see ``model_names()``).
        input_shape: one sample's channels-last shape: (H, W, C) for images, (L, C) for sequences. The model is
            fed ``transforms.to_float`` of its data: uint8 images and byte sequences as float32 value / 255 in
            [0, 1] (``bytes1d`` restores the byte values itself), float32 sequences as they are.
        num_classes: number of output logits.

    Returns:
        keras.Model mapping (N, *input_shape) float32 -> (N, num_classes) logits (no softmax).

    Raises:
        ValueError: unknown name, or an architecture that does not fit ``input_shape`` (see also
        ``registry.check_input``, which names the model's input kind).
    """
    specs = model_specs(name, num_classes)
    arch.walk(specs, input_shape)  # clear error before Keras's
    return build_from_specs(specs, input_shape, name=name)
