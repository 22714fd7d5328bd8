"""`Rules`: the decisions a mutant may change, each one method, answered the clean way here.

The service, the routes, the request readers and the authentication ask their `Rules` object
at each such decision; `create_app` chooses the object once (the clean `Rules`, or a mutant's
subclass from `mutants/`) and hands the same one to every piece. A method either answers a
value (a limit, a yes or no), is handed the clean outcome and returns what is done instead,
or is handed the steps of a change (check, then apply) and decides how they are run.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import ApiError
from .limits import PART_MAX_BYTES, UPLOAD_LIFETIME_SECONDS, UPLOAD_MAX_BYTES
from .records import PartRecord, UploadRecord

# The steps of a change of an upload, handed to the rule that runs them: `check` raises if
# the change is not allowed, `apply` makes it and gives the answer.
Check = Callable[[], Awaitable[None]]
Apply = Callable[[], Awaitable[UploadRecord]]


class Rules:
    """The clean emulator: every documented rule and every strict choice kept."""

    # --- limits -------------------------------------------------------------------------
    def max_part_bytes(self) -> float:
        """The largest part accepted (math.inf when unbounded)."""
        return PART_MAX_BYTES

    def max_upload_bytes(self) -> float:
        """The largest declared upload size accepted (math.inf when unbounded)."""
        return UPLOAD_MAX_BYTES

    def min_upload_bytes(self) -> float:
        """The smallest declared upload size accepted."""
        return 0

    def upload_lifetime(self) -> int:
        """Seconds from an upload's creation to its expiry."""
        return UPLOAD_LIFETIME_SECONDS

    # --- requests -----------------------------------------------------------------------
    def key_matches(self, presented: str, expected: str) -> bool:
        """Whether a presented Bearer key is the configured one."""
        return hmac.compare_digest(presented.encode(), expected.encode())

    def sees(self, owner: str, tenant: str) -> bool:
        """Whether a request of `tenant` may see an upload or file `owner` made: only its
        own (another tenant's is answered as one that never existed)."""
        return owner == tenant

    def refuses_unknown_create_fields(self) -> bool:
        return True

    def checks_complete_body(self) -> bool:
        """Whether a complete body's unknown fields and md5 type are refused."""
        return True

    def bad_json(self, parse_error: Exception, refusal: ApiError) -> Exception:
        """What a body that is not JSON raises: the 400 `refusal`."""
        return refusal

    # --- uploads ------------------------------------------------------------------------
    def new_upload_id(self, created_at: int, fresh_id: Callable[[], str]) -> str:
        return fresh_id()

    def unknown_upload(self, refusal: ApiError) -> Exception:
        """What a request for an unknown upload raises: the 404 `refusal`."""
        return refusal

    def is_due(self, upload: UploadRecord, now: float) -> bool:
        """Whether a pending upload has expired (from `expires_at` on)."""
        return upload.status == "pending" and now >= upload.expires_at

    # --- parts --------------------------------------------------------------------------
    def part_budget(self, upload: UploadRecord, status: str) -> float | None:
        """How many more bytes an upload in `status` takes; None: it takes no parts."""
        if status == "pending":
            return upload.bytes - upload.received
        return None

    async def new_part_id(self, fresh_id: Callable[[], str]) -> str:
        """The ID of a part about to stream in (`fresh_id` gives an unused random one)."""
        return fresh_id()

    def rechecks_part_on_arrival(self) -> bool:
        """Whether a part whose bytes have all arrived is checked again before it is
        recorded: a completion, a cancel or the clock may have won while they arrived."""
        return True

    async def record_part(self, upload: UploadRecord,
                          admit: Callable[[], Awaitable[PartRecord]]) -> PartRecord:
        """Add a part to its upload's list, under the upload's lock.

        `admit` checks, under that lock, that the upload still takes the part (it raises if
        not) and makes the part's record. `received` is the upload's running total.
        """
        async with upload.lock:
            record = await admit()
            upload.parts[record.id] = record
            upload.received += record.size
            return record

    # --- complete -----------------------------------------------------------------------
    async def complete_upload(self, upload: UploadRecord, check: Check,
                              apply: Apply) -> UploadRecord:
        """A completion: its checks and its change in one hold of the upload's lock."""
        return await _checked_then_applied(upload, check, apply)

    def replays_completion(self, upload: UploadRecord) -> bool:
        """Whether a completion is answered with the upload as it is, nothing checked."""
        return False

    def completable(self, status: str) -> bool:
        return status == "pending"

    def skips_unknown_parts(self) -> bool:
        """Whether a listed part ID that no upload has is left out instead of refused."""
        return False

    def accepts_foreign_parts(self) -> bool:
        """Whether a listed part of another upload is taken instead of refused."""
        return False

    def byte_count_matches(self, upload: UploadRecord, listed: list[PartRecord]) -> bool:
        """Whether the listed parts hold the declared bytes; the upload's running total
        (`received`) must say the same of its own parts, as every one is listed."""
        own = sum(part.size for part in listed if part.upload_id == upload.id)
        return sum(part.size for part in listed) == upload.bytes and upload.received == own

    def byte_order(self, upload: UploadRecord, listed: list[PartRecord]) -> list[PartRecord]:
        """The parts in the order their bytes are assembled: the listed order."""
        return listed

    def md5_matches(self, actual: str, expected: str) -> bool:
        return actual == expected

    def file_bytes(self, upload: UploadRecord, pieces: list[PartRecord]) -> int:
        """The completed file's `bytes`."""
        return upload.bytes

    # --- cancel -------------------------------------------------------------------------
    async def cancel_upload(self, upload: UploadRecord, check: Check,
                            apply: Apply) -> UploadRecord:
        """A cancel: its check and its change in one hold of the upload's lock."""
        return await _checked_then_applied(upload, check, apply)

    def cancellable(self, status: str) -> bool:
        return status == "pending"

    def cancel_answer(self, upload: UploadRecord) -> UploadRecord:
        """What a cancel answers with, taken before the status changes: the upload itself."""
        return upload

    # --- answers ------------------------------------------------------------------------
    def upload_answer(self, view: dict[str, Any]) -> dict[str, Any]:
        """The Upload object as answered, given its clean JSON view."""
        return view


async def _checked_then_applied(upload: UploadRecord, check: Check, apply: Apply) -> UploadRecord:
    # One hold of the lock for both: nothing can change the upload between them.
    async with upload.lock:
        await check()
        return await apply()
