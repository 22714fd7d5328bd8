"""A RunReport with every kind of result, its evidence recorded by the real client against
a hostile fake target (markup, fences, control characters and the API key in its answers)."""

from __future__ import annotations

import httpx

from conformance.client import TargetClient
from conformance.linearizability import Operation
from conformance.requirements import CATALOG, Level
from conformance.results import Exchange, Finding, Outcome, RequirementResult, RunReport
from conformance.timeline import Row, rows
from tests.support.fake_targets import envelope

KEY = "sk-proj-REPORT-secret-9f8e7d6c5b4a"
INJECTION = "<script>alert('owned')</script>"
HOSTILE_TEXT = (f"{INJECTION} </details> ``` | pipe | **bold** <img src=x onerror=alert(1)> "
                f"\x00\x1b[31m control & {KEY}")


def hostile(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        400,
        headers={"X-Injected": INJECTION, "X-Key": f"Bearer {KEY}"},
        json={**envelope(HOSTILE_TEXT), "echo": request.headers.get("authorization")},
    )


def record_exchanges() -> tuple[list[Exchange], str]:
    """The exchanges, and a message quoting the last answer as a check would."""
    with TargetClient("http://127.0.0.1:9/v1", KEY, transport=httpx.MockTransport(hostile)) as c:
        c.request("POST", "/uploads", json={"filename": INJECTION, "purpose": "batch",
                                            "bytes": 10, "mime_type": "text/plain"})
        c.add_part("upload_1", [b"0123456789"], 10, filename=f"{INJECTION}.bin")
        answer = c.request("POST", "/uploads/upload_1/complete", json={"part_ids": ["part_1"]})
        return c.recent(), f"expected 200, got {answer.status}: {answer.json}"


def race_timeline() -> list[Row]:
    """A completion and a cancel that both succeeded, and a part with no answer."""
    operations = [Operation(0, "complete", 200, 0.0, 0.012),
                  Operation(1, "cancel", 200, 0.001, 0.01),
                  Operation(2, f"add a part {INJECTION}\x1b[31m", None, 0.002, None)]
    return rows(operations, lambda op: f"{op.input} -> {op.output or 'no answer'}", marked={1})


def sample_report(*, big: bool = False) -> RunReport:
    exchanges, message_from_answer = record_exchanges()
    if big:
        exchanges = exchanges * 40
    results: list[RequirementResult] = []
    for number, req in enumerate(CATALOG.values()):
        result = RequirementResult(req.id, req.level.value, req.title, req.source,
                                   Outcome.PASS, checks=10 + number, passed=10 + number)
        if req.id in ("PART-SIZE-LIMIT", "COMPLETE-ORDER", "UPLOAD-CREATED-AT"):
            steps = [f"step {i}: add_part(upload_1, size={i}) {INJECTION}"
                     for i in range(300 if big else 4)]
            findings = [Finding(req.id, Outcome.FAIL, message_from_answer, steps, exchanges,
                                source="conformance/suite/test_stateful.py::test_machine")
                        for _ in range(5 if big else 1)]
            result.status, result.failures, result.passed = Outcome.FAIL, findings, 3
        elif req.id == "RACE-LINEARIZABLE":
            result.status, result.passed = Outcome.FAIL, 1
            result.failures = [Finding(req.id, Outcome.FAIL, "no order of the operations sent "
                                       "at once explains their answers",
                                       ["complete and cancel upload_1 at once -> 200, 200"],
                                       exchanges[-1:], timeline=race_timeline())]
        elif req.id == "CANCEL-STATE":
            result.status, result.baseline = Outcome.FAIL, True
            result.failures = [Finding(req.id, Outcome.FAIL, "cancel of a completed upload "
                                       "was answered 200", ["create", "complete", "cancel"],
                                       exchanges[-1:])]
        elif req.needs_test_controls:
            result.status, result.checks, result.passed = Outcome.NOT_TESTABLE, 0, 0
            result.not_testable_reason = "the target offers no test controls"
        elif req.level is Level.INFO:
            result.status, result.passed = Outcome.INFO, 0
            result.observations = [f"create refused with 400 {INJECTION}",
                                   "part refused with 413"] * (100 if big else 1)
        results.append(result)
    return RunReport(
        target="http://127.0.0.1:9/v1",
        target_kind="external",
        profile="quick",
        seed=1234,
        started_at="2026-05-09T07:35:25Z",
        duration_s=12.5,
        versions={"suite": "0.1.0", "python": "3.11.7", "httpx": httpx.__version__},
        requirements=results,
        exit_status=1,
        verdict=f"not conformant: 2 MUST requirements failed ({INJECTION})",
        errors=[],
        baseline_file="baseline.json",
    )
