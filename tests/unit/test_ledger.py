"""The upload ledger: which uploads a run created and which it ended, read off exchanges."""

from __future__ import annotations

import json

from conformance.client.ledger import CleanupSummary, UploadLedger
from conformance.results import Exchange

BASE = "http://127.0.0.1:1/v1"


def _upload(upload: str, status: str, declared: int = 10) -> str:
    return json.dumps({"id": upload, "object": "upload", "status": status, "bytes": declared})


def _exchange(path: str, status: int | None, body: str = "", method: str = "POST") -> Exchange:
    return Exchange(method, BASE + path + "?api-version=1", {}, "", status,
                    response_body=body)


def test_creates_are_counted_and_ends_take_them_off() -> None:
    ledger = UploadLedger()
    for upload in ("upload_a", "upload_b", "upload_c"):
        ledger.observe(_exchange("/uploads", 200, _upload(upload, "pending")))
    ledger.observe(_exchange("/uploads/upload_a/parts", 200, "{}"))
    ledger.observe(_exchange("/uploads/upload_a/complete", 200, _upload("upload_a", "completed")))
    ledger.observe(_exchange("/uploads/upload_b/cancel", 200, _upload("upload_b", "cancelled")))
    assert ledger.pending() == ["upload_c"]
    ledger.ended_at_end("upload_c")
    ledger.ended_at_end("upload_c")  # counted once
    summary = ledger.summary()
    assert (summary.uploads_created, summary.bytes_declared, summary.parts_added,
            summary.ended_by_the_run, summary.ended_at_end, summary.left_pending) == \
        (3, 30, 1, 2, 1, [])


def test_refusals_odd_answers_and_other_requests_change_nothing() -> None:
    ledger = UploadLedger()
    for exchange in (
        _exchange("/uploads", 400, _upload("upload_x", "pending")),
        _exchange("/uploads", None),
        _exchange("/uploads", 200, "not json"),
        _exchange("/uploads", 200, json.dumps(["upload_y"])),
        _exchange("/uploads", 200, json.dumps({"id": 5, "object": "upload"})),
        _exchange("/uploads", 200, _upload("upload_z", "pending"), method="GET"),
        _exchange("/uploads/upload_q/cancel", 200, _upload("upload_q", "cancelled")),
    ):
        ledger.observe(exchange)
    assert ledger.summary() == CleanupSummary()


def test_an_upload_never_ended_is_left_pending_and_summaries_merge() -> None:
    ledger = UploadLedger()
    ledger.observe(_exchange("/uploads", 200, _upload("upload_a", "pending", declared=-4)))
    ledger.observe(_exchange("/uploads", 200, _upload("upload_b", "cancelled", 10**400)))
    ledger.observe(_exchange("/uploads/upload_a/complete", 400, _upload("upload_a", "completed")))
    first = ledger.summary()
    assert first.left_pending == ["upload_a"] and first.bytes_declared == 0
    assert first.uploads_created == 2
    merged = CleanupSummary.from_dict(first.to_dict())
    merged.merge(first)
    assert merged.uploads_created == 4 and merged.left_pending == ["upload_a", "upload_a"]
