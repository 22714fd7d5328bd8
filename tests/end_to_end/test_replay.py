"""`uploads-conformance replay`: a mutant's report replayed against the same mutant is
STILL FAILING, against the clean emulator FIXED; a report cannot make it run a file of its
own choosing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import CliRun, mutant_report_dir, run_cli


@pytest.fixture(scope="module")
def mutant_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mutant_report_dir(tmp_path_factory.getbasetemp()) / "report.json"


def _replay(report: Path, out: Path, *args: str) -> CliRun:
    return run_cli("replay", str(report), "--out", str(out), *args, timeout=600)


def _verdicts(out: Path) -> list[str]:
    return [f["verdict"] for f in json.loads((out / "replay.json").read_text())["findings"]]


def test_against_the_same_mutant_the_findings_are_still_failing(mutant_report: Path,
                                                                tmp_path: Path) -> None:
    done = _replay(mutant_report, tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    assert "mutant md5-unchecked" in done.stdout
    verdicts = _verdicts(tmp_path)
    assert verdicts and all(v == "STILL FAILING" for v in verdicts)
    assert "STILL FAILING    3 of 3 failed  COMPLETE-MD5" in done.stdout


def test_against_the_clean_emulator_the_findings_are_fixed(mutant_report: Path,
                                                           tmp_path: Path) -> None:
    done = _replay(mutant_report, tmp_path, "--embedded", "--times", "2",
                   "--finding", "COMPLETE-MD5")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    verdicts = _verdicts(tmp_path)
    assert verdicts and all(v == "FIXED" for v in verdicts)


def test_a_report_naming_a_file_outside_the_suite_runs_nothing(mutant_report: Path,
                                                               tmp_path: Path) -> None:
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    data = json.loads(mutant_report.read_text())
    for result in data["requirements"]:
        for finding in result["failures"]:
            finding["test"] = f"../../../../../../..{tmp_path}/evil.py::test_x"
    doctored = tmp_path / "report.json"
    doctored.write_text(json.dumps(data))
    done = _replay(doctored, tmp_path, "--times", "1")
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-2000:]
    assert "NOT REPLAYED" in done.stdout and "is not a test of this version" in done.stdout
    assert not (tmp_path / "ran").exists()


def test_a_report_without_findings_or_unreadable_exits_2(tmp_path: Path) -> None:
    missing = run_cli("replay", str(tmp_path / "nothing.json"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
