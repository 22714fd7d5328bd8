"""The run's progress lines: one per test as it ends, counted, with the word that fits; a
line when a requirement first fails; a heartbeat in a log, a status line on a terminal."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from conformance.progress import Progress

TESTS = '''
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("set-up fails")

def test_a_passes():
    pass

def test_b_fails():
    assert False

def test_c_is_skipped():
    pytest.skip("not here")

def test_d_has_a_broken_fixture(broken):
    pass
'''
LINE = re.compile(r"  \[(\d)/(\d)\]  \d:\d\d  (\S+) +\d+\.\d s  +\S+::(test_\w+)\n")


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["in-process", "xdist"])
def test_every_test_gets_one_line_with_its_count_and_outcome(tmp_path: Path,
                                                              workers: list[str]) -> None:
    (tmp_path / "test_sample.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the project's configuration
    lines: list[str] = []
    code = pytest.main([str(tmp_path), "-q", "-p", "no:cacheprovider", "--rootdir",
                        str(tmp_path), "-c", str(tmp_path / "pytest.ini"), *workers],
                       plugins=[Progress(lines.append)])
    assert code == 1
    parsed = [LINE.fullmatch(line) for line in lines]
    assert all(parsed), lines
    found = {m[4]: m[3] for m in parsed if m}
    assert found == {"test_a_passes": "ok", "test_b_fails": "FAILED",
                     "test_c_is_skipped": "skipped", "test_d_has_a_broken_fixture": "ERROR"}
    assert [(m[1], m[2]) for m in parsed if m] == [(str(n), "4") for n in range(1, 5)]


FINDING_TESTS = '''
import time

def test_a_finds(record_property):
    record_property("uploads_conformance_findings",
                    {"failures": [{"requirement": "COMPLETE-MD5", "message": "accepted  200"}]})

def test_b_finds_the_same_and_another(record_property):
    record_property("uploads_conformance_findings", {"failures": [
        {"requirement": "COMPLETE-MD5", "message": "again"},
        {"requirement": "PART-SIZE-LIMIT", "message": "refused 64 MiB"}]})

def test_c_is_slow():
    time.sleep(1.5)
'''


def _run(tmp_path: Path, progress: Progress) -> None:
    # A module name of its own each time: pytest would not import a second "test_sample".
    folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / f"test_findings_{uuid.uuid4().hex}.py").write_text(FINDING_TESTS)
    (folder / "pytest.ini").write_text("[pytest]\n")
    # Without the project's plugin: its collector would take these properties for its own.
    code = pytest.main([str(folder), "-q", "-p", "no:cacheprovider", "-p",
                        "no:uploads_conformance", "--rootdir", str(folder),
                        "-c", str(folder / "pytest.ini")], plugins=[progress])
    assert code == 0


def test_a_requirement_failing_for_the_first_time_gets_a_line(tmp_path: Path) -> None:
    lines: list[str] = []
    _run(tmp_path, Progress(lines.append, heartbeat_s=3600))
    text = "".join(lines)
    assert text.count("failing so far:") == 2
    assert "failing so far: COMPLETE-MD5\n" in text
    assert "failing so far: COMPLETE-MD5, PART-SIZE-LIMIT\n" in text
    verbose: list[str] = []
    _run(tmp_path, Progress(verbose.append, verbose=True, heartbeat_s=3600))
    said = "".join(verbose)
    assert "COMPLETE-MD5 failed: accepted 200\n" in said and "again" not in said
    assert "PART-SIZE-LIMIT failed: refused 64 MiB" in said


def test_a_log_gets_a_still_running_line_during_a_long_test(tmp_path: Path) -> None:
    lines: list[str] = []
    _run(tmp_path, Progress(lines.append, heartbeat_s=0.5))
    still = [line for line in lines if "still running" in line]
    assert still and all(line.endswith("\n") and "test_c_is_slow" in line for line in still)
    assert not any("\r" in line for line in lines)


def test_a_terminal_gets_a_status_line_cleared_before_each_line(tmp_path: Path) -> None:
    writes: list[str] = []
    _run(tmp_path, Progress(writes.append, live=True))
    status = [i for i, w in enumerate(writes) if w.startswith("\r\x1b[K  ...")]
    assert status and "running" in writes[status[0]] and "test_c_is_slow" in writes[status[0]]
    after = writes[status[-1] + 1]
    assert after == "\r\x1b[K"  # the status line goes before the test's line comes
    assert writes[status[-1] + 2].startswith("  [3/3]")
