"""`uploads-conformance run | serve | mutants | report`: the command line.

`run` tests a target (by default an embedded emulator) through the suite's pytest modules
and writes the reports; exit 0 conformant, 1 a MUST requirement failed, 2 the run could
not be done. Errors a user can cause (bad arguments, an unreachable target, an unreadable
file) end with one clear line, never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from conformance.adapters.registry import SDK_CHOICES
from conformance.profiles import PROFILES
from conformance.reporting import (
    EXIT_RUN_FAILED,
    RunFacts,
    apply_baseline,
    now_iso,
    read_baseline,
    run_failed_report,
    write_baseline,
)
from conformance.results import RunReport

SUITE_INI = Path(__file__).parent / "suite" / "pytest.ini"


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", default=os.environ.get("OPENAI_BASE_URL"),
                        help="the target, e.g. http://127.0.0.1:8000/v1 (default: "
                             "$OPENAI_BASE_URL; without either, an embedded emulator)")
    parser.add_argument("--api-key", default=None,
                        help="the target's API key (default: $OPENAI_API_KEY)")
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--seed", type=int, default=None, help="reproduce an earlier run")
    parser.add_argument("-n", "--workers", type=int, default=1, metavar="WORKERS",
                        help="run the suite's tests on this many pytest-xdist workers")
    parser.add_argument("--openapi", type=Path, default=None,
                        help="OpenAPI document for the schema checks (default: the project's)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="accepted deviations: their failures do not fail the run")
    parser.add_argument("--write-baseline", type=Path, default=None,
                        help="write this run's failed requirements as a baseline file")
    parser.add_argument("--fail-fast", action="store_true",
                        help="stop at the first MUST failure")
    parser.add_argument("--sdk", default=None, choices=SDK_CHOICES,
                        help="run the operations through this SDK (default: plain HTTP)")
    parser.add_argument("--sdk-driver", default=None, metavar="COMMAND",
                        help="run the operations through a driver program for another "
                             "language's SDK (docs/sdk-drivers.md)")
    parser.add_argument("--mutant", default=None,
                        help="test the embedded emulator with this mutant switched on")


def run_command(args: argparse.Namespace) -> int:
    api_key = args.api_key or os.environ.get("OPENAI_API_KEY")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big") >> 1
    facts = RunFacts(target=args.base_url or "embedded emulator",
                     target_kind="external" if args.base_url else "embedded emulator",
                     profile=args.profile, seed=seed, started_at=now_iso())
    try:
        accepted = read_baseline(args.baseline) if args.baseline else None
        _check_arguments(args)
        if args.base_url:
            _check_reachable(args.base_url, api_key)
    except ValueError as error:
        return _give_up(facts, str(error), args.report_dir)
    report_json = args.report_dir / "report.json"
    report_json.unlink(missing_ok=True)
    started = time.monotonic()
    code = _run_pytest(args, api_key, seed)
    report = _read_report(report_json)
    if report is None:
        why = "interrupted" if code == 2 else f"the suite did not finish (pytest exit {code})"
        return _give_up(facts, why, args.report_dir)
    report.duration_s = round(time.monotonic() - started, 2)
    report.started_at = facts.started_at
    if accepted is not None:
        apply_baseline(report, accepted, str(args.baseline))
    _write(report, args.report_dir, api_key)
    if args.write_baseline:
        ids = write_baseline(report, args.write_baseline)
        print(f"baseline: {len(ids)} accepted deviation(s) written to {args.write_baseline}")
    return report.exit_status


def _check_arguments(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise ValueError("-n must be at least 1")
    if args.openapi is not None and not args.openapi.is_file():
        raise ValueError(f"the OpenAPI document {args.openapi} does not exist")
    if args.mutant and args.base_url:
        raise ValueError("--mutant applies to the embedded emulator; drop --base-url")
    if args.mutant:
        from conformance.emulator import MUTANTS

        if args.mutant not in MUTANTS:
            raise ValueError(f"unknown mutant {args.mutant!r}; see `uploads-conformance "
                             "serve --list-mutants`")
    if args.sdk and args.sdk_driver:
        raise ValueError("give --sdk or --sdk-driver, not both")
    if args.sdk and args.sdk != "http":
        try:
            import openai  # noqa: F401
        except ImportError:
            raise ValueError("--sdk needs the openai package: pip install "
                             "'uploads-conformance[sdk]'") from None
    if args.base_url and not args.base_url.startswith(("http://", "https://")):
        raise ValueError(f"--base-url must be an http(s) URL, not {args.base_url!r}")


def _check_reachable(base_url: str, api_key: str | None) -> None:
    from conformance.client import TargetClient, TargetUnreachable

    try:
        with TargetClient(base_url, api_key, timeout=10.0, max_retries=1) as client:
            client.check_reachable()
    except TargetUnreachable as error:
        raise ValueError(str(error)) from None


def _run_pytest(args: argparse.Namespace, api_key: str | None, seed: int) -> int:
    import pytest

    argv = ["-c", str(SUITE_INI), "--rootdir", str(SUITE_INI.parent), "--pyargs",
            "conformance.suite", "--uploads-profile", args.profile, "--uploads-seed", str(seed),
            "--uploads-report-dir", str(args.report_dir),
            "--uploads-no-summary"]
    if args.base_url:
        argv += ["--uploads-base-url", args.base_url]
    if args.openapi:
        argv += ["--uploads-openapi", str(args.openapi)]
    if args.mutant:
        argv += ["--uploads-mutant", args.mutant]
    if args.sdk:
        argv += ["--uploads-sdk", args.sdk]
    if args.sdk_driver:
        argv += ["--uploads-sdk-driver", args.sdk_driver]
    if args.fail_fast:
        argv += ["--uploads-fail-fast", "-x"]
    if args.workers > 1:
        argv += ["-n", str(args.workers)]
    from conformance.plugin import HYPOTHESIS_HOME_VARIABLE

    if HYPOTHESIS_HOME_VARIABLE not in os.environ:
        home = tempfile.mkdtemp(prefix="uploads-hypothesis-")
        atexit.register(shutil.rmtree, home, True)
        os.environ[HYPOTHESIS_HOME_VARIABLE] = home
    if api_key:
        # Through the environment, never argv: a command line is visible to every user.
        os.environ["OPENAI_API_KEY"] = api_key
    return int(pytest.main(argv))


def _read_report(path: Path) -> RunReport | None:
    from conformance.report import load_report

    try:
        return load_report(path)
    except (OSError, ValueError):
        return None


def _write(report: RunReport, report_dir: Path, api_key: str | None = None) -> None:
    from conformance.report import write_reports
    from conformance.report.console import render_summary

    write_reports(report, report_dir, redact=[api_key])
    print(render_summary(report))


def _give_up(facts: RunFacts, error: str, report_dir: Path) -> int:
    print(f"uploads-conformance: error: {error}", file=sys.stderr)
    try:
        _write(run_failed_report(facts, error), report_dir)
    except OSError as problem:
        print(f"uploads-conformance: cannot write reports to {report_dir}: {problem.strerror}",
              file=sys.stderr)
    return EXIT_RUN_FAILED


def build_parser() -> argparse.ArgumentParser:
    from conformance.emulator.cli import add_serve_arguments, serve_command
    from conformance.mutation import add_mutants_arguments, mutants_command
    from conformance.report import add_report_arguments, report_command

    parser = argparse.ArgumentParser(
        prog="uploads-conformance",
        description="Conformance suite for the OpenAI Uploads API.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text, add, handler in (
        ("run", "test a target (default: the embedded emulator)", add_run_arguments,
         run_command),
        ("serve", "start the reference emulator", add_serve_arguments, serve_command),
        ("mutants", "prove the suite against the emulator's mutants", add_mutants_arguments,
         mutants_command),
        ("report", "re-render reports from a report.json", add_report_arguments,
         report_command),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        add(sub)
        sub.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("uploads-conformance: interrupted", file=sys.stderr)
        return EXIT_RUN_FAILED


if __name__ == "__main__":
    sys.exit(main())
