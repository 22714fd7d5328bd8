"""Schema-driven checks (schemathesis) against the project's OpenAPI document."""

from __future__ import annotations

from conformance.results import Outcome
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target


def test_answers_conform_to_the_openapi_document(uploads_target: Target) -> None:
    # Imported here: schemathesis takes a quarter of a second to import, which every run
    # that stops before this test (a mutant's, failing fast) would pay at collection.
    from conformance.schema import run_schema_checks

    since = len(uploads_target.recorder.failures)
    findings = run_schema_checks(
        uploads_target.base_url, uploads_target.api_key, openapi_path=uploads_target.openapi,
        max_examples=uploads_target.profile.schema_examples, seed=uploads_target.seed,
        connection=uploads_target.connection)
    recorder = uploads_target.recorder
    for finding in findings:
        if finding.outcome is Outcome.PASS:
            recorder.passed(finding.requirement)
        elif finding.outcome is Outcome.FAIL:
            recorder.failed(finding, at_s=uploads_target.elapsed())
        elif finding.outcome is Outcome.INFO:
            recorder.observe(finding.requirement, finding.message)
        else:
            recorder.cannot_test(finding.requirement, finding.message)
    fail_on_broken_musts(uploads_target, since)
