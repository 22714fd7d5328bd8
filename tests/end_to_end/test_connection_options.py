"""The options real targets need: extra headers, query parameters, the key in another header,
a private CA (or none), a proxy; and their secrets kept out of every output.

The target is the reference emulator behind a gateway that wants what real gateways do: its
own token header, an `api-version` parameter and the key in `api-key` (a request without
them is refused with 401), served over TLS with a certificate from a CA of the test's own.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import trustme

from conformance import RunSettings, run
from conformance.client import TargetClient, TargetUnreachable
from conformance.client.connection import Connection
from conformance.emulator import EmulatorConfig, create_app
from tests.support.cli import new_api_key, run_suite
from tests.support.serving import RawServer, read_request, serve_app

GATEWAY_TOKEN = "gw-token-PLANTED-5f1e2d3c4b5a"
API_VERSION = "2024-10-21"


class Gateway:
    """ASGI: checks each request for the gateway's header, parameter and key header, then
    hands it to the emulator with the key as `Authorization: Bearer`."""

    def __init__(self, api_key: str) -> None:
        self._emulator = create_app(EmulatorConfig(api_key=api_key, test_controls=True))
        self.passed = 0
        self.refused: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self._emulator(scope, receive, send)
        headers = dict(scope["headers"])
        query = parse_qs(scope["query_string"].decode())
        if headers.get(b"x-gateway-token") != GATEWAY_TOKEN.encode() or \
                query.get("api-version") != [API_VERSION] or b"authorization" in headers:
            self.refused.append(f"{scope['method']} {scope['path']}")
            body = json.dumps({"error": {"message": "the gateway refused the request",
                                         "type": "invalid_request_error", "param": None,
                                         "code": None}}).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return None
        self.passed += 1
        forwarded = [(k, v) for k, v in scope["headers"] if k != b"api-key"]
        if b"api-key" in headers:
            forwarded.append((b"authorization", b"Bearer " + headers[b"api-key"]))
        return await self._emulator({**scope, "headers": forwarded}, receive, send)


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[tuple[Path, Path], Path]]:
    """A server certificate for 127.0.0.1 and the CA bundle that verifies it."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = (tmp_path / n for n in ("cert.pem", "key.pem", "ca.pem"))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    yield (cert_file, key_file), ca_file


def _written(run_dir: Path) -> list[bytes]:
    return [p.read_bytes() for p in run_dir.rglob("*") if p.is_file()]


@pytest.mark.slow
def test_a_run_through_a_gateway_over_tls_passes_and_prints_none_of_its_secrets(
        tmp_path: Path, tls: tuple[tuple[Path, Path], Path]) -> None:
    api_key = new_api_key()
    gateway = Gateway(api_key)
    server_files, ca_file = tls
    with serve_app(gateway, tls=server_files) as base_url:
        done = run_suite(tmp_path, "--base-url", base_url, "--api-key", api_key,
                         "--seed", "1", "--auth-header", "api-key",
                         "--header", f"X-Gateway-Token:{GATEWAY_TOKEN}",
                         "--query", f"api-version={API_VERSION}",
                         "--cacert", str(ca_file), timeout=400)
    assert done.returncode == 0, done.explain()
    # The requests the gateway refused are the suite's own on purpose: without the key
    # header, or with a wrong key in it, never without the gateway's header or parameter.
    assert gateway.refused == [], gateway.refused[:5]
    assert gateway.passed > 100
    assert done.requirement("AUTH-REQUIRED")["status"] == "pass"
    for output in (done.stdout.encode(), done.stderr.encode(), *_written(tmp_path / "run")):
        assert GATEWAY_TOKEN.encode() not in output
        assert api_key.encode() not in output


def test_without_the_gateway_options_the_key_is_refused_and_the_run_says_so(
        tmp_path: Path, tls: tuple[tuple[Path, Path], Path]) -> None:
    api_key = new_api_key()
    server_files, ca_file = tls
    with serve_app(Gateway(api_key), tls=server_files) as base_url:
        done = run_suite(tmp_path, "--base-url", base_url, "--api-key", api_key,
                         "--cacert", str(ca_file), timeout=120)
    assert done.returncode == 2, done.explain()
    assert "refused the API key with 401" in done.stderr


def test_tls_is_verified_unless_told_otherwise(tls: tuple[tuple[Path, Path], Path]) -> None:
    server_files, ca_file = tls
    with serve_app(create_app(EmulatorConfig(api_key=None)), tls=server_files) as base_url:
        with TargetClient(base_url, None, max_retries=0) as client, \
                pytest.raises(TargetUnreachable, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            client.check_reachable()
        for connection in (Connection.parse(cacert=ca_file), Connection.parse(insecure=True)):
            with TargetClient(base_url, None, connection=connection) as client:
                client.check_reachable()
                assert client.request("GET", "/uploads/nothing-here").status in (404, 405)


def test_requests_go_through_the_proxy() -> None:
    seen: list[bytes] = []

    def proxy(conn: socket.socket) -> None:
        head, _ = read_request(conn)
        seen.append(head.split(b"\r\n")[0])
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
        conn.close()

    server = RawServer(proxy)
    try:
        connection = Connection.parse(proxy=f"http://127.0.0.1:{server.port}",
                                      query=["api-version=1"])
        with TargetClient("http://target.invalid/v1", None, max_retries=0,
                          connection=connection) as client:
            assert client.request("GET", "/uploads/up_1").status == 404
    finally:
        server.close()
    # A proxy gets the absolute URL, the extra parameter in it.
    assert seen == [b"GET http://target.invalid/v1/uploads/up_1?api-version=1 HTTP/1.1"]


@pytest.mark.parametrize(("settings", "message"), [
    ({"header": ("no-colon-sekret-value",)}, "--header must be NAME:VALUE"),
    ({"header": ("bad name:sekret-value",)}, "--header must be NAME:VALUE"),
    ({"query": ("no-equals",)}, "--query must be NAME=VALUE"),
    ({"auth_header": "not a name"}, "--auth-header must be a header name"),
    ({"cacert": Path("/no/such/ca.pem")}, "does not exist"),
    ({"cacert": Path(__file__), "insecure": True}, "not both"),
    ({"proxy": "socks5://127.0.0.1:1"}, "--proxy must be an http"),
    ({"header": ("X-A:b-sekret-value",), "sdk": "openai-python"}, "apply to plain HTTP runs"),
])
def test_a_malformed_connection_option_is_a_clear_error_without_its_value(
        settings: dict[str, Any], message: str) -> None:
    report = run(RunSettings(report_dir=None, **settings))
    assert report.exit_status == 2
    assert message in report.errors[0]
    assert "sekret" not in report.errors[0]
