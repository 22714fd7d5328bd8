"""What an SDK sent and what it gave back, as records: requests, answers and their Exchange.

While an SDK runs an operation, every request it sends is recorded as a `SentRequest`
(seen on the wire by the Python adapters, reported by a driver, or read whole by
`describe_request`), the key redacted; a multipart body is read by `MultipartScanner` as it
streams past, keeping each field's name, size and md5, never its bytes. `render_exchange`
turns a recorded request and its answer into the suite's `Exchange`, with a curl line that
reproduces it. Judging those records is `sdk_checks`' business (and the judge's).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path
from typing import Any, Final

from conformance.client import MISSING, AnswerBasics
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
    "ChunkedCall",
    "ChunkedRun",
    "FormField",
    "HttpRecord",
    "MultipartScanner",
    "SdkAnswer",
    "SentRequest",
    "authorization_problem",
    "curl_line",
    "describe_request",
    "parse_json_body",
    "recorded_url",
    "redact_headers",
    "render_exchange",
]

_MAX_HEADER_BLOCK: Final = 16 * 1024  # a multipart part's headers longer than this are broken

@dataclass(slots=True)
class FormField:
    """One field of a multipart body: its name, filename (None: not a file), size, md5."""

    name: str | None
    filename: str | None
    content_type: str | None
    size: int
    md5: str


@dataclass(slots=True)
class SentRequest:
    """One request as it went out, the key already redacted from `headers`.

    The body is kept as what the checks need: the parsed JSON (`json`, MISSING when the body
    was not JSON), or the fields of a multipart form (never the part's bytes).
    """

    method: str
    url: str  # redacted
    headers: dict[str, str]  # redacted; Authorization shows as "Bearer [REDACTED]"
    auth_problem: str | None  # why Authorization is not "Bearer <the key>", if it is not
    body_size: int
    json: Any = MISSING
    json_text: str = ""  # the JSON body as sent (redacted), for the record
    form: list[FormField] | None = None
    form_error: str | None = None  # the multipart body could not be read

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")

    @classmethod
    def observed(cls, method: str, url: str, headers: Sequence[tuple[str, str]],
                 redactor: Redactor, api_key: str | None,
                 form: list[FormField] | None = None) -> SentRequest:
        """A request as an SDK sent it, redacted, its Authorization header judged."""
        auth = next((v for k, v in headers if k.lower() == "authorization"), None)
        return cls(method.upper(), recorded_url(url, redactor),
                   redact_headers(headers, redactor, api_key),
                   authorization_problem(auth, api_key), 0, form=form)

    def set_body(self, body: bytes, redactor: Redactor) -> None:
        """Keeps what the checks need of a non-multipart body: its size and JSON."""
        self.body_size = len(body)
        if body:
            self.json, self.json_text = parse_json_body(body, redactor)

    def summary(self) -> str:
        """The body as an Exchange shows it."""
        if self.form is not None:
            fields = ", ".join(f"{f.name}={f.filename or '(text)'}, {f.size} bytes"
                               for f in self.form)
            return f"<multipart/form-data: {fields or 'no fields'}>"
        if self.json_text:
            return truncate(self.json_text)
        return f"<{self.body_size} bytes>" if self.body_size else ""


@dataclass(slots=True)
class HttpRecord:
    """A request an SDK sent, the status and parsed JSON of its answer, and its Exchange."""

    sent: SentRequest
    exchange: Exchange
    status: int | None
    json: Any  # the answer's parsed JSON body; None when it had none


@dataclass(slots=True, repr=False)
class SdkAnswer(AnswerBasics):
    """An SDK adapter's answer to one operation, as the machine sees any adapter's.

    `status` and `json` are what the target sent (not the SDK's typed view of it);
    `sdk_result` and `sdk_error` keep what the SDK gave back.
    """

    status: int | None
    json: Any
    exchange: Exchange
    sdk_result: Any = None
    sdk_error: BaseException | dict[str, Any] | None = None

    def __repr__(self) -> str:
        return (f"SdkAnswer({self.exchange.method} {self.exchange.url} -> {self.status}, "
                f"sdk_error={type(self.sdk_error).__name__ if self.sdk_error else None})")


@dataclass(frozen=True, slots=True)
class ChunkedCall:
    """What one run of an SDK's chunked upload helper is given.

    The file is on disk at `path` (its name is the upload's filename); the helper gets the
    path, or with `from_path` False the file's bytes (read from it: small files only).
    `part_size` None leaves the helper its default, as a user who gives none does.
    `declared_bytes` is a `bytes=` argument that differs from the file's size (None: the
    size, where the helper needs one). Past `max_requests` requests the adapter stops the
    helper, if it can (`SdkAdapter.stops_runaway_helpers`): a helper that never ends.
    """

    path: Path
    size: int
    mime_type: str
    purpose: str
    part_size: int | None
    md5: str | None
    from_path: bool
    declared_bytes: int | None = None
    max_requests: int | None = None

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def bytes_argument(self) -> int:
        return self.size if self.declared_bytes is None else self.declared_bytes


@dataclass(slots=True)
class ChunkedRun:
    """One run of an SDK's chunked upload helper: what it sent, and how it ended.

    `records` are the exchanges in the order sent, or None when the SDK's HTTP was not
    visible (a driver that reports none). `json` is the final answer's body (the target's
    when visible, else the SDK's result or error body); `error` the SDK's exception, if any.
    """

    records: list[HttpRecord] | None
    status: int | None
    json: Any
    error: str | None = None
    result_problems: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)


def authorization_problem(value: str | None, api_key: str | None) -> str | None:
    """Why an Authorization header is not `Bearer <api_key>`; None when it is."""
    if value is None:
        return "no Authorization header"
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return "Authorization is not 'Bearer <key>'"
    if api_key is not None and token != api_key:
        return "Authorization carries another key than the one the SDK was given"
    return None


def redact_headers(headers: Sequence[tuple[str, str]], redactor: Redactor,
                   api_key: str | None) -> dict[str, str]:
    recorded: dict[str, str] = {}
    for name, value in headers:
        if name.lower() == "authorization" and authorization_problem(value, api_key) is None:
            recorded[name] = f"Bearer {REDACTED}"
        else:
            recorded[name] = redactor.text(value)
    return recorded



def parse_json_body(body: bytes, redactor: Redactor) -> tuple[Any, str]:
    """(the parsed JSON or MISSING, the text as recorded).

    JSON is UTF-8 text without NaN or Infinity (RFC 8259); anything else is MISSING.
    """
    text = redactor.text(body.decode("utf-8", "replace"))
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant), text
    except ValueError:
        return MISSING, text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class MultipartScanner:
    """Reads a multipart/form-data body as it streams past, never holding a part whole.

    Feed it the body's chunks; `fields` then lists each field's name, filename, size and
    md5. `error` says why the body could not be read (no boundary, a broken delimiter, cut
    short); `complete` is True once the closing delimiter was seen.
    """

    def __init__(self, content_type: str) -> None:
        self.fields: list[FormField] = []
        self.error: str | None = None
        self.complete = False
        self.size = 0
        boundary = _param(content_type, "boundary")
        if not boundary:
            self.error = "a multipart body without a boundary"
        self._delimiter = b"\r\n--" + (boundary or "").encode("latin-1", "replace")
        self._buffer = bytearray(b"\r\n")  # the first delimiter has no line break before it
        self._state = "preamble"
        self._field: FormField | None = None
        self._digest = hashlib.md5()

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.error is not None or self.complete:
            return
        self._buffer += chunk
        while self.error is None and not self.complete and self._step():
            pass

    def close(self) -> None:
        if self.error is None and not self.complete:
            self.error = f"the multipart body ends before its closing delimiter ({self._state})"

    def _step(self) -> bool:
        """One move of the parser; False when it needs more bytes."""
        buffer, delimiter = self._buffer, self._delimiter
        if self._state in ("preamble", "data"):
            at = buffer.find(delimiter)
            if at < 0:
                keep = len(delimiter) - 1
                if len(buffer) > keep:
                    self._consume(len(buffer) - keep)
                return False
            self._consume(at)
            del buffer[: len(delimiter)]
            if self._field is not None:
                self._field.md5 = self._digest.hexdigest()
                self.fields.append(self._field)
                self._field = None
            self._state = "after delimiter"
            return True
        if self._state == "after delimiter":
            if len(buffer) < 2:
                return False
            if buffer[:2] == b"--":
                self.complete = True
                return False
            if buffer[:2] != b"\r\n":
                self.error = "a multipart delimiter not followed by a line break"
                return False
            del buffer[:2]
            self._state = "headers"
            return True
        # headers
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > _MAX_HEADER_BLOCK:
                self.error = "a multipart part whose headers never end"
            return False
        block = bytes(buffer[:end]).decode("utf-8", "replace")
        del buffer[: end + 4]
        headers = HeaderParser().parsestr(block)
        name = headers.get_param("name", header="content-disposition")
        self._field = FormField(name if isinstance(name, str) else None, headers.get_filename(),
                                headers.get("content-type"), 0, "")
        self._digest = hashlib.md5()
        self._state = "data"
        return True

    def _consume(self, n: int) -> None:
        if n <= 0:
            return
        if self._field is not None:
            view = memoryview(self._buffer)[:n]
            self._field.size += n
            self.field_bytes(self._field, view)
            view.release()
        del self._buffer[:n]

    def field_bytes(self, form_field: FormField, data: memoryview) -> None:
        """The next slice of a field's content, in order: hashed into its md5. A subclass may
        keep the bytes elsewhere instead (the proxy spools a part's); `data` is valid only
        during the call."""
        self._digest.update(data)


def describe_request(method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes,
                     api_key: str | None) -> SentRequest:
    """A SentRequest from a request held whole (a multipart body is read by the scanner)."""
    redactor = Redactor(api_key)
    lookup = {name.lower(): value for name, value in headers}
    sent = SentRequest(method.upper(), recorded_url(url, redactor),
                       redact_headers(headers, redactor, api_key),
                       authorization_problem(lookup.get("authorization"), api_key), len(body))
    content_type = lookup.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        scanner = MultipartScanner(content_type)
        scanner.feed(body)
        scanner.close()
        sent.form, sent.form_error = scanner.fields, scanner.error
    if body and (sent.form is None or sent.form_error):
        # A body labelled multipart that is no form may still be JSON: the judge reads
        # what was sent, whatever its label says.
        sent.json, sent.json_text = parse_json_body(body, redactor)
        if sent.json is not MISSING:
            sent.form = None
    return sent


def _param(header: str, name: str) -> str | None:
    parsed = HeaderParser().parsestr(f"Content-Type: {header}\r\n\r\n")
    value = parsed.get_param(name)
    return value if isinstance(value, str) else None


def render_exchange(sent: SentRequest, *, status: int | None, response_headers: Mapping[str, str],
                    response_body: bytes, error: str | None, duration_s: float,
                    redactor: Redactor, note: str = "") -> Exchange:
    """The suite's record of one exchange, with a curl line that sends the same request."""
    body = redactor.data(response_body)
    return Exchange(
        method=sent.method, url=sent.url, request_headers=dict(sent.headers),
        request_body=sent.summary(), status=status,
        response_headers={k: redactor.text(v) for k, v in response_headers.items()},
        response_body=preview(body), error=redactor.text(error) if error else None,
        duration_s=duration_s, curl=curl_line(sent, note=note))


def curl_line(sent: SentRequest, note: str = "") -> str:
    """The request an SDK sent, as a curl command reading the key from the environment."""
    form = None
    if sent.form is not None:
        files = [f for f in sent.form if f.filename is not None]
        texts = {f.name or "": "..." for f in sent.form if f.filename is None}
        if files:
            part = files[0]
            form = CurlForm(part.name or "", part.size, part.filename or "part.bin",
                            part.content_type or "application/octet-stream", texts, part.md5)
    body = sent.json_text.encode() if sent.json_text and form is None else None
    return curl_command(sent.method, sent.url, sent.headers, Redactor(), key_auth=True,
                        body=body, form=form, note=note)


def recorded_url(url: str, redactor: Redactor) -> str:
    return redactor.text(redact_url(url))
