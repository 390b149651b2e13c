"""What the lesson claims, shown beside our measurements (the terminal's tables and the report); never used by the
verdict, which is written from the numbers alone.

The lesson's shuffled-pixels numbers are for MNIST only; its other claims are rows of its comparison of Dense and
convolutional layers. For MNIST-1D the published numbers beside ours are its README's (``data.mnist1d.PUBLISHED``):
``shuffled_pixels_claim`` and ``claim_header`` decide the column for the terminal and the report alike.
"""

from __future__ import annotations

from spatiallab.data import mnist1d

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


# Who published original -> shuffled numbers for a dataset: the column's name, and where the numbers come from.
CLAIM_SOURCES = {
    "lesson": "the lesson's own numbers (original -> shuffled, MNIST only)",
    "MNIST-1D README": f"the published test accuracies (original -> shuffled sequences) of {mnist1d.PUBLISHED_SOURCE}",
}


def claim_source(dataset: str) -> str | None:
    """The key of ``CLAIM_SOURCES`` that published numbers about ``dataset``: "lesson" (MNIST and its subsets),
    "MNIST-1D README" (mnist1d), or None (nobody)."""
    if applies_to(dataset):
        return "lesson"
    return "MNIST-1D README" if dataset == "mnist1d" else None


def shuffled_pixels_claim(dataset: str, model: str) -> str:
    """What was published of ``model`` on ``dataset``, original -> shuffled: the lesson's ``"~99.2% -> ~random"``
    (MNIST), the MNIST-1D README's ``"94% -> 56%"`` (mnist1d), or ``"-"`` where nothing was (another dataset, or a
    model its source did not train)."""
    source = claim_source(dataset)
    if source == "MNIST-1D README":
        return mnist1d.published_claim(model)
    claim = SHUFFLED_PIXELS.get(model) if source == "lesson" else None
    return f"{claim[0]} -> {claim[1]}" if claim else "-"


def claim_sources(datasets: list[str]) -> list[str]:
    """The ``CLAIM_SOURCES`` keys of ``datasets``, in order, once each; ["lesson"] when none has one (the lesson
    is what the experiment comes from, and it said nothing of them)."""
    return list(dict.fromkeys(filter(None, map(claim_source, datasets)))) or ["lesson"]


def claim_header(datasets: list[str]) -> str:
    """The column of published numbers beside a table of ``datasets``: "lesson said", "MNIST-1D README said", or
    "lesson / MNIST-1D README said" for a grid of both."""
    return f"{' / '.join(claim_sources(datasets))} said"


def claim_note(datasets: list[str]) -> str:
    """Where the numbers of ``claim_header``'s column come from (``CLAIM_SOURCES``), each named by its source when
    the table has two."""
    sources = claim_sources(datasets)
    if len(sources) == 1:
        return CLAIM_SOURCES[sources[0]]
    return "; ".join(f"{source}: {CLAIM_SOURCES[source]}" for source in sources)
