"""The documented size limits with real bytes, where affordable: a part of exactly 64 MiB and
one of 64 MiB + 1 byte (every profile but real-api), an upload of 8 GiB (thorough)."""

from __future__ import annotations

import pytest

from conformance.api import PART_LIMIT, UPLOAD_LIMIT
from conformance.exerciser import scenario
from conformance.limit_upload import upload_of
from conformance.suite._verdict import fail_on_broken_musts, stop_early
from conformance.suite.test_limits import declaration
from conformance.target import Target

LIMIT = ("PART-SIZE-LIMIT",)  # what both scenarios are for: each must reach its check


def test_part_of_exactly_64_mib_is_accepted_and_one_byte_more_refused(
        uploads_target: Target) -> None:
    if not uploads_target.profile.part_limit_bytes:
        why = f"profile {uploads_target.profile.name} sends no 64 MiB parts"
        uploads_target.recorder.cannot_test("PART-SIZE-LIMIT", why)
        pytest.skip(why)
    since = len(uploads_target.recorder.failures)
    # The refusal first: it is one part, where the accepted one is completed and read back.
    with scenario(uploads_target, "a part of 64 MiB + 1 byte", LIMIT) as run:
        upload = run.create(declaration(PART_LIMIT + 1))
        if upload:
            run.add_part(upload, run.payload(PART_LIMIT + 1))
    if not stop_early(uploads_target, since):
        with scenario(uploads_target, "a part of exactly 64 MiB", LIMIT) as run:
            upload = run.create(declaration(PART_LIMIT))
            part = upload and run.add_part(upload, run.payload(PART_LIMIT))
            if upload and part:
                run.complete(upload, [part], run.model.right_md5(upload, [part]))
    fail_on_broken_musts(uploads_target, since)


def test_an_upload_of_8_gib_completes_with_the_right_bytes(uploads_target: Target) -> None:
    if not uploads_target.profile.upload_limit_bytes:
        pytest.skip(f"profile {uploads_target.profile.name} sends no 8 GiB upload (thorough "
                    "does)")
    since = len(uploads_target.recorder.failures)
    upload_of(uploads_target, UPLOAD_LIMIT)
    fail_on_broken_musts(uploads_target, since)
