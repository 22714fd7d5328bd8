"""`uploads-conformance run | serve | mutants | report | compare | replay | cleanup |
requirements`: the command line, one module per command but `run`, which is here.

`run` parses its options (the table `conformance.options.OPTIONS`) into `RunSettings`, calls
`conformance.run.run`, prints the summary and exits 0 conformant, 1 a MUST requirement
failed, 2 the run could not be done. Errors a user can cause (bad arguments, an
unreachable target, an unreadable file) end with one clear line, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from conformance import halt
from conformance.console_capture import captured_output
from conformance.evidence import Redactor, redact_url
from conformance.options import add_options, settings_from_options
from conformance.progress import Progress
from conformance.report import FORMATS
from conformance.report.console import render_summary
from conformance.reporting import EXIT_RUN_FAILED, failed_ids
from conformance.run import RunSettings, run

RUN_LOG = "run.log"  # in the report folder: pytest's output, the emulator's, the workers'


def user_error(message: str, command: str = "") -> int:
    """A mistake of the user's (a bad argument, an unreadable report): one line on stderr,
    never a traceback, and the exit status of a run that could not be done."""
    who = f"uploads-conformance {command}".rstrip()
    print(f"{who}: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_RUN_FAILED


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    add_options(parser)
    # How much the terminal shows: the console's, not the run's (the reports are the same).
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true",
                          help="print only the summary, no progress lines")
    loudness.add_argument("-v", "--verbose", action="store_true",
                          help="also print each new failure's message as it is found, and "
                          "why each untested requirement was not tested")


def run_command(args: argparse.Namespace) -> int:
    # The seed is chosen here so that the first line can name it.
    settings = settings_from_options(vars(args), os.environ).with_seed()
    log = settings.report_dir / RUN_LOG if settings.report_dir is not None else None
    redactor = Redactor(*settings.secrets())
    crash: str | None = None
    try:
        # The terminal is the suite's own: everything else goes, redacted, to the log.
        with captured_output(log, redactor) as console:
            progress = None
            if not args.quiet:
                console.write(_announcement(settings, log))
                progress = Progress(console.write, live=console.isatty(),
                                    verbose=args.verbose)
            try:
                report = run(settings, progress=progress)
            except OSError:
                raise
            except Exception as error:  # a defect of the suite's: its traceback to the log
                traceback.print_exc()
                crash = redactor.text(" ".join(f"{type(error).__name__}: {error}".split()))
    except OSError as error:
        where = error.filename or settings.report_dir
        print(f"uploads-conformance: error: cannot write {where}: {error.strerror or error}",
              file=sys.stderr)
        return EXIT_RUN_FAILED
    if crash is not None:
        where = f"; its traceback is in {log}" if log is not None else ""
        print(f"uploads-conformance: internal error: {crash}{where}", file=sys.stderr)
        return EXIT_RUN_FAILED
    if report.exit_status == EXIT_RUN_FAILED and report.errors:
        print(f"uploads-conformance: error: {' '.join(report.errors[0].split())}",
              file=sys.stderr)
    print(render_summary(report, _written(settings), untested=args.verbose))
    if settings.write_baseline is not None and report.exit_status != EXIT_RUN_FAILED:
        print(f"baseline: {len(failed_ids(report))} accepted deviation(s) written to "
              f"{settings.write_baseline}")
    return report.exit_status


def _announcement(settings: RunSettings, log: Path | None) -> str:
    target = redact_url(settings.base_url) if settings.base_url else "the embedded emulator"
    where = f"; the test log goes to {log}" if log is not None else ""
    return (f"uploads-conformance: testing {target} (profile {settings.profile}, seed "
            f"{settings.seed}){where}\n")


def _written(settings: RunSettings) -> dict[str, Path]:
    if settings.report_dir is None:
        return {}
    names = [*(filename for filename, _ in FORMATS.values()), RUN_LOG]
    return {name: settings.report_dir / name for name in names
            if (settings.report_dir / name).is_file()}


def _version() -> str:
    from conformance.reporting import versions

    found = versions()
    return (f"uploads-conformance {found['uploads-conformance']} (python {found['python']}, "
            f"hypothesis {found['hypothesis']}, schemathesis {found['schemathesis']}, "
            f"httpx {found['httpx']})")


def build_parser() -> argparse.ArgumentParser:
    from conformance.catalog_command import add_requirements_arguments, requirements_command
    from conformance.cleanup_command import add_cleanup_arguments, cleanup_command
    from conformance.compare_command import add_compare_arguments, compare_command
    from conformance.driver_check import add_driver_check_arguments, driver_check_command
    from conformance.emulator.cli import add_serve_arguments, serve_command
    from conformance.mutation import add_mutants_arguments, mutants_command
    from conformance.proxy import add_proxy_arguments, proxy_command
    from conformance.replay import add_replay_arguments, replay_command
    from conformance.report import add_report_arguments, report_command
    from conformance.sdk_matrix_command import add_sdk_matrix_arguments, sdk_matrix_command

    parser = argparse.ArgumentParser(
        prog="uploads-conformance",
        description="Conformance suite for the OpenAI Uploads API.")
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text, add, handler in (
        ("run", "test a target (default: the embedded emulator)", add_run_arguments,
         run_command),
        ("serve", "start the reference emulator", add_serve_arguments, serve_command),
        ("mutants", "prove the suite against the emulator's mutants", add_mutants_arguments,
         mutants_command),
        ("report", "re-render reports from a report.json", add_report_arguments,
         report_command),
        ("compare", "put runs side by side: a requirement matrix and what changed",
         add_compare_arguments, compare_command),
        ("replay", "run a report's findings again: fixed, still failing or flaky?",
         add_replay_arguments, replay_command),
        ("cleanup", "cancel the uploads a run left pending (from its report.json)",
         add_cleanup_arguments, cleanup_command),
        ("requirements", "print the requirement catalog and the mutants that prove it",
         add_requirements_arguments, requirements_command),
        ("driver-check", "check an SDK driver against the driver protocol",
         add_driver_check_arguments, driver_check_command),
        ("proxy", "judge a client's own traffic (and the server's answers) as a reverse "
         "proxy", add_proxy_arguments, proxy_command),
        ("sdk-matrix", "run the suite through several SDK versions, one environment each, "
         "and compare them", add_sdk_matrix_arguments, sdk_matrix_command),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        add(sub)
        sub.set_defaults(handler=handler)
    return parser


def _stop(signum: int, frame: FrameType | None) -> None:
    # Ctrl-C, or what CI runners send on a timeout: the run still writes its reports, marked
    # interrupted (exit 2), instead of dying without a word. The halt says so even if a
    # library catches the KeyboardInterrupt and ends its part quietly, and stops the
    # requests of the suite's other threads.
    halt.halt("interrupted by " + signal.Signals(signum).name)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("uploads-conformance: interrupted", file=sys.stderr)
        return EXIT_RUN_FAILED


if __name__ == "__main__":
    sys.exit(main())
