"""The official Python SDK (`openai`) as an adapter: the machine's operations through
`client.uploads`, sync or async, every HTTP exchange recorded and checked.

The SDK is built with `max_retries=0` (the suite must see every answer) and an HTTP client
of the SDK's own kind whose transport records each exchange (`sdk_wire`), so that each
request can be held to the OpenAPI document; the flow of an operation is the one every SDK
adapter shares (`sdk_template`). What this module adds: how each operation is expressed as
an SDK call, and how the SDK's typed result or exception is compared with the answer.

`openai` is an optional dependency: importing this module does not need it, building an
adapter does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from types import ModuleType
from typing import Any, Final
from urllib.parse import quote, urlsplit

from conformance.adapters.base import Adapter
from conformance.adapters.chunked import DEFAULT_CHUNKED_SIZES, check_chunked_upload
from conformance.adapters.sdk_capabilities import (
    EXPIRES_AFTER,
    NoUploadsApi,
    no_uploads_message,
    of_python_client,
)
from conformance.adapters.sdk_checks import (
    error_body_problems,
    expected_error_class,
    json_mismatches,
)
from conformance.adapters.sdk_records import ChunkedCall
from conformance.adapters.sdk_template import (
    REQUEST_REQUIREMENT,
    SdkAdapter,
    SdkOutcome,
    Sink,
)
from conformance.adapters.sdk_wire import (
    CAPTURE,
    AsyncRecordingTransport,
    CallStopped,
    Capture,
    LoopThread,
    PayloadReader,
    RecordingTransport,
    Wire,
    http_library,
)
from conformance.checks import Answer
from conformance.openapi.judge import Intended, RequestJudge
from conformance.recorder import Recorder
from conformance.results import Exchange
from strategies.payloads import Payload

__all__ = [
    "DEFAULT_CHUNKED_SIZES",  # re-exported: the chunked check's home is chunked.py
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


# --- the adapters ---------------------------------------------------------------------


class OpenAIPythonAdapter(SdkAdapter):
    """The four operations through `openai.OpenAI().uploads`.

    `recorder`, `sink` and `fallback` are as for every SDK adapter (`SdkAdapter`); the
    fallback also sends what no SDK call can express (a body that is not a JSON object).

    `stream_parts=False` hands the SDK each part as bytes (the whole part in memory, twice
    while the HTTP library copies it) instead of a streaming file object.

    The `call_*` methods are the SDK calls themselves: a wrapper (or a test's deliberately
    broken SDK) overrides them. `openai` is the SDK's module (default: the installed one; a
    test gives a stand-in). What the SDK's version offers is read from the client built
    (`capabilities`); one without `client.uploads` raises NoUploadsApi.
    """

    name = "openai-python"
    generic_error = "APIStatusError"

    def __init__(self, base_url: str, api_key: str | None, *, recorder: Recorder | None = None,
                 sink: Sink | None = None, timeout: float = 30.0,
                 fallback: Adapter | None = None, stream_parts: bool = True,
                 judge: RequestJudge | None = None, organization: str | None = None,
                 project: str | None = None, openai: ModuleType | None = None) -> None:
        super().__init__(base_url, api_key, sink=sink, fallback=fallback)
        # The SDK's own arguments (None: it reads OPENAI_ORG_ID / OPENAI_PROJECT_ID itself).
        self.identity = {"organization": organization, "project": project}
        self.openai = openai if openai is not None else load_openai()
        self.timeout = timeout
        self.stream_parts = stream_parts
        self._start_checks(recorder, judge)
        self._wire = Wire(http_library(self.openai.DefaultHttpxClient), api_key, sink)
        self._trust_env = urlsplit(self.base_url).hostname not in _LOOPBACK
        self.sdk: Any = self._build_sdk()
        self.capabilities = of_python_client(self.sdk, self.version)
        if not self.capabilities.uploads:
            self.close()
            raise NoUploadsApi(no_uploads_message(self.capabilities))
        self._noted_expires_after = False

    @property
    def version(self) -> str:
        return str(self.openai.__version__)

    def describe(self) -> dict[str, str]:
        http = http_library(self.openai.DefaultHttpxClient)
        return {"adapter": self.name, "sdk": "openai (Python)", "sdk_version": self.version,
                "sdk_http": f"{http.__name__} {getattr(http, '__version__', '?')}"}

    def _build_sdk(self) -> Any:
        openai = self.openai
        http = http_library(openai.DefaultHttpxClient)
        transport = RecordingTransport(http.HTTPTransport(), self._wire)
        client = openai.DefaultHttpxClient(transport=transport, trust_env=self._trust_env)
        return openai.OpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0,
                             timeout=self.timeout, http_client=client, **self.identity)

    def _invoke(self, capture: Capture, call: Callable[[Any], Any]) -> Any:
        token = CAPTURE.set(capture)
        try:
            return call(self.sdk)
        finally:
            CAPTURE.reset(token)

    def _run(self, call: Callable[[Any], Any]) -> SdkOutcome:
        """Makes one SDK call, its requests captured; what it raised is part of its answer."""
        capture = Capture()
        result, error = None, None
        try:
            result = self._invoke(capture, call)
        except Exception as raised:
            error = raised
        return SdkOutcome(capture.records, result, error)

    def _through_sdk(self, what: str, intended: Intended, call: Callable[[Any], Any],
                     fallback: Callable[[Adapter], Answer]) -> Answer:
        return self._operation(what, intended, lambda: self._run(call), fallback)

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
            return self._through_sdk("create", intended,
                                   lambda sdk: sdk.post("/uploads", body=body, cast_to=object),
                                   lambda f: f.create(body))
        params, extra = split
        if EXPIRES_AFTER in params and not self.capabilities.expires_after:
            # The SDK's own way to send a field it does not know: the request stays the one
            # intended, so the target is judged on it; only the parameter goes unused.
            extra[EXPIRES_AFTER] = params.pop(EXPIRES_AFTER)
            self._note_no_expires_after()
        return self._through_sdk("create", intended,
                               lambda sdk: self.call_create(sdk, params, extra),
                               lambda f: f.create(body))

    def add_part(self, upload_id: str, payload: Payload) -> Answer:
        intended = Intended("addUploadPart", upload_id, part_size=len(payload),
                            part_md5=payload.md5())
        data = PayloadReader(payload) if self.stream_parts else payload.read()
        return self._through_sdk(f"a part of {len(payload)} bytes", intended,
                               lambda sdk: self.call_add_part(sdk, upload_id, data),
                               lambda f: f.add_part(upload_id, payload))

    def complete(self, upload_id: str, body: Any) -> Answer:
        intended = Intended("completeUpload", upload_id, body=body)
        if not isinstance(body, dict) and self.fallback is not None:
            return self.fallback.complete(upload_id, body)
        split = _split(body, ("part_ids",), ("md5",))
        if split is None or not isinstance(split[0]["part_ids"], list):
            path = f"/uploads/{quote(upload_id, safe='')}/complete"
            return self._through_sdk("completion", intended,
                                   lambda sdk: sdk.post(path, body=body, cast_to=object),
                                   lambda f: f.complete(upload_id, body))
        params, extra = split
        return self._through_sdk("completion", intended,
                               lambda sdk: self.call_complete(sdk, upload_id, params, extra),
                               lambda f: f.complete(upload_id, body))

    def cancel(self, upload_id: str) -> Answer:
        return self._through_sdk("cancel", Intended("cancelUpload", upload_id),
                               lambda sdk: self.call_cancel(sdk, upload_id),
                               lambda f: f.cancel(upload_id))

    def _note_no_expires_after(self) -> None:
        if not self._noted_expires_after:
            self._noted_expires_after = True
            self.checks.observe(REQUEST_REQUIREMENT, self.capabilities.lacks(
                "expires_after on uploads.create: sent in extra_body"))

    # -- what the SDK gave back --

    def unrecorded_answer(self, intended: Intended,
                          outcome: SdkOutcome) -> tuple[int | None, Any, Exchange]:
        """No answer: an exchange saying the SDK sent nothing (and what it raised)."""
        raised = self.error_text(outcome)
        reason = f"the SDK sent no request: {raised}" if raised else "the SDK sent no request"
        url = self.redactor.text(f"{self.base_url} ({intended.operation}: not sent)")
        return None, None, Exchange("POST", url, {}, "", None, error=reason[:500])

    def result_problems(self, outcome: SdkOutcome) -> list[str] | None:
        """How the SDK's result or exception departs from the answer the target sent."""
        if not outcome.records:
            return None  # nothing was sent: there is no answer to compare with
        record, result, error = outcome.records[-1], outcome.result, outcome.error
        assert error is None or isinstance(error, BaseException)
        openai, status = self.openai, record.status
        raised = (self.error_text(outcome) or "")[:200]
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

    stops_runaway_helpers = True

    def run_chunked(self, call: ChunkedCall) -> SdkOutcome:
        """Runs `uploads.upload_file_chunked` on the call's file (as a path, or as bytes),
        stopping it at its `max_requests`-th request."""
        omit = getattr(self.openai, "omit", getattr(self.openai, "NOT_GIVEN", None))
        kwargs: dict[str, Any] = {"mime_type": call.mime_type, "purpose": call.purpose,
                                  "md5": call.md5 if call.md5 else omit}
        if call.part_size is not None:  # else none at all, as a user relying on the default
            kwargs["part_size"] = call.part_size
        if call.from_path:
            kwargs["file"] = call.path
            if call.declared_bytes is not None:
                kwargs["bytes"] = call.declared_bytes
        else:
            kwargs.update(file=call.path.read_bytes(), filename=call.filename,
                          bytes=call.bytes_argument)
        capture = Capture(call.max_requests)
        result, error = None, None
        try:
            result = self._invoke(capture,
                                  lambda sdk: self.call_upload_file_chunked(sdk, **kwargs))
        except (Exception, CallStopped) as raised:
            error = raised
        return SdkOutcome(capture.records, result, error)


