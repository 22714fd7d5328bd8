"""`uploads-conformance mutants`: the suite against the clean emulator and each mutant.

Each run is a separate `uploads-conformance run --mutant NAME --fail-fast` process, so a
mutant can neither crash nor slow down the others; `-n` runs several at once. The kill
matrix says, per mutant, whether the suite caught it, which requirement did, how long it
took and how many steps the shrunk example has. A mutant is killed only when one of the
requirements it names (`caught_by`) failed: a fault charged to another rule is a check
that blames the wrong thing, and counts as not killed. Exit 0 only when the clean emulator
passes and every mutant is killed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from conformance.profiles import PROFILES
from conformance.report import ReportError, load_report
from conformance.results import Outcome

CLEAN = "(clean emulator)"
RUN_TIMEOUT_S = 600


@dataclass(slots=True)
class MutantResult:
    mutant: str
    description: str
    killed: bool  # by one of `expected`; for the clean emulator: True means it (wrongly) failed
    requirement: str  # the MUST requirements that failed, comma-separated ("" if none)
    seconds: float
    steps: int  # steps in the shrunk example
    exit_status: int
    message: str = ""
    expected: str = ""  # the mutant's caught_by, comma-separated


def add_mutants_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--only", default=None, help="comma-separated mutant names")
    parser.add_argument("-n", "--workers", type=int, default=1,
                        help="mutant runs at once (each is its own process)")
    parser.add_argument("--seed", type=int, default=1, help="the seed of every run")
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))


def mutants_command(args: argparse.Namespace) -> int:
    from conformance.emulator.mutants import CAUGHT_BY, MUTANTS

    names = list(MUTANTS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in MUTANTS]
        if unknown:
            print(f"uploads-conformance: error: unknown mutant(s): {', '.join(unknown)}",
                  file=sys.stderr)
            return 2
    runs = [(CLEAN, "no fault", ())] + [(n, MUTANTS[n], CAUGHT_BY[n]) for n in names]
    with tempfile.TemporaryDirectory(prefix="uploads-mutants-") as scratch, \
            ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        results = list(pool.map(
            lambda run: _run_one(run[0], run[1], run[2], args, Path(scratch)), runs))
    args.report_dir.mkdir(parents=True, exist_ok=True)
    (args.report_dir / "mutants.json").write_text(json.dumps(
        {"profile": args.profile, "seed": args.seed,
         "results": [asdict(r) for r in results]}, indent=2) + "\n")
    table = render_matrix(results)
    (args.report_dir / "mutants.md").write_text(table)
    print(table)
    clean, mutants = results[0], results[1:]
    return 0 if not clean.killed and all(r.killed for r in mutants) else 1


def _run_one(name: str, description: str, caught_by: tuple[str, ...],
             args: argparse.Namespace, scratch: Path) -> MutantResult:
    report_dir = scratch / name.strip("()").replace(" ", "-")
    command = [sys.executable, "-m", "conformance.cli", "run", "--profile", args.profile,
               "--seed", str(args.seed), "--report-dir", str(report_dir), "--fail-fast"]
    if name != CLEAN:
        command += ["--mutant", name]
    expected = ", ".join(caught_by)
    started = time.monotonic()
    try:
        finished = subprocess.run(command, capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return MutantResult(name, description, False, "", RUN_TIMEOUT_S, 0, 2, "timed out",
                            expected)
    seconds = round(time.monotonic() - started, 1)
    try:
        report = load_report(report_dir / "report.json")
    except ReportError as error:
        tail = " / ".join((finished.stderr or finished.stdout).strip().splitlines()[-3:])
        return MutantResult(name, description, False, "", seconds, 0, 2,
                            f"no report ({error}): {tail}", expected)
    if report.exit_status == 2:
        tail = (finished.stderr or finished.stdout).strip().splitlines()[-3:]
        return MutantResult(name, description, False, "", seconds, 0, 2,
                            "; ".join(report.errors) + " | " + " / ".join(tail), expected)
    failed = [r for r in report.requirements
              if r.status is Outcome.FAIL and r.level == "MUST"]
    # The clean emulator names no requirement: any MUST failure is its (false) kill.
    own = [r for r in failed if r.id in caught_by] if name != CLEAN else failed
    shown = own or failed  # the example of the expected kill, else of what did fail
    first = shown[0].failures[0] if shown and shown[0].failures else None
    return MutantResult(
        mutant=name, description=description, killed=report.exit_status == 1 and bool(own),
        requirement=", ".join(r.id for r in failed), seconds=seconds,
        steps=len(first.steps) if first else 0, exit_status=report.exit_status,
        message=first.message if first else "; ".join(report.errors), expected=expected)


def verdict(result: MutantResult) -> str:
    """A mutant's row in one phrase: killed, killed by the wrong requirement, survived."""
    if result.killed:
        return "killed"
    if result.exit_status == 2:
        return "ERROR"
    if result.requirement:
        return f"killed by the wrong requirement: {result.requirement}"
    return "SURVIVED"


def render_matrix(results: list[MutantResult]) -> str:
    clean, mutants = results[0], results[1:]
    killed = sum(r.killed for r in mutants)
    wrong = sum(verdict(r).startswith("killed by the wrong") for r in mutants)
    clean_verdict = f"FAILS (a false alarm): {clean.message}" if clean.killed else "passes"
    lines = [
        "# Kill matrix",
        "",
        f"Clean emulator: {clean_verdict} (exit {clean.exit_status}, {clean.seconds} s)",
        f"Mutants killed: {killed} of {len(mutants)}"
        + (f"; {wrong} caught by the wrong requirement, not counted" if wrong else ""),
        "",
        "| mutant | result | caught by | expected | seconds | steps | fault |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in mutants:
        lines.append(f"| {r.mutant} | {verdict(r)} | {r.requirement or '-'} | {r.expected} | "
                     f"{r.seconds} | {r.steps} | {r.description} |")
    return "\n".join(lines) + "\n"
