"""The self-contained HTML report: one file, PNGs embedded as base64 data URIs, no network needed to open it."""

from __future__ import annotations

import base64
import dataclasses
import re

import jinja2

from spatiallab.report.tables import Table

SECTIONS = (
    ("verdict", "Verdict"),
    ("samples", "Samples"),
    ("accuracy", "Accuracy"),
    ("reliance", "Spatial reliance"),
    ("curves", "Learning curves"),
    ("learned", "What the models learned"),
    ("params", "Parameters"),
    ("setup", "Configuration"),
)

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("spatiallab.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclasses.dataclass(frozen=True)
class EmbeddedFigure:
    """A PNG to embed: ``data`` is its base64 text; ``alt`` a short title; ``caption`` what to look for."""

    alt: str
    caption: str
    data: str

    @classmethod
    def from_png(cls, png: bytes, alt: str, caption: str) -> "EmbeddedFigure":
        return cls(alt=alt, caption=caption, data=base64.b64encode(png).decode("ascii"))


_NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+$")


def table_html(table: Table) -> str:
    """An escaped HTML <table> of a (header, rows) table; numbers are right-aligned, text left-aligned."""
    return _ENVIRONMENT.from_string(
        "<table><thead><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>"
        "{% for row in rows %}<tr>{% for value in row %}<td{% if number(value) %} class=\"num\"{% endif %}>"
        "{{ value }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>"
    ).render(header=table[0], rows=table[1], number=lambda value: bool(_NUMBER.match(str(value))))


def render_report(
    results: dict, run_dir: str, figures: dict[str, list[EmbeddedFigure]], tables: dict[str, Table]
) -> str:
    """The report page.

    Args:
        results: the run's results (as ``RunFolder.results``).
        run_dir: shown in the page header.
        figures: section -> figures; sections "samples", "accuracy", "reliance", "curves", "learned".
        tables: "accuracy", "reliance", "params", "config", "versions", "cells" -> (header, rows).
    """
    return _ENVIRONMENT.get_template("report.html.j2").render(
        name=results.get("name", ""),
        created=results.get("created", ""),
        complete=bool(results.get("complete")),
        cell_count=len(results.get("cells", [])),
        versions=results.get("versions", {}),
        verdict=results.get("verdict", []),
        run_dir=run_dir,
        sections=SECTIONS,
        figures={key: figures.get(key, []) for key in ("samples", "accuracy", "reliance", "curves", "learned")},
        tables={key: table_html(table) for key, table in tables.items()},
    )
