"""The schema-driven checks against small targets: correct ones never fail, and each
realistic fault fails the requirement it breaks, with evidence and no credential."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from conformance.openapi import load_document
from conformance.results import Finding, Outcome
from conformance.schema import SchemaRunError, run_schema_checks
from tests.support.schema_targets import API_KEY, make_app
from tests.support.serving import serve_app

OPERATIONS = ("createUpload", "addUploadPart", "completeUpload", "cancelUpload")
# The emulator's mutants that the schema checks alone must catch, and the requirement each
# one breaks there (the kill matrix proves the whole suite against every mutant).
MUTANT_FAILURE = {
    "server-error-on-bad-json": "NO-SERVER-ERROR",
    "accepts-negative-bytes": "SCHEMA-NEGATIVE",
    "error-envelope-missing": "ERROR-ENVELOPE",
    "upload-without-object": "SCHEMA-RESPONSE",
    "auth-not-enforced": "AUTH-REQUIRED",
}


def _failures(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.outcome is Outcome.FAIL]


def _passed(findings: list[Finding], requirement: str) -> set[str]:
    return {f.message.split(":")[0] for f in findings
            if f.requirement == requirement and f.outcome is Outcome.PASS}


@pytest.mark.parametrize("target", ["lenient_target", "strict_target"])
def test_a_correct_target_never_fails(target: str, request: pytest.FixtureRequest) -> None:
    base_url = request.getfixturevalue(target)
    findings = run_schema_checks(base_url, API_KEY, max_examples=10, seed=11)
    assert _failures(findings) == []
    for requirement in ("NO-SERVER-ERROR", "SCHEMA-RESPONSE", "SCHEMA-CONTENT-TYPE",
                        "ERROR-ENVELOPE", "AUTH-REQUIRED"):
        assert _passed(findings, requirement) == set(OPERATIONS), requirement
    assert _passed(findings, "SCHEMA-NEGATIVE") >= {"createUpload", "addUploadPart",
                                                    "completeUpload"}
    assert {f.requirement for f in findings if f.outcome is Outcome.INFO} <= {
        "OPEN-REFUSAL-CODE", "OPEN-LENIENCY"}


def test_leniencies_are_reported_as_info(lenient_target: str) -> None:
    findings = run_schema_checks(lenient_target, API_KEY, max_examples=3, seed=3,
                                 stateful=False)
    lenient = [f.message for f in findings if f.requirement == "OPEN-LENIENCY"]
    assert any("JSON body sent as" in message for message in lenient)


@pytest.mark.parametrize("mutant", sorted(MUTANT_FAILURE))
def test_each_mutant_fails_its_requirement(mutant: str) -> None:
    with EmulatorServer(EmulatorConfig(api_key=API_KEY, mutant=mutant)) as server:
        findings = run_schema_checks(server.base_url, API_KEY, max_examples=3, seed=5,
                                     stateful=False)
    _assert_fails_only(findings, MUTANT_FAILURE[mutant])


def test_a_json_answer_labelled_text_fails_the_content_type_rule() -> None:
    # A SHOULD-level fault, so not an emulator mutant (the kill matrix wants MUST kills).
    with serve_app(make_app({"text-content-type"}, api_key=API_KEY)) as base_url:
        findings = run_schema_checks(base_url, API_KEY, max_examples=3, seed=5, stateful=False)
    _assert_fails_only(findings, "SCHEMA-CONTENT-TYPE")


def _assert_fails_only(findings: list[Finding], requirement: str) -> None:
    assert {f.requirement for f in _failures(findings)} == {requirement}
    for finding in _failures(findings):
        assert finding.exchanges and "curl -sS -X " in finding.exchanges[0].curl
        assert finding.steps and finding.source


def test_failures_are_deduplicated() -> None:
    config = EmulatorConfig(api_key=API_KEY, mutant="error-envelope-missing")
    with EmulatorServer(config) as server:
        findings = run_schema_checks(server.base_url, API_KEY, max_examples=5, seed=5)
    keys = [(f.requirement, f.message) for f in _failures(findings)]
    assert len(keys) == len(set(keys))
    # One failure per operation and kind, however many refusals lacked the envelope.
    assert len(keys) <= 4 * 3


def test_the_key_never_leaves_and_the_curl_reproduces(tmp_path: Path) -> None:
    secret = "sk-proj-very-secret-0123456789"
    config = EmulatorConfig(api_key=secret, mutant="server-error-on-bad-json")
    with EmulatorServer(config) as server:
        base_url = server.base_url
        findings = run_schema_checks(base_url, secret, max_examples=5, seed=1, stateful=False)
        assert secret not in json.dumps([f.to_dict() for f in findings])
        # A create's: its curl line replays alone (a later operation needs its upload).
        failure = next(f for f in _failures(findings) if f.exchanges[0].url.endswith("/uploads"))
        exchange = failure.exchanges[0]
        assert exchange.status == 500
        assert exchange.request_headers["Authorization"] == "Bearer [REDACTED]"
        assert '-H "Authorization: Bearer $OPENAI_API_KEY"' in exchange.curl
        command = f"{exchange.curl} -s -o /dev/null -w '%{{http_code}}'"
        # The exact bytes replay in any shell, whatever $SHELL says; the key comes from
        # $OPENAI_API_KEY (no 401), and the bad JSON brings the mutant's 500 back.
        environment = {k: v for k, v in os.environ.items() if k != "SHELL"}
        for shell in ("bash", "sh"):
            done = subprocess.run([shell, "-c", command], capture_output=True, text=True,
                                  timeout=30, env={**environment, "OPENAI_API_KEY": secret})
            assert done.stdout == "500", (shell, exchange.curl, done.stderr)


def _document_without_refusals(tmp_path: Path) -> Path:
    """The project's document with every 4xx answer taken out, like the public document,
    which describes successful answers only."""
    document = copy.deepcopy(dict(load_document()))
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"] = {code: answer for code, answer
                                          in operation["responses"].items()
                                          if not code.startswith("4")}
    path = tmp_path / "fewer-codes.json"
    path.write_text(json.dumps(document))
    return path


def test_a_document_without_a_refusal_code_reports_it_as_info(lenient_target: str,
                                                              tmp_path: Path) -> None:
    findings = run_schema_checks(lenient_target, API_KEY,
                                 openapi_path=_document_without_refusals(tmp_path),
                                 max_examples=5, seed=2)
    assert _failures(findings) == []
    refusals = [f.message for f in findings if f.requirement == "OPEN-REFUSAL-CODE"]
    assert any("a code the document does not list" in message for message in refusals)


def test_no_hypothesis_directory_in_the_working_directory(
        lenient_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_schema_checks(lenient_target, API_KEY, max_examples=3, seed=4)
    assert list(tmp_path.iterdir()) == []


def test_the_time_budget_bounds_the_run(lenient_target: str) -> None:
    started = time.monotonic()
    findings = run_schema_checks(lenient_target, API_KEY, max_examples=50, time_budget_s=0.5)
    assert time.monotonic() - started < 10
    assert _failures(findings) == []


def test_an_unreachable_target_is_a_run_error(closed_port: int) -> None:
    with pytest.raises(SchemaRunError, match="gave no usable answer"):
        run_schema_checks(f"http://127.0.0.1:{closed_port}/v1", API_KEY, max_examples=1)
