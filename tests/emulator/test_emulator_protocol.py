"""The HTTP edges: authentication, unknown routes and methods, and malformed JSON bodies.

Every refusal here is a 4xx with the error envelope as application/json, and the server
keeps serving afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.emulator_helpers import MIB, Api, ok, raw_socket, refused

CREATE = b'{"bytes": 3, "filename": "a", "purpose": "assistants", "mime_type": "text/plain"}'


# --- authentication ---------------------------------------------------------------------------
@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer  x y", "Bearer wrong-key", "Basic c2stZW11bGF0b3I=",
    "sk-emulator", "Bearer sk-emulator-and-more", "Bearer SK-EMULATOR",
])
def test_missing_or_wrong_key_is_401_everywhere(shared_emulator: EmulatorServer,
                                                authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with httpx.Client(base_url=shared_emulator.base_url, headers=headers) as client:
        for response in (
            client.post("/uploads", content=CREATE, headers={"Content-Type": "application/json"}),
            client.post("/uploads/upload_x/parts", files={"data": b"abc"}),
            client.post("/uploads/upload_x/complete", json={"part_ids": []}),
            client.post("/uploads/upload_x/cancel"),
            client.get("/files/file-x"),
            client.get("/no/such/route"),
        ):
            refused(response, 401)


def test_bearer_scheme_is_case_insensitive(shared_emulator: EmulatorServer) -> None:
    headers = {"Authorization": "bearer sk-emulator"}
    with httpx.Client(base_url=shared_emulator.base_url, headers=headers) as client:
        ok(client.post("/uploads", content=CREATE, headers={"Content-Type": "application/json"}))


def test_another_key_can_be_configured_and_auth_turned_off() -> None:
    with EmulatorServer(EmulatorConfig(api_key="sk-other")) as server:
        refused(Api(server.base_url).create(), 401, code="invalid_api_key")
        ok(Api(server.base_url, api_key="sk-other").create())
    with EmulatorServer(EmulatorConfig(api_key=None)) as server:
        ok(Api(server.base_url, api_key=None).create())


# --- routes and methods -----------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/", "/nope", "/uploads/", "/uploads/upload_x", "/uploads/upload_x/parts/part_y",
    "/files", "/_conformance", "/_conformance/clock/advance",
])
def test_unknown_routes_are_404_envelopes(api: Api, path: str) -> None:
    refused(api.http.get(path), 404, code="unknown_url")
    refused(api.http.post(path, json={}), 404)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/uploads"), ("PUT", "/uploads"), ("DELETE", "/uploads"),
    ("GET", "/uploads/upload_x/parts"), ("GET", "/uploads/upload_x/complete"),
    ("PATCH", "/uploads/upload_x/cancel"), ("POST", "/files/file-x"),
    ("PUT", "/files/file-x"), ("POST", "/files/file-x/content"),
])
def test_wrong_methods_are_405_envelopes(api: Api, method: str, path: str) -> None:
    response = api.http.request(method, path)
    refused(response, 405, code="method_not_allowed")
    assert response.headers["allow"]


# --- JSON bodies ------------------------------------------------------------------------------
BAD_JSON: dict[str, tuple[bytes, str | None]] = {
    "truncated": (b'{"bytes": 3, "filename"', "application/json"),
    "not json": (b"bytes=3&filename=a", "application/json"),
    "an array": (b"[1, 2, 3]", "application/json"),
    "a string": (b'"hello"', "application/json"),
    "a number": (b"3", "application/json"),
    "null": (b"null", "application/json"),
    "NaN": (CREATE.replace(b"3", b"NaN", 1), "application/json"),
    "Infinity": (CREATE.replace(b"3", b"Infinity", 1), "application/json"),
    "duplicate key": (CREATE.replace(b"{", b'{"bytes": 5, ', 1), "application/json"),
    "invalid utf-8": (CREATE.replace(b'"a"', b'"\xff\xfe"'), "application/json"),
    "utf-16": (CREATE.decode().encode("utf-16"), "application/json"),
    "deep nesting": (b'{"bytes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                     "application/json"),
    "huge integer": (b'{"bytes": ' + b"9" * 5000 + b"}", "application/json"),
    "empty": (b"", "application/json"),
    "no content type": (CREATE, None),
    "text/plain": (CREATE, "text/plain"),
    "form content type": (CREATE, "application/x-www-form-urlencoded"),
    "multipart content type": (CREATE, "multipart/form-data; boundary=x"),
}


@pytest.mark.parametrize(("body", "content_type"), BAD_JSON.values(), ids=BAD_JSON.keys())
def test_malformed_json_bodies_are_400(api: Api, body: bytes, content_type: str | None) -> None:
    refused(api.post_raw("/uploads", body, content_type), 400)
    upload_id, part_ids = api.uploaded([b"abc"])
    refused(api.post_raw(f"/uploads/{upload_id}/complete", body, content_type), 400)
    assert ok(api.complete(upload_id, part_ids))["status"] == "completed"


def test_json_content_type_with_charset_is_fine(api: Api) -> None:
    ok(api.post_raw("/uploads", CREATE, "application/json; charset=utf-8"))


def _oversized_json() -> bytes:
    padding = b" " * (MIB + 1 - len(CREATE))
    return CREATE[:-1] + padding + b"}"


def test_json_body_over_1_mib_is_413(api: Api) -> None:
    body = _oversized_json()
    assert len(body) == MIB + 1
    refused(api.post_raw("/uploads", body, "application/json"), 413, code="request_too_large")
    at_limit = body[: MIB - 1] + b"}"
    ok(api.post_raw("/uploads", at_limit, "application/json"))


def test_chunked_json_body_over_1_mib_is_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        body = _oversized_json()
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    refused(api.post_raw("/uploads", chunks(), "application/json"), 413)


def test_lying_content_length_is_refused_by_the_http_layer(shared_emulator: EmulatorServer,
                                                           api: Api) -> None:
    with raw_socket(shared_emulator.base_url) as sock:
        sock.sendall(b"POST /v1/uploads HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer sk-emulator\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400")
    ok(api.create())  # and the server is still up


def test_the_server_survives_a_burst_of_garbage(shared_emulator: EmulatorServer,
                                                api: Api) -> None:
    for garbage in (b"\x00" * 1000, b"GET\r\n\r\n", b"POST /v1/uploads HTTP/9.9\r\n\r\n"):
        with raw_socket(shared_emulator.base_url) as sock:
            sock.sendall(garbage)
            sock.shutdown(1)
            sock.recv(4096)
    ok(api.create())
