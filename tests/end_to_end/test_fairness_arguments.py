"""A run that cannot start because of its arguments exits 2 with one clear line on stderr,
never a traceback, and does not touch the target."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import assert_no_traceback, run_suite


def _error_lines(stderr: str) -> list[str]:
    """stderr without argparse's usage block (printed before its one-line error)."""
    lines = stderr.strip().splitlines()
    if lines and lines[0].startswith("usage:"):
        lines = [line for line in lines[1:] if not line.startswith(" ")]
    return lines


@pytest.mark.parametrize(("args", "says"), [
    (["--profile", "nope"], "argument --profile: invalid choice: 'nope'"),
    (["-n", "0"], "-n must be at least 1"),
    (["--base-url", "ftp://x"], "--base-url must be an http(s) URL"),
    (["--baseline", "no-such-baseline.json"], "cannot read the baseline"),
], ids=["unknown-profile", "zero-workers", "ftp-base-url", "missing-baseline"])
def test_a_bad_argument_exits_2_with_one_clear_line(tmp_path: Path, args: list[str],
                                                    says: str) -> None:
    run = run_suite(tmp_path, *args, timeout=60)
    assert_no_traceback(run)
    assert run.returncode == 2, run.explain()
    lines = _error_lines(run.stderr)
    assert len(lines) == 1, run.stderr
    assert "error:" in lines[0] and says in lines[0], lines[0]
    assert run.duration_s < 20, "a bad argument must not start a run"


def test_a_missing_baseline_file_leaves_a_run_failed_report(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-baseline.json"
    run = run_suite(tmp_path, "--baseline", str(missing), timeout=60)
    assert run.returncode == 2
    assert str(missing) in run.stderr
    report = run.report
    assert report["exit_status"] == 2 and str(missing) in report["errors"][0]


def test_a_baseline_that_is_not_json_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "baseline.json"
    bad.write_text("accepted: [AUTH-REQUIRED]\n")
    run = run_suite(tmp_path, "--baseline", str(bad), timeout=60)
    assert_no_traceback(run)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not JSON" in lines[0], run.stderr
