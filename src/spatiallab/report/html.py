"""The self-contained HTML report: one file, PNGs embedded as base64 data URIs, no network needed to open it."""

from __future__ import annotations

import re

import jinja2

from spatiallab.report.page import Page
from spatiallab.report.tables import Table

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("spatiallab.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


_NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+$")


def table_html(table: Table) -> str:
    """An escaped HTML <table> of a (header, rows) table; numbers are right-aligned, text left-aligned."""
    return _ENVIRONMENT.from_string(
        "<table><thead><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>"
        "{% for row in rows %}<tr>{% for value in row %}<td{% if number(value) %} class=\"num\"{% endif %}>"
        "{{ value }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>"
    ).render(header=table[0], rows=table[1], number=lambda value: bool(_NUMBER.match(str(value))))


def render_report(results: dict, run_dir: str, page: Page) -> str:
    """The report page: the run's header (name, time, version, whether it is complete), then ``page``.

    Args:
        results: the run's results (as ``RunFolder.results``); its ``verdict`` lines are shown as they are.
        run_dir: shown in the page header.
        page: the opening and sections an experiment's report module made.
    """
    return _ENVIRONMENT.get_template("report.html.j2").render(
        name=results.get("name", ""),
        created=results.get("created", ""),
        complete=bool(results.get("complete")),
        cell_count=len(results.get("cells", [])),
        versions=results.get("versions", {}),
        verdict=results.get("verdict", []),
        run_dir=run_dir,
        page=page,
        table_html=table_html,
    )
