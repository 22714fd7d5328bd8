"""The oracle: a pure model of uploads and parts that says which answers are acceptable.

Given the model's state and an operation, `expect_*` returns an `Expectation`: the target
must accept, must refuse, or may choose (behaviour the documentation leaves open). Each
expectation names the requirement it tests. `record_*` then moves the model along with
what the target answered. No I/O, no clock: the caller passes the target's time in.
This module never imports the emulator: it is an independent reading of the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from conformance.api import CREATE, LIFETIME_S, PART_LIMIT, SAFE_PURPOSE_MIME_TYPES, UPLOAD_LIMIT
from conformance.openapi.judge import Reading, default_judge

# Near the expiry instant the target's clock and ours may disagree by this much.
EXPIRY_SLACK_S = 5.0


# The md5 of parts' contents, in the order given (the model keeps contents opaque).
Digest = Callable[[Sequence[Any]], str]


class Status(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Verdict(StrEnum):
    ACCEPT = "accept"  # a 2xx with the documented object
    REFUSE = "refuse"  # some 4xx with the error envelope (which code is left open)
    EITHER = "either"  # left open: record what was seen, never fail


@dataclass(frozen=True, slots=True)
class Expectation:
    verdict: Verdict
    requirement: str  # the requirement a wrong answer breaks (or the INFO one, for EITHER)
    reason: str  # one sentence, for reports: why this answer is expected

    @property
    def open(self) -> bool:
        return self.verdict is Verdict.EITHER


def accept(requirement: str, reason: str) -> Expectation:
    return Expectation(Verdict.ACCEPT, requirement, reason)


def refuse(requirement: str, reason: str) -> Expectation:
    return Expectation(Verdict.REFUSE, requirement, reason)


def either(requirement: str, reason: str) -> Expectation:
    return Expectation(Verdict.EITHER, requirement, reason)


@dataclass(slots=True)
class Part:
    id: str
    size: int
    content: Any  # opaque to the model: whatever lets the caller rebuild the bytes


@dataclass(slots=True)
class Upload:
    id: str
    filename: str
    purpose: str
    declared_bytes: int
    created_at: int
    status: Status = Status.PENDING
    parts: dict[str, Part] = field(default_factory=dict)  # in the order they were accepted
    completed_with: list[str] = field(default_factory=list)  # part_ids of the completion
    file_id: str | None = None
    parallel: bool = False  # some parts were sent at once: their order is not known
    # The target broke this upload's state (took what it had to refuse): the model no
    # longer knows what it holds, so no later answer about it is judged.
    untracked: bool = False

    @property
    def expires_at(self) -> int:
        return self.created_at + LIFETIME_S

    def status_at(self, now: float) -> Status:
        if self.status is Status.PENDING and now >= self.expires_at:
            return Status.EXPIRED
        return self.status

    def near_expiry(self, now: float) -> bool:
        return self.status is Status.PENDING and abs(now - self.expires_at) < EXPIRY_SLACK_S

    @property
    def bytes_added(self) -> int:
        return sum(p.size for p in self.parts.values())

    @property
    def remaining(self) -> int:
        """Bytes still to add (below 0 when a target took parts past the declared size)."""
        return self.declared_bytes - self.bytes_added

    @property
    def full(self) -> bool:
        return self.remaining == 0


class Model:
    """Every upload the suite created on the target, as the documentation says it must be."""

    def __init__(self, digest: Digest | None = None) -> None:
        self.digest = digest
        self.uploads: dict[str, Upload] = {}
        self.part_owner: dict[str, str] = {}  # part ID -> upload ID
        self.file_ids: set[str] = set()

    # --- create ---------------------------------------------------------------------

    def expect_create(self, body: Any) -> Expectation:
        # The one reading of a request (the project's OpenAPI document) says what is valid.
        judged = default_judge().judge_json(CREATE.id, body)
        if judged.reading is Reading.INVALID:
            over_limit = (judged.where, judged.keyword) == ("/bytes", "maximum")
            return refuse("UPLOAD-SIZE-LIMIT" if over_limit else "CREATE-INVALID",
                          f"the request is invalid: {judged.reason}")
        if judged.reading is Reading.OPEN:
            return either("OPEN-LENIENCY", judged.reason)
        if (body["purpose"], body["mime_type"]) not in SAFE_PURPOSE_MIME_TYPES:
            pair = f"{body['mime_type']!r} for purpose {body['purpose']!r}"
            return either("OPEN-MIME-TYPE", pair)
        if body["bytes"] == 0:
            # Whether an empty upload is supported at all is left open: at its create as at
            # its completion, a proper refusal is never a failure.
            return either("OPEN-EMPTY-UPLOAD", "an upload declared with 0 bytes")
        if body["bytes"] == UPLOAD_LIMIT:
            return accept("UPLOAD-SIZE-LIMIT", "a declared size of exactly 8 GiB is allowed")
        return accept("CREATE-VALID", "the request is valid")

    def record_create(self, body: dict[str, Any], upload_id: str, created_at: int) -> Upload:
        upload = Upload(
            id=upload_id,
            filename=body["filename"],
            purpose=body["purpose"],
            declared_bytes=body["bytes"],
            created_at=created_at,
        )
        self.uploads[upload_id] = upload
        return upload

    # --- add part -------------------------------------------------------------------

    def expect_add_part(self, upload_id: str, size: int, now: float,
                        parallel: bool = False) -> Expectation:
        """`parallel`: the part is one of several sent at once (rule 4 allows it)."""
        expectation = self._expect_add_part(upload_id, size, now)
        if parallel and expectation.verdict is Verdict.ACCEPT:
            return accept("PART-PARALLEL", "parts may be added in parallel")
        return expectation

    def _expect_add_part(self, upload_id: str, size: int, now: float) -> Expectation:
        upload = self._pending_or_refusal(upload_id, now, "PART-UNKNOWN-UPLOAD",
                                          "PART-AFTER-END", "no part may be added")
        if isinstance(upload, Expectation):
            return upload
        if size > PART_LIMIT:
            return refuse("PART-SIZE-LIMIT", f"a part of {size} bytes exceeds 64 MiB")
        if size == 0:
            return either("OPEN-ZERO-BYTE-PART", "a zero-byte part")
        if upload.bytes_added + size > upload.declared_bytes:
            return either("OPEN-OVERFLOW-PART",
                          "the part pushes the total past the declared bytes")
        if size == PART_LIMIT:
            return accept("PART-SIZE-LIMIT", "a part of exactly 64 MiB is allowed")
        return accept("PART-VALID", "a part within the limits, added to a pending upload")

    def record_part(self, upload_id: str, part: Part, parallel: bool = False) -> None:
        upload = self.uploads[upload_id]
        upload.parts[part.id] = part
        upload.parallel = upload.parallel or parallel
        self.part_owner[part.id] = upload_id

    def expect_racing_part(self) -> Expectation:
        return either("OPEN-OVERFLOW-PART", "a part racing a completion")

    # --- complete -------------------------------------------------------------------

    def expect_complete(
        self, upload_id: str, part_ids: Sequence[str], md5: str | None, now: float,
        right_md5: str | None = None,
    ) -> Expectation:
        """`right_md5` is the md5 of the listed parts in order (the model's digest computes
        it from the recorded contents when not given)."""
        if right_md5 is None and md5 is not None:
            right_md5 = self.right_md5(upload_id, part_ids)
        expectation = self._expect_complete(upload_id, part_ids, md5, now, right_md5)
        return self._charged(expectation, upload_id, part_ids, md5)

    def _charged(self, expectation: Expectation, upload_id: str, part_ids: Sequence[str],
                 md5: str | None) -> Expectation:
        """A refused valid completion, charged to the rule it most likely breaks."""
        if expectation.verdict is not Verdict.ACCEPT:
            return expectation
        upload = self.uploads[upload_id]
        # Parts sent in parallel arrive in an order we do not know: any order is "other".
        if md5 is not None and (list(part_ids) != list(upload.parts) or upload.parallel):
            return accept("COMPLETE-ORDER", "the md5 is that of the parts in part_ids order, "
                          "and that order alone decides the bytes")
        if upload.parallel:
            return accept("PART-PARALLEL", "every part accepted in parallel must be usable")
        return expectation

    def _expect_complete(self, upload_id: str, part_ids: Sequence[str], md5: str | None,
                         now: float, right_md5: str | None) -> Expectation:
        upload = self._pending_or_refusal(upload_id, now, "COMPLETE-STATE", "COMPLETE-STATE",
                                          "it cannot be completed")
        if isinstance(upload, Expectation):
            return upload
        foreign = [p for p in part_ids if self.part_owner.get(p) != upload_id]
        if foreign:
            whose = "another upload's" if self.part_owner.get(foreign[0]) else "an unknown"
            return refuse("COMPLETE-FOREIGN-PART", f"part_ids lists {whose} part {foreign[0]!r}")
        listed_sizes = [upload.parts[p].size for p in part_ids]
        distinct_sum = sum(upload.parts[p].size for p in set(part_ids))
        duplicates = len(set(part_ids)) != len(part_ids)
        if upload.declared_bytes not in {sum(listed_sizes), distinct_sum}:
            return refuse("COMPLETE-BYTE-COUNT",
                          f"the listed parts hold {sum(listed_sizes)} bytes, "
                          f"{upload.declared_bytes} were declared")
        if md5 is not None and right_md5 is not None and not duplicates:
            if md5.lower() != right_md5:
                return refuse("COMPLETE-MD5", "the md5 does not match the assembled bytes")
            if md5 != right_md5:
                return either("OPEN-LENIENCY", "the right md5, in upper-case hex")
        if duplicates:
            return either("OPEN-DUPLICATE-PART-IDS", "part_ids lists a part twice")
        if set(part_ids) != set(upload.parts):
            return either("OPEN-SUBSET-COMPLETION", "part_ids lists a subset of the parts")
        if not part_ids:
            return either("OPEN-EMPTY-UPLOAD", "a zero-byte upload completed with no parts")
        if any(upload.parts[p].size == 0 for p in part_ids):
            return either("OPEN-ZERO-BYTE-PART", "part_ids lists a zero-byte part")
        if md5 is not None:
            return accept("COMPLETE-MD5", "the right md5 for the listed parts in order")
        return accept("COMPLETE-VALID", "every part listed once and the sizes add up")

    def record_complete(self, upload_id: str, part_ids: Sequence[str], file_id: str | None) -> None:
        upload = self.uploads[upload_id]
        upload.status = Status.COMPLETED
        upload.completed_with = list(part_ids)
        upload.file_id = file_id
        if file_id is not None:
            self.file_ids.add(file_id)

    # --- cancel ---------------------------------------------------------------------

    def expect_cancel(self, upload_id: str, now: float) -> Expectation:
        upload = self.uploads.get(upload_id)
        if upload is None:
            return refuse("CANCEL-STATE", "the upload ID was never issued")
        if upload.near_expiry(now):
            return either("OPEN-CANCEL-TWICE", "the upload is at the instant of its expiry")
        status = upload.status_at(now)
        if status is Status.CANCELLED:
            return either("OPEN-CANCEL-TWICE", "the upload is already cancelled")
        if status is Status.COMPLETED:
            return refuse("CANCEL-STATE", "a completed upload cannot be cancelled")
        if status is Status.EXPIRED:
            return refuse("EXPIRY-ENFORCED", "the upload has expired")
        return accept("CANCEL-VALID", "a pending upload may be cancelled")

    def record_cancel(self, upload_id: str) -> None:
        self.uploads[upload_id].status = Status.CANCELLED

    # --- requests refused whatever the state ------------------------------------------

    def expect_without_credentials(self) -> Expectation:
        return refuse("AUTH-REQUIRED", "a request without the right API key is refused with 401")

    def expect_lenient(self, what: str) -> Expectation:
        """A request valid only by a lenient reading of the format (left open)."""
        return either("OPEN-LENIENCY", what)

    def expect_malformed(self, requirement: str) -> Expectation:
        """A request whose body cannot be read as the operation's request."""
        return refuse(requirement, "the request is malformed")

    def lose_track(self, upload_id: str) -> None:
        """The target took what it had to refuse: stop judging this upload."""
        if upload_id in self.uploads:
            self.uploads[upload_id].untracked = True

    # --- derived facts ----------------------------------------------------------------

    def completed_parts(self, upload_id: str) -> list[Part]:
        """The parts of a completed upload, in the order its file must hold them: the listed
        parts in part_ids order (a subset, when the target took one). A part listed twice is
        there twice, unless the declared size counts it once: a target that took duplicates
        may read each part once (the byte count allows either), at its first place."""
        upload = self.uploads[upload_id]
        listed = [upload.parts[p] for p in upload.completed_with]
        if sum(p.size for p in listed) != upload.declared_bytes:
            listed = [upload.parts[p] for p in dict.fromkeys(upload.completed_with)]
        return listed

    def right_md5(self, upload_id: str, part_ids: Sequence[str]) -> str | None:
        """The md5 of the listed parts in order, when they are distinct parts of the upload."""
        upload = self.uploads.get(upload_id)
        if self.digest is None or upload is None or len(set(part_ids)) != len(part_ids) \
                or not all(p in upload.parts for p in part_ids):
            return None
        return self.digest([upload.parts[p].content for p in part_ids])

    def pending(self, now: float) -> list[Upload]:
        return [u for u in self.uploads.values() if u.status_at(now) is Status.PENDING]

    def tracked(self) -> list[Upload]:
        return [u for u in self.uploads.values() if not u.untracked]

    def ready(self, now: float) -> list[str]:
        """Pending uploads that hold exactly their declared bytes: ready to complete."""
        return [u.id for u in self.tracked() if u.status_at(now) is Status.PENDING
                and u.bytes_added == u.declared_bytes and not u.near_expiry(now)]

    def partly_filled(self, now: float) -> list[str]:
        """Pending uploads whose parts do not add up to their declared bytes."""
        return [u.id for u in self.tracked() if u.status_at(now) is Status.PENDING
                and not u.full and not u.near_expiry(now)]

    def finished(self, now: float) -> list[str]:
        """Completed or cancelled uploads."""
        return [u.id for u in self.tracked() if u.status in (Status.COMPLETED, Status.CANCELLED)
                and not u.near_expiry(now)]

    def _pending_or_refusal(self, upload_id: str, now: float, unknown: str, ended: str,
                            what: str) -> Upload | Expectation:
        """The upload, if it is known and pending; else the refusal owed (requirement
        `unknown` for an ID never issued, `ended` for an upload past its life)."""
        upload = self.uploads.get(upload_id)
        if upload is None:
            return refuse(unknown, "the upload ID was never issued")
        return _state_refusal(upload, now, ended, what) or upload


def _state_refusal(upload: Upload, now: float, requirement: str, what: str) -> Expectation | None:
    """The refusal owed because the upload is no longer pending, if it is not."""
    if upload.near_expiry(now):
        # Our clock and the target's may disagree at the instant of expiry.
        return either("OPEN-REFUSAL-CODE", "the upload is at the instant of its expiry")
    status = upload.status_at(now)
    if status is Status.EXPIRED:
        return refuse("EXPIRY-ENFORCED", f"the upload has expired: {what}")
    if status is not Status.PENDING:
        return refuse(requirement, f"the upload is {status.value}: {what}")
    return None
