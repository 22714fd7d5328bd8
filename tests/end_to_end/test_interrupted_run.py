"""A run stopped by Ctrl-C (SIGINT) or by a CI runner's timeout (SIGTERM) is never a verdict
on the target: exit 2, with reports marked interrupted."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.support.cli import start_cli


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stopped_run_exits_2_with_a_report_that_says_so(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, stop: signal.Signals) -> None:
    process = start_cli("run", "--seed", "5", report_dir=tmp_path,
                        cwd=tmp_path_factory.mktemp("cwd"))
    try:
        time.sleep(8)  # well into the suite: the emulator is up and tests are running
        assert process.poll() is None, "the run ended before it could be interrupted"
        process.send_signal(stop)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, out[-2000:] + err[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_status"] == 2
    assert any("interrupted" in error for error in report["errors"]), report["errors"]
    assert "CONFORMANT (exit 0)" not in out
    assert "Traceback" not in err
