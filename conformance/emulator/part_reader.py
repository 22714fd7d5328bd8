"""Receiving a part: a multipart/form-data body streamed into the part's spool file.

The body is fed to python-multipart's streaming parser slice by slice as it arrives; the
bytes of the one file field `data` go straight to the spool file, so nothing larger than a
slice is ever held in memory. A part is refused while it streams, the moment it passes the
64 MiB limit (413) or the bytes its upload still accepts (400); any other form field, a
second `data` field, or a body that is not well-formed multipart is refused with 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from .body_stream import body_chunks
from .errors import ApiError, bad_request, too_large
from .limits import PART_FRAMING_MAX_BYTES
from .storage import SpoolFile

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

DATA_FIELD = b"data"


@dataclass(frozen=True)
class PartLimits:
    max_part: float  # the part size limit
    budget: float  # bytes the upload still accepts (a snapshot; rechecked when recorded)


async def receive_part(request: Request, spool: SpoolFile, limits: PartLimits,
                       stall_timeout: float | None = None) -> None:
    """Stream the request's `data` field into `spool`; raises ApiError on any refusal.

    A client that goes away half-way raises starlette's ClientDisconnect; one that sends
    nothing for `stall_timeout` seconds is refused with 408 (see `body_stream`).
    """
    boundary = _boundary(request)
    body_cap = limits.max_part + PART_FRAMING_MAX_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_cap:
        raise _part_too_large(limits)
    fields = _FormFields(spool, limits)
    received = 0
    try:
        parser = MultipartParser(boundary, fields.callbacks())
        async for chunk in body_chunks(request, stall_timeout):
            received += len(chunk)
            if received > body_cap:
                raise _part_too_large(limits)
            parser.write(chunk)
            await spool.pump()
    except FormParserError as exc:
        raise bad_request(f"The body is not well-formed multipart/form-data: {exc}",
                          code="invalid_multipart") from None
    if not fields.ended:
        raise bad_request("The multipart body ends before its closing boundary.",
                          code="invalid_multipart")
    if fields.data_fields == 0:
        raise bad_request("A part request needs a file field named 'data'.", param="data",
                          code="missing_required_parameter")
    if spool.size == 0:
        raise bad_request("A part must hold at least one byte.", param="data", code="empty_part")


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary", b"")
    if content_type != b"multipart/form-data" or not boundary:
        raise bad_request("A part must be sent as multipart/form-data with a boundary.",
                          code="unsupported_content_type")
    return boundary


def _part_too_large(limits: PartLimits) -> ApiError:
    return too_large(f"A part may be at most {limits.max_part} bytes.", param="data",
                     code="part_too_large")


class _FormFields:
    """The parser's callbacks: the `data` field goes to the spool, any other field is refused."""

    def __init__(self, spool: SpoolFile, limits: PartLimits) -> None:
        self._spool = spool
        self._limits = limits
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self.data_fields = 0
        self.ended = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._headers.clear,
            "on_header_field": self._on_header_name,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_end": self._on_end,
        }

    def _on_header_name(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_name).strip().lower()] = bytes(self._header_value).strip()
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name")
        if disposition != b"form-data" or name is None:
            raise bad_request("Each multipart part needs Content-Disposition: form-data; name=...",
                              code="invalid_multipart")
        if name != DATA_FIELD:
            field = name.decode("utf-8", "replace")
            raise bad_request(f"Unknown form field {field!r}: a part request carries only 'data'.",
                              param=field, code="unknown_parameter")
        self.data_fields += 1
        if self.data_fields > 1:
            raise bad_request("A part request carries exactly one 'data' field; it had two.",
                              param="data", code="duplicate_parameter")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        # Only `data` reaches here: any other field was refused when its headers ended.
        size = self._spool.size + (end - start)
        if size > self._limits.max_part:
            raise _part_too_large(self._limits)
        if size > self._limits.budget:
            raise bad_request("This part would take the upload past its declared bytes.",
                              param="data", code="upload_bytes_exceeded")
        self._spool.write(memoryview(data)[start:end])

    def _on_end(self) -> None:
        self.ended = True
