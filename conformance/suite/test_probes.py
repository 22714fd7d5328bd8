"""Fixed probes of every request rule and lifecycle rule, run the same way every time.

The state machine explores far more, but only where Hypothesis's draws lead; a MUST
requirement nothing ran makes a run incomplete, so each rule here gets at least one
deterministic probe. A probe of a refusal has exactly one fault: the same request without
it is sent next (the control), and must succeed, which proves that the refusal was for the
fault alone and left the upload usable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance import api
from conformance.credentials import near_miss
from conformance.exerciser import Exerciser, scenario
from conformance.machine import WRONG_KEY
from conformance.model import refuse
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target
from strategies.malformed import malformed_part_cases
from strategies.payloads import wrong_md5

PART_BYTES = 8
VALID_CREATE = {"filename": "probe.txt", "purpose": "assistants", "bytes": PART_BYTES,
                "mime_type": "text/plain"}
# Real file names are often long: the name must come back whole.
LONG_FILENAME = "quarterly-report-" + "-".join(["regional-breakdown"] * 5) + ".txt"
UNKNOWN_PART_ID = "part_doesnotexist000000000000"

# What each one-fault probe is for: its fault is checked nowhere else, so a probe that stops
# before its check (no usable answer to its create, say) leaves its requirement short of a
# PASS. (The lifecycle's rules are checked all through the exploration as well.)
AUTH, CREATE = ("AUTH-REQUIRED",), ("CREATE-INVALID",)
PART, COMPLETE = ("PART-INVALID",), ("COMPLETE-INVALID",)

# One documented rule broken each; none is a leniency the documentation leaves open.
CREATE_FAULTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("filename missing", {k: v for k, v in VALID_CREATE.items() if k != "filename"}),
    ("bytes a string", {**VALID_CREATE, "bytes": "8"}),
    ("bytes negative", {**VALID_CREATE, "bytes": -1}),
    ("purpose not in the enum", {**VALID_CREATE, "purpose": "not-a-purpose"}),
    ("an unknown field", {**VALID_CREATE, "unexpected_field": True}),
    ("expires_after.seconds below 3600",
     {**VALID_CREATE, "expires_after": {"anchor": "created_at", "seconds": 60}}),
)
PART_FAULTS = ("no data field", "a file field named 'file' instead of 'data'",
               "not multipart: JSON", "empty body")
CompleteBody = Callable[[str, str], Any]  # (the part's ID, the right md5) -> a faulty body
COMPLETE_FAULTS: tuple[tuple[str, CompleteBody], ...] = (
    ("an unknown field", lambda part, md5: {"part_ids": [part], "md5": md5,
                                            "unexpected_field": True}),
    ("md5 a number", lambda part, md5: {"part_ids": [part], "md5": 123}),
    ("part_ids a string", lambda part, md5: {"part_ids": part, "md5": md5}),
    ("part_ids missing", lambda part, md5: {"md5": md5}),
    ("a part ID that is an object",
     lambda part, md5: {"part_ids": [{"id": part}], "md5": md5}),
    ("the body a JSON array", lambda part, md5: [{"part_ids": [part], "md5": md5}]),
)


def _upload_with_a_part(ex: Exerciser, declared: int = PART_BYTES,
                        filename: str = "probe.txt") -> tuple[str, str] | None:
    upload = ex.create({**VALID_CREATE, "bytes": declared, "filename": filename})
    part = ex.add_part(upload, ex.payload(PART_BYTES)) if upload else None
    return (upload, part) if upload and part else None


def _probe_create(ex: Exerciser, fault: str, body: dict[str, Any]) -> None:
    answer = ex.send_raw(api.CREATE, json=body)
    ex.step(f"{api.CREATE.step_word} with {fault}", answer)
    ex.answered(ex.model.expect_create(body), answer, f"a create with {fault}")
    ex.create(VALID_CREATE)  # the control: without the fault it is taken


def _probe_json(ex: Exerciser) -> None:
    body = b'{"filename": "probe.txt", "purpose": '  # cut short: not JSON at all
    answer = ex.send_raw(api.CREATE, content=body, headers={"Content-Type": "application/json"})
    ex.step(f"{api.CREATE.step_word} with a body cut short: {body!r}", answer)
    ex.answered(ex.model.expect_malformed("CREATE-INVALID"), answer, "a create that is not JSON")
    ex.create(VALID_CREATE)  # the control


def _probe_credentials(ex: Exerciser, credentials: str, auth: bool | str) -> None:
    answer = ex.send_raw(api.CREATE, json=VALID_CREATE, auth=auth)
    what = f"a create with {credentials}"
    ex.step(what, answer)
    if not ex.answered(ex.model.expect_without_credentials(), answer, what):
        ex.check.expect(answer.status == 401, "AUTH-REQUIRED",
                        f"{what} was answered {answer.status}, not 401")
        ex.create(VALID_CREATE)  # the control: with the key it is taken


def _probe_part(ex: Exerciser, fault: str, content_type: str | None, body: bytes) -> None:
    upload = ex.create(VALID_CREATE)
    if upload is None:
        return
    headers = {"Content-Type": content_type} if content_type else None
    answer = ex.send_raw(api.ADD_PART, upload, content=body, headers=headers)
    ex.step(f"{api.ADD_PART.step_word} to {ex.name(upload)} with {fault}", answer)
    if not ex.answered(ex.model.expect_malformed("PART-INVALID"), answer,
                       f"a part with {fault}", upload):
        part = ex.add_part(upload, ex.payload(PART_BYTES))  # the control
        if part:
            ex.complete(upload, [part], ex.model.right_md5(upload, [part]))


def _probe_complete(ex: Exerciser, fault: str, faulty: CompleteBody) -> None:
    made = _upload_with_a_part(ex)
    if made is None:
        return
    upload, part = made
    md5 = ex.model.right_md5(upload, [part])
    assert md5 is not None  # one part of this upload, listed once
    answer = ex.send_raw(api.COMPLETE, upload, json=faulty(part, md5))
    ex.step(f"{api.COMPLETE.step_word} {ex.name(upload)} with {fault}", answer)
    if not ex.answered(refuse("COMPLETE-INVALID", f"the body has {fault}"), answer,
                       f"a completion with {fault}", upload):
        ex.complete(upload, [part], md5, "the same without the fault")


def _lifecycle(ex: Exerciser) -> None:
    """Each completion rule once, then the end of an upload's life: completed, cancelled."""
    made = _upload_with_a_part(ex, declared=2 * PART_BYTES, filename=LONG_FILENAME)
    if made is None:
        return
    upload, first = made
    ex.complete(upload, [first], None, "half the declared bytes")  # COMPLETE-BYTE-COUNT
    second = ex.add_part(upload, ex.payload(PART_BYTES))
    if not second:
        return
    right = ex.model.right_md5(upload, [first, second])
    assert right is not None
    ex.complete(upload, [first, second], wrong_md5(right), "wrong md5")
    ex.complete(upload, [first, second, UNKNOWN_PART_ID], None, "an unknown part ID")
    borrower = ex.create(VALID_CREATE)
    if borrower is not None:  # its declared size in another upload's part
        ex.complete(borrower, [first], None, "another upload's part")  # COMPLETE-FOREIGN-PART
    other = _upload_with_a_part(ex)
    if other is not None and ex.cancel(other[0]):  # CANCEL-VALID
        ex.add_part(other[0], ex.payload(1))  # PART-AFTER-END
        ex.complete(other[0], [other[1]], None, "after the cancel")  # COMPLETE-STATE
    if ex.complete(upload, [first, second], right):  # COMPLETE-VALID, read back
        ex.add_part(upload, ex.payload(1))  # PART-AFTER-END
        ex.complete(upload, [first, second], None, "again")  # COMPLETE-STATE
        ex.cancel(upload)  # CANCEL-STATE


