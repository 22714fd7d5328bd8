"""Checks of one answer: against the oracle's expectation, and against the object shapes.

Each check reports passes and observations to the recorder and raises
`ConformanceFailure` for a broken requirement, unless that requirement has already
failed in this run (the `Checker.waived` set), so one fault is reported once, with a
minimal example, and the run goes on to look for others. A request the target died of
(the client has halted the run, `conformance.client.liveness`) fails NO-SERVER-ERROR once
and stops the run: nothing is judged on a dead server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn, Protocol

from conformance import halt
from conformance.api import LIFETIME_S, UPLOAD_STATUSES
from conformance.client.liveness import STOPPED_ANSWERING
from conformance.model import Expectation, Verdict
from conformance.recorder import ConformanceFailure, Recorder
from conformance.results import Exchange
from conformance.timeline import Row

CREATED_AT_TOLERANCE_S = 60
EXPIRES_AT_TOLERANCE_S = 1
STOPPED_SOURCE = "the target stopped answering"  # the finding's source


class Answer(Protocol):
    """What an adapter gives back for one operation."""

    @property
    def status(self) -> int | None: ...
    @property
    def json(self) -> Any: ...
    @property
    def exchange(self) -> Exchange: ...


class Checker:
    def __init__(self, recorder: Recorder, evidence: Callable[[], Sequence[Exchange]]):
        self.recorder = recorder
        self.evidence = evidence  # the recent exchanges, attached to a failure
        # Requirements already failed, or left out by the selection: record, don't raise.
        self.waived: set[str] = set(recorder.left_out)
        self.current_steps: list[str] = []  # the running example's steps, for a failure
        # The first failure raised since `first_failure` was reset: evidence for when
        # Hypothesis cannot replay a failure on a non-deterministic target.
        self.first_failure: ConformanceFailure | None = None
        self.target_stopped = False  # its NO-SERVER-ERROR is recorded: judge nothing more

    # --- the primitives ---------------------------------------------------------------

    def ok(self, requirement: str) -> None:
        self.recorder.passed(requirement)

    def fail(self, requirement: str, message: str, also: Sequence[str] = (),
             timeline: Sequence[Row] = ()) -> None:
        """Raises the failure of `requirement` (and of `also`, broken by the same answer),
        leaving out those already failed in this run. `timeline`: how the operations of a
        race overlapped, for the finding."""
        broken = [r for r in (requirement, *also) if r not in self.waived]
        if not broken:
            return
        failure = ConformanceFailure.of(broken[0], message, self.evidence())
        failure.also_breaks = broken[1:]
        failure.steps = list(self.current_steps)
        failure.timeline = list(timeline)
        if self.first_failure is None:
            self.first_failure = failure
        raise failure

    def expect(self, condition: bool, requirement: str, message: str) -> bool:
        if condition:
            self.ok(requirement)
        else:
            self.fail(requirement, message)
        return condition

    # --- an answer against the oracle ---------------------------------------------------

    def answer(self, expectation: Expectation, answer: Answer, what: str) -> bool:
        """Checks one answer; True when the target accepted the operation (a 2xx)."""
        status = answer.status
        # The raw HTTP client's answers say which kept-alive connections the target closed.
        stale_after: tuple[int | None, ...] = getattr(answer, "stale_after", ())
        for previous in stale_after:
            after = "an answer" if previous is None else \
                f"a {previous // 100}xx answer ({previous})"
            self.recorder.observe("OPEN-CONNECTION-REUSE", "closes idle keep-alive "
                                  f"connections without `Connection: close`: after {after}")
        if status is None:
            stopped = halt.reason()
            if stopped is not None and stopped.startswith(STOPPED_ANSWERING):
                self.stopped_answering(stopped, what)
            self.fail("NO-SERVER-ERROR", f"{what}: no usable answer ({answer.exchange.error})")
            return False
        if status >= 500:
            if expectation.verdict is Verdict.EITHER:
                self.fail("NO-SERVER-ERROR", f"{what}: answered {status}")
            else:
                # The rule probed called for an answer (a refusal, or a success): a server
                # error breaks it, not only NO-SERVER-ERROR.
                wanted = "a refusal (4xx)" if expectation.verdict is Verdict.REFUSE else \
                    "a success"
                self.fail(expectation.requirement, f"{what} was answered {status} where "
                          f"{wanted} is due: {expectation.reason}{_error_message(answer)}",
                          also=["NO-SERVER-ERROR"])
            return False
        accepted = 200 <= status < 300
        if expectation.verdict is not Verdict.ACCEPT:
            self.ok("NO-SERVER-ERROR")  # a request the target may refuse, answered sanely
        if expectation.verdict is Verdict.EITHER:
            outcome = f"accepted ({status})" if accepted else f"refused ({status})"
            self.recorder.observe(expectation.requirement, f"{expectation.reason}: {outcome}")
        elif expectation.verdict is Verdict.ACCEPT:
            self.expect(accepted, expectation.requirement,
                        f"{what} was refused with {status}, but {expectation.reason}"
                        f"{_error_message(answer)}")
        else:
            self.expect(not accepted, expectation.requirement,
                        f"{what} was accepted with {status}, but {expectation.reason}")
        if not accepted:
            self.refusal(answer, what, expectation)
        return accepted

    def stopped_answering(self, why: str, what: str) -> NoReturn:
        """The target died of a request (the client halted the run, `why` says after
        which): NO-SERVER-ERROR fails once, for that request, recorded here rather than
        raised, as no example can be replayed on a dead server; then the run stops."""
        if not self.target_stopped and "NO-SERVER-ERROR" not in self.waived:
            failure = ConformanceFailure.of("NO-SERVER-ERROR", f"{what}: {why}",
                                            self.evidence())
            failure.steps = list(self.current_steps)
            self.recorder.failed(failure.to_finding(STOPPED_SOURCE))
        self.target_stopped = True
        raise halt.RunHalted(why)

    def refusal(self, answer: Answer, what: str, expectation: Expectation | None = None) -> None:
        status = answer.status or 0
        if not 400 <= status < 500:
            self.fail("ERROR-ENVELOPE", f"{what} was refused with {status}, not a 4xx")
            return
        if expectation is not None and expectation.verdict is Verdict.REFUSE:
            self.recorder.observe("OPEN-REFUSAL-CODE", f"{expectation.requirement}: {status}")
        self.expect(is_error_envelope(answer.json), "ERROR-ENVELOPE",
                    f"{what} was refused with {status} without the error envelope")

    # --- object shapes ------------------------------------------------------------------

    def upload_object(self, obj: Any, what: str) -> bool:
        problem = upload_object_problem(obj)
        return self.expect(problem is None, "OBJECT-UPLOAD", f"{what}: {problem}")

    def part_object(self, obj: Any, upload_id: str, what: str) -> bool:
        problem = part_object_problem(obj, upload_id)
        return self.expect(problem is None, "OBJECT-PART", f"{what}: {problem}")

    def timestamps(self, upload: dict[str, Any], target_now: float | None, what: str) -> None:
        drift = upload["expires_at"] - upload["created_at"] - LIFETIME_S
        self.expect(abs(drift) <= EXPIRES_AT_TOLERANCE_S, "UPLOAD-EXPIRES-AT",
                    f"{what}: expires_at - created_at is "
                    f"{upload['expires_at'] - upload['created_at']} s, not {LIFETIME_S}")
        if target_now is not None:
            off = upload["created_at"] - target_now
            self.expect(abs(off) <= CREATED_AT_TOLERANCE_S, "UPLOAD-CREATED-AT",
                        f"{what}: created_at is {off:+.0f} s from the target's current time")

    def nested_file(self, upload: dict[str, Any], declared: int, filename: str, purpose: str,
                    what: str) -> dict[str, Any] | None:
        file = upload.get("file")
        problem = file_object_problem(file, declared, filename, purpose)
        if not self.expect(problem is None, "OBJECT-FILE", f"{what}: {problem}"):
            return None
        assert isinstance(file, dict)
        self.recorder.observe("OPEN-NESTED-FILE-STATUS", f"status {file.get('status')!r}")
        return file


def is_error_envelope(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return False
    error = body["error"]
    return (isinstance(error.get("message"), str) and isinstance(error.get("type"), str)
            and all(k in error and (error[k] is None or isinstance(error[k], str))
                    for k in ("param", "code")))


def _error_message(answer: Answer) -> str:
    body = answer.json
    if is_error_envelope(body):
        return f" (target said: {body['error']['message'][:200]})"
    return ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_problem(obj: dict[str, Any], name: str, kind: str) -> str | None:
    if name not in obj:
        return f"field {name!r} is missing"
    value = obj[name]
    ok = _is_int(value) if kind == "integer" else isinstance(value, str)
    return None if ok else f"field {name!r} is {value!r}, not a{'n' * (kind[0] == 'i')} {kind}"


def _not_an_object(obj: Any) -> str:
    if obj is None:
        return "the answer has no JSON body"
    return f"the answer is not a JSON object: {str(obj)[:100]!r}"


def upload_object_problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return _not_an_object(obj)
    for name, kind in (("id", "string"), ("bytes", "integer"), ("created_at", "integer"),
                       ("expires_at", "integer"), ("filename", "string"),
                       ("purpose", "string"), ("status", "string")):
        if problem := _field_problem(obj, name, kind):
            return problem
    if obj.get("object") != "upload":
        return f"object is {obj.get('object')!r}, not 'upload'"
    if obj["status"] not in UPLOAD_STATUSES:
        return f"status {obj['status']!r} is not one of {', '.join(UPLOAD_STATUSES)}"
    return None


def part_object_problem(obj: Any, upload_id: str) -> str | None:
    if not isinstance(obj, dict):
        return _not_an_object(obj)
    for name, kind in (("id", "string"), ("created_at", "integer"), ("upload_id", "string")):
        if problem := _field_problem(obj, name, kind):
            return problem
    if obj.get("object") != "upload.part":
        return f"object is {obj.get('object')!r}, not 'upload.part'"
    if obj["upload_id"] != upload_id:
        return f"upload_id is {obj['upload_id']!r}, but the part was added to {upload_id!r}"
    return None


def file_object_problem(file: Any, declared: int, filename: str, purpose: str) -> str | None:
    if not isinstance(file, dict):
        return f"the completed upload's file is {file!r}, not a File object"
    for name, kind in (("id", "string"), ("bytes", "integer"), ("created_at", "integer"),
                       ("filename", "string"), ("purpose", "string")):
        if problem := _field_problem(file, name, kind):
            return f"file: {problem}"
    if file.get("object") != "file":
        return f"file.object is {file.get('object')!r}, not 'file'"
    for name, want in (("bytes", declared), ("filename", filename), ("purpose", purpose)):
        if file[name] != want:
            return f"file.{name} is {file[name]!r}, but the upload's is {want!r}"
    return None
