"""`uploads-conformance proxy` run as a user runs it (a process), for the proxy's tests.

`ProxySession` starts the command (its reports in a folder of the test's), reads its base
URL from its first line, keeps everything it prints (so that a full pipe never blocks it),
asks for the reports with `POST <base>/_proxy/report`, and stops it (SIGTERM) or waits for
it to stop by itself (`--exit-after`). `assert_key_kept` looks for the key in every byte the
proxy wrote or printed.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx

from tests.support.cli import start_cli

_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+/v1)")
START_TIMEOUT_S = 30.0


class ProxySession:
    def __init__(self, tmp_path: Path, *args: str, name: str = "proxy") -> None:
        self.report_dir = tmp_path / name / "reports"
        cwd = tmp_path / name / "cwd"
        cwd.mkdir(parents=True)
        self.process = start_cli("proxy", *args, cwd=cwd, report_dir=self.report_dir)
        self.lines: list[str] = []
        self.errors: list[str] = []
        assert self.process.stdout is not None and self.process.stderr is not None
        first = self.process.stdout.readline()
        self.lines.append(first)
        self._readers = [threading.Thread(target=_drain, args=(stream, into), daemon=True)
                         for stream, into in ((self.process.stdout, self.lines),
                                              (self.process.stderr, self.errors))]
        for reader in self._readers:
            reader.start()
        match = _LISTENING.search(first)
        if match is None:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the proxy did not start: {first!r} {self.errors}")
        self.base_url = match.group(1)

    @property
    def stdout(self) -> str:
        return "".join(self.lines)

    @property
    def stderr(self) -> str:
        return "".join(self.errors)

    def report(self) -> dict[str, Any]:
        """Asks for the reports now; report.json as written."""
        answer = httpx.post(f"{self.base_url}/_proxy/report", timeout=60, trust_env=False)
        assert answer.status_code == 200, answer.text
        assert set(answer.json()["reports"]) >= {"json", "junit", "markdown", "html", "har"}
        return self.report_json()

    def report_json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.report_dir / "report.json").read_text())
        return data

    def stop(self) -> int:
        """SIGTERM (as a CI runner ends it); its exit status once it has written its reports."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait()

    def wait(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def kill(self) -> None:
        """Ends it however it is (a failed test's): SIGTERM first, so it removes its spool."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ProxySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def _drain(stream: Any, into: list[str]) -> None:
    for line in stream:
        into.append(line)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["requirements"]}


def failed(report: dict[str, Any]) -> set[str]:
    return {r["id"] for r in report["requirements"] if r["status"] == "fail"}


def messages(report: dict[str, Any], requirement: str) -> list[str]:
    found = next(r for r in report["requirements"] if r["id"] == requirement)
    return [f["message"] for f in found["failures"]]


def assert_key_kept(session: ProxySession, *keys: str) -> None:
    """No key in any byte of the reports, the console or the log."""
    files = [p for p in session.report_dir.rglob("*") if p.is_file()]
    assert len(files) >= 5, files
    for key in keys:
        for path in files:
            assert key.encode() not in path.read_bytes(), f"the key is in {path.name}"
        assert key not in session.stdout and key not in session.stderr
