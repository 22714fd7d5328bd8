"""The official Python SDK (`openai`) as an adapter: the machine's operations through
`client.uploads`, sync or async, every HTTP exchange recorded and checked.

The SDK is built with `max_retries=0` (the suite must see every answer) and an HTTP client
of the SDK's own kind whose transport records each exchange (the key redacted, with a curl
line) so that each request can be held to the OpenAPI document. The adapter answers with
what the target sent; what the SDK gave back, its typed result or its exception, is
compared with that. `check_chunked_upload` runs the SDK's `upload_file_chunked` helper.

`openai` is an optional dependency: importing this module does not need it, building an
adapter does.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import io
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any, Final, Protocol
from urllib.parse import quote, urlsplit

from conformance.adapters.base import Adapter
from conformance.adapters.request_checks import (
    ChunkedRun,
    HttpRecord,
    Intended,
    MultipartScanner,
    RequestJudge,
    SdkAnswer,
    SdkChecks,
    SentRequest,
    authorization_problem,
    error_body_problems,
    json_mismatches,
    parse_json_body,
    recorded_url,
    redact_headers,
    render_exchange,
)
from conformance.checks import Answer, Checker
from conformance.client import TargetClient
from conformance.evidence import Redactor
from conformance.recorder import ConformanceFailure
from conformance.results import Exchange, Finding
from strategies.payloads import BLOCK_SIZE, Payload

__all__ = [
    "DEFAULT_CHUNKED_SIZES",
    "ChunkedUploader",
    "OpenAIPythonAdapter",
    "OpenAIPythonAsyncAdapter",
    "PayloadReader",
    "check_chunked_upload",
    "load_openai",
    "typed_mismatches",
]

SDK_MISSING: Final = ("the openai-python adapters need the `openai` package: "
                      "pip install 'uploads-conformance[sdk]'")
CREATE_REQUIRED: Final = ("bytes", "filename", "mime_type", "purpose")
CREATE_OPTIONAL: Final = ("expires_after",)
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_CALL_MARGIN_S: Final = 15.0  # an async call may take the SDK's own timeout, and a bit more


def load_openai() -> ModuleType:
    """The `openai` module; ImportError with the install command when it is missing."""
    try:
        import openai
    except ImportError as error:
        raise ImportError(SDK_MISSING) from error
    return openai


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


class _Capture:
    """The records of one SDK call, in the order its requests were sent."""

    def __init__(self) -> None:
        self.records: list[HttpRecord] = []
        self._lock = threading.Lock()

    def add(self, record: HttpRecord) -> None:
        with self._lock:
            self.records.append(record)


# Which call a request belongs to: set around each SDK call (in the calling thread, or in
# the task that runs an async call), read by the transport.
_CAPTURE: contextvars.ContextVar[_Capture | None] = contextvars.ContextVar(
    "sdk_capture", default=None)


class _ScannedStream:
    """A multipart request body passed through a MultipartScanner on its way out."""

    def __init__(self, original: Any, content_type: str) -> None:
        self._original = original
        self._content_type = content_type
        self.scanner = MultipartScanner(content_type)

    def __iter__(self) -> Any:
        for chunk in self._original:
            self.scanner.feed(chunk)
            yield chunk
        self.scanner.close()

    async def __aiter__(self) -> Any:
        async for chunk in self._original:
            self.scanner.feed(chunk)
            yield chunk
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


class _Wire:
    """Turns what the SDK's HTTP client sends and receives into HttpRecords."""

    def __init__(self, http: ModuleType, api_key: str | None,
                 sink: Callable[[Exchange], None] | None) -> None:
        self.api_key = api_key
        self.redactor = Redactor(api_key)
        self.sink = sink
        # The HTTP library's transports accept only its own stream types.
        self.stream_class: type[_ScannedStream] = type(
            "ScannedStream", (_ScannedStream, http.SyncByteStream, http.AsyncByteStream), {})

    def begin(self, request: Any) -> tuple[SentRequest, _ScannedStream | None]:
        content_type = request.headers.get("content-type", "")
        scanned = None
        if content_type.lower().startswith("multipart/form-data"):
            scanned = self.stream_class(request.stream, content_type)
            request.stream = scanned
        sent = SentRequest(
            method=request.method, url=recorded_url(str(request.url), self.redactor),
            headers=redact_headers(request.headers.multi_items(), self.redactor, self.api_key),
            auth_problem=authorization_problem(request.headers.get("authorization"),
                                               self.api_key),
            body_size=0, form=[] if scanned else None)
        return sent, scanned

    def set_body(self, sent: SentRequest, body: bytes) -> None:
        sent.body_size = len(body)
        if body:
            sent.json, sent.json_text = parse_json_body(body, self.redactor)

    def finish(self, sent: SentRequest, scanned: _ScannedStream | None, status: int | None,
               headers: Any, body: bytes, error: str | None, started: float) -> None:
        if scanned is not None:
            scanned.scanner.close()
            sent.form, sent.form_error = scanned.scanner.fields, scanned.scanner.error
            sent.body_size = scanned.scanner.size
        exchange = render_exchange(
            sent, status=status, response_headers=dict(headers.items()) if headers else {},
            response_body=body, error=error, duration_s=time.perf_counter() - started,
            redactor=self.redactor)
        record = HttpRecord(sent, exchange, status, _json_or_none(body))
        capture = _CAPTURE.get()
        if capture is not None:
            capture.add(record)
        if self.sink is not None:
            self.sink(exchange)

    def describe(self, error: BaseException) -> str:
        return self.redactor.text(f"{type(error).__name__}: {error}")


