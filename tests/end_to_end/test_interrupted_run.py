"""A run stopped by Ctrl-C (SIGINT) or by a CI runner's timeout (SIGTERM) is never a verdict
on the target: exit 2, with reports marked interrupted, whatever part of the suite the signal
lands in (schemathesis catches it and ends quietly), and what it made cancelled."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.cli import start_cli

KEY = "sk-interrupted-0123456789abcdef"


def _pending(server: EmulatorServer) -> list[str]:
    """Uploads still pending and not expired (the run's clock advances may have expired some)."""
    service, now = server.app.state.service, server.app.state.clock.now()
    return [upload.id for upload in service.uploads.values()
            if upload.status == "pending" and upload.expires_at > now]


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stopped_run_exits_2_with_a_report_that_says_so(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, stop: signal.Signals) -> None:
    with EmulatorServer(EmulatorConfig(api_key=KEY, test_controls=True)) as server:
        process = start_cli("run", "--seed", "5", "--base-url", server.base_url,
                            report_dir=tmp_path, cwd=tmp_path_factory.mktemp("cwd"),
                            OPENAI_API_KEY=KEY)
        try:
            # Well into the suite: uploads are being made on the target.
            deadline = time.monotonic() + 60
            while not server.app.state.service.uploads and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)
            assert process.poll() is None, "the run ended before it could be interrupted"
            process.send_signal(stop)
            out, err = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        left = _pending(server)
    assert process.returncode == 2, out[-2000:] + err[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_status"] == 2
    assert any("interrupted" in error for error in report["errors"]), report["errors"]
    assert "CONFORMANT (exit 0)" not in out
    assert "Traceback" not in err
    assert KEY not in out + err
    # The run cancels what it made, at the end of each scenario and once more as it ends;
    # only an upload whose create answer the signal cut off (the client never read it) may
    # be left. Without the clean-up, over ten are.
    assert len(left) <= 1, f"{len(left)} upload(s) left pending on the target"
    cleanup = report["cleanup"]  # what the run says it made and left
    assert cleanup["uploads_created"] > 0 and cleanup["left_pending"] == []
