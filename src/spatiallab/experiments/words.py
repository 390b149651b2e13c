"""The words the verdicts and reports use for a kind of data: images have pixels and k x k blocks, sequences
positions and blocks of k positions. One table (``TERMS``) for the experiments' sentences and the reports."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Terms:
    """The words for a kind of data: ``example`` ("image" | "sequence"), ``position`` ("pixel" |
    "position"), ``layout``, what a shuffle takes away ("pixel positions" | "the order of the positions"), and the
    scale experiment's ``block`` of side k ("k x k block" | "block of k positions") and ``extent``, the k of one
    block covering every position ("image size" | "sequence length"); ``arrangement``, what a model relies on in
    the verdict's ranking ("pixel positions" | "positions")."""

    example: str
    position: str
    layout: str
    block: str
    extent: str
    arrangement: str = "positions"

    @property
    def examples(self) -> str:
        return f"{self.example}s"

    @property
    def positions(self) -> str:
        return f"{self.position}s"

    @property
    def blocks(self) -> str:
        """The plural of ``block``: "k x k blocks" | "blocks of k positions"."""
        return self.block.replace("block", "blocks", 1)


TERMS = {
    "image": Terms("image", "pixel", "pixel positions", "k x k block", "image size", "pixel positions"),
    "sequence": Terms("sequence", "position", "the order of the positions", "block of k positions", "sequence length"),
}
MIXED_TERMS = Terms("example", "position", "positions", "block", "example size")  # a grid of images and sequences
