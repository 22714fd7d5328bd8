"""The user's mistakes, not the target's: a wrong API key or a base URL without the API
exit 2 naming the cause, at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.cli import CliRun, run_cli
from tests.support.serving import serve_app

RIGHT_KEY = "sk-right-key-for-the-wrong-key-test"
WRONG_KEY = "sk-wrong-key-for-the-wrong-key-test"


def _run(base_url: str, key: str, report_dir: Path) -> CliRun:
    return run_cli("run", "--base-url", base_url, "--api-key", key, "--seed", "3",
                   "--max-examples", "10", report_dir=report_dir, timeout=300)


def test_a_wrong_key_exits_2_saying_so_and_the_right_key_passes(tmp_path: Path) -> None:
    with EmulatorServer(EmulatorConfig(api_key=RIGHT_KEY, test_controls=True)) as server:
        wrong = _run(server.base_url, WRONG_KEY, tmp_path / "wrong")
        right = _run(server.base_url, RIGHT_KEY, tmp_path / "right")
    assert wrong.returncode == 2, wrong.stdout[-2000:] + wrong.stderr[-2000:]
    assert "API key" in wrong.stderr and "401" in wrong.stderr
    assert "NOT CONFORMANT" not in wrong.stdout
    report = json.loads((tmp_path / "wrong" / "report.json").read_text())
    assert report["exit_status"] == 2 and "API key" in report["errors"][0]
    for output in (wrong.stdout, wrong.stderr, *(f.read_text() for f in
                                                 (tmp_path / "wrong").iterdir())):
        assert WRONG_KEY not in output
    assert right.returncode == 0, right.stdout[-2000:] + right.stderr[-2000:]


def test_a_base_url_that_is_not_the_apis_exits_2_saying_so(tmp_path: Path) -> None:
    with EmulatorServer(EmulatorConfig(api_key=RIGHT_KEY, test_controls=True)) as server:
        origin = server.base_url.removesuffix("/v1")  # the usual mistake: no /v1
        done = _run(origin, RIGHT_KEY, tmp_path / "origin")
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "no Uploads API at this base URL" in done.stderr and "/v1" in done.stderr
    assert "NOT CONFORMANT" not in done.stdout


def test_no_key_for_a_target_that_wants_one_exits_2_saying_so(tmp_path: Path) -> None:
    with EmulatorServer(EmulatorConfig(api_key=RIGHT_KEY, test_controls=True)) as server:
        done = run_cli("run", "--base-url", server.base_url, report_dir=tmp_path, timeout=120)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "asks for an API key" in done.stderr and "NOT CONFORMANT" not in done.stdout


def test_a_key_the_target_forbids_exits_2_saying_so(tmp_path: Path) -> None:
    async def forbidden(scope: dict, receive: object, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"error": {"message": "no"}}'})

    with serve_app(forbidden) as base_url:
        done = _run(base_url, RIGHT_KEY, tmp_path)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "refuses the key (forbidden" in done.stderr
    assert RIGHT_KEY not in done.stdout + done.stderr