class _RecordingTransport:
    """Sends through the HTTP library's own transport, recording each exchange."""

    def __init__(self, inner: Any, wire: _Wire) -> None:
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

    def __enter__(self) -> _RecordingTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _AsyncRecordingTransport:
    def __init__(self, inner: Any, wire: _Wire) -> None:
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

    async def __aenter__(self) -> _AsyncRecordingTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


def _http_library(client_class: type) -> ModuleType:
    """The HTTP library the SDK is built on (httpx2 for openai 3.x, httpx before)."""
    import importlib

    base = next(c for c in client_class.__mro__ if c.__name__ in ("Client", "AsyncClient"))
    return importlib.import_module(base.__module__.split(".")[0])


# --- the adapters ---------------------------------------------------------------------


class OpenAIPythonAdapter:
    """The four operations through `openai.OpenAI().uploads`.

    `checker` receives the SDK's findings (SDK-REQUEST-CONFORMS, SDK-RESULT-MATCHES); without
    one nothing is checked. `sink` receives every recorded Exchange (the suite's log, so a
    failure's evidence shows them). `fallback` (raw HTTP) sends an operation again when the
    SDK's request departed from the document (or was never sent) and the target did not
    accept it: once the SDK's fault is reported, the target is judged on the documented
    request rather than blamed for refusing the SDK's. It also sends what no SDK call can
    express (a body that is not a JSON object).

    `stream_parts=False` hands the SDK each part as bytes (the whole part in memory, twice
    while the HTTP library copies it) instead of a streaming file object.

    The `call_*` methods are the SDK calls themselves: a wrapper (or a test's deliberately
    broken SDK) overrides them.
    """

    name = "openai-python"
    generic_error = "APIStatusError"  # the SDK's class for a status without its own class
    supports_chunked_upload = True

    def __init__(self, base_url: str, api_key: str | None, *, checker: Checker | None = None,
                 sink: Callable[[Exchange], None] | None = None, timeout: float = 30.0,
                 fallback: Adapter | None = None, stream_parts: bool = True,
                 judge: RequestJudge | None = None) -> None:
        self.openai = load_openai()
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.fallback = fallback
        self.stream_parts = stream_parts
        self.checks = SdkChecks(checker, self.name, self.base_url, judge)
        self._wire = _Wire(_http_library(self.openai.DefaultHttpxClient), api_key, sink)
        self._trust_env = urlsplit(self.base_url).hostname not in _LOOPBACK
        self.sdk: Any = self._build_sdk()

    @property
    def version(self) -> str:
        return str(self.openai.__version__)

    def versions(self) -> dict[str, str]:
        http = _http_library(self.openai.DefaultHttpxClient)
        return {"adapter": self.name, "sdk": "openai (Python)", "sdk_version": self.version,
                "sdk_http": f"{http.__name__} {getattr(http, '__version__', '?')}"}

    def _build_sdk(self) -> Any:
        openai = self.openai
        http = _http_library(openai.DefaultHttpxClient)
        transport = _RecordingTransport(http.HTTPTransport(), self._wire)
        client = openai.DefaultHttpxClient(transport=transport, trust_env=self._trust_env)
        return openai.OpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0,
                             timeout=self.timeout, http_client=client)

    def _invoke(self, capture: _Capture, call: Callable[[Any], Any]) -> Any:
        token = _CAPTURE.set(capture)
        try:
            return call(self.sdk)
        finally:
            _CAPTURE.reset(token)

    def close(self) -> None:
        self.sdk.close()

    # -- the SDK calls (override to wrap or break the SDK) --

    def call_create(self, sdk: Any, params: dict[str, Any], extra: dict[str, Any]) -> Any:
        return sdk.uploads.create(**params, extra_body=extra or None)

    def call_add_part(self, sdk: Any, upload_id: str, data: Any) -> Any:
        return sdk.uploads.parts.create(upload_id, data=data)

    def call_complete(self, sdk: Any, upload_id: str, params: dict[str, Any],
                      extra: dict[str, Any]) -> Any:
        return sdk.uploads.complete(upload_id, **params, extra_body=extra or None)

    def call_cancel(self, sdk: Any, upload_id: str) -> Any:
        return sdk.uploads.cancel(upload_id)

    def call_upload_file_chunked(self, sdk: Any, **kwargs: Any) -> Any:
        return sdk.uploads.upload_file_chunked(**kwargs)

    # -- the Adapter protocol --

    def create(self, body: Any) -> Answer:
        intended = Intended("createUpload", body=body)
        if not isinstance(body, dict) and self.fallback is not None:
            return self.fallback.create(body)
        split = _split(body, CREATE_REQUIRED, CREATE_OPTIONAL)
        if split is None:  # not expressible as the method's parameters: the SDK's raw post
            return self._operation("create", intended,
                                   lambda sdk: sdk.post("/uploads", body=body, cast_to=object),
                                   lambda f: f.create(body))
        params, extra = split
        return self._operation("create", intended,
                               lambda sdk: self.call_create(sdk, params, extra),
                               lambda f: f.create(body))

    def add_part(self, upload_id: str, payload: Payload) -> Answer:
        intended = Intended("addUploadPart", upload_id, part_size=len(payload),
                            part_md5=payload.md5())
        data = PayloadReader(payload) if self.stream_parts else payload.read()
        return self._operation(f"a part of {len(payload)} bytes", intended,
                               lambda sdk: self.call_add_part(sdk, upload_id, data),
                               lambda f: f.add_part(upload_id, payload))

    def complete(self, upload_id: str, body: Any) -> Answer:
        intended = Intended("completeUpload", upload_id, body=body)
        if not isinstance(body, dict) and self.fallback is not None:
            return self.fallback.complete(upload_id, body)
        split = _split(body, ("part_ids",), ("md5",))
        if split is None or not isinstance(split[0]["part_ids"], list):
            path = f"/uploads/{quote(upload_id, safe='')}/complete"
            return self._operation("completion", intended,
                                   lambda sdk: sdk.post(path, body=body, cast_to=object),
                                   lambda f: f.complete(upload_id, body))
        params, extra = split
        return self._operation("completion", intended,
                               lambda sdk: self.call_complete(sdk, upload_id, params, extra),
                               lambda f: f.complete(upload_id, body))

    def cancel(self, upload_id: str) -> Answer:
        return self._operation("cancel", Intended("cancelUpload", upload_id),
                               lambda sdk: self.call_cancel(sdk, upload_id),
                               lambda f: f.cancel(upload_id))

    def _operation(self, what: str, intended: Intended, call: Callable[[Any], Any],
                   fallback: Callable[[Adapter], Answer]) -> Answer:
        capture = _Capture()
        result, error = None, None
        try:
            result = self._invoke(capture, call)
        except Exception as raised:  # the SDK's exception is part of its answer
            error = raised
        records = capture.records
        conforms = self.checks.requests(what, records, intended)
        if not conforms and self.fallback is not None and not _accepted(records):
            # Reported once; from then on the target is judged on the documented request.
            return fallback(self.fallback)
        if not records:
            return _unsent(intended, self.base_url, error)
        last = records[-1]
        self.checks.result(what, self.result_problems(last, result, error))
        return SdkAnswer(last.status, last.json, last.exchange, result, error)

    # -- what the SDK gave back --

    def result_problems(self, record: HttpRecord, result: Any,
                        error: BaseException | None) -> list[str]:
        """How the SDK's result or exception departs from the answer the target sent."""
        openai, status = self.openai, record.status
        raised = f"{type(error).__name__}: {error}"[:200] if error is not None else ""
        if status is None:
            if error is None:
                return ["it returned a result although no answer arrived"]
            if not isinstance(error, openai.APIConnectionError):
                return [f"no answer arrived, and it raised {raised}, not an APIConnectionError"]
            return []
        if 200 <= status < 300:
            if not isinstance(record.json, dict):
                return []  # not an object: the target's fault, whatever the SDK makes of it
            if error is not None:
                return [f"a {status} answer with a JSON object raised {raised}"]
            return typed_mismatches(result, record.json)
        if error is None:
            return [f"a {status} answer returned a result instead of raising"]
        if not isinstance(error, openai.APIStatusError):
            return [f"a {status} answer raised {raised}, not an APIStatusError"]
        problems = []
        if error.status_code != status:
            problems.append(f"its exception says status {error.status_code}, the answer {status}")
        wrong_class = self.checks.error_class(
            status, type(error).__name__, self.generic_error,
            matches=_is_instance_of(error, openai, status, self.generic_error))
        if wrong_class:
            problems.append(wrong_class)
        if isinstance(record.json, dict):
            problems += error_body_problems(error.body, record.json, error.code, error.type,
                                            error.param)
        return problems

    # -- the chunked helper --

    def upload_file_chunked(self, data: bytes, *, filename: str, mime_type: str, purpose: str,
                            part_size: int, md5: str | None, from_path: bool) -> ChunkedRun:
        """Runs `uploads.upload_file_chunked` on `data` (given as bytes, or as a file)."""
        omit = getattr(self.openai, "omit", getattr(self.openai, "NOT_GIVEN", None))
        kwargs: dict[str, Any] = {"mime_type": mime_type, "purpose": purpose,
                                  "part_size": part_size, "md5": md5 if md5 else omit}
        with tempfile.TemporaryDirectory(prefix="uploads-conformance-") as folder:
            if from_path:
                path = Path(folder) / filename
                path.write_bytes(data)
                kwargs["file"] = path
            else:
                kwargs.update(file=data, filename=filename, bytes=len(data))
            capture = _Capture()
            result, error = None, None
            try:
                result = self._invoke(capture, lambda sdk: self.call_upload_file_chunked(
                    sdk, **kwargs))
            except Exception as raised:
                error = raised
        records = capture.records
        if not records:
            return ChunkedRun(records, None, None, f"{type(error).__name__}: {error}")
        last = records[-1]
        problems = self.result_problems(last, result, error)
        return ChunkedRun(records, last.status, last.json,
                          None if error is None else f"{type(error).__name__}: {error}"[:300],
                          problems, [r.exchange for r in records])


