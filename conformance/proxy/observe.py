"""What went through the proxy, one exchange at a time, without holding a body whole.

`route` names the Uploads operation a request is (or the file content it asks for).
`RequestTap` reads a request body as it streams past: a multipart body through the SDK
records' `MultipartScanner` (each field's name, size and md5), the `data` field's bytes
spooled to a file; a small body kept to be read as JSON. `ResponseTap` keeps the answer's
head (the API's objects are small) and hashes a file's content as it streams back.
`Observed` is the whole exchange as the judge reads it, its `Exchange` built by the SDK
records' `render_exchange`, with the key redacted and a curl line.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote

from conformance import api
from conformance.adapters.sdk_records import (
    FormField,
    MultipartScanner,
    SentRequest,
    parse_json_body,
    render_exchange,
)
from conformance.client import MAX_ANSWER_BYTES, MISSING
from conformance.evidence import Redactor
from conformance.proxy.spool import PartWriter, Spool, SpooledPart
from conformance.results import Exchange

__all__ = ["Observed", "RequestTap", "ResponseTap", "Route", "route"]

BODY_KEPT: Final = MAX_ANSWER_BYTES  # a JSON body past this is not read (none is near it)
PART_FIELD: Final = "data"  # the one file field of a part (the document's)
_UPLOAD_PATH: Final = re.compile(r"^/uploads/([^/]+)/(parts|complete|cancel)$")
_CONTENT_PATH: Final = re.compile(r"^/files/([^/]+)/content$")
_BY_TAIL: Final = {"parts": api.ADD_PART, "complete": api.COMPLETE, "cancel": api.CANCEL}


@dataclass(frozen=True, slots=True)
class Route:
    """What a request is: an operation (and its upload), a file's content, or neither."""

    operation: api.Operation | None = None
    upload_id: str | None = None
    file_id: str | None = None  # GET /files/{id}/content


def route(method: str, path: str, prefix: str) -> Route:
    """The route of `method path` under the proxy's `prefix` (its base URL's path)."""
    if not path.startswith(prefix + "/"):
        return Route()
    rest = path[len(prefix):]
    if method == "POST" and rest == api.CREATE.path_template:
        return Route(api.CREATE)
    if method == "POST" and (match := _UPLOAD_PATH.match(rest)):
        return Route(_BY_TAIL[match.group(2)], unquote(match.group(1)))
    if method == "GET" and (match := _CONTENT_PATH.match(rest)):
        return Route(file_id=unquote(match.group(1)))
    return Route()


class _SpoolingScanner(MultipartScanner):
    """The SDK records' scanner, which also hands the part's field to the spool."""

    def __init__(self, content_type: str, spool: Spool) -> None:
        super().__init__(content_type)
        self._spool = spool
        self.writer: PartWriter | None = None
        self._spooled: object = None  # the field being spooled: the first `data` file

    def field_bytes(self, form_field: FormField, data: memoryview) -> None:
        if self.writer is None and _is_part_field(form_field):
            self.writer, self._spooled = self._spool.writer(), form_field
        if form_field is not self._spooled or self.writer is None:
            super().field_bytes(form_field, data)
            return
        # The part's bytes go to its file, unhashed: hashing every part on the way would
        # cost the traffic time, and the judge hashes the files only when it needs to.
        self.writer.write(data)

    def spooled(self, whole: bool) -> SpooledPart | None:
        """The part's spooled bytes (an empty file for an empty `data` field), closed."""
        if self.writer is None and any(_is_part_field(f) for f in self.fields):
            self.writer = self._spool.writer()
        if self.writer is None:
            return None
        if isinstance(self._spooled, FormField):
            self._spooled.md5 = ""  # not computed on the way (a curl line then shows none)
        self.writer.close(whole and self.error is None)
        return self.writer.part


def _is_part_field(form_field: FormField) -> bool:
    return form_field.name == PART_FIELD and form_field.filename is not None


