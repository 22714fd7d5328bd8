"""The multipart/form-data body of an added part: text fields and one file, streamed.

The body's length is known before a byte is sent (the part's size is declared), so it goes
with a Content-Length; chunks that add up to another size are refused mid-stream.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Final

from conformance.evidence import CurlForm

__all__ = ["SMALL_BODY_BYTES", "MultipartForm"]

# Parts up to this size are sent from one buffer; larger ones are streamed.
SMALL_BODY_BYTES: Final = 256 * 1024


class MultipartForm:
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

    def body(self, source: Callable[[], Iterable[bytes]]) -> Callable[[], bytes | Iterable[bytes]]:
        """A producer of the whole body around the file's chunks, called once per attempt."""
        if self.size <= SMALL_BODY_BYTES:
            # One buffer, one write: a stream of tiny chunks costs a socket send each.
            return lambda: b"".join(self.stream(source()))
        return lambda: self.stream(source())

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

    def curl_form(self) -> CurlForm:
        """The form as the curl line of a reproduction sends it."""
        return CurlForm(self.field_name, self.size, self.filename, self.file_type,
                        self.extra_fields)


def _quote_param(value: str) -> str:
    # As browsers do (HTML form submission): quotes and line breaks percent-encoded.
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
