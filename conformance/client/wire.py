"""One attempt on the wire: send a prepared request, read its answer, record the exchange.

`Wire` knows nothing of retries or of the calls that build requests: it sends one
`PreparedRequest` and hands back an `Attempt` with the answer's head; `finish` reads the
body (capped), completes the `Exchange` and parses the JSON. Both halves run under the
exchange's one deadline (`deadline.py`), however slowly the answer drips. Everything
recorded goes through the run's `Redactor` first.
"""

from __future__ import annotations

import json as jsonlib
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.client.deadline import ExchangeDeadline
from conformance.evidence import Redactor, preview, redact_url
from conformance.results import Exchange

__all__ = ["Attempt", "PreparedRequest", "Wire", "constant_body", "constant_chunks",
           "merge_headers", "one_pass_chunks"]


@dataclass(slots=True)
class PreparedRequest:
    """One request as the caller described it, ready to be sent (again, on a retry)."""

    method: str
    url: str
    headers: dict[str, str]  # exactly what is sent, the real key included
    recorded_headers: dict[str, str]  # what the Exchange shows
    body: Callable[[], bytes | Iterable[bytes]] | None
    retryable: bool  # the body can be produced again
    preview: str
    curl: str
    idempotent: bool
    max_retries: int


@dataclass(slots=True)
class Attempt:
    """An attempt whose answer head has arrived (or failed), its body not yet read."""

    exchange: Exchange
    response: httpx.Response | None
    started: float
    deadline: ExchangeDeadline
    failure: BaseException | None = None
    attempts: int = 1
    headers: httpx.Headers = field(default_factory=httpx.Headers)  # redacted
    # For each stale connection the request was sent on first (`retries.stale`), the status
    # last answered on it (None: not known).
    stale_after: tuple[int | None, ...] = ()


class Wire:
    """Sends prepared requests over one httpx client and reads their answers."""

    def __init__(self, http: httpx.Client, redactor: Redactor, *, timeout: float,
                 max_answer_bytes: int) -> None:
        self._http = http
        self._redactor = redactor
        self._timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        # The status last answered on each pooled connection, to say after what answer the
        # target closed one (the connection objects are the network layer's).
        self._answered: weakref.WeakKeyDictionary[object, int] = weakref.WeakKeyDictionary()

    def answered_before(self, attempt: Attempt) -> int | None:
        """The status an earlier exchange read on the connection `attempt` went out on."""
        stream = attempt.deadline.stream
        return None if stream is None else self._answered.get(stream)

    def send(self, request: PreparedRequest) -> Attempt:
        """Send once; the answer comes back with its body unread, a failure recorded."""
        exchange = Exchange(request.method, self._redactor.text(redact_url(request.url)),
                            request.recorded_headers, request.preview, None, curl=request.curl)
        started = time.perf_counter()
        deadline = ExchangeDeadline(self._timeout)
        try:
            built = self._http.build_request(
                request.method, request.url, headers=request.headers,
                content=request.body() if request.body is not None else None)
            if "content-length" in built.headers:
                exchange.request_headers = {**request.recorded_headers,
                                            "Content-Length": built.headers["content-length"]}
            with deadline.active():
                response = self._http.send(built, stream=True)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            exchange.error = self.describe(exc)
            exchange.duration_s = time.perf_counter() - started
            return Attempt(exchange, None, started, deadline, exc)
        exchange.status = response.status_code
        recorded = {k: self._redactor.text(v) for k, v in response.headers.items()}
        exchange.response_headers = recorded
        headers = response.headers
        if any(recorded[k] != v for k, v in headers.items()):  # the target echoed the key
            headers = httpx.Headers(recorded)
        return Attempt(exchange, response, started, deadline, headers=headers)

    def finish(self, attempt: Attempt, *, expect_json: bool) -> tuple[bytes, Any, str | None]:
        """Read the rest of the answer, complete its Exchange, parse its JSON."""
        exchange, response = attempt.exchange, attempt.response
        if response is None:
            exchange.duration_s = time.perf_counter() - attempt.started
            return b"", None, exchange.error if expect_json else None
        content = b""
        try:
            with attempt.deadline.active():
                content = self._read_capped(response)
        except httpx.HTTPError as exc:
            exchange.error = self.describe(exc, after_status=exchange.status)
            exchange.status = None
        finally:
            response.close()
            exchange.duration_s = time.perf_counter() - attempt.started
        content = self._redactor.data(content)
        exchange.response_body = preview(content)
        if exchange.status is not None and attempt.deadline.stream is not None:
            self._answered[attempt.deadline.stream] = exchange.status
        if exchange.status is None:
            return content, None, exchange.error if expect_json else None
        parsed, json_error = None, None
        if expect_json:
            if not content.strip():
                json_error = "empty answer body where JSON was expected"
            else:
                try:
                    parsed = jsonlib.loads(content)
                except ValueError as exc:  # UnicodeDecodeError is a ValueError too
                    json_error = f"answer body is not JSON: {exc}"
            if json_error is not None:
                exchange.error = json_error
        return content, parsed, json_error

    def describe(self, exc: BaseException, *, after_status: int | None = None) -> str:
        """A transport failure in one line, the key scrubbed out."""
        text = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, httpx.TimeoutException):
            text = f"timeout ({type(exc).__name__}) after {self._timeout:g} s: {exc}"
        if after_status is not None:
            text = f"broken answer after status {after_status}: {text}"
        return self._redactor.text(text)

    def _read_capped(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > self.max_answer_bytes:
                raise httpx.DecodingError(
                    f"answer body larger than {self.max_answer_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


# A request's body as the `Wire` takes it: a callable giving it (again, for a retry).

def constant_body(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def constant_chunks(data: bytes) -> Callable[[], Iterable[bytes]]:
    return lambda: (data,)


def one_pass_chunks(chunks: Iterable[bytes]) -> Callable[[], Iterable[bytes]]:
    """Chunks that can be sent once only: such a request is never retried."""
    return lambda: chunks


def merge_headers(sent: dict[str, str], extra: dict[str, str] | None) -> None:
    """Add the caller's headers; one of theirs replaces ours whatever its case."""
    for name, value in (extra or {}).items():
        for ours in [k for k in sent if k.lower() == name.lower()]:
            del sent[ours]
        sent[name] = value
