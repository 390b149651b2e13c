"""What the lesson claims, shown beside our measurements (the terminal's tables and the report); never used by the
verdict, which is written from the numbers alone.

The lesson's shuffled-pixels numbers are for MNIST only; its other claims are rows of its comparison of Dense and
convolutional layers.
"""

from __future__ import annotations

# model -> (test accuracy on original MNIST, on shuffled MNIST), as the lesson wrote them.
SHUFFLED_PIXELS = {
    "dense": ("~97.8%", "~97.8%"),
    "cnn": ("~99.2%", "~random"),
}

# The lesson's "translation invariance" row, by layer type.
TRANSLATION = {
    "Dense": "none: it must relearn the pattern at every position",
    "Conv2D": "built in: the same filter slides over every position",
}


def applies_to(dataset: str) -> bool:
    """Whether the lesson's shuffled-pixels numbers are about ``dataset`` (MNIST and its subsets; not MNIST-1D)."""
    return dataset.startswith("mnist") and dataset != "mnist1d"


def shuffled_pixels_claim(dataset: str, model: str) -> str:
    """``"~99.2% -> ~random"``: what the lesson said of ``model`` on ``dataset`` (original -> shuffled), or ``"-"``
    where it said nothing (another dataset, or a model it did not train)."""
    claim = SHUFFLED_PIXELS.get(model) if applies_to(dataset) else None
    return f"{claim[0]} -> {claim[1]}" if claim else "-"
