"""Operations on upload IDs that were never issued: refused with a 4xx and the envelope."""

from __future__ import annotations

from conformance.model import refuse
from conformance.suite._scenario import scenario
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target
from strategies.payloads import Payload

UNKNOWN_IDS = ("upload_doesnotexist0000000000", "../uploads", "upload_ünïcødé",
               "upload_" + "a" * 300)
REFUSALS = {"parts": "PART-UNKNOWN-UPLOAD", "complete": "COMPLETE-STATE",
            "cancel": "CANCEL-STATE"}


def test_unknown_upload_ids_are_refused(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    adapter = uploads_target.adapter
    for upload_id in UNKNOWN_IDS:
        with scenario(uploads_target, f"operations on the unknown upload {upload_id[:40]!r}") \
                as script:
            for action, requirement in REFUSALS.items():
                if action == "parts":
                    answer = adapter.add_part(upload_id, Payload(uploads_target.seed, 1))
                elif action == "complete":
                    answer = adapter.complete(upload_id, {"part_ids": []})
                else:
                    answer = adapter.cancel(upload_id)
                script.step(f"{action} on {upload_id[:40]!r}", answer)
                script.check.answer(refuse(requirement, "the upload ID was never issued"),
                                    answer, f"{action} on an unknown upload")
    fail_on_broken_musts(uploads_target, since)
