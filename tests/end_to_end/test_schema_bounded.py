"""The schema checks' HTTP transport against targets that misbehave: an endless answer is cut
at the cap, a dripping one at the deadline (the time counted as lost), ordinary answers
read as before, and a stopped run sends nothing, not even from inside schemathesis.

The run state (halt, health) is reset before and after each test by tests/conftest.py.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from conformance import halt
from conformance.client.health import health
from conformance.schema import run_schema_checks
from conformance.schema.bounded import MAX_BODY_BYTES, mount_bounded
from tests.support.schema_targets import API_KEY, make_app
from tests.support.serving import RawServer, read_request, serve_app

MIB = 1024 * 1024
HUGE = 2 * 1024 * MIB


@pytest.fixture
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    mount_bounded(session)
    yield session
    session.close()


class Endless:
    """Announces a 2 GiB body and streams zeros until the client hangs up; counts what it
    got to send."""

    def __init__(self) -> None:
        self.sent = 0
        self.hung_up = threading.Event()
        self.server = RawServer(self._handle)

    def _handle(self, conn: socket.socket) -> None:
        read_request(conn)
        zeros = bytes(MIB)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         + f"Content-Length: {HUGE}\r\n\r\n".encode())
            while self.sent < HUGE:
                conn.sendall(zeros)
                self.sent += len(zeros)
        except OSError:
            self.hung_up.set()


def test_an_endless_answer_is_cut_at_the_cap(http: requests.Session) -> None:
    endless = Endless()
    try:
        with pytest.raises(requests.exceptions.ContentDecodingError,
                           match=f"answer body larger than {MAX_BODY_BYTES} bytes"):
            http.get(f"{endless.server.url}/uploads", timeout=60)
        assert endless.hung_up.wait(30), "the connection was not dropped"
        # What was read, plus what the kernel's buffers took in before the hang-up.
        assert endless.sent < 64 * MIB
    finally:
        endless.server.close()
    assert health.causes == {"request without an answer (ContentDecodingError)": 1}


def test_a_small_compressed_answer_is_capped_as_it_decodes(
        http: requests.Session, raw_server: Callable[..., RawServer]) -> None:
    bomb = gzip.compress(bytes(MAX_BODY_BYTES + MIB))  # some 17 KB that decode to 17 MiB

    def handle(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Encoding: gzip\r\n"
                     + f"Content-Length: {len(bomb)}\r\n\r\n".encode() + bomb)

    server = raw_server(handle)
    with pytest.raises(requests.exceptions.ContentDecodingError, match="larger than"):
        http.get(f"{server.url}/uploads", timeout=30)


class Drip:
    """Answers a byte at a time, `every` seconds apart: the head too, or only the body
    (with a Content-Length, or chunked). Counts what it got to send."""

    BODY = json.dumps({"error": {"message": "x" * 150, "type": "slow"}}).encode()[:200]

    def __init__(self, part: str, every: float = 0.5) -> None:
        self.part, self.every = part, every
        self.sent = 0
        self.finished = False
        self._stop = threading.Event()
        self.server = RawServer(self._handle)

    def _handle(self, conn: socket.socket) -> None:
        read_request(conn)
        framing = (b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(self.BODY):x}\r\n".encode()
                   if self.part == "chunked body"
                   else f"Content-Length: {len(self.BODY)}\r\n\r\n".encode())
        head = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n" + framing
        dripped = head + self.BODY if self.part == "head" else self.BODY
        if self.part != "head":
            conn.sendall(head)
        for byte in dripped:
            if self._stop.wait(self.every):
                return
            conn.sendall(bytes([byte]))
            self.sent += 1
        self.finished = True

    def close(self) -> None:
        self._stop.set()
        self.server.close()


@pytest.mark.parametrize(("part", "message"), [
    ("body", "the answer was still arriving after 2 s"),
    ("chunked body", "the answer was still arriving after 2 s"),
    ("head", "no complete answer within 2 s"),
])
def test_a_dripping_answer_is_cut_at_the_deadline(http: requests.Session, part: str,
                                                  message: str) -> None:
    health.reset()
    drip = Drip(part)
    try:
        with pytest.raises(requests.exceptions.ReadTimeout, match=message):
            http.get(f"{drip.server.url}/uploads", timeout=2)
        assert not drip.finished
        assert drip.sent < len(Drip.BODY)
    finally:
        drip.close()
    assert health.causes == {"request without an answer (ReadTimeout)": 1}
    assert health.last == "GET /v1/uploads"
    assert health.lost_s > 0
    health.reset()


def _answering(body: bytes, *headers: str) -> Callable[[socket.socket], None]:
    head = "".join(f"{header}\r\n" for header in headers)

    def handle(conn: socket.socket) -> None:
        while read_request(conn)[0]:  # keep-alive: every request on the connection
            conn.sendall(f"HTTP/1.1 200 OK\r\n{head}Content-Length: {len(body)}\r\n\r\n"
                         .encode() + body)

    return handle


def test_an_ordinary_answer_reads_as_before(http: requests.Session,
                                            raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(_answering(b'{"id": "upload_1", "object": "upload"}',
                                   "Content-Type: application/json"))
    first = http.post(f"{server.url}/uploads", json={}, timeout=5)
    second = http.post(f"{server.url}/uploads", json={}, timeout=5)
    assert first.status_code == 200
    assert first.json() == second.json() == {"id": "upload_1", "object": "upload"}
    assert server.connections == 1  # the connection went back to the pool
    assert health.causes == {}


def test_a_streamed_answer_can_still_be_streamed(http: requests.Session,
                                                 raw_server: Callable[..., RawServer]) -> None:
    body = json.dumps({"data": "z" * 5000}).encode()
    server = raw_server(_answering(gzip.compress(body), "Content-Type: application/json",
                                   "Content-Encoding: gzip"))
    streamed = http.get(f"{server.url}/uploads", stream=True, timeout=5)
    assert b"".join(streamed.iter_content(1000)) == body
    # As schemathesis reads an event stream: from `raw`, decoded, as it comes.
    raw = http.get(f"{server.url}/uploads", stream=True, timeout=5).raw
    pieces = iter(lambda: raw.read1(1000, decode_content=True), b"")
    assert b"".join(pieces) == body
    assert raw.headers["Content-Encoding"] == "gzip"  # what the evidence shows, unchanged


def test_a_stopped_run_sends_nothing(http: requests.Session,
                                     raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(_answering(b"{}", "Content-Type: application/json"))
    halt.halt("x")
    try:
        with pytest.raises(halt.RunHalted, match="x"):
            http.get(f"{server.url}/uploads", timeout=5)
    finally:
        halt.reset()
    # Served in order: had the stopped request connected, this one would make two.
    assert http.get(f"{server.url}/uploads", timeout=5).status_code == 200
    assert server.connections == 1


def test_a_run_stopped_midway_ends_the_schema_checks() -> None:
    """RunHalted gets through schemathesis, Hypothesis and the passes' own handlers, and no
    request goes out after it."""
    seen: list[str] = []
    app = make_app(api_key=API_KEY)

    async def halting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(f"{scope['method']} {scope['path']}")
            if len(seen) == 25:
                halt.halt("stopped for the test")
        await app(scope, receive, send)

    with serve_app(halting) as base_url, \
            pytest.raises(halt.RunHalted, match="stopped for the test"):
        run_schema_checks(base_url, API_KEY, max_examples=10, seed=5)
    assert len(seen) == 25
