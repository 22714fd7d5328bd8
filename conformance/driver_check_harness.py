"""The harness of `driver-check`: what its checks run on, and how a reply is read.

`DriverHarness` holds one embedded emulator's base URL and key, a plain HTTP client to set
up uploads and see what the emulator holds, and the driver under test, started afresh when
a check broke it; `check` runs one check and writes its PASS or FAIL line. `result_of` and
`error_of` read a reply as the protocol (docs/sdk-drivers.md) shapes it, or say why it is
not so shaped. The checks themselves are `driver_check`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from conformance.adapters.driver import PROTOCOL_VERSION
from conformance.adapters.driver_pipe import Connection, DriverError
from conformance.evidence import Redactor

__all__ = ["CheckFailed", "DriverHarness", "error_of", "result_of", "short", "upload_body"]


class CheckFailed(Exception):
    """A check's failure: what happened and what to fix."""


class DriverHarness:
    """What the checks run on: one emulator, plain HTTP to it, and the driver (a fresh one
    whenever a check broke the last), each check's line written as it ends."""

    def __init__(self, command: str, base_url: str, api_key: str, timeout: float,
                 write: Callable[[str], None]) -> None:
        self.command, self.base_url, self.api_key = command, base_url, api_key
        self.timeout, self.write = timeout, write
        self.redactor = Redactor(api_key)
        self.http = httpx.Client(base_url=base_url + "/", timeout=timeout, trust_env=False,
                                 headers={"Authorization": f"Bearer {api_key}"})
        self.driver: Connection | None = None
        self.ready: dict[str, Any] = {}
        self.failed = 0

    # -- the driver --

    def start(self) -> tuple[Connection, dict[str, Any]]:
        """A started driver and its answer to the hello (DriverError if there is none)."""
        driver = Connection(self.command, self.redactor)
        try:
            ready = driver.request({"type": "hello", "protocol": PROTOCOL_VERSION,
                                    "base_url": self.base_url, "api_key": self.api_key,
                                    "timeout_s": self.timeout}, self.timeout, "the hello")
        except BaseException:
            driver.close()
            raise
        return driver, ready

    def live(self) -> Connection:
        """The driver, started afresh if a check broke it, so checks fail one at a time."""
        if self.driver is None:
            self.driver, _ = self.start()
        return self.driver

    def call(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        return self.live().request({"op": op, "args": args}, self.timeout, op)

    def close(self) -> None:
        if self.driver is not None:
            self.driver.close()
        self.http.close()

    # -- reporting --

    def check(self, name: str, run: Callable[[], str]) -> None:
        try:
            line = f"PASS  {name}: {run()}"
        except (CheckFailed, DriverError) as error:
            self.failed += 1
            line = f"FAIL  {name}: {' '.join(str(error).split())}"
            if isinstance(error, DriverError):
                line += " (a driver answers every request it is sent, and keeps running)"
            if isinstance(error, DriverError) and self.driver is not None:
                self.driver.close()
                self.driver = None
        self.write(self.redactor.text(line))

    # -- plain HTTP, to set up and to see what the emulator holds --

    def new_upload(self, size: int) -> str:
        answer = self.http.post("uploads", json=upload_body("check.bin", size))
        answer.raise_for_status()
        return str(answer.json()["id"])

    def http_part(self, upload_id: str, data: bytes) -> str:
        answer = self.http.post(f"uploads/{upload_id}/parts",
                                files={"data": ("part.bin", data, "application/octet-stream")})
        answer.raise_for_status()
        return str(answer.json()["id"])

    def http_complete(self, upload_id: str, part_ids: list[str], md5: str) -> httpx.Response:
        return self.http.post(f"uploads/{upload_id}/complete",
                              json={"part_ids": part_ids, "md5": md5})


def result_of(reply: dict[str, Any], op: str) -> dict[str, Any]:
    """A success reply's result, or why the reply is not one."""
    if reply.get("ok") is not True or not isinstance(reply.get("result"), dict):
        raise CheckFailed(f"expected {{ok: true, result: {{...}}}} for {op}, got "
                          f"{short(reply)} (answer a call that returned with its result)")
    result: dict[str, Any] = reply["result"]
    return result


def error_of(reply: dict[str, Any], op: str) -> dict[str, Any]:
    """A failure reply's error, or why the reply is not one."""
    error = reply.get("error")
    if reply.get("ok") is not False or not isinstance(error, dict) \
            or not isinstance(error.get("class"), str):
        raise CheckFailed(f"expected {{ok: false, error: {{class, ...}}}} for {op}, got "
                          f"{short(reply)}")
    return error


def short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "..."


def upload_body(filename: str, size: int) -> dict[str, Any]:
    return {"bytes": size, "filename": filename, "purpose": "assistants",
            "mime_type": "application/octet-stream"}
