"""The emulator's single-request faults: limits, completion, the lifecycle, the answers.

Each is a subclass of the clean `Rules` that overrides the one decision it gets wrong; a
request sent on its own is enough to see it (the faults of concurrent requests are in
`races.py`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from ..errors import ApiError, RawAnswer
from ..ids import UPLOAD_PREFIX
from ..limits import PART_MAX_BYTES, UPLOAD_MAX_BYTES
from ..records import PartRecord, UploadRecord
from .base import Mutant


# --- limits -------------------------------------------------------------------------------
class PartLimitOffByOne(Mutant):
    name = "part-limit-off-by-one"
    description = "refuses a part of exactly 64 MiB (the limit check is off by one)"
    caught_by = ("PART-SIZE-LIMIT",)

    def max_part_bytes(self) -> float:
        return PART_MAX_BYTES - 1  # as if the check were `size >= limit`


class PartLimitMissing(Mutant):
    name = "part-limit-missing"
    description = "accepts parts larger than 64 MiB"
    caught_by = ("PART-SIZE-LIMIT",)

    def max_part_bytes(self) -> float:
        return math.inf


class UploadLimitOffByOne(Mutant):
    name = "upload-limit-off-by-one"
    description = "refuses a declared size of exactly 8 GiB"
    caught_by = ("UPLOAD-SIZE-LIMIT",)

    def max_upload_bytes(self) -> float:
        return UPLOAD_MAX_BYTES - 1


class UploadLimitMissing(Mutant):
    name = "upload-limit-missing"
    description = "accepts a declared size larger than 8 GiB"
    caught_by = ("UPLOAD-SIZE-LIMIT", "SCHEMA-NEGATIVE")  # the document says maximum 8 GiB

    def max_upload_bytes(self) -> float:
        return math.inf


class AcceptsNegativeBytes(Mutant):
    name = "accepts-negative-bytes"
    description = "create accepts a negative declared size (an unsigned check left out)"
    caught_by = ("CREATE-INVALID", "SCHEMA-NEGATIVE")

    def min_upload_bytes(self) -> float:
        return -math.inf


# --- completion ---------------------------------------------------------------------------
class ByteCountUnchecked(Mutant):
    name = "byte-count-unchecked"
    description = "completes whatever the listed parts add up to"
    caught_by = ("COMPLETE-BYTE-COUNT",)

    def byte_count_matches(self, upload: UploadRecord, listed: list[PartRecord]) -> bool:
        return True


class ByteCountSkipsLastPart(Mutant):
    name = "byte-count-skips-last-part"
    description = "sums part_ids[:-1] when checking the byte count (off by one)"
    # It accepts an extra last part and refuses a valid completion: the suite charges the
    # refusal to COMPLETE-MD5 when the completion carries the md5, COMPLETE-VALID without.
    caught_by = ("COMPLETE-BYTE-COUNT", "COMPLETE-VALID", "COMPLETE-MD5")

    def byte_count_matches(self, upload: UploadRecord, listed: list[PartRecord]) -> bool:
        return super().byte_count_matches(upload, listed[:-1])


class OrderIgnored(Mutant):
    name = "order-ignored"
    description = "assembles parts in the order they were added, not the part_ids order"
    # The md5 at completion shows it (COMPLETE-ORDER), and so does reading the file back.
    caught_by = ("COMPLETE-ORDER", "CONTENT-BYTES")

    def byte_order(self, upload: UploadRecord, listed: list[PartRecord]) -> list[PartRecord]:
        # Like an S3 multipart backend: parts are concatenated as they were added.
        added = {part_id: index for index, part_id in enumerate(upload.parts)}
        return sorted(listed, key=lambda part: added.get(part.id, len(added)))


class Md5Unchecked(Mutant):
    name = "md5-unchecked"
    description = "accepts any md5 at completion"
    caught_by = ("COMPLETE-MD5",)

    def md5_matches(self, actual: str, expected: str) -> bool:
        return True


class ForeignPartAccepted(Mutant):
    name = "foreign-part-accepted"
    description = "part IDs of another upload are accepted at completion"
    caught_by = ("COMPLETE-FOREIGN-PART",)

    def accepts_foreign_parts(self) -> bool:
        return True


class UnknownPartIgnored(Mutant):
    name = "unknown-part-ignored"
    description = "unknown part IDs are silently skipped at completion"
    caught_by = ("COMPLETE-FOREIGN-PART",)

    def skips_unknown_parts(self) -> bool:
        return True


# --- the lifecycle ------------------------------------------------------------------------
class PartAfterComplete(Mutant):
    name = "part-after-complete"
    description = "accepts parts on a completed upload"
    caught_by = ("PART-AFTER-END",)

    def part_budget(self, upload: UploadRecord, status: str) -> float | None:
        if status == "completed":
            return math.inf  # the state guard is missing, and so is the byte budget
        return super().part_budget(upload, status)


class PartAfterCancel(Mutant):
    name = "part-after-cancel"
    description = "accepts parts on a cancelled upload"
    caught_by = ("PART-AFTER-END",)

    def part_budget(self, upload: UploadRecord, status: str) -> float | None:
        if status == "cancelled":
            return math.inf
        return super().part_budget(upload, status)


class CompleteTwice(Mutant):
    name = "complete-twice"
    description = "completing a completed upload succeeds again"
    caught_by = ("COMPLETE-STATE",)

    def replays_completion(self, upload: UploadRecord) -> bool:
        return upload.status == "completed"  # "idempotent": the old completion again


class CompleteAfterCancel(Mutant):
    name = "complete-after-cancel"
    description = "completing a cancelled upload succeeds"
    caught_by = ("COMPLETE-STATE",)

    def completable(self, status: str) -> bool:
        return status in ("pending", "cancelled")


class CancelAfterComplete(Mutant):
    name = "cancel-after-complete"
    description = "cancelling a completed upload succeeds"
    caught_by = ("CANCEL-STATE",)

    def cancellable(self, status: str) -> bool:
        return status in ("pending", "completed")


class StatusNotUpdated(Mutant):
    name = "status-not-updated"
    description = "cancel answers with the status still pending"
    caught_by = ("CANCEL-VALID",)

    def cancel_answer(self, upload: UploadRecord) -> UploadRecord:
        return dataclasses.replace(upload)  # a copy read before the update


class UploadIdCollision(Mutant):
    name = "upload-id-collision"
    description = ("upload IDs derive from the creation second; a second upload in the same "
                   "second overwrites the first")
    caught_by = ("IDS-UNIQUE",)

    def new_upload_id(self, created_at: int, fresh_id: Callable[[], str]) -> str:
        return f"{UPLOAD_PREFIX}{created_at:024d}"  # "unique enough": one per second


class ExpiresAfterADay(Mutant):
    name = "expires-after-a-day"
    description = "expires_at is created_at + 86400 and expiry is enforced after a day"
    caught_by = ("UPLOAD-EXPIRES-AT", "EXPIRY-ENFORCED")

    def upload_lifetime(self) -> int:
        return 86_400  # the S3-backed default: a day instead of an hour


class ExpiryNotEnforced(Mutant):
    name = "expiry-not-enforced"
    description = "expired uploads still accept parts, completion and cancel"
    caught_by = ("EXPIRY-ENFORCED",)

    def is_due(self, upload: UploadRecord, now: float) -> bool:
        return False


# --- answers ------------------------------------------------------------------------------
class FileMissing(Mutant):
    name = "file-missing"
    description = "a completed upload answers with file null"
    caught_by = ("OBJECT-FILE",)

    def upload_answer(self, view: dict[str, Any]) -> dict[str, Any]:
        return {**view, "file": None}


class FileBytesWrong(Mutant):
    name = "file-bytes-wrong"
    description = "the nested file's bytes is the size of the first part"
    caught_by = ("OBJECT-FILE",)

    def file_bytes(self, upload: UploadRecord, pieces: list[PartRecord]) -> int:
        return pieces[0].size if pieces else 0


class FilenameTruncated(Mutant):
    name = "filename-truncated"
    description = "an upload's filename is answered cut to 64 characters (a narrow column)"
    caught_by = ("CREATE-VALID",)

    def upload_answer(self, view: dict[str, Any]) -> dict[str, Any]:
        return {**view, "filename": view["filename"][:64]}


class UploadWithoutObject(Mutant):
    name = "upload-without-object"
    description = "Upload answers lack the object field"
    caught_by = ("OBJECT-UPLOAD", "SCHEMA-RESPONSE")

    def upload_answer(self, view: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in view.items() if key != "object"}


class ErrorEnvelopeMissing(Mutant):
    name = "error-envelope-missing"
    description = 'refusals for unknown uploads are answered {"detail": "Not Found"}'
    caught_by = ("ERROR-ENVELOPE", "SCHEMA-RESPONSE")  # the document's 404 is an ErrorResponse

    def unknown_upload(self, refusal: ApiError) -> Exception:
        return RawAnswer(404, {"detail": "Not Found"})  # a framework's default 404


class ServerErrorOnBadJson(Mutant):
    name = "server-error-on-bad-json"
    description = "a malformed JSON body raises, answered 500"
    caught_by = ("NO-SERVER-ERROR",)

    def bad_json(self, parse_error: Exception, refusal: ApiError) -> Exception:
        return parse_error  # the parser's exception escapes: a 500


class AuthNotEnforced(Mutant):
    name = "auth-not-enforced"
    description = "any bearer key is accepted; only its presence is checked"
    caught_by = ("AUTH-REQUIRED",)

    def key_matches(self, presented: str, expected: str) -> bool:
        return True


class KeyPrefixOnly(Mutant):
    name = "key-prefix-only"
    description = "only a key's first 16 characters are compared (a key column cut short)"
    caught_by = ("AUTH-REQUIRED",)

    def key_matches(self, presented: str, expected: str) -> bool:
        return super().key_matches(presented[:16], expected[:16])


class TenantLeak(Mutant):
    name = "tenant-leak"
    description = ("ignores which key made an upload or file: every key may use every "
                   "tenant's uploads, parts and files")
    caught_by = ("TENANT-ISOLATION",)

    def sees(self, owner: str, tenant: str) -> bool:
        return True


class UnknownCreateFieldsIgnored(Mutant):
    name = "unknown-create-fields-ignored"
    description = "unknown fields in a create request are ignored, not refused"
    caught_by = ("CREATE-INVALID", "SCHEMA-NEGATIVE")

    def refuses_unknown_create_fields(self) -> bool:
        return False


class CompleteFieldsUnchecked(Mutant):
    name = "complete-fields-unchecked"
    description = ("a complete request's unknown fields are ignored and a non-string md5 "
                   "is dropped, not refused")
    caught_by = ("COMPLETE-INVALID", "SCHEMA-NEGATIVE")

    def checks_complete_body(self) -> bool:
        return False
