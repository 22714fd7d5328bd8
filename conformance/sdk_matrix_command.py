"""`uploads-conformance sdk-matrix --python 1.37.0,2.30.0 --node 6.49.0 -- RUN OPTIONS`.

Runs the suite through each SDK version asked for, each in an environment of its own
(`conformance.sdk_envs`, cached under --env-dir), one column per version and client
(`conformance.sdk_matrix`), with the same seed and the run options given after `--`; then
lays the columns' report.json files side by side with `compare` (OUT/compare.md,
OUT/compare.html) and prints one line per column, also kept in OUT/summary.txt.

Exit status: 0 when every column's SDK was installed and its run wrote a report, whatever
the verdicts (they are the matrix's findings, not its failure); 1 when a column's SDK could
not be installed or its run wrote no report (the column says why); 2 when the matrix could
not be started (bad versions or run options, no Node or driver, OUT not writable).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Final

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

import conformance
from conformance.evidence import Redactor, redact_url
from conformance.profiles import PROFILES
from conformance.report.view import clip, verdict_status
from conformance.results import Outcome
from conformance.sdk_envs import default_cache
from conformance.sdk_matrix import (
    CLIENTS,
    Column,
    ColumnRun,
    Installers,
    RunOptions,
    plan_columns,
    run_column,
)

__all__ = ["add_sdk_matrix_arguments", "sdk_matrix_command"]

EXIT_ALL_RAN, EXIT_SOME_DID_NOT_RUN = 0, 1  # bad usage is the command line's exit 2
COMMAND: Final = "sdk-matrix"
SUMMARY: Final = "summary.txt"
_NODE_VERSION: Final = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")
_CHECKOUT_DRIVER: Final = (Path(conformance.__file__).resolve().parents[1]
                           / "drivers" / "node" / "driver.mjs")


def add_sdk_matrix_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--python", action="append", default=[], metavar="VERSIONS",
                        help="versions of the Python SDK (openai on PyPI), comma-separated, "
                             "e.g. 1.37.0,2.30.0; repeatable")
    parser.add_argument("--node", action="append", default=[], metavar="VERSIONS",
                        help="versions of the Node SDK (openai on npm), comma-separated")
    parser.add_argument("--python-client", choices=(*CLIENTS, "both"), default="both",
                        help="which Python client each Python version runs through: OpenAI "
                             "(sync), AsyncOpenAI (async) or both, one column each "
                             "(default: both)")
    parser.add_argument("--node-driver", type=Path, default=None, metavar="PATH",
                        help="the Node driver to copy into each Node environment (default: "
                             "drivers/node/driver.mjs of the checkout the suite runs from)")
    parser.add_argument("--out", type=Path, default=Path("reports") / "sdk-matrix",
                        metavar="DIR", help="each column's reports in DIR/<column>, the "
                        "comparison in DIR/compare.md and compare.html (default: "
                        "reports/sdk-matrix)")
    parser.add_argument("--env-dir", type=Path, default=None, metavar="DIR",
                        help="where the environments are made and kept (default: "
                             f"{default_cache()})")
    parser.add_argument("run_options", nargs=argparse.REMAINDER, metavar="-- RUN OPTIONS",
                        help="options for each run, as `uploads-conformance run` takes them "
                             "(e.g. -- --profile standard --seed 7 --base-url URL)")


def sdk_matrix_command(args: argparse.Namespace) -> int:
    from conformance.cli import user_error

    try:
        python = _versions(args.python, _python_version, "Python")
        node = _versions(args.node, _node_version, "Node")
        if not python and not node:
            raise ValueError("give the SDK versions to run: --python 1.37.0,2.30.0 and/or "
                             "--node 6.49.0")
        options = RunOptions.parse(args.run_options)
        installers = _installers(args, bool(node))
        args.out.mkdir(parents=True, exist_ok=True)
    except ValueError as error:
        return user_error(str(error), COMMAND)
    except OSError as error:
        return user_error(f"cannot write {args.out}: {error.strerror or error}", COMMAND)
    clients = CLIENTS if args.python_client == "both" else (args.python_client,)
    columns = plan_columns(python, node, clients)
    settings = options.settings
    redactor = Redactor(*settings.secrets())
    target = redact_url(settings.base_url) if settings.base_url else "the embedded emulator"
    print(f"uploads-conformance sdk-matrix: {len(columns)} column(s) testing {target} "
          f"(profile {settings.profile}, seed {settings.seed}); environments in "
          f"{installers.cache}, reports in {args.out}", flush=True)
    time_limit = settings.max_time or PROFILES[settings.profile].max_time_s
    supported = _supported_range()
    runs: list[ColumnRun] = []
    lines: list[str] = []
    for number, column in enumerate(columns, 1):
        _status(f"run {number}/{len(columns)}: {column.label} (installing, then running)")
        done = run_column(column, installers, options, out=args.out, time_limit=time_limit)
        _status("")
        runs.append(done)
        lines.append(redactor.text(_line(number, done, supported)))
        print(lines[-1], flush=True)
    _write_summary(args.out / SUMMARY, lines)
    if len(runs) >= 2:
        _compare([done.path for done in runs], args.out)
    else:
        print(f"one column: nothing to compare; its report is {runs[0].path.parent}")
    missing = [done.column.label for done in runs if not done.ran]
    if missing:
        print(f"sdk-matrix: {len(missing)} of {len(runs)} column(s) did not run: "
              f"{', '.join(missing)} (exit {EXIT_SOME_DID_NOT_RUN})")
        return EXIT_SOME_DID_NOT_RUN
    return EXIT_ALL_RAN


# --- what was asked -----------------------------------------------------------------------------


def _versions(given: Sequence[str], check: Callable[[str], str | None], language: str
              ) -> list[str]:
    """The versions, in the order given, each once; ValueError for one that is not one."""
    found: list[str] = []
    for item in given:
        for version in filter(None, (part.strip() for part in item.split(","))):
            problem = check(version)
            if problem:
                raise ValueError(f"{version!r} is not a {language} SDK version: {problem}")
            if version not in found:
                found.append(version)
    return found


def _python_version(version: str) -> str | None:
    try:
        Version(version)
    except InvalidVersion:
        return "give an exact release, e.g. 1.37.0"
    return None


def _node_version(version: str) -> str | None:
    return None if _NODE_VERSION.fullmatch(version) else "give an exact release, e.g. 6.49.0"


def _installers(args: argparse.Namespace, with_node: bool) -> Installers:
    cache = args.env_dir if args.env_dir is not None else default_cache()
    if not with_node:
        return Installers(cache)
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise ValueError("--node needs node and npm on the PATH")
    driver = args.node_driver
    if driver is None:
        if not _CHECKOUT_DRIVER.is_file():
            raise ValueError("no Node driver beside the suite (drivers/node/driver.mjs): "
                             "give --node-driver PATH")
        driver = _CHECKOUT_DRIVER
    elif not driver.is_file():
        raise ValueError(f"the Node driver {driver} does not exist")
    return Installers(cache, node_driver=driver.resolve(), node=node, npm=npm)


def _supported_range() -> SpecifierSet | None:
    """The `sdk` extra's range of openai versions, as the installed suite states it."""
    try:
        needs = metadata.requires("uploads-conformance") or []
    except metadata.PackageNotFoundError:
        return None
    for text in needs:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.name == "openai" and requirement.marker is not None \
                and requirement.marker.evaluate({"extra": "sdk"}):
            return requirement.specifier
    return None


