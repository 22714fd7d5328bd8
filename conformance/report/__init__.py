"""The reports of a run: report.json (the data), junit.xml, report.md, report.html and
exchanges.har (the exchanges behind the findings, for a browser's network panel).

    write_reports(report, out_dir)      every file, from a RunReport
    load_report(path)                   a RunReport from a report.json (ReportError if not)
    report_command / add_report_arguments
                                        `uploads-conformance report report.json [--out DIR]`
    console.render_summary(report)      the terminal summary

One module per format; `view` decides once what every rendering shows and how evidence is
cut to fit. The schema of report.json is in report.schema.json, explained in SCHEMA.md.
"""

from __future__ import annotations

from conformance.report.command import add_report_arguments, report_command
from conformance.report.har import render_har
from conformance.report.html import render_html
from conformance.report.json_report import ReportError, dump_json, load_report, validate
from conformance.report.junit import render_junit
from conformance.report.markdown import render_markdown
from conformance.report.writer import FORMATS, write_reports

__all__ = [
    "FORMATS",
    "ReportError",
    "add_report_arguments",
    "dump_json",
    "load_report",
    "render_har",
    "render_html",
    "render_junit",
    "render_markdown",
    "report_command",
    "validate",
    "write_reports",
]
