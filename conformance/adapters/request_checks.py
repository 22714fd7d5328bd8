"""An SDK's side of each exchange: the request it sent and what it gave back, checked.

While an SDK runs an operation, every request it sends is recorded as a `SentRequest`
(seen on the wire by the Python adapters, reported by a driver) and held to the project's
OpenAPI document by `RequestJudge` (SDK-REQUEST-CONFORMS); what the SDK gives back, a result
or an exception, is held to what the target sent (SDK-RESULT-MATCHES). `SdkChecks` reports
both to the suite's `Checker`. `render_exchange` turns a recorded request and its answer into
the suite's `Exchange`, credentials redacted, with a curl line that reproduces it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import HeaderParser
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import jsonschema_rs
import yaml

from conformance.checks import Checker
from conformance.client import MISSING
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
    "DEFAULT_OPENAPI",
    "ERROR_CLASSES",
    "ChunkedRun",
    "FormField",
    "HttpRecord",
    "Intended",
    "MultipartScanner",
    "RequestJudge",
    "SdkAnswer",
    "SdkChecks",
    "SentRequest",
    "authorization_problem",
    "default_judge",
    "describe_request",
    "error_body_problems",
    "expected_error_class",
    "json_mismatches",
    "render_exchange",
]

DEFAULT_OPENAPI: Final = Path(__file__).resolve().parent.parent / "openapi" / "uploads.yaml"
REQUEST_REQUIREMENT: Final = "SDK-REQUEST-CONFORMS"
RESULT_REQUIREMENT: Final = "SDK-RESULT-MATCHES"
_MAX_HEADER_BLOCK: Final = 16 * 1024  # a multipart part's headers longer than this are broken

# The exception class the official SDKs (Python and Node) raise for each refusal status;
# >= 500 is InternalServerError, any other status the SDK's generic status error.
ERROR_CLASSES: Final[Mapping[int, str]] = {
    400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
    404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
    429: "RateLimitError",
}


def expected_error_class(status: int, generic: str) -> str:
    """The class an SDK raises for `status`; `generic` is its catch-all status error."""
    if status >= 500:
        return "InternalServerError"
    return ERROR_CLASSES.get(status, generic)


# --- what was sent ------------------------------------------------------------------------


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
class SdkAnswer:
    """An SDK adapter's answer to one operation, as the machine sees any adapter's.

    `status` and `json` are what the target sent (not the SDK's typed view of it);
    `sdk_result` and `sdk_error` keep what the SDK gave back.
    """

    status: int | None
    json: Any
    exchange: Exchange
    sdk_result: Any = None
    sdk_error: BaseException | dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def error(self) -> str | None:
        return self.exchange.error

    def __repr__(self) -> str:
        return (f"SdkAnswer({self.exchange.method} {self.exchange.url} -> {self.status}, "
                f"sdk_error={type(self.sdk_error).__name__ if self.sdk_error else None})")


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
    """(the parsed JSON or MISSING, the text as recorded)."""
    text = redactor.text(body.decode("utf-8", "replace"))
    try:
        return json.loads(body), text
    except ValueError:
        return MISSING, text


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
            self._digest.update(view)
            view.release()
        del self._buffer[:n]


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
    elif body:
        sent.json, sent.json_text = parse_json_body(body, redactor)
    return sent


def _param(header: str, name: str) -> str | None:
    parsed = HeaderParser().parsestr(f"Content-Type: {header}\r\n\r\n")
    value = parsed.get_param(name)
    return value if isinstance(value, str) else None


# --- what was meant -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Intended:
    """The operation an SDK was asked to run, as the request for it should carry it."""

    operation: str  # the operationId in the OpenAPI document
    upload_id: str | None = None
    body: Any = MISSING  # the JSON body asked for (MISSING: none)
    part_size: int | None = None  # the part's bytes, for addUploadPart
    part_md5: str | None = None


@dataclass(frozen=True, slots=True)
class _Operation:
    method: str
    path: str  # the template, e.g. /uploads/{upload_id}/parts
    media_type: str | None  # the request body's media type; None: no body
    validator: Any  # jsonschema_rs validator of a JSON body, or None
    required_fields: tuple[str, ...] = ()  # of a multipart body


class RequestJudge:
    """Holds a request an SDK sent to the OpenAPI document and to what it was asked to send.

    Strict where a target is allowed leniency: an SDK has no reason to send `null` for an
    optional field, a JSON body under another content type, or a part as a text field.
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        components = document.get("components", {})
        self._operations: dict[str, _Operation] = {}
        servers = document.get("servers") or [{}]
        self.server_path = urlsplit(str(servers[0].get("url", ""))).path.rstrip("/")
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                self._operations[operation["operationId"]] = self._read_operation(
                    method.upper(), path, operation, components)

    @staticmethod
    def _read_operation(method: str, path: str, operation: Mapping[str, Any],
                        components: Mapping[str, Any]) -> _Operation:
        content = (operation.get("requestBody") or {}).get("content") or {}
        if not content:
            return _Operation(method, path, None, None)
        media_type, spec = next(iter(content.items()))
        schema = dict(spec.get("schema") or {})
        resolved = _resolve(schema, components)
        validator = None
        if media_type == "application/json":
            validator = jsonschema_rs.validator_for({**schema, "components": components},
                                                    validate_formats=False)
        return _Operation(method, path, media_type, validator,
                          tuple(resolved.get("required", ())))

    def operation(self, operation_id: str) -> tuple[str, str]:
        """(method, path template) of an operation."""
        found = self._operations[operation_id]
        return found.method, found.path

    def problems(self, sent: SentRequest, intended: Intended, base_url: str) -> list[str]:
        """Every way `sent` departs from the document or from what was asked; [] if none."""
        spec = self._operations[intended.operation]
        found: list[str] = []
        if sent.method.upper() != spec.method:
            found.append(f"method {sent.method}, not {spec.method}")
        found += _path_problems(sent.url, base_url, spec.path, intended.upload_id)
        if sent.auth_problem:
            found.append(sent.auth_problem)
        if spec.media_type is None:
            if sent.body_size:
                found.append(f"a body of {sent.body_size} bytes where the operation has none")
        elif spec.media_type == "application/json":
            found += self._json_problems(sent, intended, spec)
        elif spec.media_type == "multipart/form-data":
            found += self._form_problems(sent, intended, spec)
        return found

    @staticmethod
    def _json_problems(sent: SentRequest, intended: Intended, spec: _Operation) -> list[str]:
        media_type = sent.content_type.split(";")[0].strip().lower()
        found = [] if media_type == "application/json" else [
            f"content type {sent.content_type or '(none)'!r}, not application/json"]
        if sent.json is MISSING:
            return [*found, "the body is not JSON"]
        asked_valid = intended.body is not MISSING and spec.validator.is_valid(intended.body)
        if asked_valid or intended.body is MISSING:
            error = next(iter(spec.validator.iter_errors(sent.json)), None)
            if error is not None:
                where = "/" + "/".join(map(str, error.instance_path))
                found.append(f"the JSON body breaks the document's schema at {where}: "
                             f"{error.message}")
        if intended.body is not MISSING:
            differences = json_mismatches(sent.json, intended.body, "body")
            if differences:
                found.append("the JSON body is not what the SDK was asked to send: "
                             + "; ".join(differences[:3]))
        return found

    @staticmethod
    def _form_problems(sent: SentRequest, intended: Intended, spec: _Operation) -> list[str]:
        media_type = sent.content_type.split(";")[0].strip().lower()
        if media_type != "multipart/form-data":
            return [f"content type {sent.content_type or '(none)'!r}, not multipart/form-data"]
        if sent.form is None or sent.form_error:
            return [sent.form_error or "the multipart body could not be read"]
        found = []
        for name in spec.required_fields:
            fields = [f for f in sent.form if f.name == name]
            if len(fields) != 1:
                seen = ", ".join(repr(f.name) for f in sent.form) or "none"
                found.append(f"{len(fields)} form fields named {name!r} (fields: {seen})")
            elif fields[0].filename is None:
                found.append(f"the form field {name!r} is not a file")
        data = next((f for f in sent.form if f.name == "data"), None)
        if data is not None and intended.part_size is not None:
            if data.size != intended.part_size:
                found.append(f"the 'data' field holds {data.size} bytes, not the part's "
                             f"{intended.part_size}")
            elif intended.part_md5 is not None and data.md5 != intended.part_md5:
                found.append("the 'data' field holds other bytes than the part's")
        return found


def _resolve(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/"):
        node: Any = {"components": components}
        for key in ref[2:].split("/"):
            node = node[key]
        return _resolve(node, components)
    return schema


def _path_problems(url: str, base_url: str, template: str,
                   upload_id: str | None) -> list[str]:
    parts, base = urlsplit(url), urlsplit(base_url)
    found = []
    if parts.query:
        found.append(f"a query string {parts.query!r} the operation does not define")
    want = [s for s in base.path.split("/") if s]
    for segment in template.split("/"):
        if segment:
            want.append(upload_id or "" if segment == "{upload_id}" else segment)
    got = [unquote(s) for s in parts.path.split("/") if s]
    if got != want:
        found.append(f"path {parts.path!r}, not /{'/'.join(want)}")
    if (parts.hostname, parts.port) != (base.hostname, base.port):
        found.append(f"sent to {parts.hostname}:{parts.port}, not the target's "
                     f"{base.hostname}:{base.port}")
    return found


@cache
def default_judge() -> RequestJudge:
    """The judge built from the project's own OpenAPI document."""
    return RequestJudge(yaml.safe_load(DEFAULT_OPENAPI.read_text()))


# --- what came back -----------------------------------------------------------------------


def json_mismatches(got: Any, want: Any, path: str = "") -> list[str]:
    """Where two JSON values differ: true and 1 differ, 1 and 1.0 are the same number."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path or '/'}: {_short(got)} where {_short(want)} was expected"]
        found = []
        for key in want.keys() | got.keys():
            if key not in got:
                found.append(f"{path}/{key}: missing (expected {_short(want[key])})")
            elif key not in want:
                found.append(f"{path}/{key}: {_short(got[key])}, not expected")
            else:
                found += json_mismatches(got[key], want[key], f"{path}/{key}")
        return sorted(found)
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path or '/'}: {_short(got)} where {_short(want)} was expected"]
        return [m for i, (g, w) in enumerate(zip(got, want, strict=True))
                for m in json_mismatches(g, w, f"{path}/{i}")]
    if (type(got) is not type(want) and not (_is_number(got) and _is_number(want))) \
            or got != want:
        return [f"{path or '/'}: {_short(got)} where {_short(want)} was expected"]
    return []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=repr) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SdkChecks:
    """Reports an SDK's departures to the suite's Checker (none is given: nothing is checked).

    `sdk` names the SDK in messages and observations, e.g. "openai-python".
    """

    def __init__(self, checker: Checker | None, sdk: str, base_url: str,
                 judge: RequestJudge | None = None) -> None:
        self.checker = checker
        self.sdk = sdk
        self.base_url = base_url
        self.judge = judge or default_judge()

    def requests(self, what: str, records: Sequence[HttpRecord], intended: Intended) -> bool:
        """SDK-REQUEST-CONFORMS: one request for the operation, as the document has it.

        Raises for a departure (unless the requirement already failed); False if it departed.
        """
        if self.checker is None:
            return True
        if len(records) != 1:
            self.checker.fail(REQUEST_REQUIREMENT,
                              f"{self.sdk}: {what} sent {len(records)} requests, not 1 "
                              "(retries are off)")
            return False
        problems = self.judge.problems(records[0].sent, intended, self.base_url)
        return self.checker.expect(not problems, REQUEST_REQUIREMENT,
                                   f"{self.sdk}: the request for {what} departs from the "
                                   f"OpenAPI document: {'; '.join(problems)}")

    def result(self, what: str, problems: Sequence[str]) -> None:
        """SDK-RESULT-MATCHES: what the SDK gave back is what the target sent."""
        if self.checker is None:
            return
        self.checker.expect(not problems, RESULT_REQUIREMENT,
                            f"{self.sdk}: {what}: {'; '.join(problems)}")

    def error_class(self, status: int, class_name: str, generic: str,
                    matches: bool | None = None) -> str | None:
        """Observes which class a refusal surfaced as; the problem if it is the wrong one.

        `matches` overrides the comparison by name (an SDK may raise a subclass).
        """
        wanted = expected_error_class(status, generic)
        if self.checker is not None:
            self.checker.recorder.observe("OPEN-REFUSAL-CODE",
                                          f"{self.sdk}: {status} raises {class_name}")
        if matches is None:
            matches = class_name == wanted
        return None if matches else f"a {status} answer raised {class_name}, not {wanted}"

    def observe(self, requirement: str, text: str) -> None:
        if self.checker is not None:
            self.checker.recorder.observe(requirement, text)

    def cannot_test(self, requirement: str, reason: str) -> None:
        if self.checker is not None:
            self.checker.recorder.cannot_test(requirement, reason)


def error_body_problems(exception_body: Any, wire: Any, code: Any = MISSING,
                        type_: Any = MISSING, param: Any = MISSING) -> list[str]:
    """How an SDK exception's body (the envelope's `error`) departs from the answer's."""
    want = wire.get("error", wire) if isinstance(wire, dict) else wire
    found = [f"its body {m}" for m in json_mismatches(exception_body, want)][:3]
    if isinstance(want, dict):
        for name, value in (("code", code), ("type", type_), ("param", param)):
            if value is not MISSING and want.get(name) is not None and value != want.get(name):
                found.append(f"its {name} is {value!r}, the answer's {want.get(name)!r}")
    return found


# --- records --------------------------------------------------------------------------


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
