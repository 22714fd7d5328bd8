"""Leniency at the edges of the request format: observed and reported, never failed.

The documentation leaves these open, so a target may accept or refuse each; it must
still answer with a 2xx or a 4xx with the error envelope, never a 5xx.
"""

from __future__ import annotations

import json

from conformance import api
from conformance.exerciser import Exerciser, scenario
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target

VALID = {"filename": "notes.txt", "purpose": "assistants", "bytes": 4, "mime_type": "text/plain"}


def test_lenient_requests_are_observed(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    with scenario(uploads_target, "leniency at the edges of the request format") as run:
        _lenient_requests(run)
    fail_on_broken_musts(uploads_target, since)


def _lenient_requests(run: Exerciser) -> None:
    for what, body in (("expires_after: null", {**VALID, "expires_after": None}),
                       ("bytes as 4.0", {**VALID, "bytes": 4.0})):
        answer = run.send_raw(api.CREATE, json=body)
        run.step(what, answer)
        run.answered(run.model.expect_lenient(what), answer, what)
    what = "a JSON body sent as text/plain"
    answer = run.send_raw(api.CREATE, content=json.dumps(VALID).encode(),
                          headers={"Content-Type": "text/plain"})
    run.step(what, answer)
    run.answered(run.model.expect_lenient(what), answer, what)
    upload = run.create(dict(VALID))
    if upload is None:
        return
    what, payload = "a part request with a form field besides data", run.payload(4)
    answer = run.send_raw(api.ADD_PART, upload, payload=payload,
                          extra_fields={"note": "extra form field"})
    run.step(what, answer)
    part = run.part_answered(upload, payload, run.model.expect_lenient(what), answer)
    if part is None:
        return
    what = "md5: null at completion"
    expectation = run.model.expect_lenient(what)
    answer = run.send_raw(api.COMPLETE, upload, json={"part_ids": [part], "md5": None})
    run.step(what, answer)
    if run.check.answer(expectation, answer, what):
        run.completed(upload, [part], expectation, answer)


def test_an_empty_upload_is_observed(uploads_target: Target) -> None:
    """Whether an upload of 0 bytes exists at all is open: at its create as at its end."""
    since = len(uploads_target.recorder.failures)
    with scenario(uploads_target, "an upload declared with 0 bytes") as run:
        upload = run.create({**VALID, "bytes": 0})
        if upload is not None:
            run.complete(upload, [], None, "no parts")
    fail_on_broken_musts(uploads_target, since)
