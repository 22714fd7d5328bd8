"""End to end: `uploads-conformance sdk-matrix` runs the Python adapters on the oldest SDK.

The oldest release the `sdk` extra allows (openai 1.37.0) is installed from PyPI into an
environment of its own and run through both clients, beside a release that does not exist
(its install fails). The newest, the one the `test` extra installs, is what the adapter
tests run in this process: tests/end_to_end/test_adapter_sdk_python.py (the machine through
both clients) and test_sdk_capabilities.py::test_the_installed_sdk_offers_the_full_set.

The environments are kept in one folder for the session, shared by the xdist workers.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conformance.sdk_envs import Environment
from conformance.sdk_matrix import Column, RunOptions, child_command
from tests.support.cli import CliRun, run_cli

OLDEST = "1.37.0"  # the low end of the sdk extra (pyproject.toml): the first with uploads
MISSING = "99.0.0"  # no such release: its install fails
KEY = "sk-sdk-matrix-SECRET-5f1c0a9e7d"  # fixed: every xdist worker checks the one run's key
COLUMNS = {"python-1.37.0": "openai-python", "python-async-1.37.0": "openai-python-async",
           "python-99.0.0": "openai-python", "python-async-99.0.0": "openai-python-async"}
# Few examples: the columns and their versions are the subject, not the exploration.
SMALL_RUN = ("--max-examples", "5", "--seed", "3", "-q")

pytestmark = pytest.mark.slow


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's folder, the same for every xdist worker."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_envs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_folder(tmp_path_factory) / "sdk-envs"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """The matrix of both clients on 1.37.0 and on a missing release, made once per session
    (the workers that need it wait for the first); its OUT is the run's report_dir."""
    shared = shared_folder(tmp_path_factory)
    out, kept = shared / "sdk-matrix", shared / "sdk-matrix.json"
    with open(shared / "sdk-matrix.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not kept.is_file():
            done = run_cli("sdk-matrix", "--python", f"{OLDEST},{MISSING}", "--out", str(out),
                           "--env-dir", str(shared_envs(tmp_path_factory)), "--",
                           "--api-key", KEY, *SMALL_RUN, timeout=400)
            kept.write_text(json.dumps(dataclasses.asdict(done), default=str))
    return dataclasses.replace(CliRun(**json.loads(kept.read_text())), report_dir=out,
                               cwd=None)


def column_report(matrix: CliRun, name: str) -> dict[str, Any]:
    assert matrix.report_dir is not None
    path = matrix.report_dir / name / "report.json"
    assert path.is_file(), f"no report for {name}\n{matrix.explain()}"
    found: dict[str, Any] = json.loads(path.read_text())
    return found


def requirement(report: dict[str, Any], requirement_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in report["requirements"]
                                 if r["id"] == requirement_id)
    return found


@pytest.mark.parametrize("name", ["python-1.37.0", "python-async-1.37.0"])
def test_each_column_ran_its_client_on_the_version_it_names(matrix: CliRun,
                                                            name: str) -> None:
    report = column_report(matrix, name)
    assert report["versions"]["sdk_version"] == OLDEST, matrix.explain()
    assert report["adapter"] == COLUMNS[name]
    assert report["exit_status"] in (0, 1), report["verdict"]
    # The SDK itself answered the machine: its results were checked, many times.
    assert requirement(report, "SDK-RESULT-MATCHES")["passed"] > 10
    # A capability 1.37.0 lacks is not testable, with the version named.
    chunked = requirement(report, "SDK-CHUNKED-UPLOAD")
    assert chunked["status"] == "not_testable"
    assert chunked["not_testable_reason"] == f"openai-python {OLDEST} has no upload_file_chunked"


def test_a_version_that_cannot_be_installed_is_a_column_saying_so(matrix: CliRun) -> None:
    assert matrix.returncode == 1, matrix.explain()
    report = column_report(matrix, "python-99.0.0")
    assert report["exit_status"] == 2
    assert report["versions"]["sdk_version"] == MISSING
    assert report["errors"][0].startswith(f"openai-python {MISSING} could not be installed: "
                                          f"pip install openai=={MISSING} failed")
    assert {r["status"] for r in report["requirements"]} == {"not_testable"}
    assert "Traceback" not in matrix.stdout + matrix.stderr


def test_the_console_has_one_line_per_column_as_its_report_says(matrix: CliRun) -> None:
    lines = [line for line in matrix.stdout.splitlines() if re.match(r"run \d+ +openai-", line)]
    assert len(lines) == len(COLUMNS), matrix.explain()
    for number, (line, name) in enumerate(zip(lines, COLUMNS, strict=True), 1):
        report = column_report(matrix, name)
        version = name.rsplit("-", 1)[1]
        assert re.match(rf"run {number}\s+{COLUMNS[name]} {re.escape(version)}\s", line), line
        if version == MISSING:
            assert "NOT INSTALLED" in line and "[outside the supported openai" in line, line
            continue
        musts = report["summary"]["must_failed"]
        assert f" exit {report['exit_status']} " in line and f" {musts} MUST failed" in line
        assert re.search(r" \d+\.\d s \((installed in \d+\.\d s|cached)\)", line), line
    assert matrix.report_dir is not None
    assert (matrix.report_dir / "summary.txt").read_text().splitlines() == lines


def test_the_columns_are_compared_side_by_side(matrix: CliRun) -> None:
    assert matrix.report_dir is not None
    markdown = (matrix.report_dir / "compare.md").read_text()
    assert markdown.startswith(f"# Comparing {len(COLUMNS)} runs")
    runs = markdown.split("## Runs", 1)[1].split("##", 1)[0]
    rows = [line for line in runs.splitlines() if re.match(r"\| run \d+ \|", line)]
    assert len(rows) == len(COLUMNS)
    for row, (name, adapter) in zip(rows, COLUMNS.items(), strict=True):
        version = name.rsplit("-", 1)[1]
        assert f"| {adapter} (openai (Python) {version}) |" in row, row
        assert row.endswith(f"{matrix.report_dir / name / 'report.json'} |"), row
    assert "<html" in (matrix.report_dir / "compare.html").read_text().lower()


def test_the_key_is_never_printed_nor_written(matrix: CliRun,
                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    assert KEY not in matrix.stdout and KEY not in matrix.stderr
    assert matrix.report_dir is not None
    written = [p for folder in (matrix.report_dir, shared_envs(tmp_path_factory))
               for p in folder.rglob("*") if p.is_file() and p.suffix in
               (".json", ".log", ".md", ".html", ".xml", ".har", ".txt", ".pth", ".cfg")]
    assert len(written) > 20
    for path in written:
        assert KEY.encode() not in path.read_bytes(), f"the key leaked into {path}"


def test_a_key_reaches_each_run_in_its_environment_not_its_command_line(
        tmp_path: Path) -> None:
    options = RunOptions.parse(["--", "--api-key", KEY, "--max-examples", "3", "--replays",
                                "0", "--fail-fast", "--seed", "5"])
    command = child_command(Column("python", OLDEST), Environment(
        tmp_path, "cached", python=tmp_path / "bin" / "python"), options.arguments, tmp_path)
    assert not any(KEY in part for part in command)
    # Every other option reaches the run as given (a 0 too), then the seed and the folder.
    assert command[-9:] == ["--fail-fast", "--max-examples", "3", "--replays", "0", "--seed",
                            "5", "--report-dir", str(tmp_path)]
    assert options.environment()["OPENAI_API_KEY"] == KEY


def test_a_second_matrix_reuses_the_environment(matrix: CliRun, tmp_path: Path,
                                                tmp_path_factory: pytest.TempPathFactory
                                                ) -> None:
    again = run_cli("sdk-matrix", "--python", OLDEST, "--python-client", "sync", "--out",
                    str(tmp_path / "out"), "--env-dir", str(shared_envs(tmp_path_factory)),
                    "--", "--max-examples", "2", "-q", timeout=300)
    assert again.returncode == 0, again.explain()
    assert re.search(rf"^run 1\s+openai-python {OLDEST}\s.*\(cached\)$", again.stdout,
                     re.MULTILINE), again.explain()
    assert "one column: nothing to compare" in again.stdout


@pytest.mark.parametrize(("args", "says"), [
    ((), "give the SDK versions to run"),
    (("--python", "1.37.0;rm"), "'1.37.0;rm' is not a Python SDK version"),
    (("--node", "latest"), "'latest' is not a Node SDK version"),
    (("--python", OLDEST, "--", "--sdk", "openai-python"), "--sdk is set by the matrix"),
    (("--python", OLDEST, "--", "--no-such-option"), "in the run options after --: "
                                                     "unrecognized arguments"),
    (("--node", "6.49.0", "--node-driver", "/nonexistent/driver.mjs"),
     "the Node driver /nonexistent/driver.mjs does not exist" if shutil.which("node")
     and shutil.which("npm") else "--node needs node and npm on the PATH"),
])
def test_bad_usage_is_one_line_and_exit_2_before_anything_is_installed(
        tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    envs = tmp_path / "envs"
    done = run_cli("sdk-matrix", "--out", str(tmp_path / "out"), "--env-dir", str(envs),
                   *args, timeout=60)
    assert done.returncode == 2, done.explain()
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"uploads-conformance sdk-matrix: error: {says}"), done.stderr
    assert not envs.exists() and not (tmp_path / "out").exists()
