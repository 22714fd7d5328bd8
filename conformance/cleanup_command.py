"""`uploads-conformance cleanup REPORT.json`: cancel the uploads a run left pending.

A run cancels what it made as it ends; what it could not end (the target stopped
answering, the run was killed) is listed by ID in report.json (`cleanup.left_pending`).
This command sends a cancel for each, to the report's target or `--base-url`, and says
what became of it. Exit status: 0 every one is cancelled or had ended already; 1 some
could not be (no answer, a 5xx: try again later); 2 nothing could be done (an unreadable
report, a report of the embedded emulator, a bad option).
"""

from __future__ import annotations

import argparse
import os

from conformance import api
from conformance.client import TargetClient
from conformance.evidence import Redactor, redact_url
from conformance.options import CONNECTION_OPTIONS, add_options, settings_for_a_report
from conformance.results import RunReport

__all__ = ["add_cleanup_arguments", "cleanup_command"]


def add_cleanup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", metavar="REPORT.json",
                        help="the report.json of the run that left uploads pending")
    add_options(parser, CONNECTION_OPTIONS)


def cleanup_command(args: argparse.Namespace) -> int:
    from conformance.cli import user_error
    from conformance.report import ReportError, load_report

    try:
        report = load_report(args.report)
    except ReportError as error:
        return user_error(str(error))
    left = list((report.cleanup or {}).get("left_pending", []))
    if not left:
        print(f"uploads-conformance cleanup: {args.report} lists no upload left pending")
        return 0
    given = {name: getattr(args, name, None) for name in CONNECTION_OPTIONS}
    settings = settings_for_a_report(given, os.environ)
    base_url = settings.base_url or _external_target(report)
    if base_url is None:
        return user_error("the report is of the embedded emulator, which ended with its run; "
                      "give --base-url to clean another target")
    try:
        connection = settings.connection()
    except ValueError as error:
        return user_error(str(error))
    redactor = Redactor(*settings.secrets())
    print(f"uploads-conformance cleanup: cancelling {len(left)} upload(s) on "
          f"{redact_url(base_url, redactor)}")
    not_ended = 0
    with TargetClient(base_url, settings.api_key, timeout=settings.request_timeout,
                      connection=connection) as client:
        for upload in left:
            answer = client.request(api.CANCEL.method, api.CANCEL.path(upload),
                                    expect_json=False)
            if answer.status is not None and 200 <= answer.status < 300:
                outcome = "cancelled"
            elif answer.status is not None and answer.status < 500 and answer.status != 401:
                outcome = f"had ended already (answered {answer.status})"
            else:
                not_ended += 1
                outcome = f"NOT cancelled: {answer.status or answer.exchange.error}"
            print(redactor.text(f"  {upload}: {outcome}"))
    print(f"cleanup: {len(left) - not_ended} of {len(left)} ended "
          f"(exit {1 if not_ended else 0})")
    return 1 if not_ended else 0


def _external_target(report: RunReport) -> str | None:
    return report.target if report.target_kind == "external" else None

