"""Shared pieces of the emulator benchmarks: the emulator as a separate process, and a lean
HTTP client (http.client) so the figures measure the server, not a slow client."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from conformance.processes import stop

API_KEY = "sk-emulator"
MIB = 1024 * 1024
BOUNDARY = "emulator-bench-boundary"
_LISTENING = re.compile(r"base URL (http://[^\s]+/v1)")


@dataclass
class Served:
    process: subprocess.Popen[str]
    base_url: str

    @property
    def host(self) -> str:
        return str(urlsplit(self.base_url).hostname)

    @property
    def port(self) -> int:
        return int(urlsplit(self.base_url).port or 80)


@contextmanager
def emulator_process(*extra_args: str) -> Iterator[Served]:
    """`python -m conformance.emulator` on a free loopback port, stopped at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.emulator", "--port", "0", "--api-key", API_KEY,
         *extra_args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        match = _LISTENING.search(process.stdout.readline())
        if match is None:
            raise RuntimeError("the emulator did not start")
        # Keep reading its output (the access log): a full pipe would block the server.
        threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
        yield Served(process, match.group(1))
    finally:
        stop(process, grace_s=30)


class Client:
    """One keep-alive connection speaking just enough of the API."""

    def __init__(self, served: Served) -> None:
        self.conn = http.client.HTTPConnection(served.host, served.port, timeout=300)
        self.headers = {"Authorization": f"Bearer {API_KEY}"}

    def close(self) -> None:
        self.conn.close()

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        self.conn.request(method, f"/v1{path}", body=body, headers={**self.headers,
                                                                     **(headers or {})})
        response = self.conn.getresponse()
        return response.status, response.read()

    def json(self, method: str, path: str, payload: Any = None) -> dict[str, Any]:
        body = None if payload is None else json.dumps(payload).encode()
        status, data = self.request(method, path, body, {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"{method} {path}: {status} {data[:200]!r}")
        result: dict[str, Any] = json.loads(data)
        return result

    def create(self, size: int) -> str:
        upload = self.json("POST", "/uploads", {"bytes": size, "filename": "bench.bin",
                                                "purpose": "assistants",
                                                "mime_type": "application/octet-stream"})
        return str(upload["id"])

    def add_part(self, upload_id: str, chunks: Iterable[bytes], size: int) -> str:
        """Send a part of `size` bytes given as `chunks`, with a Content-Length."""
        head, tail = multipart_frame()
        body = _chain([head], chunks, [tail])
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                   "Content-Length": str(len(head) + size + len(tail))}
        status, data = self.request("POST", f"/uploads/{upload_id}/parts", body, headers)
        if status != 200:
            raise RuntimeError(f"part refused: {status} {data[:200]!r}")
        return str(json.loads(data)["id"])


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


def multipart_frame() -> tuple[bytes, bytes]:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"data\"; "
            f"filename=\"part.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    return head, f"\r\n--{BOUNDARY}--\r\n".encode()


def _chain(*iterables: Iterable[bytes]) -> Iterator[bytes]:
    for iterable in iterables:
        yield from iterable
