"""A keep-alive connection the target closed after an error answer, without
`Connection: close`: the next request on it is sent again on a new connection, not charged
with "no usable answer", and the report says what the target did (OPEN-CONNECTION-REUSE)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.client import TargetClient
from tests.support.cli import assert_secret_kept, new_api_key, run_suite, target_args
from tests.support.connection_targets import closing_after_errors
from tests.support.serving import RawServer, read_request

KEY = "sk-test-stale-0123456789"
Start = Callable[[Callable[[socket.socket], None]], RawServer]
NOT_FOUND = (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
             b"Content-Length: 2\r\n\r\n{}")
OK = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      b'Content-Length: 12\r\n\r\n{"ok": true}')


class ClosingAfterA404:
    """The first connection answers 404, then closes when its next request arrives (a
    reset with `reset`); every later one answers 200 (or closes unanswered too).
    `carried`: the connections a request came on (not the client's bare liveness probe)."""

    def __init__(self, *, reset: bool, fresh_ones_fail: bool = False) -> None:
        self.reset, self.fresh_ones_fail = reset, fresh_ones_fail
        self.carried = 0

    def __call__(self, conn: socket.socket) -> None:
        if not read_request(conn)[0]:
            return
        self.carried += 1
        if self.carried > 1:
            if not self.fresh_ones_fail:
                conn.sendall(OK)
            return
        conn.sendall(NOT_FOUND)
        read_request(conn)
        if self.reset:  # linger 0: the close sends a TCP RST
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_request_after_a_closed_idle_connection_gets_its_answer(
        raw_server: Start, reset: bool, method: str) -> None:
    target = ClosingAfterA404(reset=reset)
    server = raw_server(target)
    with TargetClient(server.url, KEY, timeout=5, max_retries=0) as client:
        assert client.request(method, "/uploads/nope", json={}).status == 404
        answer = client.request(method, "/uploads", json={})
    assert answer.status == 200 and answer.json == {"ok": True}
    assert answer.stale_after == (404,)  # the target closed it after that answer
    assert target.carried == 2
    first_try = client.recent()[-2]
    assert first_try.status is None and "sent again on a new one" in (first_try.error or "")


def test_a_failure_on_the_fresh_connection_is_a_real_one(raw_server: Start) -> None:
    target = ClosingAfterA404(reset=False, fresh_ones_fail=True)
    server = raw_server(target)
    with TargetClient(server.url, KEY, timeout=5, max_retries=0) as client:
        client.request("POST", "/uploads/nope", json={})
        answer = client.request("POST", "/uploads", json={})
    assert answer.status is None and "RemoteProtocolError" in (answer.error or "")
    assert answer.stale_after == ()  # not answered: nothing shows the connection was all
    assert target.carried == 2  # sent again once, on a new connection, and no more


def test_a_run_against_a_target_closing_connections_after_errors(tmp_path: Path) -> None:
    api_key = new_api_key()
    with closing_after_errors(api_key) as (base_url, target):
        run = run_suite(tmp_path, *target_args(base_url, api_key), "--max-examples", "3",
                        "--requirements", "NO-SERVER-ERROR,OPEN-CONNECTION-REUSE",
                        timeout=240)
    assert target.closed > 0, "the target never closed a connection: the case tests nothing"
    assert run.returncode == 0, run.explain()
    assert run.statuses()["NO-SERVER-ERROR"] == "pass", run.explain()
    seen = run.observations("OPEN-CONNECTION-REUSE")
    assert seen and all("without `Connection: close`: after a 4xx answer" in s for s in seen)
    assert "no usable answer" not in (tmp_path / "run" / "report.json").read_text()
    assert_secret_kept(run, api_key)
