"""The terminal summary of a run: verdict, counts, what failed, where the reports are."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

from conformance.report.view import (
    area,
    cleanup_line,
    clip,
    printable,
    status_label,
    verdict_status,
)
from conformance.report.view import counts_line as _counts_line
from conformance.results import Outcome, RunReport

__all__ = ["render_summary"]

_MESSAGE_WIDTH = 160
_ERROR_WIDTH = 110


def render_summary(report: RunReport, paths: Mapping[str, Path] | None = None, *,
                   untested: bool = False) -> str:
    """A few lines for the terminal; `paths` are the written reports, if any; `untested`:
    also a line for each requirement not tested, with why."""
    lines = [f"uploads-conformance: {verdict_status(report)} (exit {report.exit_status})",
             *_wrapped(report.verdict, "  "),
             f"  target {report.target} ({report.target_kind}), adapter {report.adapter}, "
             f"profile {report.profile}, seed {report.seed}, {report.duration_s:.1f} s",
             f"  {_counts_line(report)}"]
    if cleanup := cleanup_line(report):
        lines.extend(_wrapped(cleanup[0].upper() + cleanup[1:], "  "))
    failed = [r for r in report.requirements if r.status is Outcome.FAIL]
    failed.sort(key=lambda r: (r.baseline, r.level != "MUST"))
    for result in failed:
        first = result.failures[0].message if result.failures else ""
        label = status_label(result)
        lines.append(f"  {label:<15} {result.id} ({result.level}, {area(result.id)}): "
                     f"{_line(first)}")
    if untested:
        for result in report.requirements:
            if result.status is Outcome.NOT_TESTABLE and result.untested_cause != "left out":
                lines.append(f"  {'NOT TESTABLE':<15} {result.id} ({result.level}): "
                             f"{_line(result.not_testable_reason)}")
    for error in report.errors:  # in full: it says why the run gives no verdict
        lines.extend(_wrapped(error, "  ERROR           ", " " * 18))
    if paths:
        lines.append("  reports: " + ", ".join(str(p) for p in paths.values()))
    return "\n".join(lines)


def _wrapped(text: str, first: str, then: str = "  ") -> list[str]:
    """The text in full (it says why), folded to the terminal's usual width."""
    return textwrap.wrap(printable(" ".join(text.split())), _ERROR_WIDTH,
                         initial_indent=first, subsequent_indent=then,
                         break_on_hyphens=False)


def _line(text: str) -> str:
    return printable(clip(" ".join(text.split()), _MESSAGE_WIDTH))