class OpenAIPythonAsyncAdapter(OpenAIPythonAdapter):
    """The same operations through `openai.AsyncOpenAI`, on an event loop of its own.

    The loop runs in a private thread, so the adapter presents the machine's synchronous
    interface; calls from several threads (parts added in parallel) run concurrently on it.
    """

    name = "openai-python-async"

    def _build_sdk(self) -> Any:
        self._loop = LoopThread(f"{self.name}-loop")
        openai = self.openai
        http = http_library(openai.DefaultAsyncHttpxClient)

        async def build() -> Any:
            transport = AsyncRecordingTransport(http.AsyncHTTPTransport(), self._wire)
            client = openai.DefaultAsyncHttpxClient(transport=transport,
                                                    trust_env=self._trust_env)
            return openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key,
                                      max_retries=0, timeout=self.timeout, http_client=client,
                                      **self.identity)

        return self._loop.run(build(), self.timeout)

    def _invoke(self, capture: Capture, call: Callable[[Any], Any]) -> Any:
        async def tagged() -> Any:
            CAPTURE.set(capture)  # this task's context only
            return await call(self.sdk)

        return self._loop.run(tagged(), self.timeout + _CALL_MARGIN_S)

    def close(self) -> None:
        try:
            self._loop.run(self.sdk.close(), self.timeout)
        finally:
            self._loop.stop()



def _split(body: Any, required: Sequence[str], optional: Sequence[str]
           ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A body as (the method's parameters, extra body fields); None if it is not one."""
    if not isinstance(body, dict) or not all(k in body for k in required):
        return None
    params = {k: v for k, v in body.items() if k in required or k in optional}
    return params, {k: v for k, v in body.items() if k not in params}


def _is_instance_of(error: BaseException, openai: ModuleType, status: int,
                    generic: str) -> bool:
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

