"""Schema-driven checks: schemathesis tests a target against an OpenAPI document of the
Uploads API, and every check outcome becomes a `Finding` tagged with a requirement ID.

Four passes reach the target through schemathesis' Python API: coverage (deterministic
boundary and type-breaking values), fuzzing (Hypothesis-generated requests, positive and
negative, per operation), stateful (sequences that follow the document's links) and an
auth probe (every operation without credentials, then with a wrong key). How the outcomes
map to requirements:

    schemathesis check / probe          requirement
    ----------------------------------  ------------------------------------------------
    not_a_server_error, no answer       NO-SERVER-ERROR
    status_code_conformance             SCHEMA-RESPONSE (an undocumented 4xx is INFO
                                        OPEN-REFUSAL-CODE when the document lists no
                                        refusal for the operation, as the public one)
    response_schema_conformance (2xx)   SCHEMA-RESPONSE
    content_type_conformance (2xx),     SCHEMA-CONTENT-TYPE
    JSON content type of a 4xx
    negative_data_rejection             SCHEMA-NEGATIVE (only when `_RequestJudge` agrees)
    error envelope of every 4xx         ERROR-ENVELOPE
    auth probe                          AUTH-REQUIRED

Fairness comes first. A request schemathesis meant as invalid only counts as wrongly
accepted when the project's own reading of the request format (`_RequestJudge`, built
from the project's document whatever document drove generation, with the leniencies the
documentation leaves open) finds what was actually sent invalid; any 4xx is a correct
refusal; open leniencies are reported as INFO, never as failures.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, cast
from urllib.parse import quote

import hypothesis
import hypothesis.errors
import jsonschema_rs
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis.configuration import set_hypothesis_home_dir, storage_directory
from schemathesis import Case, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import NoLinksFound
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.meta import CONTENT_TYPE_PROBES, CoverageScenario
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from conformance.results import Exchange, Finding, Outcome

__all__ = ["SchemaRunError", "default_openapi_path", "run_schema_checks"]

log = logging.getLogger(__name__)

SOURCE = "schemathesis"
REDACTED = "Bearer [REDACTED]"
CURL_AUTH = '-H "Authorization: Bearer $OPENAI_API_KEY"'
WRONG_KEY = "sk-uploads-conformance-wrong-key"  # not a secret: a key no target may accept
PREVIEW_CHARS = 2000
STATEFUL_STEPS = 6
# A pending upload big enough that small generated parts never fill it (rule 2 allows 8 GiB).
LIVE_UPLOAD = {"filename": "schema-checks.jsonl", "purpose": "fine-tune",
               "bytes": 1024**3, "mime_type": "text/jsonl"}
PATH_OPERATIONS = ("addUploadPart", "completeUpload", "cancelUpload")
MIME_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$", re.ASCII)
# What counts as "no usable answer" (NO-SERVER-ERROR), as opposed to a request the client
# itself could not build.
NO_ANSWER = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
             requests.exceptions.ContentDecodingError)


class SchemaRunError(RuntimeError):
    """The schema-driven run could not be done (document unreadable, target unreachable)."""


def default_openapi_path() -> Path:
    """The project's own OpenAPI document of the four operations."""
    return Path(__file__).parent / "openapi" / "uploads.yaml"


def run_schema_checks(
    base_url: str,
    api_key: str | None,
    *,
    openapi_path: Path | None = None,
    max_examples: int = 20,
    seed: int | None = None,
    stateful: bool = True,
    timeout_s: float = 10.0,
    time_budget_s: float = 120.0,
) -> list[Finding]:
    """Run schemathesis against the target at `base_url` (ending in /v1) and map its outcomes.

    Returns one PASS finding per (requirement, operation) exercised without failure, one
    FAIL finding per distinct failure (requirement, operation, kind) with its exchange and
    a curl reproduction, and INFO findings for open behaviour. The API key never appears
    in what is returned. Raises `SchemaRunError` when the run cannot be done.
    """
    path = openapi_path or default_openapi_path()
    schema = _load_schema(path, base_url, max_examples)
    run = _Run(schema, base_url.rstrip("/"), api_key, timeout_s,
               deadline=time.monotonic() + time_budget_s)
    with _hypothesis_storage_outside_cwd():
        try:
            run.preflight()
            run.auth_probe()
            run.happy_path()
            run.coverage()
            run.fuzz(max_examples, seed)
            if stateful:
                run.stateful(max_examples, seed)
        finally:
            run.cancel_what_was_left_pending()
            run.session.close()
    if run.out_of_time():
        log.warning("schema checks stopped at their time budget of %.0f s", time_budget_s)
    log.info("schema checks sent %s", dict(run.sent))
    return run.findings.result(secret=api_key)


