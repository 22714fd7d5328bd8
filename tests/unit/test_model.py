"""The oracle's verdicts, rule by rule (no target involved)."""

from __future__ import annotations

import pytest

from conformance.api import PART_LIMIT, UPLOAD_LIMIT
from conformance.model import Model, Part, Verdict

VALID = {"filename": "a.jsonl", "purpose": "batch", "bytes": 10, "mime_type": "application/jsonl"}
T0 = 1_700_000_000


def model_with_upload(declared: int = 10, parts: tuple[int, ...] = ()) -> Model:
    model = Model()
    model.record_create({**VALID, "bytes": declared}, "u1", T0)
    for i, size in enumerate(parts):
        model.record_part("u1", Part(f"p{i}", size, None))
    return model


@pytest.mark.parametrize(("change", "verdict", "requirement"), [
    ({}, Verdict.ACCEPT, "CREATE-VALID"),
    ({"bytes": UPLOAD_LIMIT}, Verdict.ACCEPT, "UPLOAD-SIZE-LIMIT"),
    ({"bytes": UPLOAD_LIMIT + 1}, Verdict.REFUSE, "UPLOAD-SIZE-LIMIT"),
    ({"bytes": -1}, Verdict.REFUSE, "CREATE-INVALID"),
    ({"bytes": True}, Verdict.REFUSE, "CREATE-INVALID"),
    ({"bytes": "10"}, Verdict.REFUSE, "CREATE-INVALID"),
    ({"purpose": "training"}, Verdict.REFUSE, "CREATE-INVALID"),
    ({"extra": 1}, Verdict.REFUSE, "CREATE-INVALID"),
    ({"expires_after": {"anchor": "created_at", "seconds": 3599}}, Verdict.REFUSE,
     "CREATE-INVALID"),
    ({"expires_after": {"anchor": "created_at", "seconds": 3600}}, Verdict.ACCEPT,
     "CREATE-VALID"),
    # Left open: never a failure either way.
    ({"bytes": 10.0}, Verdict.EITHER, "OPEN-LENIENCY"),
    ({"bytes": 0}, Verdict.EITHER, "OPEN-EMPTY-UPLOAD"),
    ({"expires_after": None}, Verdict.EITHER, "OPEN-LENIENCY"),
    ({"filename": "  "}, Verdict.EITHER, "OPEN-LENIENCY"),
    ({"mime_type": "application/x-odd"}, Verdict.EITHER, "OPEN-MIME-TYPE"),
])
def test_create_verdicts(change: dict[str, object], verdict: Verdict, requirement: str) -> None:
    expectation = Model().expect_create({**VALID, **change})
    assert (expectation.verdict, expectation.requirement) == (verdict, requirement)


def test_an_invalid_create_says_what_breaks_the_document() -> None:
    body = dict(VALID)
    del body["mime_type"]
    expectation = Model().expect_create(body)
    assert expectation.verdict is Verdict.REFUSE and '"mime_type"' in expectation.reason


@pytest.mark.parametrize(("declared", "size", "verdict", "requirement"), [
    (10, 4, Verdict.ACCEPT, "PART-VALID"),
    (PART_LIMIT, PART_LIMIT, Verdict.ACCEPT, "PART-SIZE-LIMIT"),
    (PART_LIMIT + 1, PART_LIMIT + 1, Verdict.REFUSE, "PART-SIZE-LIMIT"),
    (10, 0, Verdict.EITHER, "OPEN-ZERO-BYTE-PART"),
    (10, 11, Verdict.EITHER, "OPEN-OVERFLOW-PART"),
])
def test_part_verdicts(declared: int, size: int, verdict: Verdict, requirement: str) -> None:
    expectation = model_with_upload(declared).expect_add_part("u1", size, T0 + 1)
    assert (expectation.verdict, expectation.requirement) == (verdict, requirement)


def test_parts_are_refused_after_completion_cancel_and_expiry() -> None:
    model = model_with_upload(4, (4,))
    assert model.expect_add_part("u1", 1, T0 + 3600 + 10).requirement == "EXPIRY-ENFORCED"
    assert model.expect_add_part("u1", 1, T0 + 3600).open  # the instant of expiry is blurred
    model.record_complete("u1", ["p0"], "f1")
    assert model.expect_add_part("u1", 1, T0 + 1).verdict is Verdict.REFUSE
    assert model.expect_add_part("nope", 1, T0 + 1).requirement == "PART-UNKNOWN-UPLOAD"


