"""SDK drivers: an SDK in any language runs the machine's operations, over a pipe.

The suite starts a driver program (`--sdk-driver 'COMMAND'`) and exchanges one JSON message
per line with it on stdin and stdout (the protocol: docs/sdk-drivers.md): a hello, then
operations the driver runs through its SDK, several at once. `DriverAdapter` presents the
driver as an Adapter. A driver that dies, stays silent past a timeout, or writes anything
but protocol messages stops the run with a `DriverError` saying so, never a hang.

The suite does not see a driver's HTTP. A driver that hooks its SDK's HTTP layer reports
the exchanges behind each reply, and those are recorded and checked like the Python SDK's;
otherwise exchanges are synthesised from the operation and the SDK's result or error (their
curl lines say so), and the requests themselves cannot be checked.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shlex
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from typing import Any, Final
from urllib.parse import quote

from conformance.adapters.base import Adapter
from conformance.adapters.request_checks import (
    ChunkedRun,
    FormField,
    HttpRecord,
    Intended,
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
from conformance.client import MISSING
from conformance.evidence import REDACTED, Redactor
from conformance.results import Exchange
from strategies.payloads import Payload

__all__ = ["INLINE_PART_LIMIT", "PROTOCOL_VERSION", "DriverAdapter", "DriverError"]

PROTOCOL_VERSION: Final = 1
INLINE_PART_LIMIT: Final = 1024 * 1024  # larger parts travel as a path to a temporary file
HELLO_TIMEOUT_S: Final = 20.0
REPLY_MARGIN_S: Final = 15.0  # beyond the SDK's own timeout, for the driver's own work
FOUR_OPERATIONS: Final = ("create", "add_part", "complete", "cancel")
_STDERR_LINES: Final = 30
_CLOSED: Final = "closed by the suite"
_REPORTED: Final = "reported by the SDK driver (its HTTP hook); the suite did not see it"
_SYNTHESISED: Final = ("synthesised from the SDK driver's reply; the driver's HTTP was not "
                       "seen, so headers and body are what the operation should have sent")


class DriverError(RuntimeError):
    """The driver cannot be used: it did not start, died, went silent or spoke garbage."""


class _Connection:
    """A running driver process and the JSON lines exchanged with it."""

    def __init__(self, command: str | Sequence[str], redactor: Redactor, *,
                 cwd: str | None = None, env: Mapping[str, str] | None = None) -> None:
        self._redactor = redactor  # what a driver prints may hold the key: never shown
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        self.command = command if isinstance(command, str) else shlex.join(argv)
        if not argv:
            raise DriverError("the SDK driver command is empty")
        try:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=cwd, env=None if env is None else dict(env))
        except OSError as error:
            raise DriverError(f"cannot start the SDK driver {self.command!r}: "
                              f"{error.strerror or error}") from None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._waiting: dict[object, Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._broken: DriverError | None = None
        self._closing = False
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True,
                                               name="sdk-driver-stderr")
        self._stderr_thread.start()
        threading.Thread(target=self._read, daemon=True, name="sdk-driver-stdout").start()

    def request(self, message: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        """Sends a message and waits for the reply to it (the hello's: the ready)."""
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            if self._broken is not None:
                raise self._broken
            key: object = "hello" if message.get("type") == "hello" else next(self._ids)
            if key != "hello":
                message = {"id": key, **message}
            self._waiting[key] = future
        self._write(message)
        try:
            return future.result(timeout)
        except TimeoutError:
            raise self._break(f"no answer to {what} within {timeout:g} s") from None

    def _write(self, message: dict[str, Any]) -> None:
        line = (json.dumps(message) + "\n").encode()
        stdin = self._process.stdin
        assert stdin is not None
        try:
            with self._write_lock:
                stdin.write(line)
                stdin.flush()
        except (OSError, ValueError):
            raise self._break("its stdin is closed (has it exited?)") from None

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        for raw in stdout:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                self._break(f"it wrote a line that is not a protocol message: {line[:200]!r} "
                            "(a driver writes only JSON objects, one a line, to stdout; "
                            "diagnostics go to stderr)")
                return
            key = message.get("id", "hello")  # the ready has no id
            with self._lock:
                future = self._waiting.pop(key, None) if isinstance(key, str | int) else None
            if future is None:
                self._break(f"it answered a message it was never sent (id {key!r})")
                return
            future.set_result(message)
        try:
            status = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        self._stderr_thread.join(timeout=2)
        if self._closing:
            self._break(_CLOSED)
        elif status is None:
            self._break("it closed its stdout")
        else:
            self._break(f"it exited with status {status}")

    def _drain_stderr(self) -> None:
        stderr = self._process.stderr
        assert stderr is not None
        for raw in stderr:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    def _break(self, reason: str) -> DriverError:
        """Marks the driver unusable: every waiting and later request gets this error."""
        with self._lock:
            if self._broken is None:
                tail = "\n".join(list(self._stderr)[-10:])
                text = f"SDK driver {self.command!r}: {reason}"
                if tail:
                    text += f"; its stderr ends with:\n{tail}"
                self._broken = DriverError(self._redactor.text(text))
                waiting, self._waiting = self._waiting, {}
            else:
                waiting = {}
            broken = self._broken
        for future in waiting.values():
            future.set_exception(broken)
        if self._process.poll() is None and reason != _CLOSED:
            self._process.kill()
        return broken

    def close(self) -> None:
        process = self._process
        self._closing = True
        if process.poll() is None:
            try:
                self._write({"type": "bye"})
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=3)
            except (DriverError, OSError, subprocess.TimeoutExpired):
                process.terminate()
                try:
                    process.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._break(_CLOSED)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


