"""Exact parameter counts from the layers' definitions, each checked against Keras's own ``count_params``.

The lesson's table: Dense(128) on a flattened 28x28 image has 784 x 128 + 128 = 100,480 parameters; Conv2D(32, 3x3)
on 28x28x1 has 3 x 3 x 1 x 32 + 32 = 320, because one 3x3 filter per output channel is reused at every position
(weight sharing): 314x fewer.
"""

from __future__ import annotations

import dataclasses

from spatiallab import architecture as arch
from spatiallab import models

LAYER_SYNTAX = (
    "dense:UNITS[:nobias] | conv:FILTERS:KERNEL[:same][:nobias] | lc:FILTERS:KERNEL[:nobias] | pool:SIZE | "
    "flatten | gap | dropout:RATE"
)


@dataclasses.dataclass
class ParamRow:
    """One line of a parameter table; ``keras`` is Keras's count_params for the same layer."""

    layer: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    analytic: int
    keras: int

    @property
    def agrees(self) -> bool:
        return self.analytic == self.keras


def _flags(parts: list[str], allowed: set[str], text: str) -> set[str]:
    flags = set(parts)
    if not flags <= allowed:
        raise ValueError(f"layer {text!r}: unknown option(s) {sorted(flags - allowed)}; expected {LAYER_SYNTAX}")
    return flags


def parse_layer(text: str):
    """One layer spec from the command-line syntax ``LAYER_SYNTAX``, e.g. ``"conv:32:3"`` -> Conv2D(32, 3).

    Raises:
        ValueError: unknown layer kind, missing or non-numeric sizes, unknown options.
    """
    kind, *parts = text.strip().lower().split(":")
    try:
        if kind == "dense":
            flags = _flags(parts[1:], {"nobias"}, text)
            return arch.Dense(int(parts[0]), use_bias="nobias" not in flags)
        if kind == "conv":
            flags = _flags(parts[2:], {"nobias", "same"}, text)
            padding = "same" if "same" in flags else "valid"
            return arch.Conv2D(int(parts[0]), int(parts[1]), use_bias="nobias" not in flags, padding=padding)
        if kind == "lc":
            flags = _flags(parts[2:], {"nobias"}, text)
            return arch.LocallyConnected2D(int(parts[0]), int(parts[1]), use_bias="nobias" not in flags)
        if kind == "pool":
            return arch.MaxPool2D(int(parts[0]) if parts else 2)
        if kind == "flatten" and not parts:
            return arch.Flatten()
        if kind == "gap" and not parts:
            return arch.GlobalAveragePooling2D()
        if kind == "dropout":
            return arch.Dropout(float(parts[0]) if parts else 0.5)
    except (IndexError, ValueError) as error:
        if isinstance(error, ValueError) and "unknown option" in str(error):
            raise
        raise ValueError(f"layer {text!r}: expected {LAYER_SYNTAX}") from None
    raise ValueError(f"layer {text!r}: unknown layer kind {kind!r}; expected {LAYER_SYNTAX}")


def describe(spec) -> str:
    """A short human name such as ``Conv2D(32, 3x3)`` or ``Dense(128, no bias)``."""
    fields = {field.name: getattr(spec, field.name) for field in dataclasses.fields(spec)}
    parts = []
    for key in ("units", "filters", "pool_size", "rate"):
        if key in fields:
            parts.append(str(fields[key]))
    if "kernel_size" in fields:
        parts.append(f"{fields['kernel_size']}x{fields['kernel_size']}")
    if fields.get("padding") == "same":
        parts.append("same")
    if fields.get("use_bias") is False:
        parts.append("no bias")
    return f"{type(spec).__name__}({', '.join(parts)})"


def layer_table(specs, input_shape: tuple[int, ...]) -> list[ParamRow]:
    """Per-layer analytic counts next to Keras's, for ``specs`` on a channels-last ``input_shape``.

    Raises:
        ValueError: the layers do not fit the input (see ``architecture.walk``).
    """
    walked = arch.walk(specs, input_shape)
    keras_model = models.build_from_specs(specs, input_shape)
    return [
        ParamRow(describe(spec), shape_in, shape_out, count, int(layer.count_params()))
        for (spec, shape_in, shape_out, count), layer in zip(walked, keras_model.layers, strict=True)
    ]


def lesson_table() -> list[ParamRow]:
    """The lesson's two rows: Dense(128) on 784 flattened pixels, and Conv2D(32, 3x3) on 28x28x1."""
    dense = layer_table([arch.Dense(128)], (784,))[0]
    conv = layer_table([arch.Conv2D(32, 3)], (28, 28, 1))[0]
    dense.layer, conv.layer = "Dense(128) on 784 pixels (flattened)", "Conv2D(32, 3x3) on 28x28x1"
    return [dense, conv]


def model_totals(input_shape: tuple[int, ...] = (28, 28, 1), num_classes: int = 10) -> list[ParamRow]:
    """Whole-model totals of every registered model, analytic and Keras's, on ``input_shape``."""
    rows = []
    for name in models.model_names():
        specs = models.model_specs(name, num_classes)
        walked = arch.walk(specs, input_shape)
        keras_count = int(models.build_model(name, input_shape, num_classes).count_params())
        rows.append(ParamRow(name, tuple(input_shape), walked[-1][2], arch.total_params(specs, input_shape), keras_count))
    return rows
