"""What a target answered: `Answer` for a request read whole, `ContentStream` for a download.

A transport failure never raises here either: it comes back as an answer without a status,
the reason in `error`.
"""

from __future__ import annotations

import enum
import json as jsonlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx

from conformance.client.wire import Attempt, Wire
from conformance.results import Exchange

__all__ = ["MISSING", "Answer", "AnswerBasics", "ContentStream", "json_body"]


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing.MISSING  # "no JSON body", as opposed to a JSON `null`


class AnswerBasics:
    """What every kind of answer (raw HTTP, an SDK's) says the same way: whether the target
    took the request (a 2xx), and why no answer came when none did."""

    __slots__ = ()
    status: int | None
    exchange: Exchange
    # The status last answered on each kept-alive connection that the target had closed
    # without saying so and this request was sent on first (None: not known); only the
    # raw HTTP client sees such connections.
    stale_after: tuple[int | None, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def error(self) -> str | None:
        return self.exchange.error


@dataclass(slots=True, repr=False)
class Answer(AnswerBasics):
    """A target's answer to one request: the record, and the full parsed body.

    `status` is None when no usable answer arrived (the reason is in `error`). `json` is the
    parsed body of the whole answer (the Exchange holds only a preview); `json_error` says
    why there is none when JSON was expected.
    """

    exchange: Exchange
    status: int | None
    json: Any
    json_error: str | None
    headers: httpx.Headers
    content: bytes
    attempts: int = 1
    stale_after: tuple[int | None, ...] = ()

    @property
    def is_client_error(self) -> bool:
        return self.status is not None and 400 <= self.status < 500

    def __repr__(self) -> str:
        return (f"Answer({self.exchange.method} {self.exchange.url} -> {self.status}, "
                f"{len(self.content)} bytes, error={self.error!r})")


def json_body(answer: Answer | Exchange) -> Any | None:
    """The parsed JSON body: the full one of an Answer, the preview's of a bare Exchange."""
    if isinstance(answer, Answer):
        return answer.json
    try:
        return jsonlib.loads(answer.response_body)
    except ValueError:
        return None


class ContentStream:
    """A streamed answer (GET /files/{id}/content): iterate it for the body's chunks.

    Iterating never raises a transport error: it stops, and `error` says why. A non-2xx
    answer is read at once, so its `json` is there before iterating.
    """

    def __init__(self, wire: Wire, attempt: Attempt, chunk_size: int) -> None:
        self._wire = wire
        self._attempt = attempt
        self._chunk_size = chunk_size
        self._prefetched: bytes | None = None
        self.exchange = attempt.exchange
        self.headers = attempt.headers
        self.bytes_read = 0
        self.json: Any = None
        self._done = attempt.response is None
        if attempt.response is not None and not (200 <= attempt.response.status_code < 300):
            content, self.json, _ = wire.finish(attempt, expect_json=True)
            self._prefetched = content
            self._done = True

    @property
    def status(self) -> int | None:
        """The answer's status; a body cut short keeps it, with `error` saying so."""
        return self.exchange.status

    @property
    def error(self) -> str | None:
        return self.exchange.error

    def __iter__(self) -> Iterator[bytes]:
        if self._prefetched is not None:
            data, self._prefetched = self._prefetched, b""
            if data:
                self.bytes_read += len(data)
                yield data
            return
        if self._done:
            return
        response = self._attempt.response
        assert response is not None
        chunks = response.iter_bytes(self._chunk_size)
        try:
            while True:
                # The exchange's deadline, for each read only: the caller does other
                # things between chunks.
                with self._attempt.deadline.active():
                    chunk = next(chunks, None)
                if chunk is None:
                    break
                self.bytes_read += len(chunk)
                yield chunk
        except httpx.HTTPError as exc:
            self.exchange.error = self._wire.describe(exc, after_status=self.status)
        finally:
            self.close()

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        if self._attempt.response is not None:
            self._attempt.response.close()
        self.exchange.response_body = f"<streamed: {self.bytes_read} bytes read>"
        self.exchange.duration_s = time.perf_counter() - self._attempt.started
