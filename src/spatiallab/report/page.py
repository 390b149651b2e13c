"""What a report page holds, whatever the experiment: a title, an opening (what the run does, what the lesson
predicted, what to look at first), the verdict and a list of sections made of blocks (headings, text, tables,
figures). Each experiment's report module fills a ``Page``; ``html.render_report`` turns it into HTML.
"""

from __future__ import annotations

import base64
import dataclasses

from spatiallab.report.tables import Table


@dataclasses.dataclass(frozen=True)
class EmbeddedFigure:
    """A PNG to embed: ``data`` is its base64 text; ``alt`` a short title; ``caption`` what to look for."""

    alt: str
    caption: str
    data: str

    @classmethod
    def from_png(cls, png: bytes, alt: str, caption: str) -> "EmbeddedFigure":
        return cls(alt=alt, caption=caption, data=base64.b64encode(png).decode("ascii"))


@dataclasses.dataclass(frozen=True)
class Block:
    """One piece of a section: ``kind`` "heading", "text", "note" (small print), "table" or "figure"."""

    kind: str
    text: str = ""
    table: Table | None = None
    figure: EmbeddedFigure | None = None


def heading(text: str) -> Block:
    return Block("heading", text=text)


def text(words: str) -> Block:
    return Block("text", text=words)


def note(words: str) -> Block:
    return Block("note", text=words)


def table(rows: Table) -> Block:
    return Block("table", table=rows)


def figure(embedded: EmbeddedFigure) -> Block:
    return Block("figure", figure=embedded)


@dataclasses.dataclass(frozen=True)
class Section:
    """A titled part of the page; ``key`` is its anchor (``#key``)."""

    key: str
    title: str
    blocks: list[Block]


@dataclasses.dataclass(frozen=True)
class Opening:
    """The top of the page, before the verdict, in plain words.

    Attributes:
        does: what the experiment does (two or three sentences).
        predicted: what the lesson predicted, one line each.
        look_first: which figure or table answers the question, and how to read it.
    """

    does: str
    predicted: list[str]
    look_first: str


@dataclasses.dataclass(frozen=True)
class Page:
    """A whole report.

    Attributes:
        title: the experiment's name, e.g. "Shuffled-pixels experiment" (the run's name follows it).
        sources: the run folder's files the page is made from, e.g. "results.json, samples/ and models/".
        opening: see ``Opening``.
        no_verdict: what the verdict says when the results hold no line (why there is none).
        sections: in page order.
    """

    title: str
    sources: str
    opening: Opening
    no_verdict: str
    sections: list[Section]