class OpenAIPythonAsyncAdapter(OpenAIPythonAdapter):
    """The same operations through `openai.AsyncOpenAI`, on an event loop of its own.

    The loop runs in a private thread, so the adapter presents the machine's synchronous
    interface; calls from several threads (parts added in parallel) run concurrently on it.
    """

    name = "openai-python-async"

    def _build_sdk(self) -> Any:
        self._loop = _LoopThread(f"{self.name}-loop")
        openai = self.openai
        http = _http_library(openai.DefaultAsyncHttpxClient)

        async def build() -> Any:
            transport = _AsyncRecordingTransport(http.AsyncHTTPTransport(), self._wire)
            client = openai.DefaultAsyncHttpxClient(transport=transport,
                                                    trust_env=self._trust_env)
            return openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key,
                                      max_retries=0, timeout=self.timeout, http_client=client)

        return self._loop.run(build(), self.timeout)

    def _invoke(self, capture: _Capture, call: Callable[[Any], Any]) -> Any:
        async def tagged() -> Any:
            _CAPTURE.set(capture)  # this task's context only
            return await call(self.sdk)

        return self._loop.run(tagged(), self.timeout + _CALL_MARGIN_S)

    def close(self) -> None:
        try:
            self._loop.run(self.sdk.close(), self.timeout)
        finally:
            self._loop.stop()


