"""Keras 3 layers that Keras itself does not ship: ``LocallyConnected2D`` (removed in Keras 3), and the building
blocks of the one-dimensional models: ``Residual``, ``GatedConv1D``, ``ByteTokens``.

A locally connected layer has the receptive fields of a convolution (each output position sees one ``k x k``
neighbourhood) but no weight sharing: every output position has its own kernel. Keras 2 had one
(``keras.layers.LocallyConnected2D``, removed in Keras 3); it was used e.g. in DeepFace (Taigman et al., CVPR 2014).
Here it separates the two things the lesson credits a CNN with -- locality and weight sharing.

Written with ``keras.ops`` only, so it runs on every Keras backend.
"""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="spatiallab")
class LocallyConnected2D(keras.layers.Layer):
    """Unshared ``k x k`` filters, stride 1, "valid" padding, on channels-last inputs.

    For input (N, H, W, C) the output is (N, H-k+1, W-k+1, filters) with
    ``out[n, i, j, f] = activation(sum_{a, b, c} x[n, i+a, j+b, c] * kernel[i*(W-k+1)+j, (a*k+b)*C+c, f]
    + bias[i, j, f])`` -- the weight layout of Keras 2's ``LocallyConnected2D`` (implementation 1).

    Weights: ``kernel`` (out_h*out_w, k*k*C, filters); ``bias`` (out_h, out_w, filters); in all
    ``out_h*out_w*filters*(k*k*C + 1)`` parameters. The kernel is drawn from the Glorot-uniform distribution of the
    ``Conv2D`` it replaces (fan_in = k*k*C, fan_out = k*k*filters), so the two differ only in sharing.

    Args:
        filters: number of output channels.
        kernel_size: side ``k`` of the square receptive field.
        activation: a Keras activation name or callable (None: linear).
        use_bias: add a bias per output position and filter.
    """

    def __init__(self, filters: int, kernel_size: int = 3, activation=None, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        if int(filters) < 1 or int(kernel_size) < 1:
            raise ValueError(f"filters and kernel_size must be >= 1; got {filters}, {kernel_size}")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)

    def _output_grid(self, input_shape) -> tuple[int, int]:
        if len(input_shape) != 4 or input_shape[1] is None or input_shape[2] is None or input_shape[3] is None:
            raise ValueError(f"LocallyConnected2D needs a known (N, H, W, C) input shape; got {input_shape}")
        height, width = input_shape[1] - self.kernel_size + 1, input_shape[2] - self.kernel_size + 1
        if height < 1 or width < 1:
            raise ValueError(f"kernel {self.kernel_size}x{self.kernel_size} is larger than the input {input_shape}")
        return height, width

    def build(self, input_shape):
        height, width = self._output_grid(input_shape)
        channels = input_shape[3]
        patch = self.kernel_size * self.kernel_size * channels
        limit = math.sqrt(6.0 / (patch + self.kernel_size * self.kernel_size * self.filters))
        self.kernel = self.add_weight(
            name="kernel",
            shape=(height * width, patch, self.filters),
            initializer=keras.initializers.RandomUniform(-limit, limit),
        )
        self.bias = (
            self.add_weight(name="bias", shape=(height, width, self.filters), initializer="zeros")
            if self.use_bias
            else None
        )

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        height, width = self._output_grid(inputs.shape)
        # Position-major patches, patches[i*out_w + j, n, (a*k + b)*C + c] = inputs[n, i+a, j+b, c], cut from the
        # (H, W, N, C) transpose: then one batched (N, k*k*C) x (k*k*C, filters) product per output position needs
        # no transpose of the k*k times larger patch tensor.
        grid = ops.transpose(inputs, (1, 2, 0, 3))
        shifted = [
            grid[row : row + height, column : column + width]
            for row in range(self.kernel_size)
            for column in range(self.kernel_size)
        ]
        patches = ops.reshape(ops.concatenate(shifted, axis=-1), (height * width, batch, -1))
        outputs = ops.matmul(patches, self.kernel)  # (positions, N, filters)
        outputs = ops.transpose(ops.reshape(outputs, (height, width, batch, self.filters)), (2, 0, 1, 3))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        height, width = self._output_grid(input_shape)
        return (input_shape[0], height, width, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }


@keras.saving.register_keras_serializable(package="spatiallab")
class Residual(keras.layers.Layer):
    """``output = inputs + inner(inputs)``: the ``inner_layers`` applied in order, then summed with the input.

    Args:
        inner_layers: Keras layers whose composition keeps the input's shape (checked when the block is built).

    Raises:
        ValueError: the inner layers change the shape, so the sum is undefined.
    """

    def __init__(self, inner_layers, **kwargs):
        super().__init__(**kwargs)
        self.inner_layers = list(inner_layers)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.inner_layers:
            if not layer.built:  # a reloaded model's inner layers come back built
                layer.build(shape)
            shape = tuple(layer.compute_output_shape(shape))
        if shape[1:] != tuple(input_shape)[1:]:
            raise ValueError(f"Residual: the inner layers map {tuple(input_shape)} to {shape}; the sum with the input "
                             "needs the same shape")  # fmt: skip

    def call(self, inputs, training=None):
        outputs = inputs
        for layer in self.inner_layers:
            outputs = layer(outputs, training=training)
        return inputs + outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(),
                "inner_layers": [keras.saving.serialize_keras_object(layer) for layer in self.inner_layers]}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        inner = [keras.saving.deserialize_keras_object(layer) for layer in config.pop("inner_layers")]
        return cls(inner, **config)


@keras.saving.register_keras_serializable(package="spatiallab")
class GatedConv1D(keras.layers.Layer):
    """MalConv's gated convolution (Raff et al. 2018, "Malware Detection by Eating a Whole EXE"):
    ``Conv1D_a(x) * sigmoid(Conv1D_b(x))`` with "valid" padding and a stride.

    (N, L, C) -> (N, floor((L - kernel_size) / strides) + 1, filters); two kernels (kernel_size, C, filters) and two
    bias vectors (filters,).
    """

    def __init__(self, filters: int, kernel_size: int, strides: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = int(filters), int(kernel_size), int(strides)
        shape = {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                 "dtype": self.dtype_policy}  # fmt: skip
        self.features = keras.layers.Conv1D(**shape, name="features")
        self.gate = keras.layers.Conv1D(**shape, activation="sigmoid", name="gate")

    def build(self, input_shape):
        for convolution in (self.features, self.gate):
            if not convolution.built:
                convolution.build(input_shape)

    def call(self, inputs):
        return self.features(inputs) * self.gate(inputs)

    def compute_output_shape(self, input_shape):
        return self.features.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides}  # fmt: skip


@keras.saving.register_keras_serializable(package="spatiallab")
class ByteTokens(keras.layers.Layer):
    """(N, L, 1) float ``x = byte / 255`` (``transforms.to_float`` of uint8 bytes) -> (N, L) int32 bytes 0..255.

    round(x * 255), clipped to 0..255. The input is not cast to the precision policy's compute dtype (``autocast``
    off) and the product is taken in float32: in bfloat16 (8 significant bits) byte / 255 * 255 can round to the
    neighbouring byte.
    """

    def __init__(self, **kwargs):
        super().__init__(autocast=False, **kwargs)

    def call(self, inputs):
        values = ops.clip(ops.round(ops.cast(inputs, "float32") * 255.0), 0.0, 255.0)
        return ops.cast(ops.squeeze(values, axis=-1), "int32")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] != 1:
            raise ValueError(f"ByteTokens expects (N, L, 1) byte values; got {input_shape}")
        return tuple(input_shape[:2])

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype="int32")