class DriverAdapter:
    """The Adapter over an SDK driver program (see the module's docstring).

    `checker`, `sink` and `fallback` are as for the Python SDK adapters. `timeout` is the
    SDK's own timeout (sent in the hello); a reply may take it and REPLY_MARGIN_S more.
    """

    def __init__(self, command: str | Sequence[str], base_url: str, api_key: str | None, *,
                 checker: Checker | None = None, sink: Callable[[Exchange], None] | None = None,
                 timeout: float = 30.0, hello_timeout: float = HELLO_TIMEOUT_S,
                 fallback: Adapter | None = None, cwd: str | None = None,
                 env: Mapping[str, str] | None = None, judge: RequestJudge | None = None,
                 inline_limit: int = INLINE_PART_LIMIT) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.sink = sink
        self.fallback = fallback
        self.inline_limit = inline_limit
        self.reply_timeout = timeout + REPLY_MARGIN_S
        self._redactor = Redactor(api_key)
        self._connection = _Connection(command, self._redactor, cwd=cwd, env=env)
        self.command = self._connection.command
        try:
            ready = self._connection.request(
                {"type": "hello", "protocol": PROTOCOL_VERSION, "base_url": self.base_url,
                 "api_key": api_key, "timeout_s": timeout}, hello_timeout, "the hello")
            self._accept(ready)
        except BaseException:
            self._connection.close()
            raise
        self.checks = SdkChecks(checker, self.name, self.base_url, judge)

    def _accept(self, ready: dict[str, Any]) -> None:
        if ready.get("type") != "ready" or not isinstance(ready.get("sdk"), str) \
                or not isinstance(ready.get("version"), str):
            raise self._error(f"its answer to the hello is not a ready message with sdk and "
                              f"version: {str(ready)[:200]}")
        if ready.get("protocol", PROTOCOL_VERSION) != PROTOCOL_VERSION:
            raise self._error(f"it speaks protocol {ready.get('protocol')!r}, the suite "
                              f"{PROTOCOL_VERSION}")
        self.name: str = ready["sdk"]
        self.version: str = ready["version"]
        self.runtime = str(ready.get("runtime", ""))
        self.operations = frozenset(ready.get("operations") or FOUR_OPERATIONS)
        self.reports_http = bool(ready.get("http"))
        self.generic_error = str(ready.get("generic_error", "APIError"))
        self.supports_chunked_upload = "upload_file_chunked" in self.operations
        missing = [op for op in FOUR_OPERATIONS if op not in self.operations]
        if missing:
            raise self._error(f"it does not offer {', '.join(missing)}")

    def _error(self, text: str) -> DriverError:
        return DriverError(self._redactor.text(f"SDK driver {self.command!r}: {text}"))

    def versions(self) -> dict[str, str]:
        found = {"adapter": f"driver ({self.name})", "sdk": self.name,
                 "sdk_version": self.version, "sdk_driver": self.command}
        if self.runtime:
            found["sdk_runtime"] = self.runtime
        return found

    def close(self) -> None:
        self._connection.close()

    # -- the Adapter protocol --

    def create(self, body: Any) -> Answer:
        return self._operation("create", Intended("createUpload", body=body), "create",
                               {"body": body}, lambda f: f.create(body))

    def add_part(self, upload_id: str, payload: Payload) -> Answer:
        size, md5 = len(payload), payload.md5()
        intended = Intended("addUploadPart", upload_id, part_size=size, part_md5=md5)
        args: dict[str, Any] = {"upload_id": upload_id, "size": size, "filename": "part.bin"}
        if size <= self.inline_limit:
            args["data_base64"] = base64.b64encode(payload.read()).decode("ascii")
            return self._operation(f"a part of {size} bytes", intended, "add_part", args,
                                   lambda f: f.add_part(upload_id, payload))
        with _temporary_file(payload.iter_chunks()) as path:
            args["path"] = path
            return self._operation(f"a part of {size} bytes", intended, "add_part", args,
                                   lambda f: f.add_part(upload_id, payload))

    def complete(self, upload_id: str, body: Any) -> Answer:
        return self._operation("completion", Intended("completeUpload", upload_id, body=body),
                               "complete", {"upload_id": upload_id, "body": body},
                               lambda f: f.complete(upload_id, body))

    def cancel(self, upload_id: str) -> Answer:
        return self._operation("cancel", Intended("cancelUpload", upload_id), "cancel",
                               {"upload_id": upload_id}, lambda f: f.cancel(upload_id))

    def _operation(self, what: str, intended: Intended, op: str, args: dict[str, Any],
                   fallback: Callable[[Adapter], Answer]) -> Answer:
        reply = self._call(op, args)
        records = self._records(reply)
        if records is None:
            self.checks.cannot_test("SDK-REQUEST-CONFORMS",
                                    f"{self.name}: the driver reports no HTTP exchanges")
        elif not self.checks.requests(what, records, intended) and self.fallback is not None:
            status = records[-1].status if records else None
            if status is None or not 200 <= status < 300:
                # Reported once; from then on the target is judged on the documented request.
                return fallback(self.fallback)
        self.checks.result(what, self._result_problems(reply, records))
        return self._answer(intended, reply, records)

    def _call(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        reply = self._connection.request({"op": op, "args": args}, self.reply_timeout, op)
        error = reply.get("error")
        succeeded = reply.get("ok") is True and "result" in reply
        failed = reply.get("ok") is False and isinstance(error, dict) \
            and isinstance(error.get("class"), str)
        well_formed = succeeded or failed
        if not well_formed:
            raise self._error(f"its reply to {op} is not {{ok: true, result}} or "
                              f"{{ok: false, error: {{class, ...}}}}: {str(reply)[:200]}")
        if isinstance(error, dict) and error.get("class") in ("Unsupported", "ProtocolError"):
            raise self._error(f"it could not run {op}: {error.get('message')}")
        return reply

    # -- what the driver reported --

    def _records(self, reply: dict[str, Any]) -> list[HttpRecord] | None:
        reported = reply.get("http")
        if not self.reports_http or not isinstance(reported, list):
            return None
        records = [self._record(item) for item in reported]
        for record in records:
            if self.sink is not None:
                self.sink(record.exchange)
        return records

    def _record(self, item: Any) -> HttpRecord:
        try:
            headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
            auth = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
            sent = SentRequest(str(item["method"]).upper(),
                               recorded_url(str(item["url"]), self._redactor),
                               redact_headers(list(headers.items()), self._redactor,
                                              self.api_key),
                               authorization_problem(auth, self.api_key), 0)
            body = item.get("body") or {"kind": "none"}
            if body["kind"] == "text":
                text = str(body["text"]).encode()
                sent.body_size = len(text)
                sent.json, sent.json_text = parse_json_body(text, self._redactor)
            elif body["kind"] == "form":
                sent.form = [FormField(f.get("name"), f.get("filename"), f.get("content_type"),
                                       int(f["size"]), str(f.get("md5", "")))
                             for f in body["fields"]]
                sent.body_size = sum(f.size for f in sent.form)
            else:
                sent.body_size = int(body.get("size", 0))
            status = item.get("status")
            answer = str(item.get("response_body") or "").encode()
            exchange = render_exchange(
                sent, status=status if isinstance(status, int) else None,
                response_headers={str(k): str(v) for k, v in
                                  (item.get("response_headers") or {}).items()},
                response_body=answer, error=item.get("error"),
                duration_s=float(item.get("duration_s") or 0.0), redactor=self._redactor,
                note=_REPORTED)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise self._error(f"an HTTP exchange it reported is malformed "
                              f"({type(error).__name__}: {error}): {str(item)[:200]}") from None
        return HttpRecord(sent, exchange, exchange.status, _json_or_none(answer))

    def _answer(self, intended: Intended, reply: dict[str, Any],
                records: list[HttpRecord] | None) -> SdkAnswer:
        ok, error = reply["ok"], reply.get("error") or {}
        if records:
            last = records[-1]
            return SdkAnswer(last.status, last.json, last.exchange,
                             reply.get("result") if ok else None, None if ok else error)
        status = 200 if ok else error.get("status")
        status = status if isinstance(status, int) else None
        body = reply["result"] if ok else _envelope(error)
        exchange = self._synthesised(intended, status, body,
                                     None if status is not None else str(error.get("message")))
        return SdkAnswer(status, body if status is not None else None, exchange,
                         reply.get("result") if ok else None, None if ok else error)

    def _synthesised(self, intended: Intended, status: int | None, body: Any,
                     error: str | None) -> Exchange:
        method, template = self.checks.judge.operation(intended.operation)
        path = template.replace("{upload_id}", quote(intended.upload_id or "", safe=""))
        headers = {"Authorization": f"Bearer {REDACTED}"}
        sent = SentRequest(method, recorded_url(self.base_url + path, self._redactor),
                           headers, None, 0)
        if intended.part_size is not None:
            headers["Content-Type"] = "multipart/form-data"
            sent.form = [FormField("data", "part.bin", "application/octet-stream",
                                   intended.part_size, intended.part_md5 or "")]
        elif intended.body is not MISSING:
            headers["Content-Type"] = "application/json"
            sent.json = intended.body
            sent.json_text = self._redactor.text(json.dumps(intended.body))
        return render_exchange(sent, status=status, response_headers={},
                               response_body=json.dumps(body).encode(), error=error,
                               duration_s=0.0, redactor=self._redactor, note=_SYNTHESISED)

    def _result_problems(self, reply: dict[str, Any],
                         records: list[HttpRecord] | None) -> list[str]:
        """How the SDK's result or error departs from the answer (when it was reported)."""
        raw = records[-1] if records else None
        if reply["ok"]:
            if raw is None:
                return []
            if raw.status is None:
                return ["it returned a result although no answer arrived"]
            if not 200 <= raw.status < 300:
                return [f"a {raw.status} answer returned a result instead of raising"]
            if not isinstance(raw.json, dict):
                return []
            return [f"its result differs: {m}" for m in
                    json_mismatches(reply["result"], raw.json)][:5]
        error = reply["error"]
        name, status = str(error["class"]), error.get("status")
        if raw is None:
            if not isinstance(status, int):
                return []
            wrong = self.checks.error_class(status, name, self.generic_error)
            return [wrong] if wrong else []
        if raw.status is None:
            connection = "Connection" in name or "Timeout" in name
            return [] if connection else [f"no answer arrived, and it raised {name}, not a "
                                          "connection error"]
        if 200 <= raw.status < 300:
            if isinstance(raw.json, dict):
                return [f"a {raw.status} answer with a JSON object raised {name}: "
                        f"{str(error.get('message'))[:200]}"]
            return []
        problems = []
        if status != raw.status:
            problems.append(f"its error says status {status!r}, the answer {raw.status}")
        wrong = self.checks.error_class(raw.status, name, self.generic_error)
        if wrong:
            problems.append(wrong)
        if isinstance(raw.json, dict) and error.get("body") is not None:
            problems += error_body_problems(error.get("body"), raw.json,
                                            error.get("code", MISSING), error.get("type", MISSING),
                                            error.get("param", MISSING))
        return problems

    # -- the chunked helper, when the SDK has one --

    def upload_file_chunked(self, data: bytes, *, filename: str, mime_type: str, purpose: str,
                            part_size: int, md5: str | None, from_path: bool) -> ChunkedRun:
        if not self.supports_chunked_upload:
            raise self._error(f"{self.name} has no chunked upload helper")
        with _temporary_file([data]) as path:
            args: dict[str, Any] = {"path": path, "filename": filename, "bytes": len(data),
                                    "mime_type": mime_type, "purpose": purpose,
                                    "part_size": part_size}
            if md5:
                args["md5"] = md5
            reply = self._call("upload_file_chunked", args)
        records = self._records(reply)
        error = reply.get("error") or {}
        if records:
            status, body = records[-1].status, records[-1].json
        else:
            status = 200 if reply["ok"] else error.get("status")
            body = reply.get("result") if reply["ok"] else _envelope(error)
        text = None if reply["ok"] else f"{error.get('class')}: {error.get('message')}"
        return ChunkedRun(records, status if isinstance(status, int) else None, body, text,
                          self._result_problems(reply, records),
                          [r.exchange for r in records or []])


def _envelope(error: Mapping[str, Any]) -> Any:
    """The answer's body as the SDK's error exposes it, as an error envelope again."""
    body = error.get("body")
    if isinstance(body, dict) and "error" not in body:
        return {"error": body}
    return body


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


@contextmanager
def _temporary_file(chunks: Iterable[bytes]) -> Iterator[str]:
    """A temporary file holding `chunks`, deleted afterwards; yields its path."""
    handle, path = tempfile.mkstemp(prefix="uploads-conformance-", suffix=".bin")
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
        yield path
    finally:
        with suppress(OSError):
            os.unlink(path)
