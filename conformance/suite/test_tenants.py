"""Tenant isolation: an upload made with one API key is unknown to another tenant's key.

With a second key (`--second-api-key`; the embedded emulator's run has one), the other
tenant asks for a half-filled upload of the first: a part, then, once the first tenant has
filled it, its completion and its cancel, and, once the first tenant has completed it, its
file and the file's bytes. Each must be refused with a 4xx, as for an ID never issued (the
OpenAI API answers another project's objects 404); a 2xx is a leak, and a 5xx breaks the
rule too. The first tenant's own requests in between show that nothing the other sent took
effect: its second part fits exactly, and its completion with its two parts is taken. The
other tenant's own upload is unknown to the first key as well.

All of it is plain HTTP (the other key is not the adapter's), through the run's client, so
the exchanges are the findings' evidence and both keys are scrubbed from them.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import api
from conformance.checks import Answer
from conformance.exerciser import Exerciser, scenario
from conformance.model import accept, refuse
from conformance.results import Untested
from conformance.suite._verdict import fail_on_broken_musts
from conformance.suite.test_probes import VALID_CREATE
from conformance.target import Target
from conformance.upload_answers import upload_answer

ISOLATED = "TENANT-ISOLATION"
NEEDS_SECOND_KEY = "needs --second-api-key"
PART_BYTES = 8
THEIRS = refuse(ISOLATED, "the upload is another tenant's: to this key it is an ID never "
                          "issued")
UNCHANGED = "the upload's own key uses it as it left it: nothing the other key sent may " \
            "have changed it"


def test_an_upload_is_unknown_to_another_tenant(uploads_target: Target) -> None:
    other_key = uploads_target.second_api_key
    if other_key is None:
        uploads_target.recorder.cannot_test(ISOLATED, NEEDS_SECOND_KEY, Untested.SETTINGS)
        pytest.skip(NEEDS_SECOND_KEY)
    since = len(uploads_target.recorder.failures)
    with scenario(uploads_target, "an upload asked for with another tenant's key",
                  (ISOLATED,)) as ex:
        theirs = _their_own_upload(ex, other_key)
        if theirs is not None:
            try:
                _asked_for_by_the_other_tenant(ex, other_key)
                _theirs_asked_for_by_us(ex, theirs)
            finally:  # the run's cleanup cancels with our key, which must not see it
                ex.target.client.request("POST", api.CANCEL.path(theirs), auth=other_key)
    fail_on_broken_musts(uploads_target, since)


def _their_own_upload(ex: Exerciser, key: str) -> str | None:
    """The control: the other key creates an upload of its own, so it is a key the target
    takes and its refusals below are about whose the upload is. Its ID, or None."""
    answer = ex.send_raw(api.CREATE, json=VALID_CREATE, auth=key)
    ex.step(f"t1 = {api.CREATE.step_word}(...) with the other tenant's key", answer)
    if answer.status in (401, 403):
        ex.target.recorder.cannot_test(
            ISOLATED, f"the target refused --second-api-key ({answer.status})",
            Untested.SETTINGS)
        return None
    if not ex.check.answer(accept("CREATE-VALID", "it is a valid create, with a key the "
                                                  "target takes"),
                           answer, "a create with the other tenant's key"):
        return None
    body = answer.json
    if not upload_answer(ex.check, body, "the other tenant's upload", ex.target.now()):
        return None
    upload_id: str = body["id"]
    ex.alias[upload_id] = "t1"
    return upload_id


def _asked_for_by_the_other_tenant(ex: Exerciser, key: str) -> None:
    upload = ex.create({**VALID_CREATE, "bytes": 2 * PART_BYTES})
    first = ex.add_part(upload, ex.payload(PART_BYTES)) if upload else None
    if upload is None or first is None:
        return
    name = ex.name(upload)
    _refused(ex, f"{api.ADD_PART.step_word} of {PART_BYTES} bytes to {name}",
             ex.send_raw(api.ADD_PART, upload, auth=key, payload=ex.payload(PART_BYTES)))
    second = _own_part(ex, upload)  # fits only if the other's part was not taken
    if second is None:
        return
    parts = [first, second]
    md5 = ex.model.right_md5(upload, parts)
    assert md5 is not None  # the upload's own parts, each listed once
    body: dict[str, Any] = {"part_ids": parts, "md5": md5}
    _refused(ex, f"{api.COMPLETE.step_word} {name} with part_ids {ex.names(parts)}, md5=right",
             ex.send_raw(api.COMPLETE, upload, auth=key, json=body))
    _refused(ex, f"{api.CANCEL.step_word} {name}", ex.send_raw(api.CANCEL, upload, auth=key))
    file_id = _own_completion(ex, upload, parts, md5)
    if file_id is not None and ex.target.files_served(file_id):
        client = ex.target.client
        _refused(ex, f"GET /files/{{id}} of {name}'s file",
                 client.request("GET", api.file_path(file_id), auth=key))
        _refused(ex, f"GET /files/{{id}}/content of {name}'s file",
                 client.request("GET", api.file_content_path(file_id), auth=key))


def _theirs_asked_for_by_us(ex: Exerciser, theirs: str) -> None:
    """The other way round: our key must not see the other tenant's upload either."""
    answer = ex.send_raw(api.CANCEL, theirs)
    ex.step(f"{api.CANCEL.step_word} t1 (the other tenant's) with our key", answer)
    ex.check.answer(THEIRS, answer, "a cancel of the other tenant's upload")


def _refused(ex: Exerciser, what: str, answer: Answer) -> None:
    ex.step(f"{what} with the other tenant's key", answer)
    ex.check.answer(THEIRS, answer, f"{what} with the other tenant's key")


def _own_part(ex: Exerciser, upload: str) -> str | None:
    """Our part that fills the upload: taken, as the other's part was not."""
    payload = ex.payload(PART_BYTES)
    expectation = ex.model.expect_add_part(upload, len(payload), ex.target.now())
    answer = ex.send_raw(api.ADD_PART, upload, payload=payload)
    ex.step(f"{api.ADD_PART.step_word} of {PART_BYTES} bytes to {ex.name(upload)}, filling "
            "it", answer)
    if not ex.check.answer(accept(ISOLATED, UNCHANGED), answer, "our part after theirs"):
        return None
    return ex.part_answered(upload, payload, expectation, answer)


def _own_completion(ex: Exerciser, upload: str, parts: list[str], md5: str) -> str | None:
    """Our completion with our two parts, judged and read back as every completion is;
    the completed file's ID, or None."""
    expectation = ex.model.expect_complete(upload, parts, md5, ex.target.now())
    answer = ex.send_raw(api.COMPLETE, upload, json={"part_ids": parts, "md5": md5})
    ex.step(f"{api.COMPLETE.step_word} {ex.name(upload)} with part_ids {ex.names(parts)}, "
            "md5=right", answer)
    if not ex.check.answer(accept(ISOLATED, UNCHANGED), answer, "our completion after theirs"):
        return None
    if not ex.completed(upload, parts, expectation, answer):
        return None
    return ex.model.uploads[upload].file_id
