"""The flow every SDK adapter shares: run one SDK call, hold what it did to the wire, answer.

An SDK adapter (the Python SDK in-process, or any SDK behind a driver program) runs each
operation the same way: build the request the suite intends (`Intended`), have the SDK make
its call, collect the HTTP exchanges it caused (`SdkOutcome.records`), hold those requests
to the OpenAPI document (SDK-REQUEST-CONFORMS) and what the SDK returned or raised to what
the target sent (SDK-RESULT-MATCHES), and answer with what the target sent. `SdkAdapter`
holds that flow; a subclass supplies only the SDK call and how its result is read.

Those two checks do not raise from inside the operation: they travel on the answer
(`CheckedAnswer.checks`), and the caller reports them with `report_checks` once it has
recorded the step, so that a failure's steps end with the operation that broke the rule.

When the SDK's request departed from the document and the target did not accept it, the
operation is sent again through the fallback adapter (raw HTTP): once the SDK's fault is
reported, the target is judged on the documented request, not blamed for the SDK's. An SDK
that raised an error of its own before sending anything (a `TypeError` for a parameter its
version lacks, a bug) broke SDK-REQUEST-CONFORMS, not a rule of the target's: the finding
carries what it raised (redacted) and only that operation's exchanges.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.adapters.base import Adapter, Capabilities
from conformance.adapters.sdk_checks import SdkChecks, request_problems
from conformance.adapters.sdk_records import ChunkedCall, ChunkedRun, HttpRecord, SdkAnswer
from conformance.checks import Answer, Checker
from conformance.evidence import Redactor
from conformance.openapi.judge import Intended, RequestJudge
from conformance.recorder import ConformanceFailure, Recorder
from conformance.results import Exchange

__all__ = ["REQUEST_REQUIREMENT", "RESULT_REQUIREMENT", "CheckedAnswer", "SdkAdapter",
           "SdkCheck", "SdkOutcome", "accepted", "held", "json_or_none"]

REQUEST_REQUIREMENT: Final = "SDK-REQUEST-CONFORMS"
RESULT_REQUIREMENT: Final = "SDK-RESULT-MATCHES"

Sink = Callable[[Exchange], None]


@dataclass(slots=True)
class SdkOutcome:
    """What one SDK call did: the requests it sent, and what it gave back.

    `records` are the exchanges in the order sent, or None when the SDK's HTTP is not
    visible (a driver that reports none). `error` is what the SDK raised: an exception, or
    a driver's description of one (a dict with `class`, `status`, `message`, `body`...).
    """

    records: list[HttpRecord] | None
    result: Any = None
    error: BaseException | dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SdkCheck:
    """One check an SDK adapter made of its own operation: held (`problem` None) or not.

    `exchanges` are the operation's own (its SDK's requests, or the record that it sent
    none): a failure's evidence, instead of the example's latest exchanges.
    """

    requirement: str
    problem: str | None = None
    exchanges: tuple[Exchange, ...] = field(default=(), compare=False)


@dataclass(slots=True, repr=False)
class CheckedAnswer(SdkAnswer):
    """An SDK adapter's answer, with the checks of the SDK's part not yet reported."""

    checks: list[SdkCheck] = field(default_factory=list)


class SdkAdapter(Adapter):
    """An Adapter whose operations go through an SDK, checked as they go (see the module).

    `recorder` receives the SDK's observations (none given: nothing is checked; the checks
    themselves travel on the answers), `sink` every recorded Exchange (the suite's log, so
    that a failure's evidence shows them), and `fallback` (raw HTTP) sends an operation
    again, as the module says.
    """

    generic_error: str = "APIStatusError"  # the SDK's class for a status without its own
    unseen_requests: str = "its HTTP exchanges are not seen"  # why requests go unchecked
    checks: SdkChecks

    def __init__(self, base_url: str, api_key: str | None, *, sink: Sink | None = None,
                 fallback: Adapter | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.sink = sink
        self.fallback = fallback
        self.redactor = Redactor(api_key)  # for what the SDK raised: its text may hold the key
        self.capabilities = Capabilities(sdk=True)

    def _start_checks(self, recorder: Recorder | None, judge: RequestJudge | None) -> None:
        """Once the SDK's name is known (a driver says it in its ready message)."""
        self.checks = SdkChecks(recorder, self.name, self.base_url, judge)

    # -- what a subclass supplies --

    @abstractmethod
    def result_problems(self, outcome: SdkOutcome) -> list[str] | None:
        """How the SDK's result or error departs from the answer; None: nothing to compare."""

    @abstractmethod
    def unrecorded_answer(self, intended: Intended,
                          outcome: SdkOutcome) -> tuple[int | None, Any, Exchange]:
        """The answer's status, body and exchange when no request of the SDK was recorded."""

    def unrecorded_end(self, outcome: SdkOutcome) -> tuple[int | None, Any]:
        """A chunked run's final status and body when none of its requests was recorded."""
        return None, None

    def error_text(self, outcome: SdkOutcome) -> str | None:
        """What the SDK raised, in one line for a step or a finding, redacted."""
        error = outcome.error
        if error is None:
            return None
        return self.redactor.text(" ".join(f"{type(error).__name__}: {error}".split()))[:300]

    def raised_its_own(self, outcome: SdkOutcome) -> bool:
        """Whether the SDK raised an error of its own, neither an answer's nor a connection's
        (only asked when its HTTP is not seen: seen, an error with no request sent is one)."""
        return False

    # Whether run_chunked stops a helper at its call's `max_requests` (one that never ends
    # is then reported; an adapter that cannot stop one is not given arguments that may).
    stops_runaway_helpers: bool = False

    def run_chunked(self, call: ChunkedCall) -> SdkOutcome:
        """Runs the SDK's chunked upload helper (when `capabilities.chunked_upload`)."""
        raise NotImplementedError(f"{self.name} has no chunked upload helper")

    # -- the flow --

    def _operation(self, what: str, intended: Intended, call: Callable[[], SdkOutcome],
                   fallback: Callable[[Adapter], Answer]) -> CheckedAnswer:
        """Runs `call` (the SDK's), checks what it sent and gave back, and answers."""
        outcome = call()
        records, judged = outcome.records, self.checks.recorder is not None
        checks: list[SdkCheck] = []
        if records is None:
            self.checks.cannot_test(REQUEST_REQUIREMENT, f"{self.name}: {self.unseen_requests}")
            if judged and self.raised_its_own(outcome):
                _, _, exchange = self.unrecorded_answer(intended, outcome)
                checks.append(SdkCheck(REQUEST_REQUIREMENT, f"{self.name}: {what} raised "
                                       f"{self.error_text(outcome)}, an error of the SDK's own "
                                       "(neither an answer's nor a connection's)", (exchange,)))
        elif judged:
            checks.append(self.request_check(what, records, intended, outcome))
        if checks and checks[-1].problem is not None and self.fallback is not None \
                and not accepted(records or []):
            # The target is judged on the documented request, not blamed for the SDK's.
            sent = fallback(self.fallback)
            return CheckedAnswer(sent.status, sent.json, sent.exchange, checks=checks)
        problems = self.result_problems(outcome)
        if problems is not None and judged:
            checks.append(self.result_check(what, problems,
                                            [r.exchange for r in records or []]))
        if records:
            status, body, exchange = records[-1].status, records[-1].json, records[-1].exchange
        else:
            status, body, exchange = self.unrecorded_answer(intended, outcome)
        return CheckedAnswer(status, body, exchange, outcome.result, outcome.error, checks)

    def request_check(self, what: str, records: Sequence[HttpRecord], intended: Intended,
                      outcome: SdkOutcome | None = None) -> SdkCheck:
        """SDK-REQUEST-CONFORMS: one request for the operation, as the document has it.

        `outcome`, when given, is the call's: what it raised goes into the finding.
        """
        exchanges = tuple(r.exchange for r in records)
        raised = self.error_text(outcome) if outcome is not None else None
        if not records and raised and outcome is not None:
            _, _, exchange = self.unrecorded_answer(intended, outcome)
            return SdkCheck(REQUEST_REQUIREMENT, f"{self.name}: {what} raised {raised} before "
                            "sending any request", (exchange,))
        if len(records) != 1:
            after = f"; it raised {raised}" if raised else ""
            return SdkCheck(REQUEST_REQUIREMENT, f"{self.name}: {what} sent {len(records)} "
                            f"requests, not 1 (retries are off){after}", exchanges)
        problems = request_problems(self.checks.judge, records[0].sent, intended,
                                    self.base_url)
        return SdkCheck(REQUEST_REQUIREMENT, None if not problems else
                        f"{self.name}: the request for {what} departs from the OpenAPI "
                        f"document: {'; '.join(problems)}", exchanges)

    def result_check(self, what: str, problems: Sequence[str],
                     exchanges: Sequence[Exchange] = ()) -> SdkCheck:
        """SDK-RESULT-MATCHES: what the SDK gave back is what the target sent."""
        return SdkCheck(RESULT_REQUIREMENT,
                        f"{self.name}: {what}: {'; '.join(problems)}" if problems else None,
                        tuple(exchanges))

    def report_checks(self, checker: Checker, answers: Iterable[Answer]) -> None:
        """Reports the checks carried by these answers, each once (the first failure raises)."""
        for answer in answers:
            if isinstance(answer, CheckedAnswer):
                checks, answer.checks = answer.checks, []
                for check in checks:
                    held(checker, check)

    def upload_file_chunked(self, call: ChunkedCall) -> ChunkedRun:
        """Runs the SDK's chunked upload helper on the call's file (as bytes, or as a path).

        The run is not checked here: `chunked.check_chunked_upload` holds it to the rules.
        """
        outcome = self.run_chunked(call)
        records = outcome.records
        if records:
            status, body = records[-1].status, records[-1].json
        else:
            status, body = self.unrecorded_end(outcome)
        return ChunkedRun(records, status, body, self.error_text(outcome),
                          self.result_problems(outcome) or [],
                          [r.exchange for r in records or []])


def held(checker: Checker, check: SdkCheck) -> None:
    """Reports one SDK check; a failure's evidence is its operation's own exchanges."""
    try:
        checker.expect(check.problem is None, check.requirement, check.problem or "")
    except ConformanceFailure as failure:
        if check.exchanges:  # not the example's latest exchanges: other steps' requests
            failure.exchanges = list(check.exchanges)
        raise


def accepted(records: Sequence[HttpRecord]) -> bool:
    """Whether the target accepted the (last) request: then its state has moved on."""
    status = records[-1].status if records else None
    return status is not None and 200 <= status < 300


def json_or_none(body: bytes) -> Any:
    """An answer's body as JSON; None when it is empty or not JSON."""
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None
