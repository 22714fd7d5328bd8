"""Retries: bounded, with back-off, honouring Retry-After, only where sending again is safe."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from conformance.client import TargetClient

KEY = "sk-test-retries-0123456789"


class Script:
    """A MockTransport handler answering from a list; the last answer repeats."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        answer = self.answers[min(self.calls, len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        self.bodies.append(request.read())
        return answer


def make(script: Script, **kw: object) -> tuple[TargetClient, list[float]]:
    sleeps: list[float] = []
    client = TargetClient("http://target.test/v1", KEY, transport=httpx.MockTransport(script),
                          sleep=sleeps.append, **kw)  # type: ignore[arg-type]
    return client, sleeps


def ok() -> httpx.Response:
    return httpx.Response(200, json={"id": "upload_1"})


def test_retry_after_seconds_is_honoured() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "2"}, json={}), ok())
    client, sleeps = make(script)
    answer = client.request("POST", "/uploads", json={"a": 1})
    assert answer.status == 200 and answer.attempts == 2
    assert sleeps == [2.0]
    assert [e.status for e in client.recent()] == [429, 200]  # both attempts recorded
    assert script.bodies == [b'{"a": 1}'] * 2


def test_retry_after_http_date_is_honoured() -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    client, sleeps = make(Script(httpx.Response(503, headers={"Retry-After": when}), ok()))
    assert client.request("GET", "/uploads").status == 200
    assert len(sleeps) == 1 and 3.0 <= sleeps[0] <= 5.0


def test_retry_after_ms_wins() -> None:
    headers = {"retry-after-ms": "250", "Retry-After": "9"}
    client, sleeps = make(Script(httpx.Response(429, headers=headers), ok()))
    client.request("GET", "/uploads")
    assert sleeps == [0.25]


def test_retry_after_is_capped() -> None:
    client, sleeps = make(Script(httpx.Response(429, headers={"Retry-After": "86400"}), ok()))
    client.request("GET", "/uploads")
    assert sleeps == [20.0]
    client, sleeps = make(Script(httpx.Response(429, headers={"Retry-After": "99"}), ok()),
                          retry_after_cap=1.5)
    client.request("GET", "/uploads")
    assert sleeps == [1.5]


def test_retries_are_bounded_with_capped_exponential_backoff() -> None:
    script = Script(httpx.Response(503, json={"error": {}}))
    client, sleeps = make(script, max_retries=5, backoff_base=1.0, backoff_cap=4.0)
    answer = client.request("POST", "/uploads", json={})
    assert answer.status == 503 and answer.attempts == 6 and script.calls == 6
    assert len(sleeps) == 5
    for attempt, slept in enumerate(sleeps):
        ceiling = min(4.0, 2.0 ** attempt)
        assert ceiling / 2 <= slept <= ceiling  # jitter within [half, full]


def test_no_retry_when_disabled_or_for_other_statuses() -> None:
    client, sleeps = make(Script(httpx.Response(503)), max_retries=0)
    assert client.request("GET", "/uploads").attempts == 1
    for status in (500, 409, 400):
        script = Script(httpx.Response(status, json={}))
        client, sleeps = make(script)
        client.request("GET", "/uploads")
        assert script.calls == 1 and sleeps == []


def test_connect_errors_are_retried_even_for_post() -> None:
    script = Script(httpx.ConnectError("refused"), ok())
    client, sleeps = make(script)
    answer = client.request("POST", "/uploads", json={})
    assert answer.status == 200 and script.calls == 2 and len(sleeps) == 1
    assert client.recent()[0].status is None and "ConnectError" in (client.recent()[0].error or "")


def test_a_broken_connection_is_retried_only_for_idempotent_requests() -> None:
    script = Script(httpx.ReadError("reset"), ok())
    client, _ = make(script)
    answer = client.request("POST", "/uploads", json={})
    assert answer.status is None and script.calls == 1 and "ReadError" in (answer.error or "")
    script = Script(httpx.ReadError("reset"), ok())
    client, _ = make(script)
    assert client.request("GET", "/uploads").status == 200 and script.calls == 2
    script = Script(httpx.ReadError("reset"), ok())
    client, _ = make(script)
    assert client.request("POST", "/x", json={}, idempotent=True).status == 200


def test_timeouts_are_not_retried() -> None:
    script = Script(httpx.ReadTimeout("slow"), ok())
    client, _ = make(script)
    answer = client.request("GET", "/uploads")
    assert answer.status is None and script.calls == 1
    assert (answer.error or "").startswith("timeout (ReadTimeout)")


def test_a_one_shot_body_is_not_retried_but_a_callable_one_is() -> None:
    script = Script(httpx.Response(429), ok())
    client, _ = make(script)
    assert client.request("POST", "/x", content=iter([b"once"])).status == 429

    made = 0

    def chunks() -> Iterator[bytes]:
        nonlocal made
        made += 1
        yield b"again"

    script = Script(httpx.Response(429), ok())
    client, _ = make(script)
    assert client.request("POST", "/x", content=chunks).status == 200
    assert made == 2 and script.bodies == [b"again", b"again"]


def test_a_streamed_part_is_regenerated_on_retry() -> None:
    made = 0

    def chunks() -> Callable[[], Iterator[bytes]]:
        def gen() -> Iterator[bytes]:
            nonlocal made
            made += 1
            yield b"a" * 1000
            yield b"b" * 24
        return gen

    script = Script(httpx.Response(503, headers={"Retry-After": "0"}), ok())
    client, sleeps = make(script)
    answer = client.add_part("upload_1", chunks(), 1024)
    assert answer.status == 200 and made == 2 and sleeps == [0.0]
    assert script.bodies[0] == script.bodies[1]
    assert b"a" * 1000 + b"b" * 24 in script.bodies[1]


def test_a_one_shot_part_is_not_retried() -> None:
    script = Script(httpx.Response(503), ok())
    client, _ = make(script)
    assert client.add_part("upload_1", iter([b"xy"]), 2).status == 503 and script.calls == 1


@pytest.mark.parametrize("value", ["soon", "", "-5"])
def test_odd_retry_after_values_fall_back_to_backoff(value: str) -> None:
    client, sleeps = make(Script(httpx.Response(429, headers={"Retry-After": value}), ok()),
                          backoff_base=0.1)
    client.request("GET", "/uploads")
    assert len(sleeps) == 1 and 0.0 <= sleeps[0] <= 0.1


def test_real_sleep_is_used_by_default() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "0.2"}), ok())
    client = TargetClient("http://t/v1", KEY, transport=httpx.MockTransport(script))
    started = time.monotonic()
    assert client.request("GET", "/uploads").status == 200
    assert 0.15 <= time.monotonic() - started < 2
