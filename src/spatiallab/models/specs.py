"""Framework-free layer specifications: shapes and exact parameter counts, from the layers' definitions.

Each spec knows its output shape and its number of trainable parameters for a given channels-last input shape:
(H, W, C) images or (L, C) sequences.
``build.py`` turns the same specs into Keras layers, so Keras's own ``count_params`` checks these formulas.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

Shape = tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Dense:
    """Fully connected layer: ``units x inputs`` weights plus ``units`` biases. Input must be flat (n,)."""

    units: int
    activation: str | None = None
    use_bias: bool = True

    def __post_init__(self):
        _check_size("Dense", "units", self.units)

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 1:
            raise ValueError(f"Dense expects a flat input (n,); got {input_shape} (add a flatten layer first)")
        return (self.units,)

    def param_count(self, input_shape: Shape) -> int:
        return input_shape[0] * self.units + (self.units if self.use_bias else 0)


@dataclasses.dataclass(frozen=True)
class Conv2D:
    """2-D convolution with one shared ``kernel x kernel x C_in`` filter per output channel (weight sharing).

    Stride 1; ``padding`` is "valid" (output H-k+1) or "same" (output H).
    """

    filters: int
    kernel_size: int = 3
    activation: str | None = None
    use_bias: bool = True
    padding: str = "valid"

    def __post_init__(self):
        _check_size("Conv2D", "filters", self.filters)
        _check_size("Conv2D", "kernel_size", self.kernel_size)
        if self.padding not in ("valid", "same"):
            raise ValueError(f"Conv2D: padding must be 'valid' or 'same'; got {self.padding!r}")

    def output_shape(self, input_shape: Shape) -> Shape:
        height, width, _ = _spatial(input_shape, "Conv2D")
        if self.padding == "same":
            return (height, width, self.filters)
        _check_window("Conv2D", "kernel", self.kernel_size, input_shape, ", or 'same' padding")
        return (height - self.kernel_size + 1, width - self.kernel_size + 1, self.filters)

    def param_count(self, input_shape: Shape) -> int:
        channels = _spatial(input_shape, "Conv2D")[2]
        weights = self.kernel_size * self.kernel_size * channels * self.filters
        return weights + (self.filters if self.use_bias else 0)


@dataclasses.dataclass(frozen=True)
class LocallyConnected2D:
    """A Conv2D's ``kernel x kernel`` receptive fields without weight sharing: one kernel per output position.

    Stride 1, "valid" padding (output H-k+1, W-k+1). Each of the out_h*out_w positions has its own
    ``kernel*kernel*C_in x filters`` weights and (with ``use_bias``) its own ``filters`` biases, as in Keras 2's
    ``LocallyConnected2D``: ``out_h*out_w*(k*k*C_in*filters + filters)`` parameters.
    """

    filters: int
    kernel_size: int = 3
    activation: str | None = None
    use_bias: bool = True

    def __post_init__(self):
        _check_size("LocallyConnected2D", "filters", self.filters)
        _check_size("LocallyConnected2D", "kernel_size", self.kernel_size)

    def output_shape(self, input_shape: Shape) -> Shape:
        height, width, _ = _spatial(input_shape, "LocallyConnected2D")
        _check_window("LocallyConnected2D", "kernel", self.kernel_size, input_shape)
        return (height - self.kernel_size + 1, width - self.kernel_size + 1, self.filters)

    def param_count(self, input_shape: Shape) -> int:
        out_height, out_width, _ = self.output_shape(input_shape)
        channels = input_shape[2]
        per_position = self.kernel_size * self.kernel_size * channels * self.filters
        per_position += self.filters if self.use_bias else 0
        return out_height * out_width * per_position


@dataclasses.dataclass(frozen=True)
class MaxPool2D:
    """Max pooling with window = stride = ``pool_size`` (floor): no parameters."""

    pool_size: int = 2

    def __post_init__(self):
        _check_size("MaxPool2D", "pool_size", self.pool_size)

    def output_shape(self, input_shape: Shape) -> Shape:
        height, width, channels = _spatial(input_shape, "MaxPool2D")
        _check_window("MaxPool2D", "pool", self.pool_size, input_shape)
        return (height // self.pool_size, width // self.pool_size, channels)

    def param_count(self, input_shape: Shape) -> int:
        return 0


@dataclasses.dataclass(frozen=True)
class Flatten:
    """(H, W, C) -> (H*W*C,), or (L, C) -> (L*C,): no parameters."""

    def output_shape(self, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def param_count(self, input_shape: Shape) -> int:
        return 0


@dataclasses.dataclass(frozen=True)
class GlobalAveragePooling2D:
    """(H, W, C) -> (C,), the mean over all positions: the head cannot tell where a feature was."""

    def output_shape(self, input_shape: Shape) -> Shape:
        return (_spatial(input_shape, "GlobalAveragePooling2D")[2],)

    def param_count(self, input_shape: Shape) -> int:
        return 0


@dataclasses.dataclass(frozen=True)
class Dropout:
    """Dropout (active in training only): no parameters."""

    rate: float = 0.5

    def __post_init__(self):
        # not 1: Keras's Dropout scales kept units by 1 / (1 - rate), and at 1 it would keep none
        if not (isinstance(self.rate, numbers.Real) and 0 <= self.rate < 1):
            raise ValueError(f"Dropout: rate must be a number in [0, 1); got {self.rate!r}")

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def param_count(self, input_shape: Shape) -> int:
        return 0


# -- one-dimensional layers: channels-last sequences (L, C) ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ZeroPadding1D:
    """``padding`` zeros added at each end of the sequence: (L, C) -> (L + 2*padding, C), no parameters.

    Before a "valid" ``Conv1D`` this is PyTorch's ``Conv1d(..., padding=p)``, which is neither Keras's "valid" nor
    its "same" padding.
    """

    padding: int = 1

    def __post_init__(self):
        _check_size("ZeroPadding1D", "padding", self.padding)

    def output_shape(self, input_shape: Shape) -> Shape:
        length, channels = _sequence(input_shape, "ZeroPadding1D")
        return (length + 2 * self.padding, channels)

    def param_count(self, input_shape: Shape) -> int:
        return 0


@dataclasses.dataclass(frozen=True)
class Conv1D:
    """1-D convolution, "valid" padding, with one shared ``kernel x C_in`` filter per output channel.

    (L, C) -> (floor((L - kernel) / strides) + 1, filters); ``kernel*C*filters`` weights plus ``filters`` biases.
    """

    filters: int
    kernel_size: int = 3
    strides: int = 1
    activation: str | None = None
    use_bias: bool = True

    def __post_init__(self):
        for name in ("filters", "kernel_size", "strides"):
            _check_size("Conv1D", name, getattr(self, name))

    def output_shape(self, input_shape: Shape) -> Shape:
        return (_strided_length("Conv1D", input_shape, self.kernel_size, self.strides), self.filters)

    def param_count(self, input_shape: Shape) -> int:
        channels = _sequence(input_shape, "Conv1D")[1]
        return self.kernel_size * channels * self.filters + (self.filters if self.use_bias else 0)


@dataclasses.dataclass(frozen=True)
class GatedConv1D:
    """MalConv's gated convolution (Raff et al. 2018): ``conv_a(x) * sigmoid(conv_b(x))``, two ``Conv1D`` of the same
    shape ("valid", with a stride) whose second one decides how much of the first passes at each position.

    (L, C) -> (floor((L - kernel) / strides) + 1, filters); twice a Conv1D's ``kernel*C*filters + filters``.
    """

    filters: int
    kernel_size: int
    strides: int = 1

    def __post_init__(self):
        for name in ("filters", "kernel_size", "strides"):
            _check_size("GatedConv1D", name, getattr(self, name))

    def output_shape(self, input_shape: Shape) -> Shape:
        return (_strided_length("GatedConv1D", input_shape, self.kernel_size, self.strides), self.filters)

    def param_count(self, input_shape: Shape) -> int:
        return 2 * Conv1D(self.filters, self.kernel_size, self.strides).param_count(input_shape)


@dataclasses.dataclass(frozen=True)
class GlobalMaxPooling1D:
    """(L, C) -> (C,), the largest value of each channel over all positions: no parameters."""

    def output_shape(self, input_shape: Shape) -> Shape:
        return (_sequence(input_shape, "GlobalMaxPooling1D")[1],)

    def param_count(self, input_shape: Shape) -> int:
        return 0


@dataclasses.dataclass(frozen=True)
class GRU:
    """A GRU over the L positions, with Keras 3's defaults (``reset_after=True``), optionally bidirectional.

    Per direction ``3 * (units*(C + units) + 2*units)`` parameters: an input kernel (C, 3*units), a recurrent kernel
    (units, 3*units) and, because the reset gate is applied after the recurrent product, two bias vectors of 3*units
    (input and recurrent). PyTorch's ``nn.GRU`` has the same four tensors, so the same count; Keras 2's
    ``reset_after=False`` had one bias vector: ``3 * (units*(C + units) + units)``.
    (L, C) -> (L, directions*units) with ``return_sequences``, else (directions*units,); directions are concatenated.
    """

    units: int
    bidirectional: bool = False
    return_sequences: bool = True

    def __post_init__(self):
        _check_size("GRU", "units", self.units)

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def output_shape(self, input_shape: Shape) -> Shape:
        length = _sequence(input_shape, "GRU")[0]
        features = self.directions * self.units
        return (length, features) if self.return_sequences else (features,)

    def param_count(self, input_shape: Shape) -> int:
        channels = _sequence(input_shape, "GRU")[1]
        return self.directions * 3 * (self.units * (channels + self.units) + 2 * self.units)


@dataclasses.dataclass(frozen=True)
class ByteTokens:
    """Byte values back from the model input: (L, 1) float32 ``x = byte / 255`` -> (L,) int32 tokens 0..255.

    Every model is fed ``transforms.to_float`` of its uint8 data, so a byte sequence arrives as byte / 255; this
    layer restores the byte exactly (round(x * 255), computed in float32 whatever the precision policy) for an
    ``Embedding``. No parameters.
    """

    def output_shape(self, input_shape: Shape) -> Shape:
        length, channels = _sequence(input_shape, "ByteTokens")
        if channels != 1:
            raise ValueError(f"ByteTokens expects one byte per position (L, 1); got {input_shape}")
        return (length,)

    def param_count(self, input_shape: Shape) -> int:
        return 0


@dataclasses.dataclass(frozen=True)
class Embedding:
    """A learned vector of ``output_dim`` values per token: (L,) int tokens 0..input_dim-1 -> (L, output_dim);
    ``input_dim * output_dim`` parameters."""

    input_dim: int
    output_dim: int

    def __post_init__(self):
        _check_size("Embedding", "input_dim", self.input_dim)
        _check_size("Embedding", "output_dim", self.output_dim)

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 1:
            raise ValueError(f"Embedding expects a sequence of tokens (L,); got {input_shape}")
        return (input_shape[0], self.output_dim)

    def param_count(self, input_shape: Shape) -> int:
        return self.input_dim * self.output_dim


@dataclasses.dataclass(frozen=True)
class Residual:
    """A residual block (He et al. 2016): ``output = input + inner(input)``, where ``inner`` is a sequence of specs
    whose output must have the input's shape. Its parameters are the inner layers'."""

    inner: tuple

    def __post_init__(self):
        if not self.inner:
            raise ValueError("Residual: inner must hold at least one layer spec")
        object.__setattr__(self, "inner", tuple(self.inner))

    def output_shape(self, input_shape: Shape) -> Shape:
        inner_output = walk(self.inner, input_shape)[-1][2]
        if inner_output != tuple(input_shape):
            raise ValueError(f"Residual: the inner layers map {tuple(input_shape)} to {inner_output}; the sum with "
                             "the input needs the same shape")  # fmt: skip
        return tuple(input_shape)

    def param_count(self, input_shape: Shape) -> int:
        return total_params(self.inner, input_shape)


def _sequence(input_shape: Shape, layer: str) -> Shape:
    if len(input_shape) != 2:
        raise ValueError(f"{layer} expects a channels-last sequence (L, C); got {input_shape}")
    return input_shape


def _strided_length(layer: str, input_shape: Shape, kernel: int, strides: int) -> int:
    """Output length of a "valid" window of ``kernel`` positions moved by ``strides``: floor((L - k) / s) + 1.

    Raises:
        ValueError: the kernel is longer than the sequence, which gives an empty output.
    """
    length = _sequence(input_shape, layer)[0]
    if kernel > length:
        raise ValueError(f"{layer}: the kernel of {kernel} positions is longer than the sequence of {length}, which "
                         f"gives an empty output; use a kernel of at most {length}")  # fmt: skip
    return (length - kernel) // strides + 1


def _check_size(layer: str, name: str, value) -> None:
    """A count or a window size: a whole number of at least 1."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a whole number >= 1; got {value!r}")


