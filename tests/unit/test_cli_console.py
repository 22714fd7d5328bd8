"""The command line's terminal: a defect of the suite's own is one line there, with its
traceback (redacted) in the run's log."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import cli
from conformance.evidence import REDACTED

KEY = "sk-cli-console-PLANTED-0123456789"


def test_an_internal_error_is_one_line_and_its_traceback_is_in_the_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def broken_run(settings: object, progress: object = None) -> None:
        print("pytest chatter that belongs in the log")
        raise RuntimeError(f"the suite broke while holding {KEY}")

    monkeypatch.setattr(cli, "run", broken_run)
    args = cli.build_parser().parse_args(
        ["run", "--api-key", KEY, "--report-dir", str(tmp_path), "--seed", "3"])
    assert cli.run_command(args) == 2
    out, err = capfd.readouterr()
    assert out.splitlines() == [
        f"uploads-conformance: testing the embedded emulator (profile quick, seed 3); the "
        f"test log goes to {tmp_path / 'run.log'}"]
    assert err.splitlines() == [
        f"uploads-conformance: internal error: RuntimeError: the suite broke while holding "
        f"{REDACTED}; its traceback is in {tmp_path / 'run.log'}"]
    log = (tmp_path / "run.log").read_text()
    assert "pytest chatter that belongs in the log" in log
    assert "Traceback (most recent call last)" in log and "broken_run" in log
    assert KEY not in log and REDACTED in log
