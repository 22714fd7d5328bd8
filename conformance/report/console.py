"""A compact terminal summary of a run (work in progress)."""

from __future__ import annotations

from conformance.results import RunReport


def render_summary(report: RunReport) -> str:
    return report.verdict