def _check_window(layer: str, name: str, size: int, input_shape: Shape, other_fix: str = "") -> None:
    """A ``size x size`` window (a kernel, a pool) must fit in the input's H x W, or the output is empty."""
    height, width = input_shape[:2]
    if size > height or size > width:
        raise ValueError(f"{layer}: the {size}x{size} {name} is larger than the {height}x{width} input, which gives an "
                         f"empty output; use a {name} of at most {min(height, width)}{other_fix}")


def _spatial(input_shape: Shape, layer: str) -> Shape:
    if len(input_shape) != 3:
        raise ValueError(f"{layer} expects a channels-last (H, W, C) input; got {input_shape}")
    return input_shape


def walk(specs, input_shape: Shape) -> list[tuple[object, Shape, Shape, int]]:
    """(spec, input shape, output shape, parameters) for each layer in order.

    Raises:
        ValueError: a layer does not fit its input (e.g. Dense on an unflattened grid, or a kernel larger than the map).
    """
    rows = []
    shape = tuple(input_shape)
    for spec in specs:
        output = spec.output_shape(shape)
        if any(size <= 0 for size in output):
            raise ValueError(f"{spec} on input {shape} gives an empty output {output}")
        rows.append((spec, shape, output, spec.param_count(shape)))
        shape = output
    return rows


def total_params(specs, input_shape: Shape) -> int:
    """Sum of trainable parameters of ``specs`` on a channels-last ``input_shape``."""
    return sum(row[3] for row in walk(specs, input_shape))
