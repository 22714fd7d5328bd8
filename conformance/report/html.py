"""report.html: one self-contained page (inline CSS, SVG and script; nothing fetched).

Requirements grouped by area under a summary figure, each with its coverage and its findings
folded away, and a small optional script to filter them. Jinja2 autoescaping escapes
everything from the report: a target's answers are untrusted and reach the page only as text.
Only our own stylesheet and script go in unescaped, each pinned by its hash in the page's
Content-Security-Policy, so that no other script or style could run even if one slipped in.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import jinja2
from markupsafe import Markup

from conformance.report.view import Limits, ReportView, RequirementView, render_within
from conformance.results import RunReport

__all__ = ["STATUSES", "Area", "Segment", "render_html", "summary_bar"]

MAX_BYTES = 10_000_000

# Each status's css class and its word, in the order of the summary bar and the filters.
STATUSES: tuple[tuple[str, str], ...] = (
    ("fail", "fail"),
    ("accepted", "accepted"),
    ("pass", "pass"),
    ("info", "info"),
    ("not-testable", "not testable"),
)
LEVELS = ("MUST", "SHOULD", "INFO")
_BAR_WIDTH = 1000  # the SVG's viewBox units
_MIN_SEGMENT = 8  # a single failure among hundreds must still be visible

_LOADER = jinja2.PackageLoader("conformance.report", "templates")
_ENV = jinja2.Environment(
    loader=_LOADER,
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Segment:
    """One status's part of the summary bar."""

    css: str
    label: str
    count: int
    x: float
    width: float


@dataclass(slots=True)
class Area:
    """The requirements of one area (CREATE, PART, COMPLETE, ...), in catalog order."""

    name: str
    requirements: list[RequirementView]

    def counts(self) -> list[tuple[str, str, int]]:
        """(css, label, count) of each status present in the area."""
        return [(css, label, n) for css, label in STATUSES
                if (n := sum(r.css == css for r in self.requirements))]


def summary_bar(requirements: list[RequirementView]) -> list[Segment]:
    """The stacked bar of requirement counts by status; a status with none has no segment."""
    counts = [(css, label, sum(r.css == css for r in requirements)) for css, label in STATUSES]
    present = [(css, label, n) for css, label, n in counts if n]
    total = sum(n for _, _, n in present)
    if not total:
        return []
    widths = [max(n / total * _BAR_WIDTH, _MIN_SEGMENT) for _, _, n in present]
    scale = _BAR_WIDTH / sum(widths)  # the minimum widths must not push the bar past its box
    segments, x = [], 0.0
    for (css, label, n), width in zip(present, widths, strict=True):
        segments.append(Segment(css, label, n, round(x, 2), round(width * scale, 2)))
        x += width * scale
    return segments


def _areas(requirements: list[RequirementView]) -> list[Area]:
    grouped: dict[str, list[RequirementView]] = {}
    for requirement in requirements:
        grouped.setdefault(requirement.area, []).append(requirement)
    return [Area(name, rows) for name, rows in grouped.items()]


def _asset(name: str) -> tuple[Markup, str]:
    """Our own stylesheet or script, to inline as it is, and its SHA-256 for the page's CSP."""
    source, _, _ = _LOADER.get_source(_ENV, name)
    text = source.strip()
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return Markup(text), digest


def _render(report: RunReport, limits: Limits) -> str:
    view = ReportView.build(report, limits)
    css, css_hash = _asset("report.css")
    script, script_hash = _asset("report.js")
    levels = [(level, sum(r.level == level for r in view.requirements)) for level in LEVELS]
    return _ENV.get_template("report.html.j2").render(
        view=view,
        areas=_areas(view.requirements),
        bar=summary_bar(view.requirements),
        statuses=[(css, label, sum(r.css == css for r in view.requirements))
                  for css, label in STATUSES],
        levels=[(level, n) for level, n in levels if n],
        left_out=sum(r.result.untested_cause == "left out" for r in view.requirements),
        css=css, css_hash=css_hash, script=script, script_hash=script_hash,
    )


def render_html(report: RunReport, *, max_bytes: int = MAX_BYTES) -> str:
    """report.html, with as much evidence as fits in `max_bytes`."""
    text, _ = render_within(lambda limits: _render(report, limits), max_bytes)
    return text
