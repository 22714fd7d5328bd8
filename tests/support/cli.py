"""Running `uploads-conformance run` as a user would (a subprocess), and reading what it wrote."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPORT_FILES = ("report.json", "junit.xml", "report.md", "report.html")
PROFILE = "quick"
SEED = "1"  # a fixed seed: every run here is reproducible with `--seed 1`


def new_api_key() -> str:
    """A fresh key per run, long and distinctive, so that a leak into a report shows."""
    return "sk-fairness-" + secrets.token_hex(12)


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    report_dir: Path
    cwd: Path

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.report_dir / "report.json").read_text())
        return data

    def statuses(self) -> dict[str, str]:
        return {r["id"]: r["status"] for r in self.report["requirements"]}

    def requirement(self, requirement_id: str) -> dict[str, Any]:
        found: dict[str, Any] = next(r for r in self.report["requirements"]
                                     if r["id"] == requirement_id)
        return found

    def failed(self) -> set[str]:
        return {i for i, status in self.statuses().items() if status == "fail"}

    def observations(self, requirement_id: str) -> list[str]:
        return list(self.requirement(requirement_id)["observations"])

    def explain(self) -> str:
        """What to print when an assertion about this run fails."""
        failures = []
        if (self.report_dir / "report.json").exists():
            for r in self.report["requirements"]:
                for f in r["failures"][:1]:
                    failures.append(f"  {r['id']}: {f['message'][:300]}\n    steps: "
                                    f"{f['steps'][-4:]}")
        return (f"exit {self.returncode} after {self.duration_s:.1f} s\n"
                + "\n".join(failures)
                + f"\n--- stdout (end) ---\n{self.stdout[-2500:]}"
                + f"\n--- stderr (end) ---\n{self.stderr[-2500:]}")


def run_cli(tmp_path: Path, *args: str, name: str = "run", timeout: float = 300) -> CliRun:
    """`python -m conformance.cli run ARGS --report-dir tmp_path/name`, from a clean cwd.

    OPENAI_BASE_URL / OPENAI_API_KEY are removed from the child's environment, so that only
    the arguments choose the target.
    """
    report_dir = tmp_path / name
    cwd = tmp_path / f"{name}-cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PYTEST_ADDOPTS",
                        "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT",
                        "PYTEST_CURRENT_TEST")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", *args, "--report-dir", str(report_dir)],
        capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env)
    return CliRun(done.returncode, done.stdout, done.stderr, time.monotonic() - started,
                  report_dir, cwd)


def target_args(base_url: str, api_key: str) -> list[str]:
    return ["--base-url", base_url, "--api-key", api_key, "--profile", PROFILE, "--seed", SEED]


# --- what every run must do, whatever its verdict -------------------------------------------


def assert_four_reports(run: CliRun) -> None:
    for name in REPORT_FILES:
        path = run.report_dir / name
        assert path.is_file() and path.stat().st_size > 0, f"{name} missing\n{run.explain()}"
    ET.parse(run.report_dir / "junit.xml")  # well-formed XML
    assert "<html" in (run.report_dir / "report.html").read_text().lower()
    assert run.report["exit_status"] == run.returncode, run.explain()


def assert_no_traceback(run: CliRun) -> None:
    assert "Traceback" not in run.stderr, run.explain()


def assert_secret_kept(run: CliRun, api_key: str, *extra_files: Path) -> None:
    """The key appears in no file the run wrote (nor in its console output)."""
    files = [p for p in run.report_dir.rglob("*") if p.is_file()] + list(extra_files)
    assert len(files) >= len(REPORT_FILES)
    for path in files:
        assert api_key.encode() not in path.read_bytes(), f"the API key leaked into {path}"
    assert api_key not in run.stdout and api_key not in run.stderr, "the API key was printed"


# Known, reported: Hypothesis' caches (constants, unicode data) from the stateful machine, and
# pytest-benchmark's directory (the suite's pytest session loads every installed plugin).
KNOWN_CWD_LEFTOVERS = frozenset({".hypothesis", ".benchmarks"})


def cwd_leftovers(run: CliRun) -> set[str]:
    return {p.name for p in run.cwd.iterdir()}


def assert_nothing_written_to_cwd(run: CliRun) -> None:
    """Nothing but the known leftovers (see `test_fairness_cwd`): no reports, no database."""
    left = cwd_leftovers(run) - KNOWN_CWD_LEFTOVERS
    assert not left, f"the run wrote {sorted(left)} into its working directory"


# --- suite defects these tests found (reported, not fixed here) ------------------------------

