"""The documented size limits as declared at creation, at their exact boundaries.

The limits with real bytes (a part of 64 MiB, an upload of 8 GiB) are in
`test_limit_bytes.py`: they take seconds, so they run after the quick scenarios.
"""

from __future__ import annotations

from conformance.api import UPLOAD_LIMIT
from conformance.exerciser import scenario
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target


def declaration(size: int) -> dict[str, object]:
    """A valid create request declaring `size` bytes."""
    return {"filename": "boundary.jsonl", "purpose": "batch", "bytes": size,
            "mime_type": "application/jsonl"}


def test_declared_size_of_exactly_8_gib_is_accepted_and_one_byte_more_refused(
        uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    with scenario(uploads_target, "a declared size of exactly 8 GiB") as run:
        run.create(declaration(UPLOAD_LIMIT))
    with scenario(uploads_target, "a declared size of 8 GiB + 1 byte") as run:
        run.create(declaration(UPLOAD_LIMIT + 1))
    fail_on_broken_musts(uploads_target, since)
