"""The client's limits against targets that misbehave: one deadline per exchange however
slowly the answer drips, time lost to the target counted and halting the run, a stopped
run sending nothing, and a request rate that holds."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from conformance import halt
from conformance.client import TargetClient
from conformance.client import pace as pace_module
from conformance.client.deadline import BYTES_PER_S_ALLOWED, ExchangeDeadline
from conformance.client.health import TargetHealth, health
from conformance.client.pace import Pace
from tests.support.serving import RawServer, read_request

KEY = "sk-deadline-0123456789abcdef"
BODY = b'{"error": {"message": "slow", "type": "invalid_request_error"}}'


class Drip:
    """Answers each request a byte at a time, `every` seconds apart: the head too, or only
    the body. Counts what it got to send, so a test can see it was cut off."""

    def __init__(self, *, head_too: bool, every: float = 0.25) -> None:
        self.head_too, self.every = head_too, every
        self.sent = 0
        self.finished = False
        self._stop = threading.Event()
        self.server = RawServer(self._handle)

    def _handle(self, conn: socket.socket) -> None:
        read_request(conn)
        head = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(BODY)}\r\n\r\n".encode())
        if not self.head_too:
            conn.sendall(head)
        for byte in (head if self.head_too else b"") + BODY:
            if self._stop.wait(self.every):
                return
            conn.sendall(bytes([byte]))
            self.sent += 1
        self.finished = True

    def close(self) -> None:
        self._stop.set()
        self.server.close()


@pytest.mark.parametrize("head_too", [False, True], ids=["body-drips", "head-drips"])
def test_an_answer_that_drips_is_cut_off_at_the_deadline(head_too: bool) -> None:
    drip = Drip(head_too=head_too)
    try:
        with TargetClient(drip.server.url, KEY, timeout=1.0, max_retries=0) as client:
            answer = client.request("GET", "/uploads")
    finally:
        drip.close()
    # Each byte came well within httpx's per-read timeout; only the deadline stops it.
    assert answer.status is None
    assert "timeout" in (answer.error or "") and "deadline" in (answer.error or "")
    assert not drip.finished and drip.sent < len(BODY)
    assert health.causes, "the time the target wasted was not counted"


def test_the_deadline_grows_with_the_bytes_that_went_through() -> None:
    deadline = ExchangeDeadline(timeout=1.0)
    before = deadline.left()
    deadline.transferred = 10 * BYTES_PER_S_ALLOWED
    assert deadline.left() > before + 9  # a 10 MiB exchange earns 10 s more


def test_time_lost_past_the_budget_halts_the_run() -> None:
    watch = TargetHealth(budget_s=5)
    watch.lost(3, "retry wait after 429 (Retry-After: 3600)", "POST /v1/uploads")
    assert halt.reason() is None
    watch.lost(2.5, "request without an answer (ReadTimeout)", "POST /v1/uploads/u/parts")
    stopped = halt.reason()
    assert stopped is not None
    assert "wasted 6 s" in stopped and "over the 5 s allowed" in stopped
    assert "1 × retry wait after 429 (Retry-After: 3600)" in stopped
    assert "the last at POST /v1/uploads/u/parts" in stopped


def test_retry_waits_count_against_the_run_and_a_stopped_run_sends_nothing() -> None:
    sent: list[httpx.Request] = []

    def throttle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(429, headers={"Retry-After": "3600"})

    health.reset(budget_s=30)
    client = TargetClient("http://target.test/v1", KEY, transport=httpx.MockTransport(throttle),
                          max_retries=1, sleep=lambda seconds: None)
    answer = client.request("POST", "/uploads", json={})
    # Retry-After is honoured up to its cap (20 s): the second request's wait passes the
    # 30 s budget, so the run is stopped and its retry is never sent.
    with pytest.raises(halt.RunHalted):
        client.request("POST", "/uploads", json={})
    assert answer.status == 429
    assert health.lost_s >= 30
    assert "retry wait after 429 (Retry-After: 3600)" in (halt.reason() or "")
    count = len(sent)
    with pytest.raises(halt.RunHalted):
        client.request("GET", "/uploads")
    assert len(sent) == count


def test_halt_wakes_a_sleeper_at_once() -> None:
    timer = threading.Timer(0.05, halt.halt, args=("stopped by the test",))
    timer.start()
    with pytest.raises(halt.RunHalted, match="stopped by the test"):
        halt.wait(600)
    timer.join()


def test_the_pace_spaces_requests_over_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    lock = threading.Lock()

    def record(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    monkeypatch.setattr(pace_module.halt, "wait", record)
    pace = Pace(per_second=4)
    threads = [threading.Thread(target=pace.wait_turn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Four requests at 4 a second: slots 0, 0.25, 0.5 and 0.75 s from the first.
    assert sorted(round(w * 4) for w in waits) == [0, 1, 2, 3]
    assert Pace(None).wait_turn() is None
    with pytest.raises(ValueError):
        Pace(0)
