"""Every Upload answer against every rule that applies to it; what a completion's file must
hold when the target took a subset or duplicates; which rule an accepted invalid request
breaks besides SCHEMA-NEGATIVE (no target involved)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import Checker
from conformance.model import Model, Part
from conformance.openapi.judge import Judgement, Reading, default_judge
from conformance.recorder import ConformanceFailure, Recorder
from conformance.schema.invalid_requests import rule_broken
from conformance.upload_answers import UploadAnswers

T0 = 1_700_000_000
CREATED = {"id": "upload_1", "object": "upload", "bytes": 8, "created_at": T0,
           "expires_at": T0 + 3600, "filename": "a.txt", "purpose": "assistants",
           "status": "pending", "file": None}


def _answers() -> UploadAnswers:
    answers = UploadAnswers(Checker(Recorder(), lambda: []))
    assert answers.first(dict(CREATED), "the created upload", float(T0))
    return answers


def test_a_later_answer_of_the_same_upload_holds() -> None:
    answers = _answers()
    assert answers.later("upload_1", {**CREATED, "status": "cancelled"}, "the cancelled upload")
    passes = answers.check.recorder.passes
    assert (passes["OBJECT-UPLOAD"], passes["UPLOAD-EXPIRES-AT"]) == (3, 2)  # shape, kept


@pytest.mark.parametrize(("change", "requirement", "said"), [
    ({"expires_at": T0 + 60}, "UPLOAD-EXPIRES-AT", "expires_at - created_at is 60 s"),
    ({"filename": "b.txt"}, "OBJECT-UPLOAD", "filename 'b.txt' (the create answered 'a.txt')"),
    ({"purpose": "batch"}, "OBJECT-UPLOAD", "purpose 'batch'"),
    ({"bytes": 9}, "OBJECT-UPLOAD", "bytes 9 (the create answered 8)"),
    ({"created_at": T0 + 5, "expires_at": T0 + 3605}, "OBJECT-UPLOAD", "created_at"),
    ({"id": "upload_2"}, "OBJECT-UPLOAD", "id 'upload_2'"),
    ({"object": "file"}, "OBJECT-UPLOAD", "object is 'file'"),
])
def test_a_later_answer_breaking_a_rule_fails_it(change: dict[str, Any], requirement: str,
                                                 said: str) -> None:
    with pytest.raises(ConformanceFailure) as caught:
        _answers().later("upload_1", {**CREATED, "status": "completed", **change},
                         "the completed upload")
    assert caught.value.requirement == requirement
    assert caught.value.message.startswith("the completed upload") and said in caught.value.message


def test_an_upload_the_create_never_answered_is_held_to_its_shape_and_lifetime() -> None:
    answers = UploadAnswers(Checker(Recorder(), lambda: []))
    assert answers.later("upload_9", {**CREATED, "id": "upload_9"}, "it")
    with pytest.raises(ConformanceFailure, match="UPLOAD-EXPIRES-AT"):
        answers.later("upload_9", {**CREATED, "id": "upload_9", "expires_at": T0}, "it")


# --- what the file of a completion holds --------------------------------------------------


def _completed(declared: int, sizes: tuple[int, ...], listed: list[str]) -> list[str]:
    model = Model()
    model.record_create({"filename": "a", "purpose": "batch", "bytes": declared,
                         "mime_type": "text/plain"}, "u", T0)
    for number, size in enumerate(sizes):
        model.record_part("u", Part(f"p{number}", size, f"c{number}"))
    model.record_complete("u", listed, "file-1")
    return [part.content for part in model.completed_parts("u")]


@pytest.mark.parametrize(("declared", "sizes", "listed", "holds"), [
    (8, (5, 3), ["p1", "p0"], ["c1", "c0"]),  # part_ids order, not the order added
    (7, (5, 3, 2), ["p2", "p0"], ["c2", "c0"]),  # a subset: those parts alone
    (11, (5, 3), ["p1", "p0", "p1"], ["c1", "c0", "c1"]),  # a duplicate counted twice
    (8, (5, 3), ["p1", "p0", "p1"], ["c1", "c0"]),  # counted once: at its first place
])
def test_the_file_holds_the_listed_parts_as_the_declared_size_reads_them(
        declared: int, sizes: tuple[int, ...], listed: list[str], holds: list[str]) -> None:
    assert _completed(declared, sizes, listed) == holds


# --- an accepted invalid request: the rule it breaks besides SCHEMA-NEGATIVE --------------

VALID_CREATE = {"filename": "a", "purpose": "batch", "bytes": 8, "mime_type": "text/plain"}


@pytest.mark.parametrize(("operation", "body", "rule"), [
    ("createUpload", {**VALID_CREATE, "unexpected": 1}, "CREATE-INVALID"),
    ("createUpload", {k: v for k, v in VALID_CREATE.items() if k != "bytes"}, "CREATE-INVALID"),
    ("createUpload", {**VALID_CREATE, "bytes": "8"}, "CREATE-INVALID"),
    ("createUpload", {**VALID_CREATE, "purpose": "training"}, "CREATE-INVALID"),
    ("createUpload", [VALID_CREATE], "CREATE-INVALID"),
    ("createUpload", {**VALID_CREATE, "bytes": 2**33 + 1}, "UPLOAD-SIZE-LIMIT"),
    # Not a rule CREATE-INVALID states: SCHEMA-NEGATIVE's alone.
    ("createUpload", {**VALID_CREATE, "bytes": -1}, None),
    ("createUpload", {**VALID_CREATE, "expires_after": {"anchor": "x", "seconds": 3600}}, None),
    # Left open by the documentation: breaks nothing.
    ("createUpload", {**VALID_CREATE, "bytes": 8.0}, None),
    ("createUpload", {**VALID_CREATE, "expires_after": None}, None),
    ("completeUpload", {"part_ids": ["p"], "unexpected": 1}, "COMPLETE-INVALID"),
    ("completeUpload", {"part_ids": [{"id": "p"}]}, "COMPLETE-INVALID"),
    ("completeUpload", {"md5": "0" * 32}, "COMPLETE-INVALID"),
    ("completeUpload", {"part_ids": ["p"], "md5": None}, None),
])
def test_a_json_body_breaks_the_rule_its_requirement_states(operation: str, body: Any,
                                                             rule: str | None) -> None:
    judged = default_judge().judge_json(operation, body)
    assert rule_broken(operation, judged) == rule, judged


def test_every_invalid_part_breaks_part_invalid_and_nothing_else_does() -> None:
    invalid = Judgement(Reading.INVALID, "0 form fields named 'data'")
    assert rule_broken("addUploadPart", invalid) == "PART-INVALID"
    assert rule_broken("addUploadPart", Judgement(Reading.OPEN, "extra form fields")) is None
    assert rule_broken("cancelUpload", invalid) is None
