"""Transport failures against real sockets: hangs, garbage, truncation, refusal, streaming."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from conformance.client import TargetClient, TargetUnreachable
from tests.support.serving import RawServer, read_request

KEY = "sk-test-transport-0123456789"
Start = Callable[[Callable[[socket.socket], None]], RawServer]


def answer_with(raw: bytes) -> Callable[[socket.socket], None]:
    def handler(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(raw)
    return handler


def test_a_hanging_target_times_out(raw_server: Start) -> None:
    def hang(conn: socket.socket) -> None:
        read_request(conn)
        conn.recv(1)  # returns when the client gives up and closes

    server = raw_server(hang)
    with TargetClient(server.url, KEY, timeout=0.3, backoff_base=0.01) as client:
        started = time.monotonic()
        answer = client.request("POST", "/uploads", json={})
        elapsed = time.monotonic() - started
        stream_answer = client.request("GET", "/uploads")
    assert answer.status is None and answer.json is None
    assert (answer.error or "").startswith("timeout (ReadTimeout) after 0.3 s")
    assert 0.25 < elapsed < 2.0
    assert answer.exchange.status is None and answer.exchange.duration_s >= 0.25
    assert stream_answer.attempts == 1  # a timeout is not retried, even for GET


@pytest.mark.parametrize("raw", [
    b"THIS IS NOT HTTP AT ALL\r\n\r\n",
    b"HTTP/1.1 2OO OK\r\n\r\n",
    b"\x00\x01\x02\x03" * 50,
])
def test_a_garbage_answer_is_a_recorded_failure(raw_server: Start, raw: bytes) -> None:
    server = raw_server(answer_with(raw))
    with TargetClient(server.url, KEY, timeout=2, max_retries=0) as client:
        answer = client.request("POST", "/uploads", json={"a": 1})
        assert client.recent(1) == [answer.exchange]
    assert answer.status is None
    assert answer.error and "Error" in answer.error
    assert answer.exchange.curl.startswith("curl ")


def test_a_truncated_answer_is_a_recorded_failure(raw_server: Start) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\""
    server = raw_server(answer_with(raw))
    with TargetClient(server.url, KEY, timeout=2, max_retries=0) as client:
        answer = client.request("POST", "/uploads", json={})
    assert answer.status is None
    assert (answer.error or "").startswith("broken answer after status 200")
    assert answer.json_error == answer.error


def test_a_closed_connection_without_answer(raw_server: Start) -> None:
    server = raw_server(lambda conn: read_request(conn) and None)
    with TargetClient(server.url, KEY, timeout=2, max_retries=0) as client:
        answer = client.request("POST", "/uploads", json={})
    assert answer.status is None and "RemoteProtocolError" in (answer.error or "")


def test_refused_connections_are_retried_then_recorded(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/v1"
    with TargetClient(url, KEY, timeout=1, max_retries=2, backoff_base=0.01) as client:
        answer = client.request("POST", "/uploads", json={})
        assert answer.status is None and answer.attempts == 3
        assert "ConnectError" in (answer.error or "")
        with pytest.raises(TargetUnreachable, match="is unreachable") as caught:
            client.check_reachable()
    assert url in str(caught.value)


def test_check_reachable_accepts_any_http_answer(raw_server: Start) -> None:
    raw = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    server = raw_server(answer_with(raw))
    with TargetClient(server.url, KEY, timeout=2) as client:
        assert client.check_reachable().status == 404


def test_check_reachable_times_out_on_a_silent_target(raw_server: Start) -> None:
    def hang(conn: socket.socket) -> None:
        read_request(conn)
        conn.recv(1)

    server = raw_server(hang)
    with TargetClient(server.url, KEY, timeout=0.2, max_retries=0) as client, \
            pytest.raises(TargetUnreachable, match="timeout"):
        client.check_reachable()


def _serve_chunked(body: bytes, *, cut: bool = False) -> Callable[[socket.socket], None]:
    def handler(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode())
        view = memoryview(body)
        end = len(body) // 2 if cut else len(body)
        for start in range(0, end, 65536):
            conn.sendall(view[start:min(start + 65536, end)])
    return handler


def test_stream_get_yields_the_body_in_chunks(raw_server: Start) -> None:
    body = bytes(range(256)) * 12_289  # about 3 MiB
    server = raw_server(_serve_chunked(body))
    with TargetClient(server.url, KEY, timeout=5) as client:
        offset = 0
        with client.stream_get("/files/file-1/content", chunk_size=1 << 16) as stream:
            assert stream.status == 200
            for chunk in stream:
                assert chunk == body[offset:offset + len(chunk)]  # compared as it arrives
                offset += len(chunk)
        assert offset == len(body) and stream.bytes_read == len(body)
        assert stream.error is None
        assert stream.exchange.response_body == f"<streamed: {len(body)} bytes read>"
        assert client.recent(1) == [stream.exchange]


def test_a_stream_cut_short_is_recorded_not_raised(raw_server: Start) -> None:
    body = b"z" * 1_000_000
    server = raw_server(_serve_chunked(body, cut=True))
    with TargetClient(server.url, KEY, timeout=5) as client:
        with client.stream_get("/files/file-1/content") as stream:
            received = sum(len(chunk) for chunk in stream)
        assert received < len(body)
        assert (stream.error or "").startswith("broken answer after status 200")


def test_a_refused_stream_is_read_as_json(raw_server: Start) -> None:
    raw = (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 33\r\n"
           b"\r\n" b'{"error": {"message": "no file"}}')
    server = raw_server(answer_with(raw))
    with TargetClient(server.url, KEY, timeout=5) as client:
        with client.stream_get("/files/nope/content") as stream:
            assert stream.status == 404
            assert stream.json == {"error": {"message": "no file"}}
            assert b"".join(stream) == raw.split(b"\r\n\r\n", 1)[1]
        assert "no file" in stream.exchange.response_body


def test_a_stream_from_a_dead_target_is_empty(closed_port: int) -> None:
    with TargetClient(f"http://127.0.0.1:{closed_port}/v1", KEY, max_retries=0) as client:
        with client.stream_get("/files/f/content") as stream:
            assert stream.status is None and list(stream) == []
        assert "ConnectError" in (stream.error or "")


def test_an_early_refusal_of_a_large_part_is_read(raw_server: Start) -> None:
    """A target may refuse an oversized part before reading it, then close the connection."""
    envelope = b'{"error": {"message": "part too large", "type": "invalid_request_error"}}'

    def refuse_early(conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(envelope)}\r\nConnection: close\r\n\r\n".encode()
                     + envelope)
        conn.shutdown(socket.SHUT_WR)

    server = raw_server(refuse_early)
    size = 32 * 1024 * 1024
    with TargetClient(server.url, KEY, timeout=5, max_retries=0) as client:
        answer = client.add_part("upload_1", lambda: (b"\0" * (1 << 20) for _ in range(32)), size)
    assert answer.status == 413, answer.error
    assert answer.json["error"]["message"] == "part too large"
