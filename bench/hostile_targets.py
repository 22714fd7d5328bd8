"""How the run ends against each hostile target, with the default limits of the quick profile.

    python bench/hostile_targets.py      # a healthy baseline, then every fault, striking all
                                         # requests, then parts only
    python bench/hostile_targets.py --only drip,hang --strikes parts

For each case it serves the reference emulator behind one fault (tests/support/hostile_target.py)
and runs `uploads-conformance run` against it in a child process, then prints a Markdown row:
the exit status, the wall time, the child's peak RSS (the 2 GiB answer is the memory case), how
many console lines the run printed, and whether the planted key showed up anywhere it wrote.
The figures in bench/README.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.hostile_target import FAULTS, STRIKES, hostile_target  # noqa: E402

KEY = "sk-bench-hostile-0123456789abcdef0123"
# The child prints its own peak RSS: RUSAGE_CHILDREN of a fresh process is the run's alone.
_MEASURED = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "print('peak_rss_kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
    " file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def measure(fault: str, strikes: str, work: Path) -> str:
    report_dir = work / f"{strikes}-{fault}"
    with hostile_target(fault, strikes, KEY) as (url, target):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", _MEASURED, sys.executable, "-m", "conformance.cli", "run",
             "--base-url", url, "--api-key", KEY, "--report-dir", str(report_dir)],
            capture_output=True, text=True, timeout=900, cwd=work,
            env={**os.environ, "PYTHONPATH": str(ROOT)})  # the checkout's code, not another
        seconds = time.monotonic() - started
    err_lines = done.stderr.splitlines()
    rss = next((int(line.split()[1]) for line in err_lines if line.startswith("peak_rss_kib")), 0)
    console = [line for line in done.stdout.splitlines() + err_lines
               if line.strip() and not line.startswith("peak_rss_kib")]
    written = [p.read_bytes() for p in report_dir.rglob("*") if p.is_file()]
    leaked = any(KEY.encode() in data for data in [done.stdout.encode(), done.stderr.encode(),
                                                   *written])
    why = ""
    report = report_dir / "report.json"
    if report.is_file():
        errors = json.loads(report.read_text()).get("errors", [])
        why = " ".join(errors[0].split())[:90] if errors else ""
    return (f"| {strikes} | {fault} | {done.returncode} | {seconds:.0f} s | {rss / 1024:.0f} MB "
            f"| {len(console)} | {'LEAKED' if leaked else 'no'} | {target.struck} | {why} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated faults (default: all)")
    parser.add_argument("--strikes", choices=STRIKES, help="default: all, then parts")
    args = parser.parse_args()
    faults = args.only.split(",") if args.only else list(FAULTS)
    strikes = [args.strikes] if args.strikes else ["all", "parts"]
    print("| strikes | fault | exit | time | peak RSS | console lines | key | struck | why |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as work:
        if not args.strikes:  # what a run costs when nothing strikes, to compare with
            print(measure(faults[0], "never", Path(work)), flush=True)
        for where in strikes:
            for fault in faults:
                print(measure(fault, where, Path(work)), flush=True)


if __name__ == "__main__":
    main()
