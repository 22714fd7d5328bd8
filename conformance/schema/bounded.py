"""A requests transport for the schema checks that a hostile target can neither hold up nor
flood.

requests reads a whole answer into memory and bounds each socket read, not the exchange:
a target that streamed 2 GiB grew the process to 13 GB, and one that dripped a byte every
2 s was never stopped. `BoundedAdapter` gives each exchange one deadline, the request's
timeout counted from before the send, and reads every answer body itself:

- the body is read in pieces as they arrive (`read1`), so a drip is noticed between them,
  and at most `MAX_BODY_BYTES` of it is kept; past that the connection is dropped;
- a watchdog shuts the exchange's socket down when the deadline passes, wherever it is
  blocked (connecting, sending, a head that drips, a read that stalls);
- a stopped run (`conformance.halt`) sends nothing, and stops reading.

An exchange that ends without a usable answer raises a requests error (`ReadTimeout`,
`ContentDecodingError`, ...), which the schema checks record as NO-SERVER-ERROR, and its
time counts against the run (`conformance.client.health`).

schemathesis always sends with stream=True and then reads the body itself, so streamed
requests are read here too: the caller gets the body from `content`, `iter_content` and a
replay of `raw`, not as it arrives. No operation of the Uploads API streams.

Needs requests >= 2.32.2 (`get_connection_with_tls_context`) and urllib3 >= 2 (`read1`).
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from contextvars import ContextVar
from typing import Any, Final
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import (
    ChunkedEncodingError,
    ContentDecodingError,
    ReadTimeout,
)
from urllib3 import HTTPResponse
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError
from urllib3.exceptions import SSLError as Urllib3SSLError

from conformance import halt
from conformance.client.health import health
from conformance.client.target_client import MAX_ANSWER_BYTES

__all__ = ["MAX_BODY_BYTES", "NO_ANSWER", "BoundedAdapter", "mount_bounded"]

MAX_BODY_BYTES: Final = MAX_ANSWER_BYTES  # the suite's one cap on an answer body
_PIECE_BYTES: Final = 64 * 1024

# The target gave no usable answer (NO-SERVER-ERROR, and time lost), as opposed to a request
# the client itself could not build (InvalidURL, InvalidHeader: not the target's doing).
NO_ANSWER: Final = (requests.ConnectionError, requests.Timeout, ChunkedEncodingError,
                    ContentDecodingError)

Timeout = float | tuple[float | None, float | None] | None


class _Watchdog:
    """Shuts down the socket of one exchange once its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._lock = threading.Lock()
        self._conn: HTTPConnection | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def watch(self, conn: HTTPConnection) -> None:
        with self._lock:
            self._conn = conn
            if self.fired:  # the deadline passed while it was connecting
                _cut(conn)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._conn is not None:
                _cut(self._conn)

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._conn = None  # back in the pool, maybe another exchange's soon


_WATCHDOG: ContextVar[_Watchdog | None] = ContextVar("bounded_exchange", default=None)


