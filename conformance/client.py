"""The target client: every HTTP request the suite sends to a target, and its record.

`TargetClient` sends a request with a timeout, retries the answers that ask for it (429,
503) and the connections that never carried the request, and records each exchange as an
`Exchange` with the API key redacted and a curl line that reproduces it. A transport failure
never raises: it comes back as an `Answer` without a status, the error recorded.
"""

from __future__ import annotations

import datetime
import email.utils
import enum
import json as jsonlib
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from conformance.evidence import (
    REDACTED,
    CurlForm,
    Redactor,
    curl_command,
    preview,
    redact_url,
    truncate,
)
from conformance.results import Exchange

__all__ = [
    "MISSING",
    "Answer",
    "ContentStream",
    "Response",
    "TargetClient",
    "TargetUnreachable",
    "TestControlsError",
    "json_body",
]

MAX_ANSWER_BYTES: Final = 16 * 1024 * 1024  # an answer to request() larger than this is broken
CONTROLS_PATH: Final = "/_conformance"
_RETRY_STATUSES: Final = frozenset({429, 503})
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# The request never reached the target: always safe to send again.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# No target answers at all: the run cannot be done.
_UNREACHABLE: Final = (httpx.ConnectError, httpx.TimeoutException, httpx.UnsupportedProtocol)
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


# Parts up to this size are sent from one buffer; larger ones are streamed.
SMALL_BODY_BYTES = 256 * 1024


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing.MISSING  # "no JSON body", as opposed to a JSON `null`

Chunks = Iterable[bytes] | Callable[[], Iterable[bytes]]


class TargetUnreachable(Exception):
    """The target does not answer at all (refused, unknown host, timeout)."""


class TestControlsError(RuntimeError):
    """The target's test controls are missing or refused a request."""

    __test__ = False  # not a pytest test class, whatever its name


# --- answers ------------------------------------------------------------------------------


@dataclass(slots=True, repr=False)
class Answer:
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

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def is_client_error(self) -> bool:
        return self.status is not None and 400 <= self.status < 500

    @property
    def error(self) -> str | None:
        return self.exchange.error

    def __repr__(self) -> str:
        return (f"Answer({self.exchange.method} {self.exchange.url} -> {self.status}, "
                f"{len(self.content)} bytes, error={self.error!r})")


Response = Answer  # the name the design sketch uses


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

    def __init__(self, client: TargetClient, pending: _Pending, chunk_size: int) -> None:
        self._client = client
        self._pending = pending
        self._chunk_size = chunk_size
        self._prefetched: bytes | None = None
        self.exchange = pending.exchange
        self.headers = pending.headers
        self.bytes_read = 0
        self.json: Any = None
        self._done = pending.response is None
        if pending.response is not None and not (200 <= pending.response.status_code < 300):
            content, self.json, _ = client._finish(pending, expect_json=True)
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
        response = self._pending.response
        assert response is not None
        try:
            for chunk in response.iter_bytes(self._chunk_size):
                self.bytes_read += len(chunk)
                yield chunk
        except httpx.HTTPError as exc:
            self.exchange.error = self._client._describe(exc, after_status=self.status)
        finally:
            self.close()

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        if self._pending.response is not None:
            self._pending.response.close()
        self.exchange.response_body = f"<streamed: {self.bytes_read} bytes read>"
        self.exchange.duration_s = time.perf_counter() - self._pending.started


# --- the client ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Spec:
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
class _Pending:
    """An attempt whose answer head has arrived (or failed), its body not yet read."""

    exchange: Exchange
    response: httpx.Response | None
    started: float
    failure: BaseException | None = None
    attempts: int = 1
    headers: httpx.Headers = field(default_factory=httpx.Headers)  # redacted


