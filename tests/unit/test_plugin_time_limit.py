"""--max-time bounds a session that runs the suite, never one that merely has the plugin
installed: the project's own tests (and a user's) once got a run's 300 s halt mid-session."""

from __future__ import annotations

from pathlib import Path

import pytest

SLEEPER = '''
import pathlib, time
from conformance import halt

def test_outlives_the_time_limit():
    time.sleep(1.5)
    pathlib.Path(__file__).with_name("halted").write_text(str(halt.reason()))
'''
# A test of the suite's (it asks for `uploads_target`; its setup errors, as nothing listens
# at the base URL), then the same sleeper.
SUITE_LIKE = '''
def test_uses_the_suite_target(uploads_target):
    pass
''' + SLEEPER


def _session(tmp_path: Path, tests: str, name: str) -> int:
    (tmp_path / f"test_{name}.py").write_text(tests)  # a name of its own: one module each
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the project's configuration
    return int(pytest.main([str(tmp_path), "-q", "-p", "no:cacheprovider", "-p",
                            "no:randomly", "--rootdir", str(tmp_path),
                            "-c", str(tmp_path / "pytest.ini"), "--uploads-max-time", "1",
                            "--uploads-base-url", "http://127.0.0.1:9/v1"]))


def test_a_session_without_the_suite_is_never_halted_by_the_time_limit(
        tmp_path: Path) -> None:
    assert _session(tmp_path, SLEEPER, "no_suite") == 0
    assert (tmp_path / "halted").read_text() == "None"


def test_a_session_running_the_suite_is_halted_at_its_time_limit(tmp_path: Path) -> None:
    _session(tmp_path, SUITE_LIKE, "suite_like")
    assert "time limit of 1 s" in (tmp_path / "halted").read_text()