def _cut(conn: HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            # socket.socket's shutdown even for TLS: SSLSocket's own also drops the TLS
            # state that the read blocked in the other thread is using (a ValueError there).
            # The blocked read then sees the end of the stream.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch(conn: HTTPConnection) -> None:
    watchdog = _WATCHDOG.get()
    if watchdog is not None:
        watchdog.watch(conn)


class _WatchedHTTPConnection(HTTPConnection):
    """urllib3's connection, shown to the current exchange's watchdog once it has a socket
    (a new one when it connects, a pooled one when it sends)."""

    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    """The same over TLS: the MRO puts HTTPSConnection's connect under the watched one."""


_WATCHED: Final[dict[type, type]] = {HTTPConnection: _WatchedHTTPConnection,
                                     HTTPSConnection: _WatchedHTTPSConnection}


class _Replay(HTTPResponse):
    """An answer body read (and decoded) here already, served again to a caller that reads
    `raw` itself (schemathesis does, for event streams); never decoded a second time."""

    def read(self, amt: int | None = None, decode_content: bool | None = None,
             cache_content: bool = False) -> bytes:
        return super().read(amt, decode_content=False, cache_content=cache_content)

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        return super().read1(amt, decode_content=False)


class BoundedAdapter(HTTPAdapter):
    """requests' adapter with one deadline per exchange and a cap on the answer body."""

    def get_connection_with_tls_context(self, request: requests.PreparedRequest, verify: Any,
                                        proxies: dict[str, str] | None = None,
                                        cert: Any = None) -> HTTPConnectionPool:
        pool = super().get_connection_with_tls_context(request, verify, proxies=proxies,
                                                       cert=cert)
        # Set before the pool's first connection; SOCKS pools keep their own class.
        pool.ConnectionCls = _WATCHED.get(pool.ConnectionCls, pool.ConnectionCls)
        return pool

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Timeout = None, verify: Any = True, cert: Any = None,
             proxies: dict[str, str] | None = None) -> requests.Response:
        halt.check()
        started = time.monotonic()
        total = _total_seconds(timeout)
        watchdog = _Watchdog(total) if total is not None else None
        token = _WATCHDOG.set(watchdog)
        response: requests.Response | None = None
        try:
            if watchdog is not None:
                watchdog.start()
            response = super().send(request, stream=True, timeout=timeout, verify=verify,
                                    cert=cert, proxies=proxies)
            _read_body(response, None if total is None else started + total, total)
            return response
        except NO_ANSWER as exc:
            failure = exc
            if watchdog is not None and watchdog.fired and \
                    not isinstance(exc, ReadTimeout | ContentDecodingError):
                # Whatever the cut socket made of it (a reset, a body broken off), it was
                # the deadline.
                arriving = "the answer was still arriving after" if response is not None \
                    else "no complete answer within"
                failure = ReadTimeout(f"{arriving} {total:g} s", request=request)
            path = urlsplit(request.url or "").path or "/"
            health.lost(time.monotonic() - started,
                        f"request without an answer ({type(failure).__name__})",
                        f"{request.method} {path}")
            if failure is exc:
                raise
            raise failure from exc
        finally:
            if watchdog is not None:
                watchdog.stop()
            _WATCHDOG.reset(token)


def mount_bounded(session: requests.Session) -> BoundedAdapter:
    """Sends every http:// and https:// request of `session` through one `BoundedAdapter`."""
    adapter = BoundedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return adapter


def _total_seconds(timeout: Any) -> float | None:
    """The whole exchange's time: a (connect, read) pair allows both in turn."""
    if isinstance(timeout, tuple):
        return None if None in timeout else float(sum(timeout))
    if isinstance(timeout, int | float):
        return float(timeout)
    return None  # no timeout, or a urllib3 Timeout: per socket operation only


def _read_body(response: requests.Response, deadline: float | None,
               total: float | None) -> None:
    """Reads the body into `response`, by the deadline and within the cap, or raises."""
    raw = response.raw
    body = io.BytesIO()
    size = 0
    done = False
    try:
        while True:
            halt.check()
            if deadline is not None and time.monotonic() > deadline:
                raise ReadTimeout(f"the answer was still arriving after {total:g} s",
                                  request=response.request)
            piece = _read_piece(response)
            if not piece:
                break
            size += len(piece)
            if size > MAX_BODY_BYTES:  # checked before keeping it: never more than the cap
                raise ContentDecodingError(f"answer body larger than {MAX_BODY_BYTES} bytes",
                                           request=response.request)
            body.write(piece)
        done = True
    finally:
        if not done:
            response.close()  # drops the connection: the rest of the body is never read
    # requests' own `content` reads a body the same way, into these two attributes.
    # (BytesIO.getvalue hands over its buffer without a copy.)
    response._content = body.getvalue()
    response._content_consumed = True
    response.raw = _Replay(
        body=io.BytesIO(response._content), headers=raw.headers, status=raw.status,
        version=raw.version, version_string=raw.version_string, reason=raw.reason,
        preload_content=False, decode_content=False, enforce_content_length=False,
        request_method=response.request.method, request_url=raw.url,
        # What requests takes the session's cookies from, after the adapter returns.
        original_response=raw._original_response)


def _read_piece(response: requests.Response) -> bytes:
    """What has arrived of the body (decoded), as requests' own reading maps its errors."""
    try:
        return response.raw.read1(_PIECE_BYTES, decode_content=True)
    except ReadTimeoutError as exc:
        raise ReadTimeout(exc, request=response.request) from exc
    except ProtocolError as exc:
        raise ChunkedEncodingError(exc, request=response.request) from exc
    except DecodeError as exc:
        raise ContentDecodingError(exc, request=response.request) from exc
    except Urllib3SSLError as exc:
        raise requests.exceptions.SSLError(exc, request=response.request) from exc

