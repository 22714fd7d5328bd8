"""Whether the target is still there after a request that got no usable answer.

A request may go unanswered (refused, reset, timed out, broken off) because the target
mishandled that one request, or because it died of it. After each such request the client
finds out at once, with a fresh TCP connection to the target's host and port: refused, or
not accepted within `PROBE_TIMEOUT_S`, and the target (which answered before) has stopped.
The run is then halted (`conformance.halt`) with the request after which it stopped and
its curl, so that nothing is judged on a dead server; `STOPPED_ANSWERING` starts that
reason, for the checks to tell it from the run's other stops.

A target that still accepts connections but answers nothing (a hang, or every request
reset) is stopped the same way once `MAX_UNANSWERED_IN_A_ROW` requests in a row went
unanswered and no answer came for `SILENCE_BEFORE_GIVING_UP_S`; the first of them is named.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Final
from urllib.parse import urlsplit

from conformance import halt
from conformance.results import Exchange

__all__ = ["MAX_UNANSWERED_IN_A_ROW", "PROBE_TIMEOUT_S", "SILENCE_BEFORE_GIVING_UP_S",
           "STOPPED_ANSWERING", "Liveness", "address_of", "gone_after", "request_line",
           "target_gone"]

STOPPED_ANSWERING: Final = "the target stopped answering after this request"
PROBE_TIMEOUT_S: Final = 5.0
# A target that refuses some requests by resetting them is not dead: only a run of them,
# with no answer for this long, is.
MAX_UNANSWERED_IN_A_ROW: Final = 3
SILENCE_BEFORE_GIVING_UP_S: Final = 60.0


_PORTS: Final = {"http": 80, "https": 443}


def address_of(base_url: str) -> tuple[str, int] | None:
    """The host and port a probe connects to for `base_url` (None when it has none)."""
    parts = urlsplit(base_url)
    if not parts.hostname or parts.scheme not in _PORTS:
        return None
    return parts.hostname, parts.port or _PORTS[parts.scheme]


def gone_after(exchange: Exchange) -> str:
    """The halt's reason when the target died of `exchange`."""
    return (f"{STOPPED_ANSWERING}: {request_line(exchange)} (curl: {exchange.curl}); "
            "it no longer accepts connections")


def target_gone(address: tuple[str, int], timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether nothing accepts a TCP connection at `address` within `timeout` seconds."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return False
    except (ConnectionRefusedError, TimeoutError):
        return True
    except OSError:  # a name that no longer resolves, no route: not proof of a death
        return False


class Liveness:
    """The unanswered requests of one client, and the halt when its target stopped.

    `address` is where the probe connects: the target's host and port; None where a probe
    would say nothing (a proxy in between, a transport of the caller's own), and then only
    the run of unanswered requests stops the run.
    """

    def __init__(self, address: tuple[str, int] | None) -> None:
        self._address = address
        self._lock = threading.Lock()
        self._unanswered = 0
        self._first: Exchange | None = None  # the first of the unanswered run
        self._last_answer_at = time.monotonic()
        self._ever_answered = False  # a target that never answered did not die: unreachable

    def answered(self) -> None:
        with self._lock:
            self._unanswered, self._first = 0, None
            self._last_answer_at = time.monotonic()
            self._ever_answered = True

    def unanswered(self, exchange: Exchange) -> None:
        """`exchange` got no usable answer: halts the run if the target has stopped."""
        with self._lock:
            self._unanswered += 1
            self._first = self._first or exchange
            first, count = self._first, self._unanswered
            silent_s = time.monotonic() - self._last_answer_at
            probe = self._address if self._ever_answered else None
        if probe is not None and target_gone(probe):
            halt.halt(gone_after(exchange))
        elif count >= MAX_UNANSWERED_IN_A_ROW and silent_s >= SILENCE_BEFORE_GIVING_UP_S:
            halt.halt(f"{STOPPED_ANSWERING}: {request_line(first)} (curl: {first.curl}); "
                      f"{count} requests in a row got no usable answer in {silent_s:.0f} s, "
                      f"the last: {exchange.error}")


def request_line(exchange: Exchange) -> str:
    """`METHOD /path` of a recorded exchange (its URL is redacted already, and may not
    parse)."""
    path = exchange.url.partition("://")[2].partition("/")[2].partition("?")[0]
    return f"{exchange.method} /{path}"
