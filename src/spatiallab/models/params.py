"""Exact parameter counts from the layers' definitions, each checked against Keras's own ``count_params``.

The lesson's table: Dense(128) on a flattened 28x28 image has 784 x 128 + 128 = 100,480 parameters; Conv2D(32, 3x3)
on 28x28x1 has 3 x 3 x 1 x 32 + 32 = 320, because one 3x3 filter per output channel is reused at every position
(weight sharing): 314x fewer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from spatiallab import models
from spatiallab.models import specs as arch


@dataclasses.dataclass(frozen=True)
class _LayerKind:
    """How one kind of layer is written on the command line: ``kind:NUMBER...[:option...]``."""

    syntax: str
    numbers: tuple[str, ...]  # the sizes' names, in order
    make: Callable[[list, set[str]], object]  # (sizes, options) -> spec; the spec checks the sizes
    number_type: type = int
    options: frozenset[str] = frozenset()
    default: tuple[str, ...] = ()  # the sizes when none is written


_LAYER_KINDS = {
    "dense": _LayerKind(
        "dense:UNITS[:nobias]", ("UNITS",), options=frozenset({"nobias"}),
        make=lambda sizes, options: arch.Dense(sizes[0], use_bias="nobias" not in options),
    ),
    "conv": _LayerKind(
        "conv:FILTERS:KERNEL[:same][:nobias]", ("FILTERS", "KERNEL"), options=frozenset({"nobias", "same"}),
        make=lambda sizes, options: arch.Conv2D(sizes[0], sizes[1], use_bias="nobias" not in options,
                                                padding="same" if "same" in options else "valid"),
    ),
    "lc": _LayerKind(
        "lc:FILTERS:KERNEL[:nobias]", ("FILTERS", "KERNEL"), options=frozenset({"nobias"}),
        make=lambda sizes, options: arch.LocallyConnected2D(sizes[0], sizes[1], use_bias="nobias" not in options),
    ),
    "pool": _LayerKind("pool:SIZE", ("SIZE",), default=("2",), make=lambda sizes, options: arch.MaxPool2D(sizes[0])),
    "flatten": _LayerKind("flatten", (), make=lambda sizes, options: arch.Flatten()),
    "gap": _LayerKind("gap", (), make=lambda sizes, options: arch.GlobalAveragePooling2D()),
    "dropout": _LayerKind("dropout:RATE", ("RATE",), number_type=float, default=("0.5",),
                          make=lambda sizes, options: arch.Dropout(sizes[0])),
}  # fmt: skip
LAYER_SYNTAX = " | ".join(kind.syntax for kind in _LAYER_KINDS.values())


@dataclasses.dataclass
class ParamRow:
    """One line of a parameter table; ``keras`` is Keras's count_params for the same layer, None where the table
    was counted without Keras (``keras=False``: the formulas alone, no backend imported)."""

    layer: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    analytic: int
    keras: int | None = None

    @property
    def agrees(self) -> bool:
        """Whether Keras's count equals the formula's (False for a row not checked)."""
        return self.analytic == self.keras


def parse_layer(text: str):
    """One layer spec from the command-line syntax ``LAYER_SYNTAX``, e.g. ``"conv:32:3"`` -> Conv2D(32, 3).

    Raises:
        ValueError: naming ``text`` and its expected syntax: unknown layer kind, missing or non-numeric sizes,
        unknown options, or sizes the layer refuses (a count or window below 1, a dropout rate outside [0, 1)).
    """
    name, *parts = text.strip().lower().split(":")
    if name not in _LAYER_KINDS:
        raise ValueError(f"layer {text!r}: unknown layer kind {name!r}; expected {LAYER_SYNTAX}")
    kind = _LAYER_KINDS[name]
    expected = f"expected {kind.syntax}"
    parts = parts or list(kind.default)
    written, options = parts[: len(kind.numbers)], set(parts[len(kind.numbers) :])
    if len(written) < len(kind.numbers):
        raise ValueError(f"layer {text!r}: missing {kind.numbers[len(written)]}; {expected}")
    if not options <= kind.options:
        raise ValueError(f"layer {text!r}: unknown option(s) {sorted(options - kind.options)}; {expected}")
    try:
        sizes = [kind.number_type(part) for part in written]
    except ValueError:
        what = "number" if kind.number_type is float else "whole number"
        what = f"{what}s" if len(kind.numbers) > 1 else f"a {what}"
        raise ValueError(f"layer {text!r}: {' and '.join(kind.numbers)} must be {what}; got "
                         f"{', '.join(map(repr, written))}; {expected}") from None
    try:
        return kind.make(sizes, options)
    except ValueError as error:
        raise ValueError(f"layer {text!r}: {error}; {expected}") from None


def parse_layers(texts, input_shape: tuple[int, ...]) -> list:
    """The specs of a layer list, each checked to fit the output of the one before on a channels-last
    ``input_shape``, so that an error names the layer as the user wrote it.

    Raises:
        ValueError: ``layer 'conv:32:30' on a 28x28x1 input: ...`` (see ``parse_layer`` and ``specs.walk``).
    """
    specs, shape = [], tuple(input_shape)
    for text in texts:
        spec = parse_layer(text)
        try:
            shape = arch.walk([spec], shape)[0][2]
        except ValueError as error:
            raise ValueError(f"layer {text!r} on a {'x'.join(map(str, shape))} input: {error}") from None
        specs.append(spec)
    return specs


def describe(spec) -> str:
    """A short human name such as ``Conv2D(32, 3x3)``, ``Conv1D(25, 5, stride 2)``, ``Dense(128, no bias)`` or
    ``Residual(Dense(100))``."""
    if isinstance(spec, arch.Residual):
        return f"Residual({' -> '.join(describe(inner) for inner in spec.inner)})"
    fields = {field.name: getattr(spec, field.name) for field in dataclasses.fields(spec)}
    parts = []
    for key in ("units", "filters", "pool_size", "rate", "input_dim", "output_dim"):
        if key in fields:
            parts.append(str(fields[key]))
    if "kernel_size" in fields:
        size = fields["kernel_size"]
        parts.append(str(size) if type(spec).__name__.endswith("1D") else f"{size}x{size}")
    if fields.get("strides", 1) != 1:
        parts.append(f"stride {fields['strides']}")
    if fields.get("padding") == "same":
        parts.append("same")
    elif isinstance(fields.get("padding"), int):
        parts.append(str(fields["padding"]))
    if fields.get("bidirectional"):
        parts.append("bidirectional")
    if fields.get("use_bias") is False:
        parts.append("no bias")
    return f"{type(spec).__name__}({', '.join(parts)})"


def layer_table(specs, input_shape: tuple[int, ...], keras: bool = True) -> list[ParamRow]:
    """Per-layer analytic counts next to Keras's, for ``specs`` on a channels-last ``input_shape``; with
    ``keras=False`` the analytic counts alone (framework-free, immediate).

    Raises:
        ValueError: the layers do not fit the input (see ``specs.walk``).
    """
    walked = arch.walk(specs, input_shape)
    if not keras:
        return [ParamRow(describe(spec), shape_in, shape_out, count) for spec, shape_in, shape_out, count in walked]
    from spatiallab.models import build

    keras_model = build.build_from_specs(specs, input_shape)
    return [
        ParamRow(describe(spec), shape_in, shape_out, count, int(layer.count_params()))
        for (spec, shape_in, shape_out, count), layer in zip(walked, keras_model.layers, strict=True)
    ]


def lesson_table(keras: bool = True) -> list[ParamRow]:
    """The lesson's two rows: Dense(128) on 784 flattened pixels, and Conv2D(32, 3x3) on 28x28x1 (``keras``: see
    ``layer_table``)."""
    dense = layer_table([arch.Dense(128)], (784,), keras)[0]
    conv = layer_table([arch.Conv2D(32, 3)], (28, 28, 1), keras)[0]
    dense.layer, conv.layer = "Dense(128) on 784 pixels (flattened)", "Conv2D(32, 3x3) on 28x28x1"
    return [dense, conv]


def model_table(name: str, input_shape: tuple[int, ...], num_classes: int = 10,
                keras: bool = True) -> list[ParamRow]:  # fmt: skip
    """The per-layer table of one registered model on ``input_shape``, analytic next to Keras's (``keras``: see
    ``layer_table``).

    Raises:
        ValueError: unknown model, or one that does not take or fit the input (``registry.check_input``).
    """
    models.check_input(name, input_shape, num_classes=num_classes)
    return layer_table(models.model_specs(name, num_classes), input_shape, keras)


def model_totals(input_shape: tuple[int, ...] = (28, 28, 1), num_classes: int = 10,
                 keras: bool = True) -> list[ParamRow]:  # fmt: skip
    """Whole-model totals, analytic and Keras's, on ``input_shape`` of every registered model that takes that kind
    of input (``registry.models_for_input``: image models on (H, W, C), sequence and byte models on (L, C); the
    position-blind ones on both). ``keras=False``: the analytic totals alone, no model built.

    Raises:
        ValueError: a model of that kind does not fit the shape (e.g. a kernel larger than the input), naming it.
    """
    rows = []
    for name in models.models_for_input(input_shape):
        specs = models.model_specs(name, num_classes)
        try:
            walked = arch.walk(specs, input_shape)
        except ValueError as error:
            shape = "x".join(map(str, input_shape))
            raise ValueError(f"model {name!r} does not fit a {shape} input: {error}") from None
        keras_count = None
        if keras:
            from spatiallab.models import build

            keras_count = int(build.build_model(name, input_shape, num_classes).count_params())
        rows.append(ParamRow(name, tuple(input_shape), walked[-1][2], arch.total_params(specs, input_shape),
                             keras_count))  # fmt: skip
    return rows
