"""The run's progress lines: one per test as it ends, counted, with the word that fits."""

from __future__ import annotations

import re
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
LINE = re.compile(r"  \[(\d)/(\d)\] (\S+) +\d+\.\d s  \S+::(test_\w+)\n")


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