class RequestTap:
    """Reads a request body as it streams to the upstream."""

    def __init__(self, content_type: str, spool: Spool | None) -> None:
        self.size = 0
        self._head: bytearray | None = bytearray()
        self._scanner: _SpoolingScanner | None = None
        if content_type.lower().startswith("multipart/form-data") and spool is not None:
            self._scanner = _SpoolingScanner(content_type, spool)

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._scanner is not None:
            self._scanner.feed(chunk)
            if self._scanner.error is None:
                self._head = None  # a readable form: its bytes are the scanner's business
        if self._head is not None:
            if len(self._head) + len(chunk) > BODY_KEPT:
                self._head = None
            else:
                self._head += chunk

    def finish(self, sent: SentRequest, redactor: Redactor, whole: bool) -> SpooledPart | None:
        """Fills `sent` with what the body held; the spooled part, if the body had one.
        `whole`: the body went through to its end (the client did not go away)."""
        sent.body_size = self.size
        part = None
        scanner = self._scanner
        if scanner is not None:
            scanner.close()
            sent.form, sent.form_error = scanner.fields, scanner.error
            part = scanner.spooled(whole)
        if self._head and (sent.form is None or sent.form_error):
            # A body labelled multipart that is no form may still be JSON: the judge reads
            # what was sent, whatever its label says.
            sent.json, sent.json_text = parse_json_body(bytes(self._head), redactor)
            if sent.json is not MISSING:
                sent.form = None
        return part


class ResponseTap:
    """Keeps the head of an answer, and the md5 and size of a file's content."""

    def __init__(self, hash_content: bool) -> None:
        self.size = 0
        self.head = bytearray()
        self.cut = False  # the answer was longer than the head kept
        self._digest = hashlib.md5(usedforsecurity=False) if hash_content else None

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._digest is not None:
            self._digest.update(chunk)
        if not self.cut:
            if len(self.head) + len(chunk) > BODY_KEPT:
                self.cut = True
                self.head += chunk[: BODY_KEPT - len(self.head)]
            else:
                self.head += chunk

    @property
    def md5(self) -> str | None:
        return self._digest.hexdigest() if self._digest is not None else None


@dataclass(slots=True, eq=False)
class Observed:
    """One exchange that went through the proxy, as the judge reads it (an `Answer` for
    the checker: `status`, `json`, `exchange`)."""

    number: int
    route: Route
    sent: SentRequest
    tenant: str  # a digest of the credential the request carried: whose upload it is
    wall_time: float  # when the request came in (time.time()): the model's "now"
    called: float  # time.monotonic(), for the history of overlapping operations
    returned: float | None = None
    part: SpooledPart | None = None
    status: int | None = None  # None: no answer (the upstream failed, or the client left)
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""  # the head kept, decoded when it came compressed
    response_cut: bool = False
    content_md5: str | None = None  # a file's content, hashed on its way back
    content_size: int = 0
    error: str | None = None  # why there is no (whole) answer
    client_left: bool = False  # the client went away before the exchange ended
    exchange: Exchange = field(default_factory=lambda: Exchange("", "", {}, "", None))
    stale_after: tuple[int | None, ...] = ()  # the checker asks; a proxy never sees any

    @property
    def json(self) -> Any:
        """The answer's JSON body; None when it had none (the checker's reading)."""
        if not self.response_body or self.response_cut:
            return None
        value, _ = parse_json_body(self.response_body, Redactor())
        return None if value is MISSING else value

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.response_headers.items() if k.lower() == name), None)

    def end(self, status: int | None, headers: dict[str, str], tap: ResponseTap,
            error: str | None, returned: float, redactor: Redactor) -> None:
        """Records the answer, once it went through (or failed), and renders the exchange."""
        self.status, self.response_headers, self.error = status, headers, error
        self.returned = returned
        self.response_body, self.response_cut = _decoded(bytes(tap.head), headers), tap.cut
        self.content_md5, self.content_size = tap.md5, tap.size
        shown = b"" if self.route.file_id is not None else self.response_body
        note = f"exchange {self.number} through the proxy"
        self.exchange = render_exchange(
            self.sent, status=status, response_headers=headers, response_body=shown,
            error=error, duration_s=round(returned - self.called, 4), redactor=redactor,
            note=note)
        if self.route.file_id is not None and status == 200:
            self.exchange.response_body = f"<file content: {tap.size} bytes, md5 {tap.md5}>"


def _decoded(body: bytes, headers: dict[str, str]) -> bytes:
    """The answer's head as the client reads it: gzip and deflate undone (anything else,
    or a head cut short, is kept as it came and will not read as JSON)."""
    encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), "")
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "deflate"):
        try:
            return zlib.decompress(body, 47 if encoding == "gzip" else 15)
        except zlib.error:
            return body
    return body
