"""What a run leaves on its target: the end-of-run cancel of whatever is still pending, and
`uploads-conformance cleanup` for what a report lists as left."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conformance import api
from conformance.client import TargetClient
from conformance.client.ledger import UploadLedger, cancel_left_over
from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.cli import run_cli

KEY = "sk-cleanup-test-0123456789"
CREATE = {"filename": "a.txt", "purpose": "assistants", "bytes": 4, "mime_type": "text/plain"}


def _pending(server: EmulatorServer) -> set[str]:
    return {u.id for u in server.app.state.service.uploads.values() if u.status == "pending"}


def _create(client: TargetClient, n: int) -> list[str]:
    return [client.request("POST", api.CREATE.path(), json=CREATE).json["id"] for _ in range(n)]


def test_what_a_run_left_pending_is_cancelled_as_it_ends() -> None:
    with EmulatorServer(EmulatorConfig(api_key=KEY)) as server:
        ledger = UploadLedger()
        with TargetClient(server.base_url, KEY, ledger=ledger) as client:
            made = _create(client, 3)
            client.request("POST", api.CANCEL.path(made[0]))
            assert ledger.pending() == made[1:]
            cancel_left_over(client)
        assert _pending(server) == set()
    summary = ledger.summary()
    assert (summary.uploads_created, summary.ended_by_the_run, summary.ended_at_end,
            summary.left_pending) == (3, 1, 2, [])


def test_a_dead_target_leaves_them_listed_within_the_budget() -> None:
    with EmulatorServer(EmulatorConfig(api_key=KEY)) as server:
        ledger = UploadLedger()
        client = TargetClient(server.base_url, KEY, ledger=ledger)
        made = _create(client, 4)
    with client:  # the server is gone
        started = time.monotonic()
        cancel_left_over(client, budget_s=2.0)
        assert time.monotonic() - started < 2.0 + 6.0  # one request's deadline past it at most
    assert ledger.summary().left_pending == made


def _report_listing(path: Path, base_url: str, left: list[str]) -> Path:
    report = {"schema_version": "1.3", "target": base_url, "target_kind": "external",
              "adapter": "http", "profile": "quick", "seed": 1,
              "started_at": "2026-12-03T00:00:00+00:00", "duration_s": 1.0, "versions": {},
              "exit_status": 2, "verdict": "stopped", "errors": ["stopped"],
              "baseline_file": None,
              "cleanup": {"uploads_created": len(left), "bytes_declared": 0, "parts_added": 0,
                          "ended_by_the_run": 0, "ended_at_end": 0, "left_pending": left},
              "summary": {"pass": 0, "fail": 0, "info": 0, "not_testable": 0,
                          "must_failed": 0, "should_failed": 0, "baseline_accepted": 0},
              "requirements": []}
    path.write_text(json.dumps(report))
    return path


def test_the_cleanup_command_cancels_what_a_report_lists(tmp_path: Path) -> None:
    with EmulatorServer(EmulatorConfig(api_key=KEY)) as server:
        with TargetClient(server.base_url, KEY) as client:
            left = _create(client, 3)
            client.request("POST", api.CANCEL.path(left[2]))  # ended meanwhile
        report = _report_listing(tmp_path / "report.json", server.base_url, left)
        done = run_cli("cleanup", str(report), "--api-key", KEY)
        still = _pending(server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert still == set()
    assert f"{left[0]}: cancelled" in done.stdout and f"{left[2]}: had ended" in done.stdout
    assert KEY not in done.stdout + done.stderr
    gone = run_cli("cleanup", str(report), "--api-key", KEY, "--request-timeout", "2")
    assert gone.returncode == 1 and "NOT cancelled" in gone.stdout  # the target is gone


def test_the_cleanup_command_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    report = _report_listing(tmp_path / "report.json", "http://127.0.0.1:9/v1", ["upload_a"])
    data = json.loads(report.read_text())
    data["target_kind"] = "embedded emulator"
    report.write_text(json.dumps(data))
    done = run_cli("cleanup", str(report))
    assert done.returncode == 2 and "embedded emulator" in done.stderr
    missing = run_cli("cleanup", str(tmp_path / "none.json"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
