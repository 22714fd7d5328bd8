"""Serving the fairness tests' targets: any ASGI app on a free loopback port (uvicorn in a
thread), and two sockets that are no server at all (nothing listening; never answering)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

_START_TIMEOUT_S = 15.0


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def serve_app(app: Any, *, date_header: bool = True) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) until the block ends; yields its base URL."""
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
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"fairness-target-{port}")
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fairness target did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextlib.contextmanager
def nothing_listening() -> Iterator[str]:
    """A base URL on a loopback port that nobody listens on (connections are refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # bound and released, never listened on: the port refuses connections
    yield f"http://127.0.0.1:{port}/v1"


@contextlib.contextmanager
def never_answering() -> Iterator[str]:
    """A base URL whose server accepts connections and reads requests, but never answers."""
    sock = _listening_socket()
    sock.settimeout(0.2)
    port = sock.getsockname()[1]
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept_and_hold() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.2)
            held.append(conn)  # read nothing back, answer nothing: the client waits

    thread = threading.Thread(target=accept_and_hold, daemon=True, name=f"hang-{port}")
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop.set()
        sock.close()
        thread.join(5)
        for conn in held:
            conn.close()
