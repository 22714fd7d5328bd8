"""The documented size limits, at their exact boundaries, with real bytes where affordable."""

from __future__ import annotations

from conformance.model import PART_LIMIT, UPLOAD_LIMIT, accept, refuse
from conformance.suite._scenario import scenario
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target
from strategies.payloads import Payload, concat_md5


def _declaration(size: int) -> dict[str, object]:
    return {"filename": "boundary.jsonl", "purpose": "batch", "bytes": size,
            "mime_type": "application/jsonl"}


def test_part_of_exactly_64_mib_is_accepted_and_one_byte_more_refused(
        uploads_target: Target) -> None:
    if not uploads_target.profile.part_limit_bytes:
        uploads_target.recorder.cannot_test(
            "PART-SIZE-LIMIT", f"profile {uploads_target.profile.name} sends no 64 MiB parts")
        return
    since = len(uploads_target.recorder.failures)
    with scenario(uploads_target, "a part of exactly 64 MiB") as script:
        upload = script.create(_declaration(PART_LIMIT))
        payload = Payload(uploads_target.seed, PART_LIMIT)
        part = upload and script.add_part(upload, payload, accept(
            "PART-SIZE-LIMIT", "a part of exactly 64 MiB (the SDK's part size) is allowed"))
        if upload and part:
            script.complete(upload, [part], concat_md5([payload]))
    with scenario(uploads_target, "a part of 64 MiB + 1 byte") as script:
        upload = script.create(_declaration(PART_LIMIT + 1))
        if upload:
            script.add_part(upload, Payload(uploads_target.seed + 1, PART_LIMIT + 1), refuse(
                "PART-SIZE-LIMIT", "a part may hold at most 64 MiB"))
    fail_on_broken_musts(uploads_target, since)


def test_declared_size_of_exactly_8_gib_is_accepted_and_one_byte_more_refused(
        uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    with scenario(uploads_target, "a declared size of exactly 8 GiB") as script:
        script.create(_declaration(UPLOAD_LIMIT))
    with scenario(uploads_target, "a declared size of 8 GiB + 1 byte") as script:
        script.create(_declaration(UPLOAD_LIMIT + 1))
    fail_on_broken_musts(uploads_target, since)


def test_an_upload_of_8_gib_completes_with_the_right_bytes(uploads_target: Target) -> None:
    if not uploads_target.profile.upload_limit_bytes:
        return  # only the thorough profile sends 8 GiB
    since = len(uploads_target.recorder.failures)
    with scenario(uploads_target, "an upload of 8 GiB in 64 MiB parts") as script:
        upload = script.create(_declaration(UPLOAD_LIMIT))
        payloads = [Payload(uploads_target.seed + i, PART_LIMIT)
                    for i in range(UPLOAD_LIMIT // PART_LIMIT)]
        part_ids = []
        for payload in payloads:
            part = upload and script.add_part(upload, payload)
            if not part:
                break
            part_ids.append(part)
        else:
            assert upload is not None
            script.complete(upload, part_ids, concat_md5(payloads))
    fail_on_broken_musts(uploads_target, since)
