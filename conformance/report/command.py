"""`uploads-conformance report report.json [--out DIR]`: render the reports again from data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.report.json_report import ReportError, load_report
from conformance.report.writer import RENDERED, write_reports

__all__ = ["add_report_arguments", "report_command"]


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", type=Path, help="a report.json written by a run")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="where to write junit.xml, report.md, report.html and exchanges.har "
                             "(default: beside the report.json)")


def report_command(args: argparse.Namespace) -> int:
    """Exit 0 when the renderings were written, 2 (one line on stderr) when they could not be."""
    try:
        report = load_report(args.report)
        out = args.out if args.out is not None else Path(args.report).parent
        written = write_reports(report, out, formats=RENDERED)
    except ReportError as exc:
        print(f"uploads-conformance report: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"uploads-conformance report: error: cannot write the reports: {exc}",
              file=sys.stderr)
        return 2
    for path in written.values():
        print(path)
    return 0
