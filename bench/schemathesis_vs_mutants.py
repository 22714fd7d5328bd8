"""Schemathesis alone vs the suite, on the reference emulator and each of its mutants.

For the clean emulator and every mutant, in turn: start the emulator in its own process,
run the schemathesis CLI alone on the project's OpenAPI document (every check, every
phase, a fixed seed), then the suite's schema checks (`run_schema_checks`, the same
document through schemathesis' Python API with the suite's requirement mapping) against
the same emulator, and record killed or survived and the seconds each took. With
`--suite`, the suite's own kill matrix (`uploads-conformance mutants`) is folded in.

A mutant counts as killed by the CLI when it reports a failure (check code and operation)
that the clean emulator's run did not: the CLI alone raises a false alarm on the clean
emulator (see bench/README.md), and a failure every run shows says nothing about a mutant.

    python bench/schemathesis_vs_mutants.py [--max-examples 20] [--seed 1] [--only a,b]
                                            [--suite] [--readme]

Prints the table; writes the raw results to reports/bench/schemathesis_vs_mutants.json
(and the CLI's own reports beside it); `--readme` puts the table in bench/README.md, in
the section "## Schemathesis alone vs the suite", between its markers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.emulator import MUTANTS  # noqa: E402
from conformance.processes import stop  # noqa: E402
from conformance.results import Outcome  # noqa: E402
from conformance.schema import default_openapi_path, run_schema_checks  # noqa: E402

API_KEY = "sk-bench-schemathesis"
CLEAN = "(clean)"
SECTION = "## Schemathesis alone vs the suite"
START, END = "<!-- schemathesis-vs-mutants:start -->", "<!-- schemathesis-vs-mutants:end -->"
CLI_TIMEOUT_S = 600


@dataclass
class Row:
    mutant: str
    fault: str
    cli_failures: list[str] = field(default_factory=list)  # "ST108 POST /uploads", ...
    cli_killed: bool = False
    cli_exit: int | None = None
    cli_s: float = 0.0
    ours_failures: list[str] = field(default_factory=list)  # requirement IDs
    ours_s: float = 0.0
    suite_killed: bool | None = None  # None: not measured
    suite_requirement: str = ""
    suite_s: float | None = None


def cli_command(base_url: str, max_examples: int, seed: int, report: Path) -> list[str]:
    executable = shutil.which("schemathesis")
    prefix = [executable] if executable else [sys.executable, "-m", "schemathesis.cli"]
    return [*prefix, "run", str(default_openapi_path()),
            "--url", base_url, "-H", f"Authorization: Bearer {API_KEY}",
            "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
            "-n", str(max_examples), "--seed", str(seed), "--workers", "1",
            "--report", "json", "--report-json-path", str(report)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def emulator(mutant: str | None, log: Path) -> Iterator[str]:
    """The emulator (clean, or with one mutant) in its own process; yields its base URL."""
    port = _free_port()
    command = [sys.executable, "-m", "conformance.emulator", "--host", "127.0.0.1",
               "--port", str(port), "--api-key", API_KEY]
    if mutant is not None:
        command += ["--mutant", mutant]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start; see {log}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(process, grace_s=10)


def run_cli(base_url: str, args: argparse.Namespace, out_dir: Path, name: str
            ) -> tuple[list[str], int | None, float]:
    report = (out_dir / f"cli-{name}.json").resolve()
    command = cli_command(base_url, args.max_examples, args.seed, report)
    # A fresh working directory per run: the CLI keeps a crash cache (.schemathesis/) and
    # Hypothesis data (.hypothesis/) in its cwd and replays them, which would let one
    # mutant's run feed the next.
    scratch = out_dir / f"cwd-{name}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    started = time.monotonic()
    with (out_dir / f"cli-{name}.log").open("w") as log:
        try:
            done = subprocess.run(command, cwd=scratch, stdout=log, stderr=subprocess.STDOUT,
                                  timeout=CLI_TIMEOUT_S, env={**os.environ, "NO_COLOR": "1"},
                                  check=False)
            exit_code: int | None = done.returncode
        except subprocess.TimeoutExpired:
            exit_code = None
    seconds = round(time.monotonic() - started, 1)
    failures: list[str] = []
    if report.exists():
        data = json.loads(report.read_text())
        failures = sorted({f"{item['code']} {operation}" for item in data.get("failures", [])
                           for operation in item.get("operations", [])})
    return failures, exit_code, seconds


def run_ours(base_url: str, args: argparse.Namespace) -> tuple[list[str], float]:
    started = time.monotonic()
    findings = run_schema_checks(base_url, API_KEY, max_examples=args.max_examples,
                                 seed=args.seed)
    failed = sorted({f.requirement for f in findings if f.outcome is Outcome.FAIL})
    return failed, round(time.monotonic() - started, 1)


def run_suite(args: argparse.Namespace, out_dir: Path, rows: dict[str, Row]) -> None:
    """Fold in `uploads-conformance mutants` (the whole suite), when it runs here."""
    report_dir = out_dir / "suite"
    command = [sys.executable, "-m", "conformance.cli", "mutants", "--seed", str(args.seed),
               "--report-dir", str(report_dir)]
    if args.only:
        command += ["--only", args.only]
    with (out_dir / "suite.log").open("w") as log:
        subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)
    try:
        results = json.loads((report_dir / "mutants.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        print(f"the suite's kill matrix did not run; see {out_dir / 'suite.log'}")
        return
    for result in results:
        name = CLEAN if result["mutant"].startswith("(") else result["mutant"]
        if name in rows:
            rows[name].suite_killed = bool(result["killed"])
            rows[name].suite_requirement = result.get("requirement", "")
            rows[name].suite_s = result.get("seconds")


def render(rows: list[Row], args: argparse.Namespace) -> str:
    clean, mutants = rows[0], rows[1:]

    def verdict(killed: bool | None, detail: str) -> str:
        if killed is None:
            return "(to fill)"
        return f"**killed** ({detail})" if killed else "survived"

    def cli_cell(row: Row, baseline: set[str]) -> str:
        new = [f for f in row.cli_failures if f not in baseline]
        return verdict(row.cli_killed, ", ".join(new[:3]) + ("..." if len(new) > 3 else ""))

    baseline = set(clean.cli_failures)
    cli_clean = f"false alarm: {', '.join(clean.cli_failures)}" if clean.cli_failures \
        else "passes"
    ours_clean = f"FAILS: {', '.join(clean.ours_failures)}" if clean.ours_failures else "passes"
    lines = [
        f"Seed {args.seed}, `-n {args.max_examples}` (max examples per operation), one worker.",
        "",
        "| emulator | fault | schemathesis CLI alone | s | suite's schema checks | s "
        "| whole suite | s |",
        "|---|---|---|---|---|---|---|---|",
        f"| clean | - | {cli_clean} | {clean.cli_s} | {ours_clean} | {clean.ours_s} "
        f"| {_suite_clean(clean)} | {clean.suite_s or ''} |",
    ]
    for row in mutants:
        lines.append(
            f"| {row.mutant} | {row.fault} | {cli_cell(row, baseline)} | {row.cli_s} "
            f"| {verdict(bool(row.ours_failures), ', '.join(row.ours_failures))} | {row.ours_s} "
            f"| {verdict(row.suite_killed, row.suite_requirement)} | {row.suite_s or ''} |")
    cli_kills = sum(r.cli_killed for r in mutants)
    ours_kills = sum(bool(r.ours_failures) for r in mutants)
    suite = [r for r in mutants if r.suite_killed is not None]
    totals = (f"Killed: schemathesis CLI alone {cli_kills}/{len(mutants)}, the suite's schema "
              f"checks {ours_kills}/{len(mutants)}")
    if suite:
        totals += f", the whole suite {sum(bool(r.suite_killed) for r in suite)}/{len(suite)}"
    return "\n".join([*lines, "", totals + "."]) + "\n"


def _suite_clean(row: Row) -> str:
    if row.suite_killed is None:
        return "(to fill)"
    return "FAILS" if row.suite_killed else "passes"


def update_readme(table: str) -> None:
    """Replace the table between the markers of this section, leaving the rest alone."""
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    block = f"{START}\n{table}{END}"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    elif SECTION in text:
        head, tail = text.split(SECTION, 1)
        text = f"{head}{SECTION}\n\n{block}\n{tail}"
    else:
        text = f"{text.rstrip()}\n\n{SECTION}\n\n{block}\n"
    readme.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default=None, help="comma-separated mutant names")
    parser.add_argument("--suite", action="store_true",
                        help="also run `uploads-conformance mutants` (the whole suite)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    parser.add_argument("--readme", action="store_true", help="update bench/README.md")
    args = parser.parse_args()

    names = [n.strip() for n in args.only.split(",")] if args.only else sorted(MUTANTS)
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        parser.error(f"unknown mutant(s): {', '.join(unknown)}")
    out_dir = args.out / "schemathesis_vs_mutants"
    out_dir.mkdir(parents=True, exist_ok=True)

    rows: dict[str, Row] = {}
    for mutant in [None, *names]:
        name = mutant or CLEAN
        row = Row(name, MUTANTS.get(mutant, "-") if mutant else "-")
        slug = mutant or "clean"
        with emulator(mutant, out_dir / f"emulator-{slug}.log") as base_url:
            row.cli_failures, row.cli_exit, row.cli_s = run_cli(base_url, args, out_dir, slug)
        with emulator(mutant, out_dir / f"emulator-{slug}-ours.log") as base_url:
            row.ours_failures, row.ours_s = run_ours(base_url, args)
        if mutant is not None:
            row.cli_killed = bool(set(row.cli_failures) - set(rows[CLEAN].cli_failures))
        rows[name] = row
        print(f"{name}: cli {row.cli_failures or 'no failure'} ({row.cli_s} s); "
              f"ours {row.ours_failures or 'no failure'} ({row.ours_s} s)", flush=True)
    if args.suite:
        run_suite(args, out_dir, rows)

    ordered = list(rows.values())
    (args.out / "schemathesis_vs_mutants.json").write_text(json.dumps(
        {"seed": args.seed, "max_examples": args.max_examples,
         "rows": [asdict(r) for r in ordered]}, indent=2) + "\n")
    table = render(ordered, args)
    print(table)
    if args.readme:
        update_readme(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
