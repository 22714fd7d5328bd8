"""Content read back as an answer first, the open choices of part_ids checked for content,
every rule on every Upload answer, and an accepted invalid request failing every rule it
breaks: each failure class as a small fake target, judged as the suite judges it (a
scenario's findings, the recorder's verdicts).

Every broken rule fails under its own requirement, no open choice fails, and no PASS stands
without its checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.adapters.http import HttpAdapter
from conformance.emulator import EmulatorConfig, EmulatorServer
from conformance.exerciser import Exerciser, scenario
from conformance.results import Outcome, RequirementResult
from conformance.schema import run_schema_checks
from conformance.suite import test_leniency as leniency  # modules: not collected here
from conformance.suite import test_probes as probes
from conformance.target import Target
from tests.support.adapter_helpers import API_KEY, target_with
from tests.support.content_targets import (
    FORBIDDEN,
    NOT_FOUND,
    SERVER_ERROR_PAGE,
    SERVING,
    ContentAnswered,
    DuplicatesInAddedOrder,
    UploadAnswersEdited,
    expires_a_minute_after,
    renamed,
)
from tests.support.lenient_target import lenient_app
from tests.support.schema_targets import API_KEY as SCHEMA_API_KEY
from tests.support.serving import serve_app
from tests.support.variant_target import VariantApp, VariantOptions

CREATE = {"filename": "content.txt", "purpose": "assistants", "mime_type": "text/plain"}
Steps = Callable[[Exerciser], None]


@contextmanager
def _target(app: Any) -> Iterator[Target]:
    with serve_app(app) as base_url, \
            target_with(base_url, lambda url, client, rec: HttpAdapter(client)) as target:
        yield target


def _judged(app: Any, *steps: Steps) -> Target:
    """Each of `steps` run as a scenario of its own against `app`: the target, its record."""
    with _target(app) as target:
        for number, run in enumerate(steps):
            with scenario(target, f"scenario {number}") as ex:
                run(ex)
        return target


def _verdicts(target: Target) -> dict[str, RequirementResult]:
    return {result.id: result for result in target.recorder.verdicts()}


def _failed(target: Target) -> set[str]:
    return target.recorder.failed_requirements()


def _messages(target: Target, requirement: str) -> list[str]:
    return [f.message for f in target.recorder.failures if f.requirement == requirement]


def _complete_parts(sizes: tuple[int, ...], listed: Callable[[list[str]], list[str]],
                    declared: int | None = None) -> Steps:
    """An upload with parts of `sizes`, completed with `listed(part IDs)`."""

    def run(ex: Exerciser) -> None:
        upload = ex.create({**CREATE, "bytes": declared if declared is not None else sum(sizes)})
        assert upload is not None
        parts = [ex.add_part(upload, ex.payload(size)) for size in sizes]
        assert all(parts)
        ex.complete(upload, listed([p for p in parts if p]), None)

    return run


ONE_PART = _complete_parts((8,), lambda ids: ids)


# --- 1. the content's answer, judged before any byte is compared --------------------------


@pytest.mark.parametrize(("status", "body", "media_type", "broken"), [
    (500, SERVER_ERROR_PAGE, "text/html", {"CONTENT-BYTES", "NO-SERVER-ERROR"}),
    (404, NOT_FOUND, "application/json", {"CONTENT-BYTES"}),
    (204, b"", "application/octet-stream", {"CONTENT-BYTES"}),
    (403, b"Forbidden", "text/plain", {"ERROR-ENVELOPE"}),  # a refusal, but no envelope
    (403, FORBIDDEN, "application/json", set()),  # left open: the real API refuses some
], ids=["500", "404", "204", "403-bare", "403-envelope"])
def test_the_contents_status_is_judged_before_its_bytes(status: int, body: bytes,
                                                        media_type: str,
                                                        broken: set[str]) -> None:
    target = _judged(ContentAnswered(lenient_app(API_KEY), status, body, media_type), ONE_PART)
    assert _failed(target) == broken, target.recorder.failures
    for requirement in broken - {"ERROR-ENVELOPE"}:
        (message,) = _messages(target, requirement)
        assert f"the content was answered {status}" in message, message
        assert "0x" not in message and "differs" not in message, message
        assert target.recorder.failures[0].exchanges[-1].status == status  # the evidence
    verdicts = _verdicts(target)
    assert verdicts["COMPLETE-VALID"].status is Outcome.PASS
    if not broken:
        assert verdicts["CONTENT-BYTES"].status is Outcome.NOT_TESTABLE
        assert "refuses to serve" in verdicts["CONTENT-BYTES"].not_testable_reason
        assert any(f"refused ({status})" in o
                   for o in verdicts["OPEN-FILE-ENDPOINTS"].observations)
        assert verdicts["ERROR-ENVELOPE"].status is Outcome.PASS


def test_a_served_content_passes_only_by_its_bytes() -> None:
    target = _judged(lenient_app(API_KEY), ONE_PART)
    assert _failed(target) == set()
    verdicts = _verdicts(target)
    assert verdicts["CONTENT-BYTES"].status is Outcome.PASS
    assert verdicts["CONTENT-BYTES"].passed == 1  # one file read, one check


# --- 2. subsets and duplicates: open, but the file is the listed parts -------------------


def _twice(ids: list[str]) -> list[str]:
    return [ids[1], ids[0], ids[1]]  # the second part listed first and last


@pytest.mark.parametrize(("app", "sizes", "declared", "listed", "open_choice"), [
    # Each part read once (the declared size counts it once), in part_ids order.
    (lambda: VariantApp(API_KEY, SERVING), (5, 3), 8, _twice, "OPEN-DUPLICATE-PART-IDS"),
    # A part listed twice is there twice (the declared size counts it twice).
    (lambda: lenient_app(API_KEY), (5, 3), 11, _twice, "OPEN-DUPLICATE-PART-IDS"),
    # Some of the parts, in part_ids order.
    (lambda: lenient_app(API_KEY), (5, 3, 2), 7, lambda ids: [ids[2], ids[0]],
     "OPEN-SUBSET-COMPLETION"),
], ids=["duplicates-read-once", "duplicates-read-twice", "subset"])
def test_an_open_choice_taken_right_passes_and_is_observed(
        app: Callable[[], Any], sizes: tuple[int, ...], declared: int,
        listed: Callable[[list[str]], list[str]], open_choice: str) -> None:
    target = _judged(app(), _complete_parts(sizes, listed, declared))
    assert _failed(target) == set(), target.recorder.failures
    verdicts = _verdicts(target)
    assert verdicts[open_choice].status is Outcome.INFO
    assert any("accepted (200)" in o for o in verdicts[open_choice].observations)
    for requirement in ("CONTENT-BYTES", "COMPLETE-ORDER", "OBJECT-FILE"):
        assert verdicts[requirement].status is Outcome.PASS, requirement


def test_duplicates_taken_but_assembled_in_the_added_order_fail_the_order() -> None:
    target = _judged(DuplicatesInAddedOrder(API_KEY),
                     _complete_parts((5, 3), _twice, declared=8))
    assert _failed(target) == {"COMPLETE-ORDER"}, target.recorder.failures
    verdicts = _verdicts(target)
    assert verdicts["OPEN-DUPLICATE-PART-IDS"].status is Outcome.INFO  # never failed


# --- 3. every rule on every Upload answer -------------------------------------------------


def _cancel_one(ex: Exerciser) -> None:
    upload = ex.create({**CREATE, "bytes": 8})
    assert upload is not None
    ex.cancel(upload)


def test_an_hour_short_on_complete_and_cancel_fails_the_lifetime() -> None:
    target = _judged(UploadAnswersEdited(expires_a_minute_after, API_KEY),
                     ONE_PART, _cancel_one)
    assert _failed(target) == {"UPLOAD-EXPIRES-AT"}, target.recorder.failures
    completed, cancelled = _messages(target, "UPLOAD-EXPIRES-AT")
    assert completed.startswith("the completed upload: ") and " is 60 s" in completed
    assert cancelled.startswith("the cancelled upload: ") and " is 60 s" in cancelled
    assert target.recorder.passes["UPLOAD-EXPIRES-AT"] == 2  # the creates' held


def test_a_completion_answering_another_filename_fails_the_upload_object() -> None:
    target = _judged(UploadAnswersEdited(renamed, API_KEY), ONE_PART)
    assert _failed(target) == {"OBJECT-UPLOAD"}, target.recorder.failures
    (message,) = _messages(target, "OBJECT-UPLOAD")
    assert "the completed upload is not the upload the create answered" in message
    assert "filename 'renamed-content.txt' (the create answered 'content.txt')" in message
    assert _verdicts(target)["CREATE-VALID"].status is Outcome.PASS


def test_an_upload_made_by_a_lenient_create_is_held_to_the_lifetime_too() -> None:
    options = VariantOptions(test_controls=False, serve_files=True, strict_edges=False)
    app = UploadAnswersEdited(expires_a_minute_after, API_KEY, ("create",), options)
    with _target(app) as target, pytest.raises(pytest.fail.Exception, match="UPLOAD-EXPIRES"):
        leniency.test_lenient_requests_are_observed(target)
    assert _failed(target) == {"UPLOAD-EXPIRES-AT"}, target.recorder.failures
    (message,) = _messages(target, "UPLOAD-EXPIRES-AT")
    assert message.startswith("the upload made by expires_after: null: "), message


# --- 4. an accepted invalid request fails every rule it breaks ----------------------------


def test_an_unknown_create_field_taken_fails_schema_negative_and_create_invalid() -> None:
    config = EmulatorConfig(api_key=API_KEY, mutant="unknown-create-fields-ignored")
    with EmulatorServer(config) as server, \
            target_with(server.base_url, lambda url, client, rec: HttpAdapter(client)) as target:
        with pytest.raises(pytest.fail.Exception, match="CREATE-INVALID"):
            probes.test_requests_with_one_fault_are_refused(target)
        findings = run_schema_checks(server.base_url, API_KEY, max_examples=3, seed=5,
                                     stateful=False)
    schema_failed = {f.requirement for f in findings if f.outcome is Outcome.FAIL}
    assert schema_failed == {"SCHEMA-NEGATIVE", "CREATE-INVALID"}, findings
    unknown = [f.message for f in findings
               if f.outcome is Outcome.FAIL and f.requirement == "CREATE-INVALID"]
    assert all("Additional properties" in m for m in unknown), unknown
    assert _failed(target) == {"CREATE-INVALID"}, target.recorder.failures


def test_a_correct_target_passes_the_request_rules_in_the_schema_checks(
        lenient_target: str) -> None:
    findings = run_schema_checks(lenient_target, SCHEMA_API_KEY, max_examples=3, seed=5,
                                 stateful=False)
    assert [f for f in findings if f.outcome is Outcome.FAIL] == []
    passed = {(f.requirement, f.message.split(":")[0]) for f in findings
              if f.outcome is Outcome.PASS}
    assert {("CREATE-INVALID", "createUpload"), ("PART-INVALID", "addUploadPart"),
            ("COMPLETE-INVALID", "completeUpload")} <= passed
