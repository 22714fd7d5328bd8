"""report.md: the run as a GitHub job summary (verdict, requirement table, failures).

Everything from a target is escaped for Markdown: text is backslash-escaped and HTML
entities are encoded, code goes in spans and fences longer than any backtick run it holds.
The file is kept under about 1 MB (a job summary's limit) by cutting evidence.
"""

from __future__ import annotations

import re

import jinja2

from conformance.report.view import ReportView, render_within
from conformance.results import RunReport

__all__ = ["md_code", "md_fence", "md_text", "render_markdown"]

MAX_BYTES = 1_000_000

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_BACKTICKS = re.compile(r"`+")


def md_text(value: object) -> str:
    """Inline text, safe anywhere in a line or a table cell."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def md_code(value: object) -> str:
    """An inline code span (not for table cells: a '|' would still split the cell)."""
    text = " ".join(str(value).split())
    if not text:
        return ""
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_fence(value: object, lang: str = "") -> str:
    """A fenced code block whose fence no line of the text can close."""
    text = str(value)
    fence = "`" * max(3, max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("conformance.report", "templates"),
    autoescape=False,  # Markdown, escaped by the filters above
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters.update(text=md_text, code=md_code, fence=md_fence)


def render_markdown(report: RunReport, *, max_bytes: int = MAX_BYTES) -> str:
    """report.md, with as much evidence as fits in `max_bytes`."""
    template = _ENV.get_template("report.md.j2")
    text, fits = render_within(
        lambda limits: template.render(view=ReportView.build(report, limits)), max_bytes)
    if fits:
        return text
    # Even the tersest budget is too big (thousands of observations?): cut the file itself.
    cut = text.encode()[: max_bytes - 200].decode("utf-8", "ignore")
    return cut + "\n\n*The report was cut here: see report.json for the rest.*\n"
