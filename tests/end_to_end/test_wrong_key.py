"""The user's mistakes, not the target's: a wrong API key or a base URL without the API
exit 2 naming the cause, at once."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.cli import CliRun, run_cli

RIGHT_KEY = "sk-right-key-for-the-wrong-key-test"
WRONG_KEY = "sk-wrong-key-for-the-wrong-key-test"


def _run(base_url: str, key: str, report_dir: Path) -> CliRun:
    return run_cli("run", "--base-url", base_url, "--api-key", key, "--seed", "3",
                   report_dir=report_dir, timeout=300)


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
