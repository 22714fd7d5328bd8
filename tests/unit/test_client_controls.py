"""Test controls: discovery under the base URL or the origin, the clock, their absence."""

from __future__ import annotations

import email.utils
import json

import httpx
import pytest

from conformance.client import TargetClient, TestControlsError

KEY = "sk-test-controls-0123456789"


class ControlledTarget:
    """A MockTransport handler offering the controls under `prefix`."""

    def __init__(self, prefix: str | None, now: float = 1_700_000_000.0) -> None:
        self.prefix = prefix
        self.now = now
        self.discovery_calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if self.prefix is None or not path.startswith(self.prefix):
            date = email.utils.formatdate(self.now, usegmt=True)
            return httpx.Response(404, headers={"Date": date}, json={"error": {}})
        rest = path[len(self.prefix):]
        if rest == "" and request.method == "GET":
            self.discovery_calls += 1
            return httpx.Response(200, json={"object": "test_controls", "now": self.now})
        if rest == "/clock" and request.method == "GET":
            return httpx.Response(200, json={"now": self.now})
        if rest == "/clock/advance" and request.method == "POST":
            seconds = json.loads(request.read())["seconds"]
            if seconds < 0:
                return httpx.Response(400, json={"error": {"message": "backwards"}})
            self.now += seconds
            return httpx.Response(200, json={"now": self.now})
        return httpx.Response(404, json={"error": {}})


@pytest.mark.parametrize("prefix", ["/v1/_conformance", "/_conformance"])
def test_controls_are_found_and_advance_the_clock(prefix: str) -> None:
    target = ControlledTarget(prefix)
    with TargetClient("http://t/v1", KEY, transport=httpx.MockTransport(target)) as client:
        assert client.controls_available() is True
        assert client.controls_available() is True
        assert target.discovery_calls == 1  # looked up once
        assert client.target_now() == 1_700_000_000.0
        assert client.advance_clock(3601) == 1_700_003_601.0
        assert client.target_now() == 1_700_003_601.0
        with pytest.raises(TestControlsError, match="answered 400"):
            client.advance_clock(-1)


def test_without_controls() -> None:
    target = ControlledTarget(None, now=1_600_000_000.0)
    with TargetClient("http://t/v1", KEY, transport=httpx.MockTransport(target)) as client:
        assert client.controls_available() is False
        with pytest.raises(TestControlsError, match="offers no test controls"):
            client.advance_clock(10)
        assert client.target_now() == 1_600_000_000.0  # from the Date header


def test_a_discovery_answer_of_another_kind_is_not_controls() -> None:
    handler = httpx.MockTransport(lambda r: httpx.Response(200, json={"object": "list"}))
    with TargetClient("http://t/v1", KEY, transport=handler) as client:
        assert client.controls_available() is False
        assert client.target_now() is None
