"""The kill matrix over several seeds: is every mutant killed every time, and how fast?

Runs `uploads-conformance mutants --seed S` once per seed (each run: the clean emulator and
every mutant, each in its own process, stopped at its first MUST failure) and prints, per
mutant, kills/seeds and the time to kill (median, max), as a Markdown table and as one
JSON line. Run it on a loaded machine to see what CI sees:

    python bench/kill_stability.py --seeds 1-10 -n 2 [--only lost-update,order-ignored]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def parse_seeds(text: str) -> list[int]:
    """'1-10' or '1,4,7' -> a list of seeds."""
    seeds: list[int] = []
    for piece in text.split(","):
        low, _, high = piece.partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def run_matrix(seed: int, workers: int, only: str | None, scratch: Path) -> list[dict[str, Any]]:
    report_dir = scratch / f"seed-{seed}"
    command = [sys.executable, "-m", "conformance.cli", "mutants", "-n", str(workers),
               "--seed", str(seed), "--report-dir", str(report_dir)]
    if only:
        command += ["--only", only]
    subprocess.run(command, capture_output=True, text=True, check=False)
    results: list[dict[str, Any]] = json.loads((report_dir / "mutants.json").read_text())[
        "results"]
    return results


def summarise(runs: dict[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for results in runs.values():
        for result in results:
            row = rows.setdefault(result["mutant"], {"mutant": result["mutant"], "killed": 0,
                                                     "seeds": 0, "seconds": []})
            row["seeds"] += 1
            # For the clean emulator "killed" means a false alarm: count its passes instead.
            clean = result["mutant"].startswith("(")
            if result["killed"] != clean:
                row["killed"] += 1
                row["seconds"].append(result["seconds"])
    for row in rows.values():
        times = row.pop("seconds")
        row["median_s"] = round(statistics.median(times), 1) if times else None
        row["max_s"] = max(times) if times else None
    return list(rows.values())


def render(rows: list[dict[str, Any]], seeds: list[int]) -> str:
    lines = [f"Seeds {seeds[0]}..{seeds[-1]} ({len(seeds)} runs of the matrix)", "",
             "| mutant | killed / seeds | median s | max s |", "|---|---|---|---|"]
    for row in rows:
        label = " (passes)" if row["mutant"].startswith("(") else ""
        lines.append(f"| {row['mutant']} | {row['killed']} / {row['seeds']}{label} | "
                     f"{row['median_s']} | {row['max_s']} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-10", help="e.g. 1-10 or 1,2,5")
    parser.add_argument("-n", "--workers", type=int, default=2)
    parser.add_argument("--only", default=None, help="comma-separated mutant names")
    args = parser.parse_args()
    seeds = parse_seeds(args.seeds)
    with tempfile.TemporaryDirectory(prefix="kill-stability-") as scratch:
        runs = {seed: run_matrix(seed, args.workers, args.only, Path(scratch))
                for seed in seeds}
    rows = summarise(runs)
    print(render(rows, seeds))
    print(json.dumps({"seeds": seeds, "rows": rows}))
    survivors = [r for r in rows if r["killed"] != r["seeds"]]
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
