"""Leniency at the edges of the request format: observed and reported, never failed.

The documentation leaves these open, so a target may accept or refuse each; it must
still answer with a 2xx or a 4xx with the error envelope, never a 5xx.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.adapters.http import upload_path
from conformance.checks import Answer
from conformance.model import either
from conformance.suite._scenario import scenario
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target
from strategies.payloads import Payload

VALID = {"filename": "notes.txt", "purpose": "assistants", "bytes": 4, "mime_type": "text/plain"}


def test_lenient_requests_are_observed(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    client = uploads_target.client
    with scenario(uploads_target, "leniency at the edges of the request format") as script:
        for what, body in (("expires_after: null", {**VALID, "expires_after": None}),
                           ("bytes as 4.0", {**VALID, "bytes": 4.0})):
            _observe(script, what, client.request("POST", "/uploads", json=body))
        _observe(script, "a JSON body sent as text/plain", client.request(
            "POST", "/uploads", content=json.dumps(VALID).encode(),
            headers={"Content-Type": "text/plain"}))
        upload = script.create(dict(VALID))
        if upload:
            answer = client.add_part(upload, Payload(uploads_target.seed, 4).iter_chunks, 4,
                                     extra_fields={"note": "extra form field"})
            accepted = _observe(script, "a part request with a form field besides data", answer)
            part_ids = [answer.json["id"]] if accepted and isinstance(answer.json, dict) else []
            if part_ids:
                _observe(script, "md5: null at completion", client.request(
                    "POST", upload_path(upload, "complete"),
                    json={"part_ids": part_ids, "md5": None}))
    fail_on_broken_musts(uploads_target, since)


def _observe(script: Any, what: str, answer: Answer) -> bool:
    script.step(what, answer)
    accepted = script.check.answer(either("OPEN-LENIENCY", what), answer, what)
    if accepted and isinstance(answer.json, dict) and answer.json.get("object") == "upload" \
            and answer.json.get("status") == "pending":
        script.target.adapter.cancel(answer.json["id"])
    return accepted
