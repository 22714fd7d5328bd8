"""A deadline for a whole exchange: connect, send, and the answer however slowly it drips.

httpx's timeouts bound each socket operation, so an answer that sends a byte every two
seconds never times out. Here the socket operations of one exchange share one deadline:
`timeout` seconds, plus one second for each MiB that went through (a 64 MiB part on a
slow link is not a hung target). Each read, write and connect waits at most what is left,
and one that starts after the deadline fails at once with httpx's own timeout errors, so
the rest of the client (retries, evidence) treats it as any other timeout.

Sitting under every socket operation, the deadline also notes what the retries need to know
and httpcore's errors do not say: whether the exchange opened a connection or was sent on
a pooled one (`reused`), on which (`stream`), and whether any byte of an answer came back.

httpx has no public hook for the network layer: `DeadlineTransport` is httpx's own
transport with its connection pool rebuilt on `DeadlineBackend` (httpcore's documented
network-backend interface), the one internal attribute it replaces.
"""

from __future__ import annotations

import contextvars
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import httpcore
import httpx

__all__ = ["BYTES_PER_S_ALLOWED", "DeadlineTransport", "ExchangeDeadline"]

BYTES_PER_S_ALLOWED: Final = 1024 * 1024  # each MiB through the socket earns a second more
_CURRENT: contextvars.ContextVar[ExchangeDeadline | None] = contextvars.ContextVar(
    "exchange_deadline", default=None)


@dataclass
class ExchangeDeadline:
    """The deadline of one exchange; `active()` applies it to the sockets it uses."""

    timeout: float
    started: float = field(default_factory=time.monotonic)
    transferred: int = 0
    received: int = 0  # bytes read: 0 means no byte of an answer came back
    connected: bool = False  # the exchange opened a new connection
    stream: object | None = None  # the connection the exchange last wrote to

    @property
    def reused(self) -> bool:
        """The request went out on a pooled connection an earlier exchange had opened."""
        return self.stream is not None and not self.connected

    def left(self) -> float:
        allowed = self.timeout + self.transferred / BYTES_PER_S_ALLOWED
        return self.started + allowed - time.monotonic()

    @contextmanager
    def active(self) -> Iterator[None]:
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _CURRENT.get()
    if deadline is None:
        return timeout
    _raise_if_past(error)
    left = deadline.left()
    return left if timeout is None else min(timeout, left)


def _raise_if_past(error: type[Exception]) -> None:
    deadline = _CURRENT.get()
    if deadline is not None and deadline.left() <= 0:
        raise error(f"no complete exchange within the {deadline.timeout:g} s deadline")


def _count(transferred: int, *, read: bool = False) -> None:
    deadline = _CURRENT.get()
    if deadline is not None:
        deadline.transferred += transferred
        if read:
            deadline.received += transferred


def _note(**facts: object) -> None:
    deadline = _CURRENT.get()
    if deadline is not None:
        for name, value in facts.items():
            setattr(deadline, name, value)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            data = self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))
        except httpcore.ReadTimeout:
            _raise_if_past(httpcore.ReadTimeout)  # say it was the deadline, if it was
            raise
        _count(len(data), read=True)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _note(stream=self)  # before writing: a write that fails went on this connection
        try:
            self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))
        except httpcore.WriteTimeout:
            _raise_if_past(httpcore.WriteTimeout)
            raise
        _count(len(buffer))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname,
                                      _bounded(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's blocking sockets, each operation bounded by the exchange's deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        _note(connected=True)
        stream = self._inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout),
                                         local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        _note(connected=True)
        stream = self._inner.connect_unix_socket(
            path, _bounded(timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport, its sockets bounded by the exchange's deadline; through an
    http(s) proxy when one is given."""

    def __init__(self, *, limits: httpx.Limits, verify: ssl.SSLContext | bool = True,
                 proxy: httpx.Proxy | None = None) -> None:
        super().__init__(limits=limits, verify=verify)
        pool = {"ssl_context": httpx.create_ssl_context(verify=verify),
                "max_connections": limits.max_connections,
                "max_keepalive_connections": limits.max_keepalive_connections,
                "keepalive_expiry": limits.keepalive_expiry,
                "network_backend": DeadlineBackend()}
        if proxy is None:
            self._pool: httpcore.ConnectionPool = httpcore.ConnectionPool(**pool)
        else:
            self._pool = httpcore.HTTPProxy(
                proxy_url=httpcore.URL(str(proxy.url)), proxy_auth=proxy.raw_auth,
                proxy_headers=proxy.headers.raw, **pool)