class TargetClient:
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
        retry_after_cap: float = 30.0,
        history: int = 200,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the base URL must look like http(s)://host[:port][/path], got "
                             + repr(redact_url(base_url, Redactor(api_key))))
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self._api_key = api_key
        self._redactor = Redactor(api_key)
        self._backoff = (backoff_base, backoff_cap, retry_after_cap)
        self._max_answer_bytes = max_answer_bytes
        self._sleep = sleep
        self._log: deque[Exchange] = deque(maxlen=history)
        self._controls: str | _Missing | None = MISSING  # the controls' URL, once looked up
        self._controls_lock = threading.Lock()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,  # a redirect is an answer to check, not to follow
            trust_env=parts.hostname not in _LOOPBACK,  # no proxy between us and a local target
            headers={"User-Agent": "uploads-conformance"},
        )

    # -- lifecycle --

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TargetClient:
        return self

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
        body: Callable[[], bytes | Iterable[bytes]] | None = None
        retryable = True
        if json is not MISSING:
            if content is not None:
                raise TypeError("give json or content, not both")
            data = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
            body = _constant(data)
        elif isinstance(content, bytes | bytearray | memoryview):
            data = bytes(content)
            body = _constant(data)
        elif callable(content):
            data = None
            body = content
        elif content is not None:
            data = None
            body = _once(content)
            retryable = False
        else:
            data = None
        _merge_headers(sent, headers)
        if data is not None:
            shown = preview(self._redactor.data(data))
        else:
            shown = "" if body is None else "<streamed body>"
        curl = self._curl(method, self._url(path), sent, auth, data=data,
                          streamed=body is not None and data is None)
        return self._request(self._spec(method, path, sent, auth, body, retryable, shown,
                                        curl, idempotent), expect_json=expect_json)

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
        form = _MultipartForm(field_name, filename, content_type, extra_fields or {}, size)
        if isinstance(chunks, bytes | bytearray | memoryview):
            chunks = _constant_iter(bytes(chunks))
        retryable = callable(chunks)
        source = chunks if callable(chunks) else _once(chunks)
        sent = {"Content-Type": form.content_type, "Content-Length": str(form.length)}
        extras = "".join(f", {k}={v}" for k, v in form.extra_fields.items())
        preview = truncate(self._redactor.text(
            f"<multipart/form-data: {field_name}={filename}, {size} bytes{extras}>"))
        curl = self._curl("POST", self._url(f"/uploads/{quote(upload_id, safe='')}/parts"),
                          sent, auth, form=form)
        if size <= SMALL_BODY_BYTES:
            # One buffer, one write: a stream of tiny chunks costs a socket send each.
            def body() -> bytes | Iterable[bytes]:
                return b"".join(form.stream(source()))
        else:
            def body() -> bytes | Iterable[bytes]:
                return form.stream(source())
        spec = self._spec("POST", f"/uploads/{quote(upload_id, safe='')}/parts", sent, auth,
                          body, retryable, preview, curl, False)
        return self._request(spec, expect_json=True)

    @contextmanager
    def stream_get(self, path: str, *, auth: bool | str = True,
                   chunk_size: int = 1 << 20) -> Iterator[ContentStream]:
        """GET a (possibly large) body and iterate it in chunks, recorded on close.

            with client.stream_get(f"/files/{file_id}/content") as stream:
                for chunk in stream: ...
        """
        curl = self._curl("GET", self._url(path), {}, auth)
        spec = self._spec("GET", path, {}, auth, None, True, "", curl, True)
        stream = ContentStream(self, self._send(spec), chunk_size)
        try:
            yield stream
        finally:
            stream.close()

    def record_exchange(self, exchange: Exchange) -> None:
        """Adds an exchange made outside this client (an SDK's) to the recent log."""
        self._log.append(exchange)

    def recent(self, n: int | None = None) -> list[Exchange]:
        """The last n exchanges (all kept ones without n), oldest first."""
        log = list(self._log)
        return log if n is None else log[-n:] if n > 0 else []

    # -- reachability and test controls --

    def check_reachable(self) -> Answer:
        """Any HTTP answer to GET /uploads; TargetUnreachable if none arrives."""
        spec = self._spec("GET", "/uploads", {}, False, None, True, "",
                          self._curl("GET", self._url("/uploads"), {}, False), True)
        spec.max_retries = min(1, self.max_retries)
        pending = self._send(spec)
        if isinstance(pending.failure, _UNREACHABLE):
            raise TargetUnreachable(f"target {self.display_url} is unreachable: "
                                    f"{pending.exchange.error}")
        return self._answer(pending, expect_json=False)

    def controls_available(self) -> bool:
        """Whether the target offers the test controls, looked up once.

        The extension, under the base URL (else the origin): `GET /_conformance` answers
        `{"object": "test_controls", "now": <unix seconds>}`; `POST /_conformance/clock/advance`
        with `{"seconds": s}` moves the target's clock forward and answers the same.
        """
        return self._controls_url() is not None

    def advance_clock(self, seconds: float) -> float:
        """Move the target's clock forward; returns the target's new time (unix seconds)."""
        url = self._require_controls()
        answer = self.request("POST", url + "/clock/advance", json={"seconds": seconds})
        if not answer.ok:
            raise TestControlsError(f"advancing the clock was answered {answer.status}: "
                                    f"{answer.error or answer.exchange.response_body[:200]}")
        now = _number(answer.json, "now")
        return now if now is not None else (self.target_now() or time.time())

    def target_now(self) -> float | None:
        """The target's current time: its test clock, else its Date header, else None."""
        url = self._controls_url()
        if url is not None:
            for candidate in (url, url + "/clock"):
                answer = self.request("GET", candidate)
                now = _number(answer.json, "now") if answer.ok else None
                if now is not None:
                    return now
        answer = self.request("GET", "/uploads", expect_json=False)
        return _http_date(answer.headers.get("date"))

    # -- internals --

    def _controls_url(self) -> str | None:
        with self._controls_lock:
            if self._controls is MISSING:
                self._controls = None
                origin = urlunsplit(urlsplit(self.base_url)._replace(path="", query=""))
                for url in dict.fromkeys((self.base_url + CONTROLS_PATH, origin + CONTROLS_PATH)):
                    answer = self.request("GET", url)
                    if answer.status == 200 and isinstance(answer.json, dict) \
                            and answer.json.get("object") == "test_controls":
                        self._controls = url
                        break
            return self._controls

    def _require_controls(self) -> str:
        url = self._controls_url()
        if url is None:
            raise TestControlsError(f"target {self.display_url} offers no test controls")
        return url

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def _spec(self, method: str, path: str, sent: dict[str, str], auth: bool | str,
              body: Callable[[], bytes | Iterable[bytes]] | None, retryable: bool,
              preview: str, curl: str, idempotent: bool | None) -> _Spec:
        headers = dict(sent)
        recorded = {k: self._redactor.text(v) for k, v in sent.items()}
        if not any(k.lower() == "authorization" for k in sent):
            if auth is True and self._api_key is not None:
                headers["Authorization"] = f"Bearer {self._api_key}"
                recorded["Authorization"] = f"Bearer {REDACTED}"
            elif isinstance(auth, str):  # a deliberately wrong key: shown, but never ours
                headers["Authorization"] = f"Bearer {auth}"
                recorded["Authorization"] = self._redactor.text(headers["Authorization"])
        return _Spec(method, self._url(path), headers, recorded, body, retryable, preview,
                     curl, method in _IDEMPOTENT if idempotent is None else idempotent,
                     self.max_retries)

    def _request(self, spec: _Spec, *, expect_json: bool) -> Answer:
        return self._answer(self._send(spec), expect_json=expect_json)

    def _answer(self, pending: _Pending, *, expect_json: bool) -> Answer:
        content, parsed, json_error = self._finish(pending, expect_json=expect_json)
        return Answer(pending.exchange, pending.exchange.status, parsed, json_error,
                      pending.headers, content, pending.attempts)

    def _send(self, spec: _Spec) -> _Pending:
        """Send with retries; the last attempt's answer comes back with its body unread."""
        attempt = 0
        while True:
            pending = self._send_once(spec)
            self._log.append(pending.exchange)
            delay = self._retry_delay(spec, pending, attempt)
            if delay is None:
                pending.attempts = attempt + 1
                return pending
            self._finish(pending, expect_json=False)
            self._sleep(delay)
            attempt += 1

    def _send_once(self, spec: _Spec) -> _Pending:
        exchange = Exchange(spec.method, self._redactor.text(redact_url(spec.url)),
                            spec.recorded_headers, spec.preview, None, curl=spec.curl)
        started = time.perf_counter()
        try:
            request = self._http.build_request(
                spec.method, spec.url, headers=spec.headers,
                content=spec.body() if spec.body is not None else None)
            if "content-length" in request.headers:
                exchange.request_headers = {**spec.recorded_headers,
                                            "Content-Length": request.headers["content-length"]}
            response = self._http.send(request, stream=True)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            exchange.error = self._describe(exc)
            exchange.duration_s = time.perf_counter() - started
            return _Pending(exchange, None, started, exc)
        exchange.status = response.status_code
        recorded = {k: self._redactor.text(v) for k, v in response.headers.items()}
        exchange.response_headers = recorded
        headers = response.headers
        if any(recorded[k] != v for k, v in headers.items()):  # the target echoed the key
            headers = httpx.Headers(recorded)
        return _Pending(exchange, response, started, headers=headers)

    def _finish(self, pending: _Pending, *, expect_json: bool) -> tuple[bytes, Any, str | None]:
        """Read the rest of the answer, complete its Exchange, parse its JSON."""
        exchange, response = pending.exchange, pending.response
        if response is None:
            exchange.duration_s = time.perf_counter() - pending.started
            return b"", None, exchange.error if expect_json else None
        content = b""
        try:
            content = self._read_capped(response)
        except httpx.HTTPError as exc:
            exchange.error = self._describe(exc, after_status=exchange.status)
            exchange.status = None
        finally:
            response.close()
            exchange.duration_s = time.perf_counter() - pending.started
        content = self._redactor.data(content)
        exchange.response_body = preview(content)
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

    def _read_capped(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > self._max_answer_bytes:
                raise httpx.DecodingError(
                    f"answer body larger than {self._max_answer_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _retry_delay(self, spec: _Spec, pending: _Pending, attempt: int) -> float | None:
        if attempt >= spec.max_retries:
            return None
        base, cap, retry_after_cap = self._backoff
        backoff = min(cap, base * 2 ** attempt) * (0.5 + random.random() / 2)
        if pending.response is not None:
            if pending.response.status_code not in _RETRY_STATUSES or not spec.retryable:
                return None
            asked = _retry_after(pending.response.headers)
            return backoff if asked is None else min(asked, retry_after_cap)
        failure = pending.failure
        if isinstance(failure, _NOT_SENT) and spec.retryable:
            return backoff
        # Sent, and the connection broke: only an idempotent request may go again. A timeout
        # is not retried: a hanging target is a finding, and waiting again only delays it.
        if isinstance(failure, httpx.NetworkError | httpx.RemoteProtocolError) \
                and not isinstance(failure, httpx.TimeoutException) \
                and spec.idempotent and spec.retryable:
            return backoff
        return None

    def _describe(self, exc: BaseException, *, after_status: int | None = None) -> str:
        kind = "timeout" if isinstance(exc, httpx.TimeoutException) else ""
        text = f"{type(exc).__name__}: {exc}" if not kind else \
            f"timeout ({type(exc).__name__}) after {self.timeout:g} s: {exc}"
        if after_status is not None:
            text = f"broken answer after status {after_status}: {text}"
        return self._redactor.text(text)

    def _curl(self, method: str, url: str, sent: dict[str, str], auth: bool | str, *,
              data: bytes | None = None, streamed: bool = False,
              form: _MultipartForm | None = None) -> str:
        headers = dict(sent)
        if isinstance(auth, str):
            headers = {"Authorization": f"Bearer {auth}", **headers}
        curl_form = None if form is None else CurlForm(
            form.field_name, form.size, form.filename, form.file_type, form.extra_fields)
        return curl_command(method, url, headers, self._redactor,
                            key_auth=auth is True and self._api_key is not None,
                            body=data, streamed=streamed, form=curl_form)


# --- multipart ----------------------------------------------------------------------------


class _MultipartForm:
    """A multipart/form-data body of text fields and one file, streamed, with its length."""

    def __init__(self, field_name: str, filename: str, file_type: str,
                 extra_fields: dict[str, str], size: int) -> None:
        if size < 0:
            raise ValueError("a part's size cannot be negative")
        self.field_name, self.filename, self.file_type = field_name, filename, file_type
        self.extra_fields = dict(extra_fields)
        self.size = size
        boundary = os.urandom(16).hex()
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote_param(k)}"'
            f"\r\n\r\n".encode() + v.encode() + b"\r\n"
            for k, v in self.extra_fields.items())
        head += (f'--{boundary}\r\nContent-Disposition: form-data; '
                 f'name="{_quote_param(field_name)}"; filename="{_quote_param(filename)}"\r\n'
                 f"Content-Type: {file_type}\r\n\r\n").encode()
        self._head = head
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self.length = len(head) + size + len(self._tail)

    def stream(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        yield self._head
        sent = 0
        for chunk in chunks:
            if not chunk:
                continue
            sent += len(chunk)
            if sent > self.size:
                raise ValueError(f"the part's chunks exceed the declared size of {self.size} bytes")
            yield chunk if isinstance(chunk, bytes) else bytes(chunk)
        if sent != self.size:
            raise ValueError(f"the part's chunks hold {sent} bytes, not the declared {self.size}")
        yield self._tail


def _quote_param(value: str) -> str:
    # As browsers do (HTML form submission): quotes and line breaks percent-encoded.
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


# --- small helpers ------------------------------------------------------------------------


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _constant_iter(data: bytes) -> Callable[[], Iterable[bytes]]:
    return lambda: (data,)


def _once(chunks: Iterable[bytes]) -> Callable[[], Iterable[bytes]]:
    return lambda: chunks


def _merge_headers(sent: dict[str, str], extra: dict[str, str] | None) -> None:
    """Add the caller's headers; one of theirs replaces ours whatever its case."""
    for name, value in (extra or {}).items():
        for ours in [k for k in sent if k.lower() == name.lower()]:
            del sent[ours]
        sent[name] = value








def _retry_after(headers: httpx.Headers) -> float | None:
    """The wait an answer asks for (retry-after-ms, then Retry-After), in seconds."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = _http_date(value)
    return None if when is None else max(0.0, when - time.time())


def _http_date(value: str | None) -> float | None:
    """An HTTP date (RFC 9110) as unix seconds; None if absent or malformed."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, by the RFC
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def _number(document: Any, key: str) -> float | None:
    value = document.get(key) if isinstance(document, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