def _expiry(ex: Exerciser) -> None:
    """An upload whose hour has passed takes no part, completion or cancel."""
    made = _upload_with_a_part(ex)
    if made is None:
        return
    upload, part = made
    # Well past the hour, so that no upload sits at the instant of its expiry.
    ex.target.advance_clock(api.LIFETIME_S + 30)
    ex.step(f"advance the target's clock by {api.LIFETIME_S + 30} s (test controls)")
    ex.add_part(upload, ex.payload(1))
    ex.complete(upload, [part], None, "an hour later")
    ex.cancel(upload)


def _wrong_credentials(target: Target) -> list[tuple[str, bool | str]]:
    """The credentials a target must refuse: none, a key unlike its own, and its own key
    wrong in the last character (which only a check of the whole key refuses)."""
    wrong: list[tuple[str, bool | str]] = [("no API key", False), ("a wrong API key", WRONG_KEY)]
    if target.api_key:  # sent, like the key, only through the client, which scrubs it
        wrong.append(("the API key wrong in its last character", near_miss(target.api_key)))
    return wrong


def test_requests_with_one_fault_are_refused(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    for credentials, auth in _wrong_credentials(uploads_target):
        with scenario(uploads_target, f"a create with {credentials}", AUTH) as ex:
            _probe_credentials(ex, credentials, auth)
    for fault, body in CREATE_FAULTS:
        with scenario(uploads_target, f"a create with {fault}", CREATE) as ex:
            _probe_create(ex, fault, body)
    with scenario(uploads_target, "a create whose body is not JSON", CREATE) as ex:
        _probe_json(ex)
    for fault, content_type, raw in malformed_part_cases():
        if fault in PART_FAULTS:
            with scenario(uploads_target, f"a part with {fault}", PART) as ex:
                _probe_part(ex, fault, content_type, raw)
    for fault, faulty in COMPLETE_FAULTS:
        with scenario(uploads_target, f"a completion with {fault}", COMPLETE) as ex:
            _probe_complete(ex, fault, faulty)
    fail_on_broken_musts(uploads_target, since)


def test_the_lifecycle_rules_hold_once_each(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    with scenario(uploads_target, "each completion rule, then the end of two uploads") as ex:
        _lifecycle(ex)
    if uploads_target.can_advance_clock():
        with scenario(uploads_target, "an upload past its hour") as ex:
            _expiry(ex)
    fail_on_broken_musts(uploads_target, since)
