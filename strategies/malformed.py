"""Malformed raw requests and odd IDs, for the robustness checks.

Every `RawRequest` from `malformed_json_requests` and `malformed_multipart_requests` is
invalid by the documentation and must be refused with a 4xx; the lenient ones are open
cases, observed only. None of them, nor any odd ID, may ever get a 5xx (NO-SERVER-ERROR).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

__all__ = [
    "OddId",
    "Operation",
    "RawRequest",
    "lenient_multipart_requests",
    "malformed_json_requests",
    "malformed_multipart_requests",
    "odd_ids",
    "unknown_upload_ids",
]

Operation = Literal["create", "add_part", "complete", "cancel"]


@dataclass(frozen=True)
class RawRequest:
    """A request sent byte for byte: `content_type` None means no Content-Type header.

    Bodies for `add_part` and `complete` go to a pending upload of the suite's own, so that
    the malformed body is the only fault (which of several faults wins is left open).
    """

    description: str
    operation: Operation
    content_type: str | None
    body: bytes
    requirement: str


# --- JSON bodies (create, complete) -----------------------------------------------------

_JSON = "application/json"
_BASES: dict[str, dict[str, Any]] = {
    "create": {
        "filename": "a.txt",
        "purpose": "assistants",
        "bytes": 10,
        "mime_type": "text/plain",
    },
    "complete": {"part_ids": ["part_abc123"]},
}
_INVALID = {"create": "CREATE-INVALID", "complete": "COMPLETE-INVALID"}
# The field each operation's body gets its bad value in, and how that value is spliced.
_FIELD = {"create": "filename", "complete": "part_ids"}


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


def _with_raw(operation: str, field: str, raw: bytes) -> bytes:
    """The base body with `field`'s value replaced by raw JSON text (which may be broken)."""
    body = dict(_BASES[operation])
    body[field] = "\x01PLACEHOLDER\x01"
    return _dump(body).replace(_dump("\x01PLACEHOLDER\x01"), raw)


def _json_cases(operation: str, draw: st.DrawFn) -> list[tuple[str, str | None, bytes, str]]:
    """(description, content type, body, requirement) for one operation, simplest first."""
    base = _dump(_BASES[operation])
    field = _FIELD[operation]
    invalid = _INVALID[operation]
    cut = draw(st.integers(1, len(base) - 1))
    depth = draw(st.sampled_from((1_000, 100_000)))
    digits = draw(st.sampled_from((400, 5_000)))  # 5,000 digits: past Python's int limit
    huge = b"1" + b"0" * digits
    cases = [
        ("empty body", _JSON, b"", invalid),
        (f"JSON truncated after {cut} bytes", _JSON, base[:cut], invalid),
        (
            "not JSON",
            _JSON,
            draw(st.sampled_from((b"hello", b"{filename: a.txt}", b"<a/>"))),
            invalid,
        ),
        ("single-quoted pseudo-JSON", _JSON, repr(_BASES[operation]).encode(), invalid),
        ("body is a JSON array", _JSON, b"[" + base + b"]", invalid),
        ("body is a JSON string", _JSON, b'"hello"', invalid),
        ("body is a JSON number", _JSON, b"10", invalid),
        ("body is JSON null", _JSON, b"null", invalid),
        ("two JSON documents", _JSON, base + base, invalid),
        (
            "form-urlencoded body",
            "application/x-www-form-urlencoded",
            urlencode(_BASES[operation], doseq=True).encode(),
            invalid,
        ),
        (
            "form-urlencoded body sent as text/plain",
            "text/plain",
            urlencode(_BASES[operation], doseq=True).encode(),
            invalid,
        ),
        ("XML body", "application/xml", b"<request><part_ids/></request>", invalid),
        (
            f"{field} nested {depth} arrays deep",
            _JSON,
            _with_raw(operation, field, b"[" * depth + b"]" * depth),
            invalid,
        ),
        (
            f"{field} is Infinity (not JSON)",
            _JSON,
            _with_raw(operation, field, b"Infinity"),
            invalid,
        ),
        (f"{field} is NaN (not JSON)", _JSON, _with_raw(operation, field, b"NaN"), invalid),
        (f"{field} is the float 1e400", _JSON, _with_raw(operation, field, b"1e400"), invalid),
        (
            f"{field} is invalid UTF-8",
            _JSON,
            _with_raw(operation, field, b'"a\xff\xfe.txt"'),
            invalid,
        ),
        (
            f"{field} holds a raw NUL byte",
            _JSON,
            _with_raw(operation, field, b'"a\x00.txt"'),
            invalid,
        ),
        ("NUL byte after the JSON", _JSON, base + b"\x00", invalid),
    ]
    if operation == "create":
        cases.append(
            (
                f"bytes is a {digits + 1}-digit integer",
                _JSON,
                _with_raw(operation, "bytes", huge),
                "UPLOAD-SIZE-LIMIT",
            )
        )
    else:
        cases.append(
            (
                f"md5 is a {digits + 1}-digit number",
                _JSON,
                _with_raw(operation, "md5", huge),
                invalid,
            )
        )
    return cases


@st.composite
def malformed_json_requests(draw: st.DrawFn) -> RawRequest:
    """Create and complete requests whose body is not a valid JSON request (4xx, never 5xx)."""
    operation = draw(st.sampled_from(("create", "complete")))
    description, content_type, body, requirement = draw(
        st.sampled_from(_json_cases(operation, draw))
    )
    return RawRequest(description, operation, content_type, body, requirement)


