"""The Read tab: what a Dense layer and a Conv2D layer receive, and their parameter counts computed live from the
framework-free layer specs (``models.specs``), the same formulas ``spatiallab params`` checks against Keras."""

from __future__ import annotations

import numpy as np

from spatiallab import models
from spatiallab.models import params
from spatiallab.models import specs as arch

SEES = """\
**What Dense sees.** Flatten turns an H x W x C image into one list of H·W·C numbers, row after row: pixel (r, c)
becomes input r·W + c, so the pixel just below it sits W places further along. Each input has its own weight to each
unit, and nothing in the layer records which inputs were neighbours. Reorder the inputs once, for every image, and
the same network with its first-layer weights reordered the same way computes exactly what it did before.

**What Conv2D sees.** The grid itself. One small filter (k x k weights per input channel, 3x3 in the lesson, plus a
bias) is laid on every k x k window in turn: each output reads only a neighbourhood, and every position reuses the
same weights (weight sharing). Its count depends on the filter, not on the image: a larger image costs Dense more and Conv2D nothing."""


def parameter_counts(units: int, filters: int, kernel_size: int, image_shape=(28, 28, 1)) -> dict:
    """Parameters of one Dense layer on the flattened image and of one Conv2D layer on the image grid.

    Dense(units) on H*W*C inputs: H*W*C*units weights + units biases. Conv2D(filters, k x k) on C channels:
    k*k*C*filters weights + filters biases, the same at every position (weight sharing), so independent of H and W.

    Returns:
        {"dense": int, "conv": int, "ratio": dense / conv, "inputs": H*W*C,
         "conv_output": (H - k + 1, W - k + 1, filters)}.

    Raises:
        ValueError: non-positive sizes, or a kernel larger than the image.
    """
    if min(units, filters, kernel_size) < 1:
        raise ValueError(f"units, filters and kernel size must be >= 1; got {units}, {filters}, {kernel_size}")
    image_shape = tuple(int(size) for size in image_shape)
    inputs = int(np.prod(image_shape))
    conv = arch.Conv2D(int(filters), int(kernel_size))
    output = arch.walk([conv], image_shape)[0][2]
    dense_count = arch.Dense(int(units)).param_count((inputs,))
    conv_count = conv.param_count(image_shape)
    return {"dense": dense_count, "conv": conv_count, "ratio": dense_count / conv_count, "inputs": inputs,
            "conv_output": output}  # fmt: skip


def parameter_markdown(image_size: int, channels: int, units: int, filters: int, kernel_size: int) -> str:
    """The Dense vs Conv2D arithmetic on an ``image_size`` x ``image_size`` x ``channels`` image, formulas written
    out (784 x 128 + 128 = 100,480 against 3 x 3 x 1 x 32 + 32 = 320 at the defaults), or why it cannot be made."""
    side, channels, units, filters, k = (int(value) for value in (image_size, channels, units, filters, kernel_size))
    shape = (side, side, channels)
    grid = "x".join(map(str, shape))
    try:
        counts = parameter_counts(units, filters, k, shape)
    except ValueError as error:
        return f"**No Conv2D({filters}, {k}x{k}) on a {grid} image:** {error}."
    dense, conv = arch.Dense(units), arch.Conv2D(filters, k)
    output = "x".join(map(str, counts["conv_output"]))
    return (
        f"**{params.describe(dense)}** on the flat {counts['inputs']:,}-vector ({grid} flattened): "
        f"{counts['inputs']:,} x {units} weights + {units} biases = **{counts['dense']:,}** parameters\n\n"
        f"**{params.describe(conv)}** on the {grid} grid: {k} x {k} x {channels} x {filters} weights + {filters} "
        f"biases = **{counts['conv']:,}** parameters, the same at every position (output {output})\n\n"
        f"Dense has **{counts['ratio']:,.1f}x** as many: a filter's weights are shared by every position."
    )


def model_totals_markdown(image_size: int, channels: int, num_classes: int = 10) -> str:
    """A markdown table of every registered model's parameter count on the image (``models.model_params``, from its
    layer specs), with its layers; a model whose layers do not fit the image says so."""
    shape = (int(image_size), int(image_size), int(channels))
    lines = [f"Whole models on {'x'.join(map(str, shape))} images, {num_classes} classes:", "",
             "| model | parameters | layers |", "|---|---:|---|"]  # fmt: skip
    for name in models.model_names():
        layers = " -> ".join(params.describe(spec) for spec in models.model_specs(name, num_classes))
        try:
            count = f"{models.model_params(name, shape, num_classes):,}"
        except ValueError:
            count = "does not fit"
        lines.append(f"| {name} | {count} | {layers} |")
    return "\n".join(lines)
