"""SDK drivers: an SDK in any language runs the machine's operations, over a pipe.

The suite starts a driver program (`--sdk-driver 'COMMAND'`) and exchanges one JSON message
per line with it on stdin and stdout (`driver_pipe`; the protocol: docs/sdk-drivers.md): a
hello, then operations the driver runs through its SDK, several at once. `DriverAdapter`
presents the driver as an SDK adapter (`sdk_template`): it supplies the calls and how a
reply is read, the shared flow does the rest.

The suite does not see a driver's HTTP. A driver that hooks its SDK's HTTP layer reports
the exchanges behind each reply, and those are recorded and checked like the Python SDK's;
otherwise exchanges are synthesised from the operation and the SDK's result or error (their
curl lines say so), and the requests themselves cannot be checked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from conformance.adapters.base import Adapter
from conformance.adapters.driver_pipe import Connection, DriverError, temporary_file
from conformance.adapters.sdk_capabilities import from_driver
from conformance.adapters.sdk_checks import error_body_problems, json_mismatches
from conformance.adapters.sdk_records import (
    ChunkedCall,
    FormField,
    HttpRecord,
    SentRequest,
    recorded_url,
    render_exchange,
)
from conformance.adapters.sdk_template import SdkAdapter, SdkOutcome, Sink, json_or_none
from conformance.adapters.sdk_users import users_timeout
from conformance.checks import Answer
from conformance.client import MISSING
from conformance.evidence import REDACTED, Redactor
from conformance.openapi.judge import Intended, RequestJudge
from conformance.recorder import Recorder
from conformance.results import Exchange
from strategies.payloads import Payload

__all__ = ["INLINE_PART_LIMIT", "PROTOCOL_VERSION", "DriverAdapter", "DriverError"]

PROTOCOL_VERSION: Final = 1
INLINE_PART_LIMIT: Final = 1024 * 1024  # larger parts travel as a path to a temporary file
HELLO_TIMEOUT_S: Final = 20.0
REPLY_MARGIN_S: Final = 15.0  # beyond the SDK's own timeout, for the driver's own work
FOUR_OPERATIONS: Final = ("create", "add_part", "complete", "cancel")
_REPORTED: Final = "reported by the SDK driver (its HTTP hook); the suite did not see it"
_SYNTHESISED: Final = ("synthesised from the SDK driver's reply; the driver's HTTP was not "
                       "seen, so headers and body are what the operation should have sent")


class DriverAdapter(SdkAdapter):
    """The Adapter over an SDK driver program (see the module's docstring).

    `recorder`, `sink` and `fallback` are as for every SDK adapter. `timeout` is the SDK's
    own timeout (sent in the hello); a reply may take it and REPLY_MARGIN_S more.
    """

    unseen_requests = "the driver reports no HTTP exchanges"

    def __init__(self, command: str | Sequence[str], base_url: str, api_key: str | None, *,
                 recorder: Recorder | None = None, sink: Sink | None = None,
                 timeout: float = 30.0, hello_timeout: float = HELLO_TIMEOUT_S,
                 fallback: Adapter | None = None, cwd: str | None = None,
                 env: Mapping[str, str] | None = None, judge: RequestJudge | None = None,
                 inline_limit: int = INLINE_PART_LIMIT) -> None:
        super().__init__(base_url, api_key, sink=sink, fallback=fallback)
        self.inline_limit = inline_limit
        self.reply_timeout = timeout + REPLY_MARGIN_S
        self.users_reply_timeout = users_timeout(timeout) + REPLY_MARGIN_S
        self._redactor = Redactor(api_key)
        self._connection = Connection(command, self._redactor, cwd=cwd, env=env)
        self.command = self._connection.command
        try:
            ready = self._connection.request(
                {"type": "hello", "protocol": PROTOCOL_VERSION, "base_url": self.base_url,
                 "api_key": api_key, "timeout_s": timeout,
                 "users_timeout_s": users_timeout(timeout)}, hello_timeout, "the hello")
            self._accept(ready)
        except BaseException:
            self._connection.close()
            raise
        self._start_checks(recorder, judge)

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
        self.offers_users_client = bool(ready.get("users_client"))  # see driver_users
        self.generic_error = str(ready.get("generic_error", "APIError"))
        lacks = ready.get("lacks") or []  # older drivers say nothing: the full set
        if not isinstance(lacks, list):
            raise self._error(f"its ready message's lacks is not a list: {lacks!r}"[:200])
        self.capabilities = from_driver(self.name, self.version, self.operations,
                                        map(str, lacks))
        if not self.capabilities.uploads:
            raise self._error(f"{self.capabilities.label} has no Uploads API")
        missing = [op for op in FOUR_OPERATIONS if op not in self.operations]
        if missing:
            raise self._error(f"it does not offer {', '.join(missing)}")

    def _error(self, text: str) -> DriverError:
        return DriverError(self._redactor.text(f"SDK driver {self.command!r}: {text}"))

    def describe(self) -> dict[str, str]:
        found = {"adapter": f"driver ({self.name})", "sdk": self.name,
                 "sdk_version": self.version, "sdk_driver": self.command}
        if self.runtime:
            found["sdk_runtime"] = self.runtime
        return found

    def close(self) -> None:
        self._connection.close()

    # -- the four operations --

    def create(self, body: Any) -> Answer:
        return self._through_driver("create", Intended("createUpload", body=body), "create",
                                    {"body": body}, lambda f: f.create(body))

    def add_part(self, upload_id: str, payload: Payload) -> Answer:
        size, md5 = len(payload), payload.md5()
        intended = Intended("addUploadPart", upload_id, part_size=size, part_md5=md5)
        args: dict[str, Any] = {"upload_id": upload_id, "size": size, "filename": "part.bin"}
        if size <= self.inline_limit:
            args["data_base64"] = base64.b64encode(payload.read()).decode("ascii")
            return self._through_driver(f"a part of {size} bytes", intended, "add_part", args,
                                        lambda f: f.add_part(upload_id, payload))
        with temporary_file(payload.iter_chunks()) as path:
            args["path"] = path
            return self._through_driver(f"a part of {size} bytes", intended, "add_part", args,
                                        lambda f: f.add_part(upload_id, payload))

    def complete(self, upload_id: str, body: Any) -> Answer:
        return self._through_driver(
            "completion", Intended("completeUpload", upload_id, body=body), "complete",
            {"upload_id": upload_id, "body": body}, lambda f: f.complete(upload_id, body))

    def cancel(self, upload_id: str) -> Answer:
        return self._through_driver("cancel", Intended("cancelUpload", upload_id), "cancel",
                                    {"upload_id": upload_id}, lambda f: f.cancel(upload_id))

    def _through_driver(self, what: str, intended: Intended, op: str, args: dict[str, Any],
                        fallback: Callable[[Adapter], Answer]) -> Answer:
        return self._operation(what, intended, lambda: self._outcome(self._call(op, args)),
                               fallback)

    def call_users_client(self, op: str, args: dict[str, Any], attempts: int) -> dict[str, Any]:
        """The well-formed reply of an operation on the driver's users' client (for
        `driver_users`): a call that may make `attempts` requests, each up to its timeout."""
        return self._call(op, args, self.users_reply_timeout * attempts)

    def records_of(self, reply: dict[str, Any]) -> list[HttpRecord] | None:
        """The exchanges a reply reports, recorded into the suite's log."""
        return self._records(reply)

    def _call(self, op: str, args: dict[str, Any],
              timeout: float | None = None) -> dict[str, Any]:
        reply = self._connection.request({"op": op, "args": args},
                                         timeout or self.reply_timeout, op)
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

    def _outcome(self, reply: dict[str, Any]) -> SdkOutcome:
        """A well-formed reply as an SdkOutcome: an error is the driver's dict for it."""
        if reply["ok"]:
            return SdkOutcome(self._records(reply), reply.get("result"))
        return SdkOutcome(self._records(reply), None, reply.get("error") or {})

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
            headers = [(str(k), str(v)) for k, v in (item.get("headers") or {}).items()]
            sent = SentRequest.observed(str(item["method"]), str(item["url"]), headers,
                                        self._redactor, self.api_key)
            body = item.get("body") or {"kind": "none"}
            if body["kind"] == "text":
                sent.set_body(str(body["text"]).encode(), self._redactor)
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
        return HttpRecord(sent, exchange, exchange.status, json_or_none(answer))

    def unrecorded_answer(self, intended: Intended,
                          outcome: SdkOutcome) -> tuple[int | None, Any, Exchange]:
        """An answer made from the SDK's result or error, its exchange synthesised."""
        status, body = self.unrecorded_end(outcome)
        error = outcome.error if isinstance(outcome.error, dict) else {}
        exchange = self._synthesised(intended, status, body,
                                     None if status is not None else str(error.get("message")))
        return status, body if status is not None else None, exchange

    def unrecorded_end(self, outcome: SdkOutcome) -> tuple[int | None, Any]:
        if outcome.error is None:
            return 200, outcome.result
        error = outcome.error if isinstance(outcome.error, dict) else {}
        status = error.get("status")
        return (status if isinstance(status, int) else None), _envelope(error)

    def error_text(self, outcome: SdkOutcome) -> str | None:
        """The driver's report of what its SDK raised, with the tail of the driver's stderr
        when the SDK raised an error of its own (its traceback is usually there)."""
        if outcome.error is None:
            return None
        error = outcome.error if isinstance(outcome.error, dict) else {}
        text = " ".join(f"{error.get('class')}: {error.get('message')}".split())[:300]
        if _own_error(error) and not outcome.records:
            tail = self._connection.stderr_tail()
            if tail:
                text += f"; the driver's stderr ends with: {' | '.join(tail.splitlines())}"
        return self._redactor.text(text)

    def raised_its_own(self, outcome: SdkOutcome) -> bool:
        return isinstance(outcome.error, dict) and _own_error(outcome.error)

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

    def result_problems(self, outcome: SdkOutcome) -> list[str]:
        """How the SDK's result or error departs from the answer (when it was reported)."""
        raw = outcome.records[-1] if outcome.records else None
        if outcome.error is None:
            if raw is None:
                return []
            if raw.status is None:
                return ["it returned a result although no answer arrived"]
            if not 200 <= raw.status < 300:
                return [f"a {raw.status} answer returned a result instead of raising"]
            if not isinstance(raw.json, dict):
                return []
            return [f"its result differs: {m}" for m in
                    json_mismatches(outcome.result, raw.json)][:5]
        error = outcome.error if isinstance(outcome.error, dict) else {}
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

    def run_chunked(self, call: ChunkedCall) -> SdkOutcome:
        if not self.capabilities.chunked_upload:
            raise self._error(f"{self.name} has no chunked upload helper")
        # A driver always gets the file as a path; no part_size: the SDK's default.
        args: dict[str, Any] = {"path": str(call.path), "filename": call.filename,
                                "bytes": call.bytes_argument, "mime_type": call.mime_type,
                                "purpose": call.purpose}
        if call.part_size is not None:
            args["part_size"] = call.part_size
        if call.md5:
            args["md5"] = call.md5
        return self._outcome(self._call("upload_file_chunked", args))


def _own_error(error: Mapping[str, Any]) -> bool:
    """An error the SDK raised of its own: no status of an answer, and no connection's."""
    name = str(error.get("class"))
    return not isinstance(error.get("status"), int) and "Connection" not in name \
        and "Timeout" not in name


def _envelope(error: Mapping[str, Any]) -> Any:
    """The answer's body as the SDK's error exposes it, as an error envelope again."""
    body = error.get("body")
    if isinstance(body, dict) and "error" not in body:
        return {"error": body}
    return body