# --- what it gave -------------------------------------------------------------------------------


def _line(number: int, done: ColumnRun, supported: SpecifierSet | None) -> str:
    """One column: its SDK and version, verdict, exit status, MUST failures, time."""
    column, report = done.column, done.report
    head = f"run {number:<3} {column.label:<30}"
    note = _outside(column, supported)
    if not done.installed:
        return f"{head} NOT INSTALLED   {done.install}{note}"
    failed = [r.id for r in report.requirements
              if r.level == "MUST" and r.status is Outcome.FAIL and not r.baseline]
    musts = f"{len(failed)} MUST failed" + (f" ({', '.join(failed)})" if failed else "")
    error = f"; {clip(' '.join(report.errors[0].split()), 160)}" if report.errors else ""
    return (f"{head} {verdict_status(report):<15} exit {report.exit_status}  {musts}  "
            f"{done.seconds:.1f} s ({done.install}){error}{note}")


def _outside(column: Column, supported: SpecifierSet | None) -> str:
    if column.language != "python" or supported is None:
        return ""
    inside = supported.contains(column.version, prereleases=True)
    return "" if inside else f" [outside the supported openai{supported}]"


def _status(text: str) -> None:
    """A transient line on a terminal while a column runs; nothing when not a terminal."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + text)
        sys.stderr.flush()


def _write_summary(path: Path, lines: list[str]) -> None:
    try:
        path.write_text("\n".join(lines) + "\n")
    except OSError as error:
        print(f"uploads-conformance {COMMAND}: cannot write {path}: {error}", file=sys.stderr)


def _compare(reports: list[Path], out: Path) -> int:
    """`uploads-conformance compare REPORTS --out OUT`, as the user would run it."""
    from conformance.compare_command import add_compare_arguments, compare_command

    parser = argparse.ArgumentParser(prog="uploads-conformance compare")
    add_compare_arguments(parser)
    return compare_command(parser.parse_args([*map(str, reports), "--out", str(out)]))
