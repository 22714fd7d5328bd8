"""Parts are streamed as multipart/form-data that a real parser reads back byte for byte."""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Callable, Iterator

import httpx
import pytest
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.client import TargetClient
from tests.support.serving import serve_app

KEY = "sk-test-multipart-0123456789"


class ParsedForm:
    """Feeds a multipart body to python-multipart incrementally; keeps digests, not bytes."""

    def __init__(self, content_type: str) -> None:
        _, params = parse_options_header(content_type)
        self.fields: dict[str, dict[str, object]] = {}
        self._current: dict[str, object] = {}
        self._header_name = b""
        self._headers: dict[bytes, bytes] = {}
        self._digest = hashlib.sha256()
        self._size = 0
        self._parser = MultipartParser(params[b"boundary"], callbacks={
            "on_part_begin": self._begin,
            "on_part_data": self._data,
            "on_part_end": self._end,
            "on_header_field": lambda d, s, e: setattr(self, "_header_name", d[s:e]),
            "on_header_value": lambda d, s, e: self._headers.__setitem__(
                self._header_name.lower(), d[s:e]),
        })

    def _begin(self) -> None:
        self._headers, self._digest, self._size = {}, hashlib.sha256(), 0

    def _data(self, data: bytes, start: int, end: int) -> None:
        self._digest.update(data[start:end])
        self._size += end - start

    def _end(self) -> None:
        _, params = parse_options_header(self._headers[b"content-disposition"])
        name = params[b"name"].decode()
        self.fields[name] = {
            "filename": params.get(b"filename", b"").decode() or None,
            "content_type": self._headers.get(b"content-type", b"").decode() or None,
            "sha256": self._digest.hexdigest(),
            "size": self._size,
        }

    def feed(self, chunk: bytes) -> None:
        self._parser.write(chunk)

    def finish(self) -> dict[str, dict[str, object]]:
        self._parser.finalize()
        return self.fields


def pattern(size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """Deterministic, non-repeating-looking bytes, produced chunk by chunk."""
    seed = hashlib.sha256(b"seed").digest()
    produced = 0
    counter = 0
    while produced < size:
        block = b"".join(hashlib.sha256(seed + (counter + i).to_bytes(8, "big")).digest()
                         for i in range(chunk // 32))
        counter += chunk // 32
        block = block[: size - produced]
        produced += len(block)
        yield block


def digest(size: int) -> str:
    h = hashlib.sha256()
    for block in pattern(size):
        h.update(block)
    return h.hexdigest()


class StreamingTransport(httpx.BaseTransport):
    """Like httpx.MockTransport, but hands the handler the request body unread."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.handler(request)


def test_the_body_is_streamed_with_the_right_length_and_parses_back() -> None:
    size = 3 * 1024 * 1024 + 7
    produced = 0

    def chunks() -> Iterator[bytes]:
        nonlocal produced
        for block in pattern(size):
            produced += len(block)
            yield block

    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["produced_before_sending"] = produced  # nothing materialised up front
        form = ParsedForm(request.headers["content-type"])
        length = 0
        for piece in request.stream:  # type: ignore[union-attr]
            length += len(piece)
            form.feed(piece)
        seen["length"], seen["fields"] = length, form.finish()
        seen["declared"] = int(request.headers["content-length"])
        seen["chunked"] = "transfer-encoding" in request.headers
        return httpx.Response(200, json={"id": "part_1", "object": "upload.part"})

    client = TargetClient("http://target.test/v1", KEY, transport=StreamingTransport(handler))
    answer = client.add_part("upload_1", chunks, size, extra_fields={"purpose": "note"})
    assert answer.status == 200 and answer.json["id"] == "part_1"
    assert seen["produced_before_sending"] == 0
    assert seen["length"] == seen["declared"] and seen["chunked"] is False
    fields = seen["fields"]
    assert isinstance(fields, dict)
    assert fields["data"] == {"filename": "part.bin", "content_type": "application/octet-stream",
                              "sha256": digest(size), "size": size}
    assert fields["purpose"]["size"] == 4
    assert answer.exchange.request_body == (
        f"<multipart/form-data: data=part.bin, {size} bytes, purpose=note>")
    assert answer.exchange.request_headers["Content-Length"] == str(seen["declared"])


async def _read_back(request: Request) -> Response:
    """A real server's reading of a part request: the form parsed as it arrives."""
    form = ParsedForm(request.headers["content-type"])
    remaining = int(request.headers["content-length"])
    async for piece in request.stream():
        remaining -= len(piece)
        form.feed(piece)
    return JSONResponse({"path": request.scope["raw_path"].decode("ascii"),
                         "fields": form.finish(), "short": remaining})


@pytest.fixture
def part_server() -> Iterator[str]:
    with serve_app(Starlette(routes=[Route("/{path:path}", _read_back, methods=["POST"])])
                   ) as base_url:
        yield base_url


@pytest.mark.parametrize("size", [0, 1, 65_535, 5 * 1024 * 1024 + 3])
def test_a_real_server_reads_the_part_back(part_server: str, size: int) -> None:
    with TargetClient(part_server, KEY, timeout=10) as client:
        answer = client.add_part("upload_1", lambda: pattern(size), size)
    assert answer.status == 200, answer.error
    assert answer.json["short"] == 0
    assert answer.json["path"] == "/v1/uploads/upload_1/parts"
    assert answer.json["fields"]["data"]["size"] == size
    assert answer.json["fields"]["data"]["sha256"] == digest(size)


def test_bytes_field_names_and_odd_filenames(part_server: str) -> None:
    with TargetClient(part_server, KEY) as client:
        answer = client.add_part("upload 1/x", os.urandom(10), 10, field_name="file",
                                 filename='a "quoted"\nname.bin', content_type="text/plain")
    fields = answer.json["fields"]
    assert set(fields) == {"file"}
    assert fields["file"]["filename"] == "a %22quoted%22%0Aname.bin"
    assert fields["file"]["content_type"] == "text/plain"
    assert answer.json["path"] == "/v1/uploads/upload%201%2Fx/parts"  # the ID is one segment


def test_chunks_that_disagree_with_the_size_are_a_caller_error() -> None:
    echo = httpx.MockTransport(lambda r: httpx.Response(200, content=r.read()))
    client = TargetClient("http://t/v1", KEY, transport=echo)
    with pytest.raises(ValueError, match="exceed the declared size"):
        client.add_part("upload_1", [b"abcd"], 3)
    with pytest.raises(ValueError, match="not the declared 5"):
        client.add_part("upload_1", [b"abcd"], 5)
    with pytest.raises(ValueError, match="negative"):
        client.add_part("upload_1", [], -1)


def test_the_curl_line_builds_the_part_from_a_file() -> None:
    client = TargetClient("http://t/v1", KEY,
                          transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})))
    curl = client.add_part("upload_1", [b"x" * 1024], 1024, extra_fields={"k": "v w"}).exchange.curl
    comment, command = curl.splitlines()
    assert comment.startswith("#") and "head -c 1024 /dev/urandom > part.bin" in comment
    words = shlex.split(command)
    assert words[words.index("-F") + 1] == "data=@part.bin"
    assert words[words.index("--form-string") + 1] == "k=v w"
    assert words[4] == "http://t/v1/uploads/upload_1/parts"
    assert not any(w.lower().startswith("content-type") for w in words)
