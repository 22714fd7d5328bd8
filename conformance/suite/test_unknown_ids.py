"""Operations on upload IDs that were never issued: refused with a 4xx and the envelope."""

from __future__ import annotations

from conformance.exerciser import scenario
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target

UNKNOWN_IDS = ("upload_doesnotexist0000000000", "../uploads", "upload_ünïcødé",
               "upload_" + "a" * 300)


def test_unknown_upload_ids_are_refused(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    for upload_id in UNKNOWN_IDS:
        with scenario(uploads_target, f"operations on the unknown upload {upload_id[:40]!r}") \
                as run:
            # The model never issued the ID, so it expects each operation refused.
            run.add_part(upload_id, run.payload(1))
            run.complete(upload_id, [], None)
            run.cancel(upload_id)
    fail_on_broken_musts(uploads_target, since)
