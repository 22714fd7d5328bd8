"""report.html: one self-contained page (inline CSS, no external assets), readable offline.

The same content as report.md, with colour-coded statuses and a small optional script to
filter the requirement table. Jinja2 autoescaping escapes everything: a target's answers are
untrusted and reach this page only as text.
"""

from __future__ import annotations

import jinja2

from conformance.report.view import ReportView, render_within
from conformance.results import RunReport

__all__ = ["render_html"]

MAX_BYTES = 10_000_000

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("conformance.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(report: RunReport, *, max_bytes: int = MAX_BYTES) -> str:
    """report.html, with as much evidence as fits in `max_bytes`."""
    template = _ENV.get_template("report.html.j2")
    text, _ = render_within(
        lambda limits: template.render(view=ReportView.build(report, limits)), max_bytes)
    return text
