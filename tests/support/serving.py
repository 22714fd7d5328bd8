"""Serving the tests' targets on 127.0.0.1, one way for each kind of target.

- `serve_app(app)`: any ASGI app (a fake target, a wrapped emulator), uvicorn in a thread on a
  socket bound before it starts; yields the base URL (ending in /v1); over TLS with `tls`.
- `RawServer(handler)`: a raw-socket server for answers no server framework would send (hung,
  truncated, garbage); `read_request` reads one request off a connection.
- `closed_port()` and `nothing_listening()`: a port, a base URL, where nothing listens.
- `never_answering()`: a base URL whose server accepts connections and never answers.

The reference emulator itself is served by the product's `conformance.emulator.EmulatorServer`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn

_START_TIMEOUT_S = 15.0

Handler = Callable[[socket.socket], None]


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def serve_app(app: Any, *, date_header: bool = True,
              tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) until the block ends; yields its base URL
    (https with `tls`, a certificate file and its key file)."""
    sock = _listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        http="h11",  # reads the rest of a body the app refused early, as the emulator's does
        lifespan="on",
        log_level="critical",  # the faulty targets make uvicorn log; the runs are the subject
        access_log=False,
        date_header=date_header,
        server_header=False,
        timeout_graceful_shutdown=3,
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"test-target-{port}")
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test target did not start")
            time.sleep(0.01)
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def closed_port() -> int:
    """A loopback port with nothing listening on it (bound and released, never listened on)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def nothing_listening() -> Iterator[str]:
    """A base URL on a loopback port that nobody listens on (connections are refused)."""
    yield f"http://127.0.0.1:{closed_port()}/v1"


class RawServer:
    """Accepts connections and hands each to `handler` in its own thread; `close()` stops
    accepting and cuts the connections still open."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.connections = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name=f"raw-server-{self.port}")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with self._lock:
                self._open.add(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self._handler(conn)
        with self._lock:
            self._open.discard(conn)

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=2)
        with self._lock:
            still_open = list(self._open)
        for conn in still_open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def read_request(conn: socket.socket) -> tuple[bytes, bytes]:
    """The head of one HTTP request and as much of its body as Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


@contextlib.contextmanager
def never_answering() -> Iterator[str]:
    """A base URL whose server accepts every connection and holds it, reading and answering
    nothing (the client waits), until the block ends."""
    released = threading.Event()
    server = RawServer(lambda conn: released.wait())
    try:
        yield server.url
    finally:
        released.set()
        server.close()
