"""The target's test controls (an optional extension) and the target's clock.

Under the base URL (else the origin), `GET /_conformance` answers
`{"object": "test_controls", "now": <unix seconds>}`; `POST /_conformance/clock/advance`
with `{"seconds": s}` moves the target's clock forward and answers the same. A target
without them still has a time: its Date header.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from conformance.client.retries import http_date

if TYPE_CHECKING:
    from conformance.client.target_client import TargetClient

__all__ = ["CONTROLS_PATH", "TestControls", "TestControlsError"]

CONTROLS_PATH: Final = "/_conformance"


class TestControlsError(RuntimeError):
    """The target's test controls are missing or refused a request."""

    __test__ = False  # not a pytest test class, whatever its name


class TestControls:
    """A target's test controls, reached through its client, looked up once."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, client: TargetClient) -> None:
        self._client = client
        self._url: str | None = None
        self._looked_up = False
        self._lock = threading.Lock()  # one lookup, whichever thread asks first

    def url(self) -> str | None:
        """The controls' URL, None when the target offers none."""
        with self._lock:
            if not self._looked_up:
                self._looked_up = True
                base = self._client.base_url
                origin = urlunsplit(urlsplit(base)._replace(path="", query=""))
                for url in dict.fromkeys((base + CONTROLS_PATH, origin + CONTROLS_PATH)):
                    answer = self._client.request("GET", url)
                    if answer.status == 200 and isinstance(answer.json, dict) \
                            and answer.json.get("object") == "test_controls":
                        self._url = url
                        break
            return self._url

    def advance_clock(self, seconds: float) -> float:
        """Move the target's clock forward; returns the target's new time (unix seconds)."""
        url = self.url()
        if url is None:
            raise TestControlsError(f"target {self._client.display_url} offers no test controls")
        answer = self._client.request("POST", url + "/clock/advance", json={"seconds": seconds})
        if not answer.ok:
            raise TestControlsError(f"advancing the clock was answered {answer.status}: "
                                    f"{answer.error or answer.exchange.response_body[:200]}")
        now = _number(answer.json, "now")
        return now if now is not None else (self.target_now() or time.time())

    def target_now(self) -> float | None:
        """The target's current time: its test clock, else its Date header, else None."""
        url = self.url()
        if url is not None:
            for candidate in (url, url + "/clock"):
                answer = self._client.request("GET", candidate)
                now = _number(answer.json, "now") if answer.ok else None
                if now is not None:
                    return now
        answer = self._client.request("GET", "/uploads", expect_json=False)
        return http_date(answer.headers.get("date"))


def _number(document: Any, key: str) -> float | None:
    value = document.get(key) if isinstance(document, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