# --- loading ----------------------------------------------------------------------------


@contextlib.contextmanager
def _hypothesis_storage_outside_cwd() -> Iterator[None]:
    """Hypothesis caches (unicode tables, constants) go to a temp dir, not the user's cwd.

    The example database is off already; this covers the caches Hypothesis writes anyway.
    """
    previous = storage_directory(intent_to_write=False).home_directory
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "uploads-conformance-hypothesis")
    try:
        yield
    finally:
        set_hypothesis_home_dir(previous)


def _load_schema(path: Path, base_url: str, max_examples: int) -> Any:
    # An explicit config: never pick up a schemathesis.toml from the user's directory.
    config = schemathesis.Config.from_dict({
        "base-url": base_url.rstrip("/"),
        "generation": {
            "max-examples": max_examples,
            "database": "none",  # no .hypothesis directory in the user's cwd
            # Credentials are the auth probe's business, not the generator's.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
    })
    try:
        return schemathesis.openapi.from_path(path, config=config)
    except Exception as exc:
        raise SchemaRunError(f"cannot load the OpenAPI document {path}: {exc}") from exc


def _operation_id(case: Case) -> str:
    raw = case.operation.definition.raw
    return str(raw.get("operationId") or case.operation.label)


# --- what the project reads as a valid request ------------------------------------------


class _Verdict(Enum):
    VALID = "valid"
    INVALID = "invalid"  # must be refused
    OPEN = "open"  # the documentation lets a target accept or refuse it


@dataclass(frozen=True, slots=True)
class _Judgement:
    verdict: _Verdict
    reason: str = ""


class _RequestJudge:
    """Whether a request, as it went on the wire, breaks the documented request format.

    Built from the project's own document, so that generation driven by another document
    (the public one, with its four-purpose enum) is still judged by the facts. Leniencies
    the documentation leaves open (null for an optional field, a JSON body without a JSON
    content type, a `data` form field that is not a file, extra form fields) are OPEN.
    Whole-valued floats are integers and `format` is not asserted, as in JSON Schema.
    """

    JSON_BODIES: ClassVar[dict[str, str]] = {
        "createUpload": "CreateUploadRequest", "completeUpload": "CompleteUploadRequest"}
    NULLABLE_OPTIONALS: ClassVar[dict[str, tuple[str, ...]]] = {
        "createUpload": ("expires_after",), "completeUpload": ("md5",)}

    def __init__(self, document: Mapping[str, Any]):
        components = document["components"]
        self._validators = {
            operation: jsonschema_rs.validator_for(
                {"$ref": f"#/components/schemas/{name}", "components": components},
                validate_formats=False)
            for operation, name in self.JSON_BODIES.items()
        }

    def judge(self, operation: str, request: requests.PreparedRequest) -> _Judgement:
        content_type = request.headers.get("Content-Type", "")
        body = request.body.encode() if isinstance(request.body, str) else request.body
        if operation in self._validators:
            return self._json(operation, content_type, body or b"")
        if operation == "addUploadPart":
            return self._part(content_type, body or b"")
        return _Judgement(_Verdict.VALID)

    def _json(self, operation: str, content_type: str, body: bytes) -> _Judgement:
        try:
            data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
        except ValueError:
            return _Judgement(_Verdict.INVALID, "the body is not JSON")
        nulls = []
        if isinstance(data, dict):
            nulls = [k for k in self.NULLABLE_OPTIONALS[operation] if k in data and data[k] is None]
            data = {k: v for k, v in data.items() if k not in nulls}
        error = next(iter(self._validators[operation].iter_errors(data)), None)
        if error is not None:
            where = "/" + "/".join(map(str, error.instance_path))
            keyword = error.schema_path[-1] if error.schema_path else "schema"
            return _Judgement(_Verdict.INVALID, f"{where}: violates {keyword}")
        media_type = content_type.split(";")[0].strip().lower()
        if not (media_type == "application/json" or media_type.endswith("+json")):
            return _Judgement(_Verdict.OPEN,
                              f"a JSON body sent as {media_type or 'no content type'}")
        if nulls:
            return _Judgement(_Verdict.OPEN, f"null for the optional {', '.join(nulls)}")
        return _Judgement(_Verdict.VALID)

    @staticmethod
    def _part(content_type: str, body: bytes) -> _Judgement:
        if content_type.split(";")[0].strip().lower() != "multipart/form-data":
            return _Judgement(_Verdict.INVALID, "a part request that is not multipart/form-data")
        if "boundary=" not in content_type:
            return _Judgement(_Verdict.INVALID, "a multipart body without a boundary")
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        if not message.is_multipart():
            return _Judgement(_Verdict.INVALID, "an unreadable multipart body")
        fields = [(part.get_param("name", header="content-disposition"), part.get_filename())
                  for part in message.iter_parts()]
        data = [filename for name, filename in fields if name == "data"]
        if not data:
            return _Judgement(_Verdict.INVALID, "no 'data' field")
        if any(filename is None for filename in data):
            return _Judgement(_Verdict.OPEN, "'data' sent as a plain form field, not a file")
        if len(fields) > 1:
            return _Judgement(_Verdict.OPEN, "form fields besides one 'data' file")
        return _Judgement(_Verdict.VALID)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# --- findings -----------------------------------------------------------------------------


@dataclass
class _Findings:
    """Collects outcomes: passes counted per (requirement, operation), failures and INFO
    observations deduplicated, the first example of each kept."""

    passes: dict[tuple[str, str], int] = field(default_factory=dict)
    failures: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    observations: dict[tuple[str, str], Finding] = field(default_factory=dict)

    def passed(self, requirement: str, operation: str) -> None:
        key = (requirement, operation)
        self.passes[key] = self.passes.get(key, 0) + 1

    def failed(self, requirement: str, operation: str, kind: str, message: str,
               exchange: Callable[[], Exchange], steps: list[str], source: str) -> None:
        key = (requirement, operation, kind)
        if key not in self.failures:
            self.failures[key] = Finding(requirement, Outcome.FAIL, f"{operation}: {message}",
                                         list(steps), [exchange()], source)

    def observed(self, requirement: str, operation: str, message: str, source: str) -> None:
        text = f"{operation}: {message}"
        self.observations.setdefault(
            (requirement, text), Finding(requirement, Outcome.INFO, text, [], [], source))

    def result(self, secret: str | None) -> list[Finding]:
        failed = {(req, op) for req, op, _ in self.failures}
        found = [
            Finding(req, Outcome.PASS, f"{op}: {n} answer(s) conformed", [], [], SOURCE)
            for (req, op), n in sorted(self.passes.items()) if (req, op) not in failed
        ]
        found += list(self.failures.values()) + list(self.observations.values())
        return [_scrub(f, secret) for f in found] if secret else found


def _scrub(finding: Finding, secret: str) -> Finding:
    """Belt and braces: a target may echo the key in a body; it never leaves this module."""
    if len(secret) < 6:  # too short to replace blindly; headers are redacted anyway
        return finding
    data = json.loads(json.dumps(finding.to_dict()).replace(
        json.dumps(secret)[1:-1], "[REDACTED]"))
    return Finding.from_dict(data)


# --- the run ------------------------------------------------------------------------------


class _NoAnswer(Exception):
    """The target gave no usable answer (recorded); ends a stateful scenario."""


class _OutOfTime(Exception):
    """The time budget is spent; ends a stateful scenario."""


class _Run:
    def __init__(self, schema: Any, base_url: str, api_key: str | None, timeout_s: float,
                 deadline: float):
        self.schema = schema
        self.base_url = base_url
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.deadline = deadline
        self.session = requests.Session()
        self.findings = _Findings()
        self.judge = _RequestJudge(yaml.safe_load(default_openapi_path().read_text()))
        self.operations = {_operation_id_of(op): op for op in _operations(schema)}
        self._live: str | None = None
        self._live_failures = 0
        self.sent: Counter[str] = Counter()  # requests per pass, for the log
        self.created: set[str] = set()  # uploads the target created for these checks

    # -- plumbing ----------------------------------------------------------------------

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def preflight(self) -> None:
        try:
            self.session.post(f"{self.base_url}/uploads", json={}, headers=self.auth(),
                              timeout=self.timeout_s)
        except requests.ConnectionError as exc:
            raise SchemaRunError(f"the target at {self.base_url} is unreachable: {exc}") from exc

    def live_upload(self) -> str | None:
        """A pending upload for the path operations, so requests reach body validation."""
        if self._live is None and self._live_failures < 3 and not self.out_of_time():
            try:
                answer = self.session.post(f"{self.base_url}/uploads", json=LIVE_UPLOAD,
                                           headers=self.auth(), timeout=self.timeout_s)
                upload_id = answer.json().get("id") if answer.status_code == 200 else None
            except (requests.RequestException, ValueError, AttributeError):
                upload_id = None
            if isinstance(upload_id, str):
                self._live = upload_id
            else:
                self._live_failures += 1
        return self._live

    def _remember_created(self, response: Response) -> None:
        try:
            body = response.json() if response.status_code < 300 else None
        except ValueError:
            return
        if isinstance(body, dict) and body.get("object") == "upload" and \
                body.get("status") == "pending" and isinstance(body.get("id"), str):
            self.created.add(body["id"])

    def cancel_what_was_left_pending(self) -> None:
        """Leaves nothing pending on the target: cancels every upload these checks made."""
        for upload_id in sorted(self.created | ({self._live} if self._live else set())):
            with contextlib.suppress(requests.RequestException):
                self.session.post(f"{self.base_url}/uploads/{quote(upload_id, safe='')}/cancel",
                                  headers=self.auth(), timeout=self.timeout_s)

    def _retire_if_spent(self, case: Case, status: int) -> None:
        if case.path_parameters.get("upload_id") != self._live:
            return
        ended = _operation_id(case) in ("completeUpload", "cancelUpload") and status < 300
        if ended or status in (404, 409, 410):
            self._live = None

    def send(self, case: Case, source: str, steps: list[str],
             headers: dict[str, str] | None = None) -> Response:
        """Send a case and evaluate the answer; raises `_NoAnswer` when there is none."""
        headers = self.auth() if headers is None else headers
        try:
            response = case.call(base_url=self.base_url, headers=dict(headers),
                                 session=self.session, timeout=self.timeout_s)
        except NO_ANSWER as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            self.findings.failed(
                "NO-SERVER-ERROR", _operation_id(case), f"no answer: {type(exc).__name__}",
                f"no usable answer ({error})",
                lambda: self.exchange(case, None, headers, error=error), steps, source)
            raise _NoAnswer(error) from exc
        self.sent[source] += 1
        self._remember_created(response)
        self._retire_if_spent(case, response.status_code)
        self.evaluate(case, response, source, steps, headers)
        return response

    def try_send(self, case: Case, source: str, steps: list[str]) -> None:
        try:
            self.send(case, source, steps)
        except _NoAnswer:
            pass  # recorded as NO-SERVER-ERROR
        except (requests.RequestException, ValueError) as exc:
            # A request the client itself cannot build (e.g. an unencodable URL): not the
            # target's fault, so nothing to report about it.
            log.debug("skipped a case schemathesis could not send: %s", exc)

    # -- evaluation: every outcome mapped to a requirement -----------------------------

    def evaluate(self, case: Case, response: Response, source: str, steps: list[str],
                 headers: dict[str, str]) -> None:
        operation = _operation_id(case)
        status = response.status_code
        steps = [*steps, f"{case.method} {case.formatted_path} -> {status}"]

        def fail(requirement: str, kind: str, message: str) -> None:
            self.findings.failed(requirement, operation, kind, message,
                                 lambda: self.exchange(case, response, headers), steps, source)

        # For content-type probes schemathesis' check re-sends the request; the status says it all.
        probe = _scenario(case) in CONTENT_TYPE_PROBES
        if status >= 500 or (not probe and _failures(case, response, not_a_server_error)):
            fail("NO-SERVER-ERROR", f"status {status}", f"answered {status} to {_about(case)}")
            return
        self.findings.passed("NO-SERVER-ERROR", operation)

        documented = case.operation.responses.status_codes
        undocumented = _failures(case, response, status_code_conformance)
        if not undocumented:
            self.findings.passed("SCHEMA-RESPONSE", operation)
        elif 400 <= status < 500 and not any(str(c).startswith("4") for c in documented):
            # The document describes no refusal at all (the public one): not the target's fault.
            self.findings.observed("OPEN-REFUSAL-CODE", operation,
                                   f"answered {status}, a code the document does not list", source)
        else:
            fail("SCHEMA-RESPONSE", f"status {status}",
                 f"answered {status}, which the document does not list "
                 f"(documented: {', '.join(map(str, documented))})")

        if 200 <= status < 300:
            self._accepted(case, response, fail, operation, source)
        elif 400 <= status < 500:
            self._refused(case, response, fail, operation, source)

    def _accepted(self, case: Case, response: Response, fail: Callable[[str, str, str], None],
                  operation: str, source: str) -> None:
        wrong_type = _failures(case, response, content_type_conformance)
        for failure in wrong_type:
            fail("SCHEMA-CONTENT-TYPE", f"content type {_content_type(response)}",
                 f"answered {response.status_code} as {_content_type(response) or 'no type'}: "
                 f"{failure.title}")
        if not wrong_type:
            self.findings.passed("SCHEMA-CONTENT-TYPE", operation)
        invalid = _failures(case, response, response_schema_conformance)
        for failure in invalid:
            fail("SCHEMA-RESPONSE", _failure_kind(failure),
                 f"the {response.status_code} answer does not match the document: "
                 f"{failure.title}. {_first_line(failure.message)}")
        if not invalid:
            self.findings.passed("SCHEMA-RESPONSE", operation)

        if not _is_negative(case):
            return
        judged = self.judge.judge(operation, response.request)
        probe = _scenario(case) in CONTENT_TYPE_PROBES
        flagged = bool(_failures(case, response, negative_data_rejection))
        if judged.verdict is _Verdict.INVALID and (flagged or probe):
            fail("SCHEMA-NEGATIVE", judged.reason,
                 f"accepted ({response.status_code}) a request with {judged.reason}; "
                 f"it must be refused with a 4xx ({_about(case)})")
        elif judged.verdict is _Verdict.OPEN:
            self.findings.observed("OPEN-LENIENCY", operation, f"accepted {judged.reason}", source)

    def _refused(self, case: Case, response: Response, fail: Callable[[str, str, str], None],
                 operation: str, source: str) -> None:
        status = response.status_code
        problem = _envelope_problem(response)
        if problem:
            fail("ERROR-ENVELOPE", problem, f"refused with {status} without the error envelope: "
                                            f"{problem}")
        else:
            self.findings.passed("ERROR-ENVELOPE", operation)
        media_type = _content_type(response).split(";")[0].strip().lower()
        if problem != "the body is not JSON":
            if media_type == "application/json" or media_type.endswith("+json"):
                self.findings.passed("SCHEMA-CONTENT-TYPE", operation)
            else:
                fail("SCHEMA-CONTENT-TYPE", f"{status} as {media_type or 'no type'}",
                     f"sent a JSON refusal ({status}) as {media_type or 'no content type'}")
        if _is_negative(case):
            self.findings.passed("SCHEMA-NEGATIVE", operation)
            self.findings.observed("OPEN-REFUSAL-CODE", operation,
                                   f"refused a schema-invalid request with {status}", source)

    # -- exchanges ---------------------------------------------------------------------

    def exchange(self, case: Case, response: Response | None, headers: dict[str, str],
                 error: str | None = None) -> Exchange:
        request = response.request if response is not None else _prepare(case, self.base_url,
                                                                          headers)
        return Exchange(
            method=str(request.method),
            url=str(request.url),
            request_headers={k: REDACTED if k.lower() == "authorization" else str(v)
                             for k, v in request.headers.items()},
            request_body=_preview_request(request),
            status=response.status_code if response is not None else None,
            response_headers=({k: ", ".join(v) for k, v in response.headers.items()}
                              if response is not None else {}),
            response_body=(_preview_bytes(response.content) if response is not None else ""),
            error=error,
            duration_s=response.elapsed if response is not None else 0.0,
            curl=self.curl(case, headers),
        )

    def curl(self, case: Case, headers: dict[str, str]) -> str:
        # Sanitization turns the header into "[Filtered]"; we put the placeholder back.
        command = case.as_curl_command(headers=headers, base_url=self.base_url)
        if "Authorization" not in headers:
            return command
        value = headers["Authorization"]
        replacement = CURL_AUTH if value == f"Bearer {self.api_key}" else \
            f"-H 'Authorization: {value}'"
        return command.replace("-H 'Authorization: [Filtered]'", replacement)

    # -- the passes --------------------------------------------------------------------

    def auth_probe(self) -> None:
        """Every operation without credentials, then with a wrong key, must answer 401."""
        source = "schema-checks auth probe"
        for operation, op in self.operations.items():
            for label, headers in (("without credentials", {}),
                                   ("with a wrong key", {"Authorization": f"Bearer {WRONG_KEY}"})):
                if self.out_of_time():
                    return
                case, steps = self._probe_case(operation, op)
                steps.append(f"auth probe: a valid request {label}")
                try:
                    response = self.send(case, source, steps, headers=headers)
                except (_NoAnswer, requests.RequestException, ValueError):
                    continue  # a missing answer is already recorded as NO-SERVER-ERROR
                if response.status_code == 401:
                    self.findings.passed("AUTH-REQUIRED", operation)
                    continue
                exchange = self.exchange(case, response, headers)
                self.findings.failed(
                    "AUTH-REQUIRED", operation, f"{label}: {response.status_code}",
                    f"a request {label} was answered {response.status_code}, not 401",
                    lambda: exchange,  # noqa: B023 - called at once, inside this iteration
                    [*steps, f"{case.method} {case.formatted_path} -> {response.status_code}"],
                    source)

    def _probe_case(self, operation: str, op: Any) -> tuple[Case, list[str]]:
        """A request that would be accepted with credentials (as far as the body goes)."""
        if operation == "createUpload":
            return op.Case(body=dict(LIVE_UPLOAD), media_type="application/json"), []
        upload_id = self.live_upload()
        steps = [_live_step(upload_id)] if upload_id else []
        path = {"upload_id": upload_id or "upload_schema_checks_probe"}
        if operation == "addUploadPart":
            body: Any = {"data": b"probe"}
            return op.Case(path_parameters=path, body=body,
                           media_type="multipart/form-data"), steps
        if operation == "completeUpload":
            return op.Case(path_parameters=path, body={"part_ids": []},
                           media_type="application/json"), steps
        return op.Case(path_parameters=path), steps

    def happy_path(self) -> None:
        """One upload taken through create, part and complete, and one cancelled, so that
        every operation's success answer (the completed Upload and its File among them) is
        checked against the document whatever the generators manage to reach."""
        content = b'{"prompt": "schema checks"}\n'
        create = {"filename": "schema-checks.jsonl", "purpose": "fine-tune",
                  "bytes": len(content), "mime_type": "text/jsonl"}
        source, steps = "schema-checks happy path", ["happy path"]
        ops = self.operations
        if not {"createUpload", "addUploadPart", "completeUpload", "cancelUpload"} <= set(ops):
            return

        def step(case: Case) -> Any:
            try:
                response = self.send(case, source, steps)
                steps.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
                return response.json() if response.status_code == 200 else None
            except (_NoAnswer, requests.RequestException, ValueError):
                return None  # recorded, or not the target's fault

        upload = step(ops["createUpload"].Case(body=dict(create), media_type="application/json"))
        if not isinstance(upload, dict) or not isinstance(upload.get("id"), str):
            return
        path = {"upload_id": upload["id"]}
        part = step(ops["addUploadPart"].Case(path_parameters=path, body={"data": content},
                                              media_type="multipart/form-data"))
        if isinstance(part, dict) and isinstance(part.get("id"), str):
            body = {"part_ids": [part["id"]], "md5": hashlib.md5(content).hexdigest()}
            step(ops["completeUpload"].Case(path_parameters=path, body=body,
                                            media_type="application/json"))
        other = step(ops["createUpload"].Case(body=dict(create), media_type="application/json"))
        if isinstance(other, dict) and isinstance(other.get("id"), str):
            steps[:] = ["happy path (cancel)", steps[-1]]
            step(ops["cancelUpload"].Case(path_parameters={"upload_id": other["id"]}))

    def coverage(self) -> None:
        """Schemathesis' deterministic boundary values, positive and negative."""
        modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        for operation, op in self.operations.items():
            config = self.schema.config.generation_for(operation=op, phase="coverage")
            cases = self.schema.iter_coverage_cases(op, generation_modes=modes,
                                                    generation_config=config)
            try:
                for case in cases:
                    if self.out_of_time():
                        return
                    # Methods the document does not list are outside the API's contract.
                    if _scenario(case) is CoverageScenario.UNSPECIFIED_HTTP_METHOD:
                        continue
                    live = self._aim_at_live_upload(case, operation)
                    self.try_send(case, f"{SOURCE} coverage",
                                  [*live, f"coverage: {_about(case)}"])
            except Exception as exc:  # a generator problem must not sink the whole run
                log.warning("coverage of %s stopped: %r", operation, exc)

    def fuzz(self, max_examples: int, seed: int | None) -> None:
        """Hypothesis-generated requests per operation, in positive then negative mode."""
        settings = hypothesis.settings(
            max_examples=max_examples, deadline=None, database=None, print_blob=False,
            phases=[Phase.explicit, Phase.generate], verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck))
        for operation, op in self.operations.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if self.out_of_time():
                    return
                test = settings(self._fuzz_test(operation, op, mode))
                if seed is not None:
                    test = hypothesis.seed(seed)(test)
                try:
                    test()
                except hypothesis.errors.Unsatisfiable:
                    # Nothing to negate (cancelUpload has no body; its ID is any string).
                    log.debug("no %s requests can be generated for %s", mode.value, operation)
                except Exception as exc:  # a generator problem must not sink the whole run
                    log.warning("fuzzing %s (%s) stopped: %r", operation, mode.value, exc)

    def _fuzz_test(self, operation: str, op: Any, mode: GenerationMode) -> Callable[[], None]:
        sent = 0
        source = f"{SOURCE} fuzzing ({mode.value})"

        @hypothesis.given(case=op.as_strategy(generation_mode=mode))
        def test(case: Case) -> None:
            nonlocal sent
            if self.out_of_time():
                return
            sent += 1
            # Every other request aims at a live upload, the rest at made-up IDs.
            live = self._aim_at_live_upload(case, operation) if sent % 2 else []
            if sent % 2:
                _make_realistic(case)
            self.try_send(case, source, [*live, f"fuzzing: {_about(case)}"])

        return cast(Callable[[], None], test)

    def stateful(self, max_examples: int, seed: int | None) -> None:
        """Sequences that follow the document's links (create -> part -> complete ...)."""
        # Documents without links (the public one) get links inferred by schemathesis.
        if self.out_of_time():
            return
        run = self
        base: Any = self.schema.as_state_machine()

        class Workflow(base):  # type: ignore[misc, valid-type]
            def setup(self) -> None:
                self.trail: list[str] = []
                self.calls = 0

            def call(self, case: Case, **kwargs: Any) -> Response:
                if run.out_of_time():
                    raise _OutOfTime
                steps = list(self.trail)
                self.calls += 1
                if self.calls % 2:
                    _make_realistic(case)
                response = run.send(case, f"{SOURCE} stateful", steps)
                self.trail.append(f"{case.method} {case.formatted_path} -> "
                                  f"{response.status_code}")
                return response

            def validate_response(self, response: Response, case: Case,
                                  additional_checks: Any = None, **kwargs: Any) -> None:
                """Evaluated in `call`, where every answer is mapped to requirements."""

        settings = hypothesis.settings(
            max_examples=max(2, max_examples // 2), stateful_step_count=STATEFUL_STEPS,
            deadline=None, database=None, print_blob=False, phases=[Phase.generate],
            verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
        machine: Any = hypothesis.seed(seed)(Workflow) if seed is not None else Workflow
        try:
            machine.run(settings=settings)
        except (_OutOfTime, _NoAnswer, NoLinksFound) as exc:
            log.debug("stateful pass ended early: %r", exc)
        except Exception as exc:  # e.g. a request the client could not build
            log.warning("stateful pass stopped: %r", exc)

    def _aim_at_live_upload(self, case: Case, operation: str) -> list[str]:
        """Point a path operation at a pending upload; returns the step that made it."""
        if operation in PATH_OPERATIONS and "upload_id" in case.path_parameters:
            upload_id = self.live_upload()
            if upload_id is not None:
                case.path_parameters = {**case.path_parameters, "upload_id": upload_id}
                return [_live_step(upload_id)]
        return []


# --- helpers ------------------------------------------------------------------------------


def _make_realistic(case: Case) -> None:
    """Give a positive create request a non-empty filename and a type/subtype mime_type.

    The document allows any strings (the facts say no more), but targets may refuse
    others (the reference emulator does), and a create that succeeds is what lets the
    stateful pass follow links. Only every other create is touched: the rest stay raw.
    """
    if _operation_id(case) != "createUpload" or _is_negative(case):
        return
    body = case.body
    if not isinstance(body, dict):
        return
    fixed = dict(body)
    if not fixed.get("filename"):
        fixed["filename"] = "schema-checks.jsonl"
    mime_type = fixed.get("mime_type")
    if not isinstance(mime_type, str) or not MIME_TYPE.match(mime_type):
        fixed["mime_type"] = "text/jsonl"
    case.body = fixed


def _live_step(upload_id: str) -> str:
    return (f"POST /uploads {json.dumps(LIVE_UPLOAD)} -> 200, id {upload_id} "
            "(a pending upload the run made for this request)")


def _operations(schema: Any) -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        try:
            operations.append(result.ok())
        except Exception as exc:  # an operation schemathesis cannot read
            raise SchemaRunError(f"the OpenAPI document has an unusable operation: {exc}") from exc
    return operations


def _operation_id_of(op: Any) -> str:
    return str(op.definition.raw.get("operationId") or op.label)


def _failures(case: Case, response: Response, check: Callable[..., Any]) -> list[Failure]:
    """The failures one schemathesis check reports for one answer (empty when it passes)."""
    try:
        case.validate_response(response, checks=[check])
    except FailureGroup as group:
        return [f for f in group.exceptions if isinstance(f, Failure)]
    except Failure as failure:
        return [failure]
    return []


def _is_negative(case: Case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_negative


def _scenario(case: Case) -> CoverageScenario | None:
    meta = case.meta
    return getattr(meta.phase.data, "scenario", None) if meta is not None else None


def _about(case: Case) -> str:
    """What a generated request was meant to be, in schemathesis' words."""
    meta = case.meta
    description = getattr(meta.phase.data, "description", "") if meta is not None else ""
    mode = meta.generation.mode.value if meta is not None else "explicit"
    return f"{mode} case{': ' + _first_line(description) if description else ''}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def _failure_kind(failure: Failure) -> str:
    schema_path = getattr(failure, "schema_path", None)
    if schema_path:
        return "/".join(map(str, schema_path))
    return failure.title


def _content_type(response: Response) -> str:
    values = response.headers.get("content-type") or []
    return values[0] if values else ""


def _envelope_problem(response: Response) -> str | None:
    """Why a refusal's body is not {error: {message, type, param, code}}, or None."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "the body is not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "no 'error' object"
    for name in ("message", "type"):
        if not isinstance(error.get(name), str):
            return f"error.{name} is not a string"
    for name in ("param", "code"):
        if name not in error:
            return f"error.{name} is missing"
        if not (error[name] is None or isinstance(error[name], str)):
            return f"error.{name} is neither a string nor null"
    return None


def _prepare(case: Case, base_url: str, headers: dict[str, str]) -> requests.PreparedRequest:
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    allowed = ("method", "url", "headers", "params", "data", "json", "files", "cookies")
    return requests.Request(**{k: v for k, v in kwargs.items() if k in allowed}).prepare()


def _preview_request(request: requests.PreparedRequest) -> str:
    body = request.body
    if body is None:
        return ""
    raw = body.encode() if isinstance(body, str) else bytes(body)
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        if message.is_multipart():
            fields = []
            for part in message.iter_parts():
                payload = part.get_payload(decode=True)
                size = len(payload) if isinstance(payload, bytes) else 0
                kind = "file" if part.get_filename() is not None else "field"
                fields.append(f"{part.get_param('name', header='content-disposition')}="
                              f"{size} bytes ({kind})")
            return f"<multipart: {', '.join(fields) or 'no fields'}>"
    return _preview_bytes(raw)


def _preview_bytes(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(raw)} bytes, not UTF-8>"
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "...(truncated)"