class _LoopThread:
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


def _split(body: Any, required: Sequence[str], optional: Sequence[str]
           ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A body as (the method's parameters, extra body fields); None if it is not one."""
    if not isinstance(body, dict) or not all(k in body for k in required):
        return None
    params = {k: v for k, v in body.items() if k in required or k in optional}
    return params, {k: v for k, v in body.items() if k not in params}


def _accepted(records: Sequence[HttpRecord]) -> bool:
    """Whether the target accepted the (last) request: then its state has moved on."""
    status = records[-1].status if records else None
    return status is not None and 200 <= status < 300


def _unsent(intended: Intended, base_url: str, error: BaseException | None) -> SdkAnswer:
    reason = f"the SDK sent no request: {type(error).__name__}: {error}" if error else \
        "the SDK sent no request"
    exchange = Exchange("POST", f"{base_url} ({intended.operation}: not sent)", {}, "", None,
                        error=reason[:500])
    return SdkAnswer(None, None, exchange, None, error)


def _is_instance_of(error: BaseException, openai: ModuleType, status: int,
                    generic: str) -> bool:
    from conformance.adapters.request_checks import expected_error_class

    wanted = expected_error_class(status, generic)
    if wanted == generic:
        return type(error).__name__ == generic  # no subclass: the status has none of its own
    cls = getattr(openai, wanted, None)
    return isinstance(error, cls) if isinstance(cls, type) else type(error).__name__ == wanted


def typed_mismatches(typed: Any, raw: Any, path: str = "") -> list[str]:
    """Where the SDK's typed object shows other values than the JSON the target sent."""
    from pydantic import BaseModel

    if isinstance(typed, BaseModel):
        if not isinstance(raw, dict):
            return [f"{path or '/'}: the SDK shows an object where the answer has {raw!r}"]
        found = []
        for name, info in type(typed).model_fields.items():
            key = info.alias or name
            value = getattr(typed, name, None)
            if key not in raw:
                if value is not None:
                    found.append(f"{path}/{key}: the SDK shows {value!r}, the answer has no "
                                 "such field")
                continue
            found += typed_mismatches(value, raw[key], f"{path}/{key}")
        return found
    if isinstance(typed, list) and isinstance(raw, list) and len(typed) == len(raw):
        return [m for i, (t, r) in enumerate(zip(typed, raw, strict=True))
                for m in typed_mismatches(t, r, f"{path}/{i}")]
    if isinstance(typed, Enum):
        typed = typed.value
    return [f"the SDK shows {m}" for m in json_mismatches(typed, raw, path)]


# --- the chunked upload helper, as a whole ------------------------------------------------

DEFAULT_CHUNKED_SIZES: Final = (0, 1, 1000, 2500)  # with part size 1000: 0, 1, 1 and 3 parts
DEFAULT_PART_SIZE: Final = 1000
CHUNKED_REQUIREMENT: Final = "SDK-CHUNKED-UPLOAD"
_UNUSABLE: Final = ("unusable", None)  # the run's requests cannot be followed further
_REFUSED_AS: Final = {"createUpload": "CREATE-VALID", "addUploadPart": "PART-VALID",
                      "completeUpload": "COMPLETE-VALID"}


class ChunkedUploader(Protocol):
    """An adapter whose SDK has a chunked upload helper (both Python adapters; drivers)."""

    name: str
    supports_chunked_upload: bool

    def upload_file_chunked(self, data: bytes, *, filename: str, mime_type: str, purpose: str,
                            part_size: int, md5: str | None, from_path: bool) -> ChunkedRun: ...


def check_chunked_upload(uploader: ChunkedUploader, checker: Checker, client: TargetClient,
                         sizes: Sequence[int] = DEFAULT_CHUNKED_SIZES,
                         part_size: int = DEFAULT_PART_SIZE, *, seed: int = 0,
                         with_md5: bool = True, source: str = "sdk-chunked") -> list[Finding]:
    """Uploads files of `sizes` bytes with the SDK's helper and checks each run whole.

    The files alternate between bytes and a file on disk. Each run must send a create, then
    parts of at most `part_size` bytes holding the file's bytes in order, then a completion
    listing those parts in that order (with the md5, when `with_md5`); the completed file
    must hold the bytes (read back where GET /files/{id}/content serves it). Returns the
    findings, which are also recorded.
    """
    if not uploader.supports_chunked_upload:
        checker.recorder.cannot_test(CHUNKED_REQUIREMENT,
                                     f"{uploader.name} has no chunked upload helper")
        return []
    findings: list[Finding] = []
    saved_steps = checker.current_steps
    try:
        for index, size in enumerate(sizes):
            steps: list[str] = []
            checker.current_steps = steps
            run = _ChunkedCheck(uploader, checker, client, Payload(seed + index, size).read(),
                                part_size, with_md5, from_path=index % 2 == 1, steps=steps)
            try:
                run.run()
            except ConformanceFailure as failure:
                failure.steps = list(steps)
                finding = failure.to_finding(source)
                checker.recorder.failed(finding)
                findings.append(finding)
            finally:
                run.cleanup()
    finally:
        checker.current_steps = saved_steps
    return findings


class _ChunkedCheck:
    def __init__(self, uploader: ChunkedUploader, checker: Checker, client: TargetClient,
                 data: bytes, part_size: int, with_md5: bool, from_path: bool,
                 steps: list[str]) -> None:
        self.uploader, self.checker, self.client = uploader, checker, client
        self.data, self.part_size, self.from_path, self.steps = data, part_size, from_path, steps
        self.md5 = hashlib.md5(data).hexdigest() if with_md5 else None
        self.filename = f"chunked-{len(data)}.txt"
        self.sdk_checks = SdkChecks(checker, uploader.name, client.base_url)
        self.upload_id: str | None = None
        self.completed = False

    def run(self) -> None:
        size, check = len(self.data), self.checker
        run = self.uploader.upload_file_chunked(
            self.data, filename=self.filename, mime_type="text/plain", purpose="assistants",
            part_size=self.part_size, md5=self.md5, from_path=self.from_path)
        self.steps.append(f"upload_file_chunked({size} bytes from "
                          f"{'a file' if self.from_path else 'bytes'}, part_size="
                          f"{self.part_size}, md5={'given' if self.md5 else 'none'}) -> "
                          f"{run.status if run.status is not None else run.error}")
        self.steps += [f"  {e.method} {e.url} -> {e.status}" for e in run.exchanges]
        if run.records:
            self.sdk_checks.result(f"the chunked upload of {size} bytes", run.result_problems)
        blame = CHUNKED_REQUIREMENT
        if run.records is not None:
            refused = self._check_requests(run.records)
            blame = "COMPLETE-VALID"  # the SDK did its part: what follows is the target's
            if refused is not None:
                self._refused(*refused)
                return
        elif run.status is None or not 200 <= run.status < 300:
            if size == 0:
                check.recorder.observe("OPEN-EMPTY-UPLOAD",
                                       f"an empty file by the SDK's helper: refused ({run.status})")
                return
            check.fail(CHUNKED_REQUIREMENT, f"{self.uploader.name}: the chunked upload of "
                       f"{size} bytes ended with {run.error or run.status}")
        upload: dict[str, Any] = run.json if isinstance(run.json, dict) else {}
        file: dict[str, Any] = upload["file"] if isinstance(upload.get("file"), dict) else {}
        self._expect(upload.get("status") == "completed" and file.get("bytes") == size, blame,
                     f"the chunked upload of {size} bytes ended with status "
                     f"{upload.get('status')!r} and a file of {file.get('bytes')!r} bytes")
        if size == 0:
            check.recorder.observe("OPEN-EMPTY-UPLOAD",
                                   "an empty file by the SDK's helper: completed")
        self._check_content(str(file.get("id")), blame)
        check.ok(CHUNKED_REQUIREMENT)

    def _check_requests(self, records: list[HttpRecord]) -> tuple[str, int | None] | None:
        """Checks the sequence the helper sent; the refused (operation, status), if any."""
        size, base_url = len(self.data), self.client.base_url
        problems: list[str] = []
        operations = [_operation_of(r.sent, base_url) for r in records]
        if not records or operations[0] != "createUpload":
            self.checker.fail(CHUNKED_REQUIREMENT, f"the chunked upload began with "
                              f"{operations[0] if records else 'no request'}, not a create")
            return _UNUSABLE
        create = records[0]
        want = {"bytes": size, "filename": self.filename, "mime_type": "text/plain",
                "purpose": "assistants"}
        self.sdk_checks.requests("the chunked upload's create", [create],
                                 Intended("createUpload", body=want))
        if create.status != 200 or not isinstance(create.json, dict):
            return "createUpload", create.status
        self.upload_id = upload_id = str(create.json.get("id"))
        offset, part_ids = 0, []
        index = 1
        while index < len(records) and operations[index] == "addUploadPart":
            record = records[index]
            self.sdk_checks.requests(f"the chunked upload's part #{index}", [record],
                                     Intended("addUploadPart", upload_id))
            data = next((f for f in record.sent.form or [] if f.name == "data"), None)
            if data is not None:
                expected = self.data[offset : offset + data.size]
                if not 0 < data.size <= self.part_size:
                    problems.append(f"part #{index} holds {data.size} bytes (part size "
                                    f"{self.part_size})")
                if hashlib.md5(expected).hexdigest() != data.md5 or len(expected) != data.size:
                    problems.append(f"part #{index} does not hold the file's bytes "
                                    f"{offset}..{offset + data.size} (parts out of order?)")
                offset += data.size
            if record.status != 200 or not isinstance(record.json, dict):
                self._fail_if(problems)
                return "addUploadPart", record.status
            part_ids.append(record.json.get("id"))
            index += 1
        if offset != size:
            problems.append(f"the parts hold {offset} of the file's {size} bytes")
        rest = operations[index:]
        if rest != ["completeUpload"]:
            problems.append(f"after the parts it sent {rest or 'nothing'}, not one completion")
            self._fail_if(problems)
            return _UNUSABLE
        complete = records[index]
        self.sdk_checks.requests("the chunked upload's completion", [complete],
                                 Intended("completeUpload", upload_id))
        sent = complete.sent.json if isinstance(complete.sent.json, dict) else {}
        if sent.get("part_ids") != part_ids:
            problems.append(f"the completion lists part_ids {sent.get('part_ids')}, but the "
                            f"parts were sent as {part_ids}")
        if sent.get("md5") != self.md5:
            problems.append(f"the completion's md5 is {sent.get('md5')!r}, not {self.md5!r}")
        self._fail_if(problems)
        if complete.status != 200:
            return "completeUpload", complete.status
        self.completed = True
        return None

    def _fail_if(self, problems: list[str]) -> None:
        if problems:
            self.checker.fail(CHUNKED_REQUIREMENT, f"{self.uploader.name}: the chunked upload "
                              f"of {len(self.data)} bytes: {'; '.join(problems[:4])}")

    def _refused(self, operation: str, status: int | None) -> None:
        if operation == _UNUSABLE[0]:
            return  # already reported
        if len(self.data) == 0 and operation == "completeUpload" and status is not None \
                and 400 <= status < 500:
            self.checker.recorder.observe(
                "OPEN-EMPTY-UPLOAD", f"an empty file by the SDK's helper: refused ({status})")
            return
        requirement = "NO-SERVER-ERROR" if status is None or status >= 500 else \
            _REFUSED_AS[operation]
        self.checker.fail(requirement, f"the target answered {status} to the {operation} of "
                          f"the SDK's chunked upload of {len(self.data)} bytes, a valid request")

    def _check_content(self, file_id: str, blame: str) -> None:
        digest, size = hashlib.md5(), 0
        with self.client.stream_get(f"/files/{quote(file_id, safe='')}/content") as stream:
            for chunk in stream:
                digest.update(chunk)
                size += len(chunk)
            status = stream.status
        if status != 200:
            self.checker.recorder.observe("OPEN-FILE-ENDPOINTS",
                                          f"GET /files/{{id}}/content not served ({status})")
            return
        self.steps.append(f"GET /files/{file_id}/content -> 200, {size} bytes")
        requirement = "CONTENT-BYTES" if blame != CHUNKED_REQUIREMENT else blame
        self._expect(digest.hexdigest() == hashlib.md5(self.data).hexdigest(), requirement,
                     f"the file of the chunked upload holds {size} bytes with md5 "
                     f"{digest.hexdigest()}, not the {len(self.data)} bytes uploaded")

    def _expect(self, condition: bool, requirement: str, message: str) -> None:
        # The SDK's requirement counts one pass per run (at its end); the target's, per check.
        if requirement != CHUNKED_REQUIREMENT:
            self.checker.expect(condition, requirement, message)
        elif not condition:
            self.checker.fail(requirement, message)

    def cleanup(self) -> None:
        # A run that stopped half-way leaves its upload pending: cancel it.
        if self.upload_id is not None and not self.completed:
            self.client.request("POST", f"/uploads/{quote(self.upload_id, safe='')}/cancel")


def _operation_of(sent: SentRequest, base_url: str) -> str | None:
    base = [s for s in urlsplit(base_url).path.split("/") if s]
    path = [s for s in urlsplit(sent.url).path.split("/") if s][len(base):]
    if sent.method.upper() != "POST" or not path or path[0] != "uploads":
        return None
    if len(path) == 1:
        return "createUpload"
    if len(path) == 3:
        return {"parts": "addUploadPart", "complete": "completeUpload",
                "cancel": "cancelUpload"}.get(path[2])
    return None

