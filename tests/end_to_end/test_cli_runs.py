"""End to end: `uploads-conformance run` and `mutants`, and the Python API they share."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conformance import RunSettings, run
from conformance.emulator import MUTANTS
from conformance.report import load_report
from conformance.reporting import failed_ids
from tests.support.cli import run_cli


@pytest.mark.slow
def test_run_with_no_arguments_passes_the_emulator_and_writes_four_reports(
        tmp_path: Path) -> None:
    result = run_cli("run", "--seed", "11", report_dir=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in ("report.json", "junit.xml", "report.md", "report.html", "exchanges.har"):
        assert (tmp_path / name).stat().st_size > 0
    report = json.loads((tmp_path / "report.json").read_text())
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    assert "fail" not in statuses.values()
    # The generated sequences reach every lifecycle rule, not just the easy ones.
    for requirement in ("COMPLETE-ORDER", "COMPLETE-MD5", "PART-PARALLEL", "EXPIRY-ENFORCED",
                        "RACE-LINEARIZABLE", "CONTENT-BYTES", "PART-AFTER-END",
                        "TENANT-ISOLATION"):  # the embedded emulator has two keys
        assert statuses[requirement] == "pass", requirement
    assert "Traceback" not in result.stderr
    # The terminal holds the suite's lines only (a progress line per test); pytest's are in
    # the log.
    lines = result.stdout.splitlines()
    assert all(line.startswith(("uploads-conformance: ", "  ")) for line in lines), lines
    progress = [line for line in lines if line.startswith("  [")]
    assert progress and progress[-1].startswith(f"  [{len(progress)}/{len(progress)}] ")
    assert " passed" in (tmp_path / "run.log").read_text()


@pytest.mark.slow
def test_every_mutant_is_killed_and_the_clean_emulator_passes(tmp_path: Path) -> None:
    result = run_cli("mutants", "-n", "2", report_dir=tmp_path, timeout=900)
    matrix = json.loads((tmp_path / "mutants.json").read_text())["results"]
    survivors = [r["mutant"] for r in matrix[1:] if not r["killed"]]
    assert not matrix[0]["killed"], f"false alarm on the clean emulator: {matrix[0]}"
    assert survivors == [], (tmp_path / "mutants.md").read_text()
    assert len(matrix) == len(MUTANTS) + 1
    assert result.returncode == 0
    assert (tmp_path / "mutants.md").read_text().startswith("# Kill matrix")


def test_an_unknown_mutant_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("mutants", "--only", "no-such-mutant", report_dir=tmp_path, timeout=600)
    assert result.returncode == 2
    assert "unknown mutant" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_target_exits_2_with_a_report(tmp_path: Path) -> None:
    result = run_cli("run", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "sk-secret-123",
                     report_dir=tmp_path, timeout=600)
    assert result.returncode == 2
    assert "unreachable" in result.stderr and "Traceback" not in result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_status"] == 2
    for path in tmp_path.iterdir():
        assert "sk-secret-123" not in path.read_text()


def test_a_report_dir_that_cannot_be_written_is_one_clear_line(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("")
    result = run_cli("run", report_dir=not_a_dir / "reports", timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("uploads-conformance: error: cannot write"), \
        result.stderr


# --- the Python API: `from conformance import run, RunSettings` -----------------------------

KEY = "sk-api-secret-5b1f0e7c"


def test_settings_that_allow_no_run_give_a_written_report_not_an_exception(
        tmp_path: Path) -> None:
    report = run(RunSettings(base_url="http://127.0.0.1:9/v1", api_key=KEY,
                             report_dir=tmp_path, seed=4))
    assert report.exit_status == 2 and "unreachable" in report.errors[0]
    assert load_report(tmp_path / "report.json").to_dict() == report.to_dict()
    for path in tmp_path.iterdir():
        assert KEY not in path.read_text(), path.name
    assert run(RunSettings(workers=0, report_dir=None)).errors == ["-n must be at least 1"]


@pytest.mark.slow
def test_the_python_api_runs_the_suite_in_process_and_returns_the_report_it_wrote(
        tmp_path: Path) -> None:
    environment = dict(os.environ)
    report = run(RunSettings(mutant="part-limit-off-by-one", fail_fast=True, seed=11,
                             api_key=KEY, report_dir=tmp_path))
    assert report.exit_status == 1, report.verdict
    assert "PART-SIZE-LIMIT" in failed_ids(report)
    # Written once, whole: the files hold the report as returned, start time and duration too.
    assert load_report(tmp_path / "report.json").to_dict() == report.to_dict()
    assert report.duration_s > 0 and report.started_at
    assert report.target_kind == "embedded emulator (mutant part-limit-off-by-one)"
    # (The nested pytest session clears the outer one's PYTEST_CURRENT_TEST; nothing is added.)
    changed = {k for k, v in os.environ.items() if environment.get(k) != v}
    assert not changed, f"settings handed over in the environment: {sorted(changed)}"
    for path in tmp_path.iterdir():
        assert KEY not in path.read_text(), path.name

