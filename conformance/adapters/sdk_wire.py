"""How the Python SDK's HTTP is seen: parts as files, and transports that record each exchange.

`PayloadReader` hands a part to the SDK as a streaming file. `RecordingTransport` (and its
async twin) sends through the HTTP library's own transport and turns each exchange into an
`HttpRecord` (the key redacted, a curl line, a multipart body read on its way out without
keeping the part's bytes), added to the `Capture` of the SDK call it belongs to and to the
suite's log. `LoopThread` runs the async SDK on an event loop of its own.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import io
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import ModuleType
from typing import Any

from conformance.adapters.sdk_records import (
    HttpRecord,
    MultipartScanner,
    SentRequest,
    render_exchange,
)
from conformance.adapters.sdk_template import json_or_none
from conformance.evidence import Redactor
from conformance.results import Exchange
from strategies.payloads import BLOCK_SIZE, Payload

__all__ = ["CAPTURE", "AsyncRecordingTransport", "CallStopped", "Capture", "LoopThread",
           "PayloadReader", "RecordingTransport", "Wire", "http_library"]

# --- parts as files -----------------------------------------------------------------------


class PayloadReader(io.RawIOBase):
    """A payload as a read-only, seekable binary file, so the SDK streams a part.

    The SDK reads it in the HTTP library's chunks (64 KiB): a 64 MiB part costs a few
    blocks of memory, not 64 MiB. Seeking to the end tells the length without reading.
    """

    name = "part.bin"  # the multipart filename the HTTP library uses

    def __init__(self, payload: Payload) -> None:
        super().__init__()
        self._payload = payload
        self._position = 0
        self._rewind()

    def _rewind(self) -> None:
        self._chunks = self._payload.iter_chunks(BLOCK_SIZE)
        self._pending = b""
        self._at = 0  # the position the iterator and _pending stand at

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: len(self._payload)}
        self._position = max(0, base[whence] + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _read(self, n: int) -> bytes:
        if self._position >= len(self._payload) or n <= 0:
            return b""
        if self._position < self._at:
            self._rewind()
        while self._at + len(self._pending) <= self._position:  # skip to the position
            self._at += len(self._pending)
            self._pending = next(self._chunks, b"")
        start = self._position - self._at
        while len(self._pending) - start < n:
            more = next(self._chunks, b"")
            if not more:
                break
            self._pending = self._pending[start:] + more
            self._at += start
            start = 0
        data = self._pending[start : start + n]
        self._position += len(data)
        return data


# --- recording the SDK's HTTP ---------------------------------------------------------


class CallStopped(BaseException):
    """Raised from the transport to end an SDK call at its Capture's limit: not an
    Exception, so that neither the SDK (which may wrap a transport's errors) nor a helper
    that retries whatever fails can swallow it."""


class Capture:
    """The records of one SDK call, in the order its requests were sent. With a `limit`,
    the call is stopped (CallStopped) once it has sent that many: a helper that never ends."""

    def __init__(self, limit: int | None = None) -> None:
        self.records: list[HttpRecord] = []
        self.limit = limit
        self._lock = threading.Lock()

    def add(self, record: HttpRecord) -> None:
        with self._lock:
            self.records.append(record)
            count = len(self.records)
        if self.limit is not None and count >= self.limit:
            raise CallStopped(f"stopped by the suite at its request #{count}")


# Which call a request belongs to: set around each SDK call (in the calling thread, or in
# the task that runs an async call), read by the transport.
CAPTURE: contextvars.ContextVar[Capture | None] = contextvars.ContextVar(
    "sdk_capture", default=None)


# A part the SDK holds whole (its chunked helper reads 64 MiB at once) goes out, and is
# scanned, this much at a time: one 64 MiB chunk would be copied whole by the scanner's
# buffer and by asyncio's socket buffer.
_SLICE = 1 << 20


def _slices(chunk: bytes) -> Iterator[bytes]:
    if len(chunk) <= _SLICE:
        yield chunk
        return
    for start in range(0, len(chunk), _SLICE):
        yield chunk[start : start + _SLICE]


class ScannedStream:
    """A multipart request body passed through a MultipartScanner on its way out (the
    same bytes, in slices of at most a MiB)."""

    def __init__(self, original: Any, content_type: str) -> None:
        self._original = original
        self._content_type = content_type
        self.scanner = MultipartScanner(content_type)

    def __iter__(self) -> Any:
        for chunk in self._original:
            for piece in _slices(chunk):
                self.scanner.feed(piece)
                yield piece
        self.scanner.close()

    async def __aiter__(self) -> Any:
        async for chunk in self._original:
            for piece in _slices(chunk):
                self.scanner.feed(piece)
                yield piece
        self.scanner.close()

    def rescan(self) -> None:
        """The target answered before reading the body: read the body again, unsent."""
        self.scanner = MultipartScanner(self._content_type)
        for chunk in self._original:
            self.scanner.feed(chunk)
        self.scanner.close()

    async def arescan(self) -> None:
        self.scanner = MultipartScanner(self._content_type)
        async for chunk in self._original:
            self.scanner.feed(chunk)
        self.scanner.close()

    def close(self) -> None:
        if hasattr(self._original, "close"):
            self._original.close()

    async def aclose(self) -> None:
        if hasattr(self._original, "aclose"):
            await self._original.aclose()


class Wire:
    """Turns what the SDK's HTTP client sends and receives into HttpRecords."""

    def __init__(self, http: ModuleType, api_key: str | None,
                 sink: Callable[[Exchange], None] | None) -> None:
        self.api_key = api_key
        self.redactor = Redactor(api_key)
        self.sink = sink
        # The HTTP library's transports accept only its own stream types.
        self.stream_class: type[ScannedStream] = type(
            "ScannedStream", (ScannedStream, http.SyncByteStream, http.AsyncByteStream), {})

    def begin(self, request: Any) -> tuple[SentRequest, ScannedStream | None]:
        content_type = request.headers.get("content-type", "")
        scanned = None
        if content_type.lower().startswith("multipart/form-data"):
            scanned = self.stream_class(request.stream, content_type)
            request.stream = scanned
        sent = SentRequest.observed(request.method, str(request.url),
                                    request.headers.multi_items(), self.redactor, self.api_key,
                                    form=[] if scanned else None)
        return sent, scanned

    def set_body(self, sent: SentRequest, body: bytes) -> None:
        sent.set_body(body, self.redactor)

    def finish(self, sent: SentRequest, scanned: ScannedStream | None, status: int | None,
               headers: Any, body: bytes, error: str | None, started: float) -> None:
        if scanned is not None:
            scanned.scanner.close()
            sent.form, sent.form_error = scanned.scanner.fields, scanned.scanner.error
            sent.body_size = scanned.scanner.size
        exchange = render_exchange(
            sent, status=status, response_headers=dict(headers.items()) if headers else {},
            response_body=body, error=error, duration_s=time.perf_counter() - started,
            redactor=self.redactor)
        record = HttpRecord(sent, exchange, status, json_or_none(body))
        capture = CAPTURE.get()
        if capture is not None:
            capture.add(record)
        if self.sink is not None:
            self.sink(exchange)

    def describe(self, error: BaseException) -> str:
        return self.redactor.text(f"{type(error).__name__}: {error}")


class RecordingTransport(AbstractContextManager["RecordingTransport"]):
    """Sends through the HTTP library's own transport, recording each exchange (duck-typed:
    the SDK's library may be httpx or httpx2)."""

    def __init__(self, inner: Any, wire: Wire) -> None:
        self._inner, self._wire = inner, wire

    def handle_request(self, request: Any) -> Any:
        sent, scanned = self._wire.begin(request)
        if scanned is None:
            self._wire.set_body(sent, request.read())
        started = time.perf_counter()
        try:
            response = self._inner.handle_request(request)
            content = response.read()
        except Exception as error:
            self._wire.finish(sent, scanned, None, None, b"", self._wire.describe(error), started)
            raise
        if scanned is not None and not scanned.scanner.complete:
            scanned.rescan()
        self._wire.finish(sent, scanned, response.status_code, response.headers, content, None,
                          started)
        return response

    def close(self) -> None:
        self._inner.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncRecordingTransport(AbstractAsyncContextManager["AsyncRecordingTransport"]):
    def __init__(self, inner: Any, wire: Wire) -> None:
        self._inner, self._wire = inner, wire

    async def handle_async_request(self, request: Any) -> Any:
        sent, scanned = self._wire.begin(request)
        if scanned is None:
            self._wire.set_body(sent, await request.aread())
        started = time.perf_counter()
        try:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
        except Exception as error:
            self._wire.finish(sent, scanned, None, None, b"", self._wire.describe(error), started)
            raise
        if scanned is not None and not scanned.scanner.complete:
            await scanned.arescan()
        self._wire.finish(sent, scanned, response.status_code, response.headers, content, None,
                          started)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()



def http_library(client_class: type) -> ModuleType:
    """The HTTP library the SDK is built on (httpx2 for openai 3.x, httpx before)."""
    base = next(c for c in client_class.__mro__ if c.__name__ in ("Client", "AsyncClient"))
    return importlib.import_module(base.__module__.split(".")[0])


class LoopThread:
    """An asyncio event loop running in a daemon thread; `run` waits for a coroutine."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise TimeoutError(f"the SDK call did not finish within {timeout:g} s") from None

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()

