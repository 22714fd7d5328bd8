"""`TargetClient`: every HTTP request the suite sends to a target, and its record.

It builds each request (JSON, raw or streamed bodies, a multipart part, auth), sends it
through the `Wire`, retries what `RetryPolicy` allows, and keeps the recent exchanges, each
with the API key redacted and a curl line that reproduces it. Every exchange has one
deadline (`deadline.py`); time the target wastes counts against the run (`health.py`);
a request without an answer asks whether the target is still there (`liveness.py`); a
stopped run (`conformance.halt`) sends nothing more; `rate_limit` paces the requests.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from conformance import api, halt
from conformance.client import wire
from conformance.client.answer import MISSING, Answer, ContentStream
from conformance.client.connection import DIRECT, Connection
from conformance.client.controls import TestControls
from conformance.client.deadline import DeadlineTransport
from conformance.client.exchange_log import ExchangeLog
from conformance.client.health import health
from conformance.client.ledger import UploadLedger
from conformance.client.liveness import Liveness, address_of, request_line
from conformance.client.multipart import MultipartForm
from conformance.client.pace import Pace
from conformance.client.retries import RetryPolicy, stale
from conformance.client.wire import Attempt, PreparedRequest, Wire
from conformance.evidence import REDACTED, Redactor, curl_command, preview, redact_url, truncate
from conformance.results import Exchange

__all__ = ["MAX_ANSWER_BYTES", "Chunks", "TargetClient", "TargetUnreachable"]

# An answer to request() larger than this is broken: the API's objects are a few hundred
# bytes, and 64 parts in flight must not hold a GiB between them.
MAX_ANSWER_BYTES: Final = 1024 * 1024
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# No target answers at all: the run cannot be done.
_UNREACHABLE: Final = (httpx.ConnectError, httpx.TimeoutException, httpx.UnsupportedProtocol)
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# Scenarios send up to 64 parts at once, each over a connection of its own, and keep them
# open for the next round.
_POOL_IDLE: Final = 64
_POOL: Final = httpx.Limits(max_connections=128, max_keepalive_connections=_POOL_IDLE)

Chunks = Iterable[bytes] | Callable[[], Iterable[bytes]]
Body = Callable[[], bytes | Iterable[bytes]]


class TargetUnreachable(Exception):
    """The target does not answer at all (refused, unknown host, timeout)."""


class TargetClient(AbstractContextManager["TargetClient"]):
    """Sends requests to one target and records every exchange, the key redacted."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        retry_after_cap: float = 20.0,
        history: int = 200,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        sleep: Callable[[float], None] = halt.wait,
        rate_limit: float | None = None,
        connection: Connection = DIRECT,
        ledger: UploadLedger | None = None,
        other_keys: Mapping[str, str | None] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the base URL must look like http(s)://host[:port][/path], got "
                             + repr(redact_url(base_url, Redactor(api_key))))
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self._api_key = api_key
        self._connection = connection
        # Keys sent as `auth=KEY` that are secrets too (another tenant's, one a character off
        # ours), each with the variable a curl line reads it from (None: shown redacted).
        self._other_keys = dict(other_keys or {})
        self._redactor = Redactor(api_key, *self._other_keys, *connection.secrets())
        self._retries = RetryPolicy(backoff_base, backoff_cap, retry_after_cap)
        self._sleep = sleep
        self._pace = Pace(rate_limit)
        self._log = ExchangeLog(history)
        self.ledger = ledger  # the uploads this client saw created, for the run's cleanup
        self._controls = TestControls(self)
        # A probe of the target's port says whether it died; not through a proxy, nor
        # past a transport of the caller's.
        direct = transport is None and connection.proxy is None
        self._liveness = Liveness(address_of(base_url) if direct else None)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            limits=_POOL,
            transport=transport or DeadlineTransport(limits=_POOL, verify=connection.verify(),
                                                     proxy=connection.httpx_proxy()),
            follow_redirects=False,  # a redirect is an answer to check, not to follow
            trust_env=parts.hostname not in _LOOPBACK,  # no proxy between us and a local target
            headers={"User-Agent": "uploads-conformance"},
        )
        self._wire = Wire(self._http, self._redactor, timeout=timeout,
                          max_answer_bytes=max_answer_bytes)

    # -- lifecycle --

    def close(self) -> None:
        self._http.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TargetClient({self.display_url!r}, api_key={REDACTED})"

    @property
    def display_url(self) -> str:
        """The base URL as it may be shown and written (no credentials)."""
        return redact_url(self.base_url, self._redactor)

    def redact(self, text: str) -> str:
        """The text with the API key scrubbed out (for messages built from answers)."""
        return self._redactor.text(text)

    # -- requests --

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = MISSING,
        content: bytes | Chunks | None = None,
        headers: dict[str, str] | None = None,
        auth: bool | str = True,
        expect_json: bool = True,
        idempotent: bool | None = None,
    ) -> Answer:
        """Send one request and return its answer; transport failures come back recorded.

        `json` is serialised (any JSON-able value, `None` sends `null`); `content` is sent
        as is: bytes, a zero-argument callable producing the chunks (retryable), or a
        one-shot iterable of chunks (never retried). `auth`: True sends the client's key,
        False none, a string that key instead. `expect_json=False` accepts any body;
        `idempotent` says whether a request whose connection broke may be sent again
        (default: by method).
        """
        method = method.upper()
        sent: dict[str, str] = {}
        body: Body | None = None
        retryable = True
        if json is not MISSING:
            if content is not None:
                raise TypeError("give json or content, not both")
            data = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
            body = wire.constant_body(data)
        elif isinstance(content, bytes | bytearray | memoryview):
            data = bytes(content)
            body = wire.constant_body(data)
        elif callable(content):
            data = None
            body = content
        elif content is not None:
            data = None
            body = wire.one_pass_chunks(content)
            retryable = False
        else:
            data = None
        wire.merge_headers(sent, headers)
        if data is not None:
            shown = preview(self._redactor.data(data))
        else:
            shown = "" if body is None else "<streamed body>"
        curl = self._curl(method, self._url(path), sent, auth, data=data,
                          streamed=body is not None and data is None)
        prepared = self._prepare(method, path, sent, auth, body, retryable, shown, curl,
                                 idempotent)
        return self._answer(self._send(prepared), expect_json=expect_json)

    def add_part(
        self,
        upload_id: str,
        chunks: bytes | Chunks,
        size: int,
        *,
        field_name: str = "data",
        filename: str = "part.bin",
        content_type: str = "application/octet-stream",
        extra_fields: dict[str, str] | None = None,
        auth: bool | str = True,
    ) -> Answer:
        """POST /uploads/{upload_id}/parts as a streamed multipart/form-data body.

        `chunks` yields exactly `size` bytes; give a zero-argument callable producing them
        for the request to be retryable. The part is never held in memory whole.
        """
        form = MultipartForm(field_name, filename, content_type, extra_fields or {}, size)
        if isinstance(chunks, bytes | bytearray | memoryview):
            chunks = wire.constant_chunks(bytes(chunks))
        retryable = callable(chunks)
        source = chunks if callable(chunks) else wire.one_pass_chunks(chunks)
        path = api.ADD_PART.path(upload_id)
        sent = {"Content-Type": form.content_type, "Content-Length": str(form.length)}
        extras = "".join(f", {k}={v}" for k, v in form.extra_fields.items())
        shown = truncate(self._redactor.text(
            f"<multipart/form-data: {field_name}={filename}, {size} bytes{extras}>"))
        curl = self._curl("POST", self._url(path), sent, auth, form=form)
        prepared = self._prepare("POST", path, sent, auth, form.body(source), retryable, shown,
                                 curl, False)
        return self._answer(self._send(prepared), expect_json=True)

    @contextmanager
    def stream_get(self, path: str, *, auth: bool | str = True,
                   chunk_size: int = 1 << 20) -> Iterator[ContentStream]:
        """GET a (possibly large) body and iterate it in chunks, recorded on close.

            with client.stream_get(f"/files/{file_id}/content") as stream:
                for chunk in stream: ...
        """
        curl = self._curl("GET", self._url(path), {}, auth)
        prepared = self._prepare("GET", path, {}, auth, None, True, "", curl, True)
        attempt = self._send(prepared)
        if attempt.response is None:
            self._liveness.unanswered(attempt.exchange)
        stream = ContentStream(self._wire, attempt, chunk_size)
        try:
            yield stream
        finally:
            stream.close()

    def record_exchange(self, exchange: Exchange) -> None:
        """Adds an exchange made outside this client (an SDK's) to the recent log."""
        self._log.keep(exchange)
        if self.ledger is not None:
            self.ledger.observe(exchange)

    def send_once(self, method: str, path: str, timeout: float) -> int | None:
        """One bodiless request with the key, one attempt of at most `timeout` seconds, not
        paced, sent even in a stopped run (for the cleanup, the last requests of a run);
        its status, None without an answer."""
        wire = Wire(self._http, self._redactor, timeout=min(self.timeout, timeout),
                    max_answer_bytes=self._wire.max_answer_bytes)
        prepared = self._prepare(method, path, {}, True, None, True, "",
                                 self._curl(method, self._url(path), {}, True), False)
        attempt = wire.send(prepared)
        wire.finish(attempt, expect_json=False)
        self._log.keep(attempt.exchange)
        return attempt.exchange.status

    def mark(self) -> int:
        """The number of the last exchange kept: `recent(since=...)` starts after it."""
        return self._log.mark()

    def recent(self, n: int | None = None, since: int = 0) -> list[Exchange]:
        """The last n exchanges kept after the mark `since` (see `ExchangeLog`)."""
        return self._log.recent(n, since)

    # -- reachability and test controls --

    def check_reachable(self) -> Answer:
        """Any HTTP answer to GET /uploads; TargetUnreachable if none arrives."""
        prepared = self._prepare("GET", "/uploads", {}, False, None, True, "",
                                 self._curl("GET", self._url("/uploads"), {}, False), True)
        prepared.max_retries = min(1, self.max_retries)
        attempt = self._send(prepared)
        if isinstance(attempt.failure, _UNREACHABLE):
            raise TargetUnreachable(f"target {self.display_url} is unreachable: "
                                    f"{attempt.exchange.error}")
        return self._answer(attempt, expect_json=False)

    def controls_available(self) -> bool:
        """Whether the target offers the test controls (see `controls.py`), looked up once."""
        return self._controls.url() is not None

    def advance_clock(self, seconds: float) -> float:
        """Move the target's clock forward; returns the target's new time (unix seconds)."""
        return self._controls.advance_clock(seconds)

    def target_now(self) -> float | None:
        """The target's current time: its test clock, else its Date header, else None."""
        return self._controls.target_now()

    # -- internals --

    def _url(self, path: str) -> str:
        """The URL of `path` (one under the base URL, or a whole URL on the target), with
        the connection's query parameters."""
        if not path.startswith(("http://", "https://")):
            path = self.base_url + (path if path.startswith("/") else "/" + path)
        return self._connection.url(path)

    def _prepare(self, method: str, path: str, sent: dict[str, str], auth: bool | str,
                 body: Body | None, retryable: bool, shown: str, curl: str,
                 idempotent: bool | None) -> PreparedRequest:
        """The request with its auth header added: the real one sent, a redacted one shown."""
        sent = {**dict(self._connection.headers), **sent}
        headers = dict(sent)
        recorded = {k: self._redactor.text(v) for k, v in sent.items()}
        key_name = self._connection.auth_name
        if not any(k.lower() == key_name.lower() for k in sent):
            if auth is True and self._api_key is not None:
                name, headers[key_name] = self._connection.auth(self._api_key)
                recorded[name] = self._redactor.text(headers[key_name])
            elif isinstance(auth, str):  # a deliberately wrong key: shown, but never ours
                name, headers[key_name] = self._connection.auth(auth)
                recorded[name] = self._redactor.text(headers[key_name])
        return PreparedRequest(method, self._url(path), headers, recorded, body, retryable,
                               shown, curl,
                               method in _IDEMPOTENT if idempotent is None else idempotent,
                               self.max_retries)

    def _send(self, prepared: PreparedRequest) -> Attempt:
        """Send with retries; the last attempt's answer comes back with its body unread."""
        retries = 0
        stale_after: list[int | None] = []
        while True:
            halt.check()
            self._pace.wait_turn()
            attempt = self._wire.send(prepared)
            self._log.keep(attempt.exchange)
            # Past the pool's idle connections, the next attempt is on a new one anyway.
            if stale(prepared, attempt) and len(stale_after) <= _POOL_IDLE:
                stale_after.append(self._wire.answered_before(attempt))
                attempt.exchange.error = (f"{attempt.exchange.error} (a kept-alive connection "
                                          "the target had closed: sent again on a new one)")
                continue
            attempt.stale_after = tuple(stale_after)
            if attempt.response is None:
                _lost(attempt.exchange.duration_s,
                      f"request without an answer ({type(attempt.failure).__name__})", attempt)
            delay = self._retries.delay(prepared, attempt, retries)
            if delay is None:
                attempt.attempts = retries + 1
                return attempt
            self._wire.finish(attempt, expect_json=False)
            _lost(delay, _retry_cause(attempt), attempt)
            self._sleep(delay)
            retries += 1

    def _answer(self, attempt: Attempt, *, expect_json: bool) -> Answer:
        broke_now = attempt.response is not None
        content, parsed, json_error = self._wire.finish(attempt, expect_json=expect_json)
        if self.ledger is not None:
            self.ledger.observe(attempt.exchange)
        if broke_now and attempt.exchange.status is None:  # the answer's body broke off
            _lost(attempt.exchange.duration_s, "answer broken off", attempt)
        answered = attempt.exchange.status is not None
        if answered:
            self._liveness.answered()
        else:
            self._liveness.unanswered(attempt.exchange)
        # Only a request answered in the end shows that the closed connection was its fault.
        return Answer(attempt.exchange, attempt.exchange.status, parsed, json_error,
                      attempt.headers, content, attempt.attempts,
                      attempt.stale_after if answered else ())

    def _curl(self, method: str, url: str, sent: dict[str, str], auth: bool | str, *,
              data: bytes | None = None, streamed: bool = False,
              form: MultipartForm | None = None) -> str:
        headers = {**dict(self._connection.headers), **sent}
        variable = self._other_keys.get(auth) if isinstance(auth, str) else None
        if isinstance(auth, str) and variable is None:
            name, value = self._connection.auth(auth)
            headers = {name: value, **headers}
        return curl_command(method, url, headers,
                            self._redactor, key_header=self._connection.auth_name,
                            key_auth=variable is not None or (auth is True
                                                              and self._api_key is not None),
                            key_variable=variable or "OPENAI_API_KEY",
                            body=data, streamed=streamed,
                            form=None if form is None else form.curl_form())


def _lost(seconds: float, cause: str, attempt: Attempt) -> None:
    health.lost(seconds, cause, request_line(attempt.exchange))


def _retry_cause(attempt: Attempt) -> str:
    if attempt.response is None:
        return f"retry wait after no answer ({type(attempt.failure).__name__})"
    asked = attempt.response.headers.get("retry-after")
    return f"retry wait after {attempt.response.status_code}" + \
        (f" (Retry-After: {asked})" if asked else "")
