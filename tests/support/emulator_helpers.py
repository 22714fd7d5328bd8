"""Helpers for the emulator's tests: a small HTTP client and the checks every refusal gets."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

API_KEY = "sk-emulator"
MIB = 1024 * 1024
GIB = 1024 * MIB
BOUNDARY = "emulator-test-boundary-7d1f"
# Without TCP_NODELAY a client sending headers and body in two writes waits ~40 ms per
# request for the server's delayed ACK (Nagle's algorithm).
NO_DELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


class Api:
    """Raw HTTP calls to an emulator, one method per operation, answers returned as they are."""

    def __init__(self, base_url: str, api_key: str | None = API_KEY) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=60,
                                 transport=httpx.HTTPTransport(socket_options=NO_DELAY),
                                 trust_env=False)

    def close(self) -> None:
        self.http.close()

    # --- operations, answers as they are -------------------------------------------------
    def create(self, size: int = 10, **fields: Any) -> httpx.Response:
        body = {"bytes": size, "filename": "data.bin", "purpose": "assistants",
                "mime_type": "application/octet-stream", **fields}
        return self.http.post("/uploads", json=body)

    def add_part(self, upload_id: str, data: bytes) -> httpx.Response:
        return self.http.post(f"/uploads/{upload_id}/parts",
                              files={"data": ("part.bin", data, "application/octet-stream")})

    def post_raw(self, path: str, content: bytes | Iterable[bytes],
                 content_type: str | None = None, **headers: str) -> httpx.Response:
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.http.post(path, content=content, headers=headers)

    def complete(self, upload_id: str, part_ids: list[str], **fields: Any) -> httpx.Response:
        return self.http.post(f"/uploads/{upload_id}/complete",
                              json={"part_ids": part_ids, **fields})

    def cancel(self, upload_id: str) -> httpx.Response:
        return self.http.post(f"/uploads/{upload_id}/cancel")

    def get_file(self, file_id: str) -> httpx.Response:
        return self.http.get(f"/files/{file_id}")

    def content(self, file_id: str) -> httpx.Response:
        return self.http.get(f"/files/{file_id}/content")

    # --- operations that must succeed -------------------------------------------------------
    def new_upload(self, size: int = 10, **fields: Any) -> dict[str, Any]:
        return ok(self.create(size, **fields))

    def new_part(self, upload_id: str, data: bytes) -> str:
        return str(ok(self.add_part(upload_id, data))["id"])

    def uploaded(self, chunks: list[bytes]) -> tuple[str, list[str]]:
        """A pending upload holding `chunks` as its parts: (upload ID, part IDs)."""
        upload = self.new_upload(sum(map(len, chunks)))
        return upload["id"], [self.new_part(upload["id"], chunk) for chunk in chunks]

    def completed(self, chunks: list[bytes]) -> dict[str, Any]:
        upload_id, part_ids = self.uploaded(chunks)
        return ok(self.complete(upload_id, part_ids))


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    return body


def refused(response: httpx.Response, status: int | None = None,
            code: str | None = None) -> dict[str, Any]:
    """Check a refusal: a 4xx with the error envelope as JSON; returns the inner error."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text)
    return check_envelope(response, code)


def check_envelope(response: httpx.Response, code: str | None = None) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    assert error["param"] is None or isinstance(error["param"], str)
    assert error["code"] is None or isinstance(error["code"], str)
    if code is not None:
        assert error["code"] == code, error
    return dict(error)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def multipart(fields: list[tuple[str, bytes]], boundary: str = BOUNDARY,
              closed: bool = True) -> bytes:
    """A multipart/form-data body with these (name, value) fields."""
    out = b""
    for name, value in fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                f"filename=\"part.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                ).encode() + value + b"\r\n"
    if closed:
        out += f"--{boundary}--\r\n".encode()
    return out


def multipart_stream(size: int, fill: bytes = b"\x00", boundary: str = BOUNDARY,
                     chunk: int = MIB) -> Iterable[bytes]:
    """A one-field (`data`) multipart body of `size` bytes, generated chunk by chunk."""
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"data\"; "
           f"filename=\"big.bin\"\r\n\r\n").encode()
    block = fill * chunk
    remaining = size
    while remaining > 0:
        step = min(chunk, remaining)
        yield block if step == chunk else block[:step]
        remaining -= step
    yield f"\r\n--{boundary}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def raw_socket(base_url: str) -> socket.socket:
    """A plain TCP connection to the emulator, for requests httpx would not send."""
    parts = urlsplit(base_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def part_request(upload_id: str, body: bytes, cut: int | None = None) -> bytes:
    """A raw request adding the multipart `body` to the upload, its first `cut` bytes of
    body only (a client that stops half-way); the whole of it without `cut`."""
    head = (f"POST /v1/uploads/{upload_id}/parts HTTP/1.1\r\nHost: test\r\n"
            f"Authorization: Bearer {API_KEY}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + (body if cut is None else body[:cut])


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
