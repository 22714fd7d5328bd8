"""The rules of the Uploads API: what each operation may do to which upload, and when.

Every change of an upload happens under its lock (held by the `Rules` methods that record a
part, complete and cancel), so parallel requests can neither lose nor double an update. A
part streams to disk without the lock, then is recorded under it after the upload's state is
checked again: a completion, a cancel or the clock may have won while its bytes were
arriving, and then the part is refused and its spool deleted.

Strict choices where the documentation is silent (each also in the README):
- completion lists every added part exactly once (no subset, no duplicates);
- a part that would take the running total past the declared bytes is refused at once;
- a zero-byte upload completes with `part_ids: []`;
- cancelling a cancelled (or expired) upload is refused;
- an upload is expired from `expires_at` on (now >= expires_at); expiry is applied lazily,
  when the upload is next touched, and its data deleted then;
- another tenant's upload (one made with another API key), and its parts, are answered as
  ones that never existed;
- an ended upload (completed, cancelled, expired) is forgotten `retention` seconds after it
  ended: from then on it is unknown (404, still a refusal of whatever is asked of it), so a
  server left running does not grow with every upload it ever saw. Its file, if any, stays
  until deleted or expired.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Container

import anyio

from .auth import NO_TENANT
from .clock import Clock
from .config import DEFAULT_RETENTION_S
from .errors import ApiError, bad_request, not_found
from .files import FileStore
from .ids import FILE_PREFIX, PART_PREFIX, UPLOAD_PREFIX, new_id, quote_id
from .part_reader import PartLimits
from .records import FileRecord, PartRecord, UploadRecord, UploadStatus
from .rules import Rules
from .running_md5 import RunningMd5
from .storage import SpoolFile, Storage
from .store import MetadataStore, Restored
from .validation import CompleteUpload, CreateUpload


@dataclasses.dataclass(frozen=True)
class ServiceLimits:
    """How much the service holds (see `EmulatorConfig`)."""

    retention: float = DEFAULT_RETENTION_S
    max_pending_uploads: int | None = None


@dataclasses.dataclass(eq=False)
class PartInFlight:
    """A part whose bytes are arriving: where they go, and the limits they must keep."""

    upload: UploadRecord
    part_id: str
    spool: SpoolFile
    limits: PartLimits


class UploadService:
    def __init__(self, rules: Rules, clock: Clock, storage: Storage, files: FileStore,
                 store: MetadataStore, restored: Restored | None = None,
                 limits: ServiceLimits | None = None) -> None:
        self._limits = limits or ServiceLimits()
        self._rules = rules
        self._clock = clock
        self._storage = storage
        self._files = files
        self._store = store  # each change is written here just before it is made in memory
        self.uploads: dict[str, UploadRecord] = dict(restored.uploads) if restored else {}
        # Every recorded part, whatever its upload.
        self.parts: dict[str, PartRecord] = dict(restored.parts) if restored else {}
        # Pending uploads' md5 so far, kept up as their parts arrive (none after a restart).
        self._md5s: dict[str, RunningMd5] = {}
        restarted_at = clock.now()
        for upload in self.uploads.values():
            if upload.status != "pending" and upload.ended_at is None:
                upload.ended_at = restarted_at  # ended before a restart: retention starts now

    # --- create -------------------------------------------------------------------------
    def create(self, request: CreateUpload, tenant: str = NO_TENANT) -> UploadRecord:
        self._check_pending_limit()
        created_at = int(self._clock.now())
        upload = UploadRecord(
            id=self._new_upload_id(created_at),
            bytes=request.bytes,
            filename=request.filename,
            purpose=request.purpose,
            mime_type=request.mime_type,
            created_at=created_at,
            expires_at=created_at + self._rules.upload_lifetime(),
            file_expires_after=request.file_expires_after,
            tenant=tenant,
        )
        self._store.add_upload(upload)
        self.uploads[upload.id] = upload
        return upload

    def _check_pending_limit(self) -> None:
        limit = self._limits.max_pending_uploads
        if limit is None:
            return
        pending = sum(1 for upload in self.uploads.values() if self._status(upload) == "pending")
        if pending >= limit:
            raise ApiError(429, f"{pending} uploads are pending, the most this server holds "
                                f"at once; complete or cancel one first.",
                           code="too_many_pending_uploads")

    def find(self, upload_id: str, tenant: str = NO_TENANT) -> UploadRecord:
        """The tenant's upload with this ID; 404 when there is none (another tenant's
        included: its existence is not told)."""
        upload = self.uploads.get(upload_id)
        if upload is None or not self._rules.sees(upload.tenant, tenant):
            raise self._rules.unknown_upload(not_found(
                f"No upload with ID {quote_id(upload_id)}.", param="upload_id",
                code="upload_not_found"))
        return upload

    # --- add part -----------------------------------------------------------------------
    async def start_part(self, upload_id: str, tenant: str = NO_TENANT) -> PartInFlight:
        """Admit a part to a pending upload before its bytes are read."""
        upload = self.find(upload_id, tenant)
        limits = PartLimits(max_part=self._rules.max_part_bytes(),
                            budget=self._part_budget(upload))
        part_id = await self._rules.new_part_id(lambda: self._unused_id(PART_PREFIX, self.parts))
        self._md5s.setdefault(upload.id, RunningMd5()).started(part_id)
        return PartInFlight(upload, part_id, self._storage.spool(part_id), limits)

    async def finish_part(self, part: PartInFlight) -> PartRecord:
        """Record a part whose bytes have all arrived, if its upload still takes it."""
        await part.spool.close()
        upload = part.upload

        async def admit() -> PartRecord:
            await self._settle_expiry(upload)
            if self._rules.rechecks_part_on_arrival():
                self._check_fits(upload, part.spool.size)  # the caller deletes a refused part
            record = PartRecord(id=part.part_id, upload_id=upload.id,
                                created_at=int(self._clock.now()), size=part.spool.size,
                                path=part.spool.path)
            # Its bytes are on disk (closed above); `record_part` adds it to the upload next,
            # with no await between.
            self._store.add_part(record)
            return record

        record = await self._rules.record_part(upload, admit)
        self.parts[record.id] = record
        if (running := self._md5s.get(upload.id)) is not None:
            running.recorded(record.id, record.path)
        return record

    async def abandon_part(self, part: PartInFlight) -> None:
        """Delete a refused or interrupted part's bytes; the upload is left as it was."""
        if (running := self._md5s.get(part.upload.id)) is not None:
            running.abandoned(part.part_id)
        with anyio.CancelScope(shield=True):
            await part.spool.discard()

    def _part_budget(self, upload: UploadRecord) -> float:
        """How many more bytes the upload accepts; refuses an upload that takes no parts."""
        status = self._status(upload)
        budget = self._rules.part_budget(upload, status)
        if budget is not None:
            return budget
        raise bad_request(f"Upload {upload.id} is {status}; it accepts no more parts.",
                          code=f"upload_{status}")

    def _check_fits(self, upload: UploadRecord, size: int) -> None:
        if size > self._part_budget(upload):
            raise bad_request(
                f"This part of {size} bytes would take upload {upload.id} past its declared "
                f"{upload.bytes} bytes ({upload.received} already received).",
                param="data", code="upload_bytes_exceeded")

    # --- complete -----------------------------------------------------------------------
    async def complete(self, upload_id: str, request: CompleteUpload,
                       tenant: str = NO_TENANT) -> UploadRecord:
        upload = self.find(upload_id, tenant)
        if self._rules.replays_completion(upload):
            return upload

        async def check() -> None:
            await self._settle_expiry(upload)
            self._check_completable(upload)

        async def apply() -> UploadRecord:
            pieces = self._listed_parts(upload, request.part_ids)
            self._check_byte_count(upload, pieces)
            pieces = self._rules.byte_order(upload, pieces)
            if request.md5 is not None:
                await self._check_md5(upload, pieces, request.md5)
            file = self._new_file(upload, pieces)
            # The manifest and the status in one commit: a kill before it leaves the upload
            # pending with its parts, after it completed; never a half-made file.
            self._store.complete(upload.id, file)
            upload.file = file
            self._end(upload, "completed")
            self._files.add(file)
            return upload

        return await self._rules.complete_upload(upload, check, apply)

    def _check_completable(self, upload: UploadRecord) -> None:
        status = upload.status
        if self._rules.completable(status):
            return
        raise bad_request(f"Upload {upload.id} is {status}; it cannot be completed.",
                          code=f"upload_{status}")

    def _listed_parts(self, upload: UploadRecord, part_ids: list[str]) -> list[PartRecord]:
        """The listed parts, in the listed order: each of this upload, each once, none missing."""
        pieces: list[PartRecord] = []
        listed: set[str] = set()
        for part_id in part_ids:
            part = upload.parts.get(part_id)
            if part is None:
                part = self._foreign_part(part_id, upload.tenant)
                if part is None:
                    continue
            if part_id in listed:
                raise bad_request(f"part_ids lists part {quote_id(part_id)} twice.",
                                  param="part_ids", code="duplicate_part")
            listed.add(part_id)
            pieces.append(part)
        missing = [part_id for part_id in upload.parts if part_id not in listed]
        if missing:
            raise bad_request(
                f"part_ids must list every part of the upload exactly once; {len(missing)} "
                f"missing, such as {missing[0]}.", param="part_ids", code="missing_parts")
        return pieces

    def _foreign_part(self, part_id: str, tenant: str) -> PartRecord | None:
        """A listed ID that is not one of the upload's parts: refused (None: skip it).
        Another tenant's part is unknown, as an ID never issued is."""
        other = self.parts.get(part_id)
        owner = self.uploads.get(other.upload_id) if other is not None else None
        if other is not None and (owner is None or not self._rules.sees(owner.tenant, tenant)):
            other = None
        if other is None:
            if self._rules.skips_unknown_parts():
                return None
            raise bad_request(f"Unknown part ID {quote_id(part_id)}.", param="part_ids",
                              code="unknown_part")
        if self._rules.accepts_foreign_parts():
            return other
        raise bad_request(f"Part {part_id} is not a part of this upload.", param="part_ids",
                          code="foreign_part")

    def _check_byte_count(self, upload: UploadRecord, pieces: list[PartRecord]) -> None:
        if not self._rules.byte_count_matches(upload, pieces):
            total = sum(part.size for part in pieces)
            raise bad_request(
                f"The listed parts hold {total} bytes ({upload.received} received); upload "
                f"{upload.id} declared {upload.bytes}.", param="part_ids", code="bytes_mismatch")

    async def _check_md5(self, upload: UploadRecord, pieces: list[PartRecord],
                         expected: str) -> None:
        running = self._md5s.get(upload.id)
        if running is None:  # parts from before a restart
            actual = await self._storage.md5(part.path for part in pieces)
        else:
            actual = await running.md5_of([part.id for part in pieces],
                                          [part.path for part in pieces])
        if not self._rules.md5_matches(actual, expected):
            raise bad_request(f"md5 {expected} does not match the assembled bytes ({actual}).",
                              param="md5", code="md5_mismatch")

    def _new_file(self, upload: UploadRecord, pieces: list[PartRecord]) -> FileRecord:
        created_at = int(self._clock.now())
        expires_after = upload.file_expires_after
        return FileRecord(
            id=self._unused_id(FILE_PREFIX, self._files),
            bytes=self._rules.file_bytes(upload, pieces),
            created_at=created_at,
            filename=upload.filename,
            purpose=upload.purpose,
            expires_at=None if expires_after is None else created_at + expires_after,
            pieces=pieces,
            tenant=upload.tenant,
        )

    # --- cancel -------------------------------------------------------------------------
    async def cancel(self, upload_id: str, tenant: str = NO_TENANT) -> UploadRecord:
        """Cancel a pending upload; returns the upload as the answer shows it."""
        upload = self.find(upload_id, tenant)

        async def check() -> None:
            await self._settle_expiry(upload)
            status = upload.status
            if not self._rules.cancellable(status):
                raise bad_request(f"Upload {upload.id} is {status}; it cannot be cancelled.",
                                  code=f"upload_{status}")

        async def apply() -> UploadRecord:
            answer = self._rules.cancel_answer(upload)
            self._store.set_status(upload.id, "cancelled")
            self._end(upload, "cancelled")
            if upload.file is None:  # a kill before the deletion: the next start deletes it
                await self._storage.delete(part.path for part in upload.parts.values())
            return answer

        return await self._rules.cancel_upload(upload, check, apply)

    # --- expiry -------------------------------------------------------------------------
    def _status(self, upload: UploadRecord) -> str:
        """The upload's status now (an hour-old pending upload is expired)."""
        return "expired" if self._is_due(upload) else upload.status

    def _is_due(self, upload: UploadRecord) -> bool:
        return self._rules.is_due(upload, self._clock.now())

    async def _settle_expiry(self, upload: UploadRecord) -> None:
        """Under the upload's lock: make an hour-old upload expired and delete its data."""
        if self._is_due(upload):
            self._store.set_status(upload.id, "expired")
            self._end(upload, "expired")
            await self._storage.delete(part.path for part in upload.parts.values())

    async def sweep(self) -> None:
        """Expire every hour-old upload now rather than when it is next touched, so its
        parts' bytes go, and forget the uploads past their retention; a background task
        runs this now and then."""
        for upload in list(self.uploads.values()):
            if self._is_due(upload):
                async with upload.lock:
                    await self._settle_expiry(upload)
        forget_before = self._clock.now() - self._limits.retention
        self._forget([upload for upload in self.uploads.values()
                      if upload.ended_at is not None and upload.ended_at <= forget_before])

    def _end(self, upload: UploadRecord, status: UploadStatus) -> None:
        upload.status = status
        upload.ended_at = self._clock.now()
        if (running := self._md5s.pop(upload.id, None)) is not None:
            running.close()

    def _forget(self, uploads: list[UploadRecord]) -> None:
        """Drop ended uploads and their part records; a live file keeps its pieces. Called
        also with none: the store then drops what deleted files no longer need."""
        self._store.forget_uploads([upload.id for upload in uploads])
        for upload in uploads:
            del self.uploads[upload.id]
            self._md5s.pop(upload.id, None)
            for part_id in upload.parts:
                self.parts.pop(part_id, None)

    # --- IDs ----------------------------------------------------------------------------
    def _new_upload_id(self, created_at: int) -> str:
        return self._rules.new_upload_id(
            created_at, lambda: self._unused_id(UPLOAD_PREFIX, self.uploads))

    @staticmethod
    def _unused_id(prefix: str, taken: Container[str]) -> str:
        while (candidate := new_id(prefix)) in taken:
            pass  # 62**24 IDs: a repeat is practically impossible, and still refused
        return candidate