@pytest.mark.parametrize(("part_ids", "md5", "verdict", "requirement"), [
    (["p1", "p0"], None, Verdict.ACCEPT, "COMPLETE-VALID"),
    (["p0", "p1"], "right", Verdict.ACCEPT, "COMPLETE-MD5"),
    (["p0", "p1"], "RIGHT", Verdict.EITHER, "OPEN-LENIENCY"),
    (["p0", "p1"], "wrong", Verdict.REFUSE, "COMPLETE-MD5"),
    (["p0"], None, Verdict.REFUSE, "COMPLETE-BYTE-COUNT"),
    (["p0", "p1", "px"], None, Verdict.REFUSE, "COMPLETE-FOREIGN-PART"),
    (["p0", "p1", "p1"], None, Verdict.EITHER, "OPEN-DUPLICATE-PART-IDS"),
])
def test_complete_verdicts(part_ids: list[str], md5: str | None, verdict: Verdict,
                           requirement: str) -> None:
    model = model_with_upload(10, (4, 6))
    expectation = model.expect_complete("u1", part_ids, md5, T0 + 1, right_md5="right")
    assert (expectation.verdict, expectation.requirement) == (verdict, requirement)


def test_a_subset_whose_bytes_match_is_left_open() -> None:
    model = model_with_upload(4, (4, 6))
    assert model.expect_complete("u1", ["p0"], None, T0 + 1).requirement == \
        "OPEN-SUBSET-COMPLETION"


def test_another_uploads_part_is_refused() -> None:
    model = model_with_upload(4, (4,))
    model.record_create({**VALID, "bytes": 4}, "u2", T0)
    model.record_part("u2", Part("q0", 4, None))
    expectation = model.expect_complete("u1", ["q0"], None, T0 + 1)
    assert expectation.requirement == "COMPLETE-FOREIGN-PART"
    assert "another upload" in expectation.reason


def test_cancel_verdicts() -> None:
    model = model_with_upload(4)
    assert model.expect_cancel("u1", T0 + 1).verdict is Verdict.ACCEPT
    model.record_cancel("u1")
    assert model.expect_cancel("u1", T0 + 1).requirement == "OPEN-CANCEL-TWICE"
    model = model_with_upload(4, (4,))
    model.record_complete("u1", ["p0"], "f1")
    assert model.expect_cancel("u1", T0 + 1).requirement == "CANCEL-STATE"
    assert model.expect_cancel("unknown", T0 + 1).verdict is Verdict.REFUSE


def test_a_completion_in_another_order_or_after_parallel_parts_is_charged_to_its_rule() -> None:
    model = model_with_upload(10, (4, 6))
    assert model.expect_complete("u1", ["p1", "p0"], "right", T0 + 1,
                                 right_md5="right").requirement == "COMPLETE-ORDER"
    model.record_create({**VALID, "bytes": 2}, "u2", T0)
    for part_id in ("q0", "q1"):
        model.record_part("u2", Part(part_id, 1, None), parallel=True)
    assert model.expect_complete("u2", ["q0", "q1"], None, T0 + 1).requirement == \
        "PART-PARALLEL"
    assert model.expect_add_part("u2", 0, T0 + 1, parallel=True).open
    parallel_part = model_with_upload(10).expect_add_part("u1", 4, T0 + 1, parallel=True)
    assert (parallel_part.verdict, parallel_part.requirement) == (Verdict.ACCEPT,
                                                                  "PART-PARALLEL")


def test_the_right_md5_comes_from_the_recorded_contents() -> None:
    model = Model(digest=lambda contents: "+".join(contents))
    model.record_create({**VALID, "bytes": 2}, "u1", T0)
    model.record_part("u1", Part("p0", 1, "a"))
    model.record_part("u1", Part("p1", 1, "b"))
    assert model.right_md5("u1", ["p1", "p0"]) == "b+a"
    assert model.right_md5("u1", ["p0", "p0"]) is None  # duplicates have no single md5
    assert model.right_md5("u1", ["p0", "px"]) is None
    assert model.expect_complete("u1", ["p0", "p1"], "a+b", T0 + 1).requirement == \
        "COMPLETE-MD5"
    assert model.expect_complete("u1", ["p0", "p1"], "b+a", T0 + 1).verdict is Verdict.REFUSE


def test_ready_finished_and_untracked_uploads() -> None:
    model = model_with_upload(4, (4,))
    assert model.ready(T0 + 1) == ["u1"] and model.finished(T0 + 1) == []
    model.record_complete("u1", ["p0"], "f1")
    assert model.ready(T0 + 1) == [] and model.finished(T0 + 1) == ["u1"]
    model.lose_track("u1")
    assert model.finished(T0 + 1) == []
    assert model.uploads["u1"].untracked


def test_requests_refused_whatever_the_state() -> None:
    model = Model()
    assert model.expect_without_credentials().requirement == "AUTH-REQUIRED"
    assert model.expect_malformed("CREATE-INVALID").verdict is Verdict.REFUSE
    assert model.expect_lenient("bytes as 4.0").open
    assert model.expect_racing_part().open