# --- multipart bodies (add_part) --------------------------------------------------------

_BOUNDARY = "conformance-boundary-7d1f"
_DATA = b"hello, part"


def _multipart(fields: list[tuple[str, str | None]], boundary: str = _BOUNDARY) -> bytes:
    """A multipart/form-data body; each field is (name, filename or None) holding _DATA."""
    out = b""
    for name, filename in fields:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + _DATA + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def _form(boundary: str = _BOUNDARY) -> str:
    return f"multipart/form-data; boundary={boundary}"


_GOOD_PART = _multipart([("data", "part.bin")])
_DATA_HEADERS_END = _GOOD_PART.index(b"\r\n\r\n")


def malformed_part_cases(cut: int = 10) -> list[tuple[str, str | None, bytes]]:
    """(description, content type, body) of add-part requests without a usable `data` file
    field; `cut` is where the truncated one stops, inside the data field's headers."""
    return [
        ("no data field", _form(), _multipart([("purpose", None)])),
        ("a file field named 'file' instead of 'data'", _form(), _multipart([("file", "a.bin")])),
        ("empty multipart form", _form(), f"--{_BOUNDARY}--\r\n".encode()),
        ("empty body", _form(), b""),
        ("no boundary parameter", "multipart/form-data", _GOOD_PART),
        ("wrong boundary", _form("some-other-boundary"), _GOOD_PART),
        (
            f"body truncated after {cut} bytes, inside the data field's headers",
            _form(),
            _GOOD_PART[:cut],
        ),
        ("not multipart: raw bytes", "application/octet-stream", _DATA),
        ("not multipart: JSON", _JSON, b'{"data": "aGVsbG8="}'),
        ("not multipart: text", "text/plain", _DATA),
        ("multipart body without a Content-Type header", None, _GOOD_PART),
    ]


@st.composite
def malformed_multipart_requests(draw: st.DrawFn) -> RawRequest:
    """Add-part requests without a usable `data` file field (PART-INVALID: 4xx, never 5xx)."""
    cut = draw(st.integers(1, _DATA_HEADERS_END))  # inside the data field's headers
    description, content_type, body = draw(st.sampled_from(malformed_part_cases(cut)))
    return RawRequest(description, "add_part", content_type, body, "PART-INVALID")


def lenient_multipart_requests() -> st.SearchStrategy[RawRequest]:
    """Add-part requests valid by some reading (OPEN-LENIENCY): observed, never failed.

    A `data` field without a filename is how the API reference's own curl example sends a
    part (`-F data="..."`), so it cannot count as invalid.
    """
    cases = [
        ("data as a plain form field (no filename)", _multipart([("data", None)])),
        ("an extra form field besides data", _multipart([("data", "a.bin"), ("purpose", None)])),
        ("two data fields", _multipart([("data", "a.bin"), ("data", "b.bin")])),
    ]
    return st.sampled_from(cases).map(
        lambda case: RawRequest(case[0], "add_part", _form(), case[1], "OPEN-LENIENCY")
    )


# --- odd IDs ----------------------------------------------------------------------------


def _path_segment(raw: str) -> str:
    # Percent-encode everything, dots too: a literal "." or ".." segment would be removed
    # by the client's path normalisation and reach another route.
    return quote(raw, safe="").replace(".", "%2E")


@dataclass(frozen=True)
class OddId:
    """An ID no target issued: `raw` as a JSON string, `path_segment` ready for a URL path."""

    raw: str
    description: str

    @property
    def path_segment(self) -> str:
        return _path_segment(self.raw)


_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_ODD_IDS = (
    ("..", "dot-dot"),
    ("../uploads", "path traversal"),
    ("upload_abc/../..", "path traversal after a prefix"),
    ("upload_abc/parts", "an embedded slash"),
    ("%2e%2e", "a literal percent-encoded dot-dot"),
    ("upload_abc?x=1", "a query string"),
    ("upload_abc#frag", "a fragment"),
    ("upload_" + "a" * 4000, "very long"),
    ("upload_ünïcødé", "Unicode"),
    ("上传", "non-Latin Unicode"),
    ("upload abc", "a space"),
    (" ", "a single space"),
    ("%20", "a literal %20"),
    ("upload_\x00", "a NUL character"),
    ("upload_\n", "a newline"),
    ("null", "the word null"),
    ("undefined", "the word undefined"),
    ("0", "zero"),
    ("-1", "minus one"),
    ("upload_", "the prefix alone"),
    ("file-abc123", "a file ID"),
    ("part_abc123", "a part ID"),
)


def odd_ids() -> st.SearchStrategy[OddId]:
    """Unknown upload IDs: realistic-looking ones and ones with odd characters or path tricks."""
    realistic = st.text(alphabet=_ALNUM, min_size=24, max_size=24).map(
        lambda s: OddId("upload_" + s, "well-formed but never issued")
    )
    return st.one_of(realistic, st.sampled_from([OddId(r, d) for r, d in _ODD_IDS]))


def unknown_upload_ids() -> st.SearchStrategy[str]:
    """Well-formed upload IDs no target issued: `upload_` and 8 to 24 alphanumerics."""
    return st.text(alphabet=_ALNUM, min_size=8, max_size=24).map(lambda s: "upload_" + s)
