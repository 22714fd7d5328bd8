"""Fixtures for the client's tests: local raw-socket servers and a port nobody listens on."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from tests.support.client_servers import Handler, RawServer


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        server = RawServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
