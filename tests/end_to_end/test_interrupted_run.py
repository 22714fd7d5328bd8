"""A run stopped by Ctrl-C (SIGINT) or by a CI runner's timeout (SIGTERM) is never a verdict
on the target: exit 2, with reports marked interrupted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stopped_run_exits_2_with_a_report_that_says_so(tmp_path: Path,
                                                          stop: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "run", "--seed", "5", "--report-dir",
         str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
