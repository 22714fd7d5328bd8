"""The Python SDK as its users build it, with a network that can lose one answer.

A user writes `OpenAI(api_key=..., base_url=...)` and nothing else: the SDK's own HTTP
client, its own retries (twice, on a lost connection, 408, 409, 429 and 5xx). The adapters
switch all of that off to see every answer; `UsersSdk` keeps it on, and only looks: the
transport of the SDK's own HTTP client is wrapped, after the SDK built it, so that each
request is recorded (as the adapters record theirs) and one answer can be *withheld*. The
request reaches the target and takes effect; its answer is read, recorded, and then the SDK
is told the connection broke, as a proxy or a flaky network would. What the SDK does next
(retry or not) is what its users get. Only the timeout is the run's, at most 5 s (the
SDK's is ten minutes): a target that hangs must not hang the run.

Reaching the SDK's transport means two private attributes, the SDK client's `_client` and
the HTTP client's `_transport` (and `_mounts`), unchanged across every `openai` release
with Uploads; an SDK without them cannot be observed, which `users_sdk` says instead of
guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final, Protocol

from conformance.adapters.sdk_records import HttpRecord, SentRequest
from conformance.adapters.sdk_wire import (
    CAPTURE,
    AsyncRecordingTransport,
    Capture,
    LoopThread,
    RecordingTransport,
    Wire,
    http_library,
)
from conformance.client import MISSING
from conformance.evidence import Redactor
from conformance.results import Exchange

__all__ = ["LOST_ANSWER", "SdkCall", "Unobservable", "UsersClient", "UsersSdk",
           "repeat_differences", "users_sdk", "users_timeout"]

LOST_ANSWER: Final = "the answer was lost on its way back (withheld by the suite)"
_CALL_LIMIT_S: Final = 60.0  # building or closing an async client
# The users' client's timeout, at most: the scenario's requests are a few bytes each, and
# an SDK whose retry hangs (a stream body used up by the first attempt) hangs that long.
USERS_TIMEOUT_S: Final = 5.0


def users_timeout(run_timeout: float) -> float:
    """The timeout an SDK built as its users build it is given in a run."""
    return min(run_timeout, USERS_TIMEOUT_S)


@dataclass(slots=True)
class SdkCall:
    """What one call through the user's SDK did: its requests, result or exception.

    `withheld` is the index in `records` of the request whose answer the SDK never got
    (None when nothing was withheld).
    """

    records: list[HttpRecord]
    result: Any
    error: BaseException | dict[str, Any] | None  # a driver's error is its dict of it
    withheld: int | None
    error_text: str | None

    @property
    def exchanges(self) -> tuple[Exchange, ...]:
        return tuple(r.exchange for r in self.records)

    def result_field(self, name: str) -> Any:
        """A field of the returned object (an SDK's typed object, or a driver's JSON)."""
        if isinstance(self.result, dict):
            return self.result.get(name)
        return getattr(self.result, name, None)

    @property
    def shown(self) -> str:
        """What the SDK's user is shown: the result's id and status, or what was raised."""
        if self.error_text is not None:
            return f"raised {self.error_text}"
        fields = [f"{k}={self.result_field(k)!r}" for k in ("id", "status")
                  if self.result_field(k) is not None]
        return ", ".join(fields) or type(self.result).__name__


class UsersClient(Protocol):
    """The four operations through an SDK built as its users build it; `lose_first`
    withholds the answer to the call's first request (see the module)."""

    def create(self, body: dict[str, Any], lose_first: bool = False) -> SdkCall: ...

    def add_part(self, upload_id: str, data: bytes, lose_first: bool = False) -> SdkCall: ...

    def complete(self, upload_id: str, body: dict[str, Any],
                 lose_first: bool = False) -> SdkCall: ...

    def cancel(self, upload_id: str, lose_first: bool = False) -> SdkCall: ...

    def close(self) -> None: ...


