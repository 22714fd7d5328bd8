"""Evidence a person reads: redaction, body previews and curl lines, built in one place.

Everything the suite shows of an exchange (a report, the console, a log line) passes
through here, so "no credential is ever written" has one owner: a `Redactor` holds the
secrets of a run (the API key and any other secret option) and scrubs them from text and
bytes in their plain, percent-encoded and JSON-escaped forms; `preview` and `truncate`
shorten bodies with one marker; `curl_command` renders a request as a copy-paste
reproduction that reads the key from `$OPENAI_API_KEY` instead of containing it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = [
    "KEY_FROM_ENVIRONMENT",
    "PREVIEW_LIMIT",
    "REDACTED",
    "CurlForm",
    "Redactor",
    "curl_command",
    "preview",
    "redact_url",
    "truncate",
]

REDACTED: Final = "[REDACTED]"
PREVIEW_LIMIT: Final = 2000  # characters of a body kept in an exchange
CURL_INLINE_LIMIT: Final = 8192  # a longer body goes to a file in the curl line
KEY_FROM_ENVIRONMENT: Final = '"Authorization: Bearer $OPENAI_API_KEY"'
# Headers curl works out for itself, or that only describe the client that sent them.
_CURL_SKIP: Final = frozenset({"content-length", "host", "accept-encoding", "connection",
                               "user-agent"})
_CLIENT_HEADER_PREFIXES: Final = ("x-stainless", "x-schemathesis")


class Redactor:
    """Scrubs a run's secrets from text and bytes, in their plain and encoded forms."""

    __slots__ = ("_bytes", "_texts")
    MIN_LENGTH: Final = 4  # shorter "secrets" would scrub ordinary words from every body

    def __init__(self, *secrets: str | None) -> None:
        texts: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= self.MIN_LENGTH:
                texts |= {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}
        self._texts = tuple(sorted(texts, key=len, reverse=True))
        self._bytes = tuple(t.encode() for t in self._texts)

    @property
    def longest(self) -> int:
        """Bytes in the longest form of a secret (0 without secrets): what a stream cut
        must hold back so that no secret is split across two pieces."""
        return max(map(len, self._bytes), default=0)

    def text(self, value: str) -> str:
        for secret in self._texts:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def data(self, value: bytes) -> bytes:
        for secret in self._bytes:
            if secret in value:
                value = value.replace(secret, REDACTED.encode())
        return value

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        return {name: self.text(str(value)) for name, value in pairs}

    def __repr__(self) -> str:
        return f"Redactor({REDACTED})"


def redact_url(url: str, redactor: Redactor | None = None) -> str:
    """The URL without a password in it (and without the run's secrets, given a redactor)."""
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username or ''}:{REDACTED}@{host}")
        url = urlunsplit(parts)
    return redactor.text(url) if redactor else url


def truncate(text: str, limit: int = PREVIEW_LIMIT) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…[truncated: {len(text)} characters]"


def preview(data: bytes, limit: int = PREVIEW_LIMIT) -> str:
    """A body as text for a record: truncated with a marker; binary shown as a summary."""
    head = data[: limit * 4]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the slice is fine; anything else is binary.
        if len(head) < len(data) and exc.start >= len(head) - 3:
            text = head[: exc.start].decode("utf-8", "replace")
        else:
            return f"<binary: {len(data)} bytes, starting {data[:32].hex()}>"
    if len(text) > limit or len(head) < len(data):
        return f"{text[:limit]}…[truncated: {len(data)} bytes in all]"
    return text


@dataclass(frozen=True, slots=True)
class CurlForm:
    """A multipart body as curl sends it: text fields, then one file made beforehand."""

    field_name: str
    size: int
    filename: str = "part.bin"
    file_type: str = "application/octet-stream"
    text_fields: Mapping[str, str] = field(default_factory=dict)
    md5: str | None = None


def curl_command(method: str, url: str, headers: Mapping[str, str], redactor: Redactor, *,
                 key_auth: bool, body: bytes | None = None, streamed: bool = False,
                 form: CurlForm | None = None, note: str = "",
                 key_header: str = "Authorization", key_variable: str = "OPENAI_API_KEY") -> str:
    """One request as a shell command (with comments for what it needs beforehand).

    `key_auth` means the request carried one of the run's API keys (in `key_header`): the
    command reads it from `$key_variable` (the second tenant's has its own). Any other such
    header (a wrong key, on purpose) is shown, redacted like every other header.
    """
    words = ["curl", "-sS", "-X", method, shlex.quote(redact_url(url, redactor))]
    comments = [f"# {redactor.text(note)}"] if note else []
    if key_auth:
        header = f"Authorization: Bearer ${key_variable}" \
            if key_header.lower() == "authorization" else f"{key_header}: ${key_variable}"
        words += ["-H", f'"{header}"']  # KEY_FROM_ENVIRONMENT, for the run's own key
    skip = set(_CURL_SKIP) | ({key_header.lower()} if key_auth else set()) | \
        ({"content-type"} if form is not None else set())
    for name, value in headers.items():
        lowered = name.lower()
        if lowered not in skip and not lowered.startswith(_CLIENT_HEADER_PREFIXES):
            words += ["-H", shlex.quote(redactor.text(f"{name}: {value}"))]
    if form is not None:
        words += _curl_form(form, redactor, comments)
    elif body is not None or streamed:
        if not any(k.lower() == "content-type" for k in headers):
            words += ["-H", shlex.quote("Content-Type:")]  # else curl adds a form type
        inline = body is not None and len(body) <= CURL_INLINE_LIMIT
        text = _printable(body) if body is not None and inline else None
        if text is not None:
            words += ["--data-binary", shlex.quote(redactor.text(text))]
        elif body is not None and inline:
            # Bytes no shell argument can carry (a NUL, invalid UTF-8) go through a pipe.
            words = ["printf", shlex.quote(_printf_format(redactor.data(body))), "|", *words,
                     "--data-binary", "@-"]
        else:
            size = "the" if body is None else f"{len(body)} bytes of the"
            comments.append(f"# body.bin holds {size} request body (see the exchange)")
            words += ["--data-binary", "@body.bin"]
    return "\n".join([*comments, " ".join(words)])


def _curl_form(form: CurlForm, redactor: Redactor, comments: list[str]) -> list[str]:
    md5 = f" with md5 {form.md5}" if form.md5 else ""
    comments.append(f"# first make a part of {form.size} bytes{md5}: "
                    f"head -c {form.size} /dev/urandom > part.bin")
    words: list[str] = []
    for name, value in form.text_fields.items():
        words += ["--form-string", shlex.quote(redactor.text(f"{name}={value}"))]
    spec = f"{form.field_name}=@part.bin"
    if form.filename != "part.bin":
        spec += f";filename={form.filename}"
    if form.file_type != "application/octet-stream":
        spec += f";type={form.file_type}"
    return [*words, "-F", shlex.quote(redactor.text(spec))]


def _printable(data: bytes) -> str | None:
    """The body as text when it is UTF-8 a terminal shows as it is, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c in "\t\n\r" for c in text) else None


def _printf_format(data: bytes) -> str:
    """A printf format that prints exactly `data`: octal escapes work in every printf."""
    out = []
    for byte in data:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif char == "\\":
            out.append("\\\\")
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)
