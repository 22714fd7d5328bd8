"""Running the project's commands as a user would (a subprocess), and reading what they wrote.

- `run_cli(*args)`: `python -m conformance.cli ARGS` to its end, with a timeout; a `CliRun`
  holds the exit status, the output, the duration and the report (`report.json`) it wrote.
- `run_suite(tmp_path, *args)`: `run ARGS` with its reports in `tmp_path/name` and its own
  working directory beside them, as the fairness tests run it.
- `shared_run(base_temp, name, *args)`: one run's report folder, made once per session and
  shared by every test (and xdist worker) that asks for it.
- `start_cli(*args)`: the same command (or another module's, `python -m conformance.emulator`)
  started and handed over as a process, for tests that signal it or read it as it runs.

The child always runs from a working directory of its own, imports the `conformance` these
tests import, and gets this process's environment without what would choose its target or
steer its pytest session ($OPENAI_BASE_URL, $OPENAI_API_KEY, PYTEST_*): only the arguments
choose the target.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import conformance

REPORT_FILES = ("report.json", "junit.xml", "report.md", "report.html")
PROFILE = "quick"
SEED = "1"  # a fixed seed: every run here is reproducible with `--seed 1`

# Where the `conformance` under test is imported from: the child imports the same one.
_IMPORT_ROOT = Path(conformance.__file__).resolve().parents[1]
_NOT_INHERITED = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER",
                  "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST")


def new_api_key() -> str:
    """A fresh key per run, long and distinctive, so that a leak into a report shows."""
    return "sk-fairness-" + secrets.token_hex(12)


def target_args(base_url: str, api_key: str) -> list[str]:
    return ["--base-url", base_url, "--api-key", api_key, "--profile", PROFILE, "--seed", SEED]


def command(*args: str, module: str = "conformance.cli",
            report_dir: Path | None = None) -> list[str]:
    """`python -m MODULE ARGS [--report-dir DIR]`, with this interpreter."""
    tail = ["--report-dir", str(report_dir)] if report_dir is not None else []
    return [sys.executable, "-m", module, *args, *tail]


def child_environment(**extra: str) -> dict[str, str]:
    """This process's environment without `_NOT_INHERITED`, the tested code first on the
    import path, and `extra` on top."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(_IMPORT_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return {**env, **extra}


@dataclass
class CliRun:
    """A finished run of the command; `report` reads the report.json it wrote."""

    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    report_dir: Path | None
    cwd: Path | None  # None: a temporary directory, removed after the run

    @property
    def report(self) -> dict[str, Any]:
        assert self.report_dir is not None, "the run was given no --report-dir"
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
        if self.report_dir is not None and (self.report_dir / "report.json").exists():
            for r in self.report["requirements"]:
                for f in r["failures"][:1]:
                    failures.append(f"  {r['id']}: {f['message'][:300]}\n    steps: "
                                    f"{f['steps'][-4:]}")
        return (f"exit {self.returncode} after {self.duration_s:.1f} s\n"
                + "\n".join(failures)
                + f"\n--- stdout (end) ---\n{self.stdout[-2500:]}"
                + f"\n--- stderr (end) ---\n{self.stderr[-2500:]}")


def run_cli(*args: str, report_dir: Path | None = None, cwd: Path | None = None,
            timeout: float = 300) -> CliRun:
    """`python -m conformance.cli ARGS [--report-dir DIR]` in `cwd` (a temporary directory
    when None), to its end or `timeout` seconds (then `subprocess.TimeoutExpired`)."""
    with tempfile.TemporaryDirectory(prefix="uploads-conformance-cwd-") as scratch:
        started = time.monotonic()
        done = subprocess.run(command(*args, report_dir=report_dir), capture_output=True,
                              text=True, timeout=timeout, check=False,
                              cwd=cwd if cwd is not None else scratch, env=child_environment())
        duration_s = time.monotonic() - started
    return CliRun(done.returncode, done.stdout, done.stderr, duration_s, report_dir, cwd)


def run_suite(tmp_path: Path, *args: str, name: str = "run", timeout: float = 300) -> CliRun:
    """`run ARGS --report-dir tmp_path/name`, from the fresh directory tmp_path/name-cwd."""
    cwd = tmp_path / f"{name}-cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    return run_cli("run", *args, report_dir=tmp_path / name, cwd=cwd, timeout=timeout)


def shared_run(base_temp: Path, name: str, *args: str, timeout: float = 600) -> Path:
    """The report folder of `run ARGS`, made once per test session and shared by its tests
    and xdist workers (`base_temp`: the session's `tmp_path_factory.getbasetemp()`); a
    second caller asking for `name` with other arguments is an error of the tests."""
    shared = base_temp.parent if os.environ.get("PYTEST_XDIST_WORKER") else base_temp
    out = shared / f"shared-run-{name}"
    with open(shared / f"shared-run-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for the one run
        wanted = json.dumps(args)
        if (out / "args.json").is_file():
            assert (out / "args.json").read_text() == wanted, f"{name}: other arguments"
        else:
            done = run_cli("run", *args, report_dir=out, timeout=timeout)
            assert done.returncode in (0, 1), done.explain()
            (out / "args.json").write_text(wanted)
    return out


# One mutant's run, for the tests that read a report with findings in it (the browser test,
# replay, compare): made once per session. Its one fault is COMPLETE-MD5's.
MUTANT_RUN_KEY = "sk-test-SECRET-123"
MUTANT_RUN = ("--mutant", "md5-unchecked", "--api-key", MUTANT_RUN_KEY, "--profile", PROFILE,
              "--seed", "7", "--max-examples", "20", "-q")


def mutant_report_dir(base_temp: Path) -> Path:
    """The report folder of `MUTANT_RUN` (see `shared_run`)."""
    return shared_run(base_temp, "md5-unchecked", *MUTANT_RUN)


def start_cli(*args: str, cwd: Path, module: str = "conformance.cli",
              report_dir: Path | None = None, **env: str) -> subprocess.Popen[str]:
    """The command started in `cwd`, its output piped as text; `env` is added to the
    child's environment. The caller ends the process."""
    return subprocess.Popen(command(*args, module=module, report_dir=report_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd, env=child_environment(**env))


# --- what every run must do, whatever its verdict -------------------------------------------


def assert_four_reports(run: CliRun) -> None:
    assert run.report_dir is not None
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
    assert run.report_dir is not None
    files = [p for p in run.report_dir.rglob("*") if p.is_file()] + list(extra_files)
    assert len(files) >= len(REPORT_FILES)
    for path in files:
        assert api_key.encode() not in path.read_bytes(), f"the API key leaked into {path}"
    assert api_key not in run.stdout and api_key not in run.stderr, "the API key was printed"


# Known, reported: Hypothesis' caches (constants, unicode data) from the stateful machine, and
# pytest-benchmark's directory (the suite's pytest session loads every installed plugin).
KNOWN_CWD_LEFTOVERS = frozenset({".hypothesis", ".benchmarks"})


def cwd_leftovers(run: CliRun) -> set[str]:
    assert run.cwd is not None, "a run in a temporary directory, gone after it"
    return {p.name for p in run.cwd.iterdir()}


def assert_nothing_written_to_cwd(run: CliRun) -> None:
    """Nothing but `KNOWN_CWD_LEFTOVERS`: no reports, no database."""
    left = cwd_leftovers(run) - KNOWN_CWD_LEFTOVERS
    assert not left, f"the run wrote {sorted(left)} into its working directory"