class _Withholding:
    """What the lossy transports share: the loss planned, and which record it hit."""

    def __init__(self, http: ModuleType) -> None:
        self.http = http
        self.armed = False  # the next answer is withheld
        self.withheld: int | None = None

    def should_lose(self, request: Any) -> bool:
        if not self.armed:
            return False
        self.armed = False
        capture = CAPTURE.get()
        self.withheld = len(capture.records) - 1 if capture is not None else None
        return True

    def lost(self, request: Any) -> Exception:
        error: Exception = self.http.ReadError(LOST_ANSWER, request=request)
        return error


class _LossyTransport(AbstractContextManager["_LossyTransport"]):
    def __init__(self, inner: RecordingTransport, withholding: _Withholding) -> None:
        self._inner, self._withholding = inner, withholding

    def handle_request(self, request: Any) -> Any:
        response = self._inner.handle_request(request)  # recorded, body read
        if self._withholding.should_lose(request):
            response.close()
            raise self._withholding.lost(request)
        return response

    def close(self) -> None:
        self._inner.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _AsyncLossyTransport(AbstractAsyncContextManager["_AsyncLossyTransport"]):
    def __init__(self, inner: AsyncRecordingTransport, withholding: _Withholding) -> None:
        self._inner, self._withholding = inner, withholding

    async def handle_async_request(self, request: Any) -> Any:
        response = await self._inner.handle_async_request(request)
        if self._withholding.should_lose(request):
            await response.aclose()
            raise self._withholding.lost(request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class UsersSdk:
    """An `openai` client built with the SDK's defaults, observed; sync or async.

    `call(fn, lose_first)` runs `fn(client)` (a coroutine function for the async client)
    and tells what it did. Build it with `users_sdk`.
    """

    def __init__(self, sdk: Any, withholding: _Withholding, loop: LoopThread | None,
                 redactor: Redactor, timeout: float) -> None:
        self.sdk, self._withholding = sdk, withholding
        self._loop, self._redactor = loop, redactor
        # An async call may take its timeout once per attempt, and the backoffs between.
        self._limit_s = (timeout + 10.0) * 3

    @property
    def max_retries(self) -> int | None:
        value = getattr(self.sdk, "max_retries", None)
        return value if isinstance(value, int) else None

    def create(self, body: dict[str, Any], lose_first: bool = False) -> SdkCall:
        return self.call(lambda sdk: sdk.uploads.create(**body), lose_first)

    def add_part(self, upload_id: str, data: bytes, lose_first: bool = False) -> SdkCall:
        return self.call(lambda sdk: sdk.uploads.parts.create(upload_id, data=data),
                         lose_first)

    def complete(self, upload_id: str, body: dict[str, Any],
                 lose_first: bool = False) -> SdkCall:
        return self.call(lambda sdk: sdk.uploads.complete(upload_id, **body), lose_first)

    def cancel(self, upload_id: str, lose_first: bool = False) -> SdkCall:
        return self.call(lambda sdk: sdk.uploads.cancel(upload_id), lose_first)

    def call(self, fn: Callable[[Any], Any], lose_first: bool = False) -> SdkCall:
        capture = Capture()
        self._withholding.armed, self._withholding.withheld = lose_first, None
        result, error = None, None
        try:
            result = self._invoke(capture, fn)
        except Exception as raised:
            error = raised
        finally:
            self._withholding.armed = False
        text = None if error is None else self._redactor.text(
            " ".join(f"{type(error).__name__}: {error}".split()))[:300]
        return SdkCall(capture.records, result, error, self._withholding.withheld, text)

    def _invoke(self, capture: Capture, fn: Callable[[Any], Any]) -> Any:
        if self._loop is None:
            token = CAPTURE.set(capture)
            try:
                return fn(self.sdk)
            finally:
                CAPTURE.reset(token)

        async def tagged() -> Any:
            CAPTURE.set(capture)  # this task's context only
            return await fn(self.sdk)

        return self._loop.run(tagged(), self._limit_s)

    def close(self) -> None:
        if self._loop is None:
            self.sdk.close()
            return
        try:
            self._loop.run(self.sdk.close(), _CALL_LIMIT_S)
        finally:
            self._loop.stop()


class Unobservable(Exception):
    """The SDK's HTTP client cannot be reached to observe it: nothing to judge by."""


def users_sdk(openai: ModuleType, base_url: str, api_key: str | None, *,
              asynchronous: bool, identity: dict[str, str | None], timeout: float,
              sink: Callable[[Exchange], None] | None) -> UsersSdk:
    """The SDK client a user builds, its HTTP observed and lossy.

    Raises what the SDK raised while being built (an old SDK beside a newer HTTP library
    can fail there: that is what its users meet), or `Unobservable`.
    """
    timeout = users_timeout(timeout)
    kwargs: dict[str, Any] = {"api_key": api_key, "base_url": base_url, "timeout": timeout}
    kwargs.update({k: v for k, v in identity.items() if v is not None})
    redactor = Redactor(api_key)
    if not asynchronous:
        sdk = openai.OpenAI(**kwargs)
        http = http_library(openai.DefaultHttpxClient)
        wire = Wire(http, api_key, sink)
        withholding = _Withholding(http)
        _wrap(sdk, lambda inner: _LossyTransport(RecordingTransport(inner, wire),
                                                 withholding))
        return UsersSdk(sdk, withholding, None, redactor, timeout)
    loop = LoopThread("users-sdk-loop")
    http = http_library(openai.DefaultAsyncHttpxClient)
    wire = Wire(http, api_key, sink)
    withholding = _Withholding(http)

    async def build() -> Any:
        return openai.AsyncOpenAI(**kwargs)

    try:
        sdk = loop.run(build(), _CALL_LIMIT_S)
        _wrap(sdk, lambda inner: _AsyncLossyTransport(AsyncRecordingTransport(inner, wire),
                                                      withholding))
    except BaseException:
        loop.stop()
        raise
    return UsersSdk(sdk, withholding, loop, redactor, timeout)


def _wrap(sdk: Any, wrapper: Callable[[Any], Any]) -> None:
    client = getattr(sdk, "_client", None)
    if client is None or not hasattr(client, "_transport"):
        raise Unobservable("the SDK's HTTP client cannot be observed (no _client._transport)")
    client._transport = wrapper(client._transport)
    mounts = getattr(client, "_mounts", None)
    if isinstance(mounts, dict):  # proxies from the environment: each its own transport
        for pattern, transport in list(mounts.items()):
            if transport is not None:
                mounts[pattern] = wrapper(transport)


def repeat_differences(first: SentRequest, again: SentRequest) -> list[str]:
    """How a request sent again differs from the first: its method, URL or body (a form's
    fields by name, filename, size and md5). Headers may differ (a retry count)."""
    found = []
    if (again.method, again.url) != (first.method, first.url):
        found.append(f"{again.method} {again.url}, not {first.method} {first.url}")
    if again.json != first.json:
        found.append(f"the JSON body {again.json_text[:120] or 'none'}, not "
                     f"{first.json_text[:120] or 'none'}")
    if _form(again) != _form(first):
        found.append(f"the body {_form(again) or f'of {again.body_size} bytes'}, not "
                     f"{_form(first) or f'of {first.body_size} bytes'}")
    elif first.form is None and first.json is MISSING and again.body_size != first.body_size:
        found.append(f"a body of {again.body_size} bytes, not {first.body_size}")
    return found


def _form(sent: SentRequest) -> str:
    if sent.form is None:
        return ""
    return "a form of " + ", ".join(f"{f.name!r} ({f.size} bytes, md5 {f.md5[:8]})"
                                    for f in sent.form)

