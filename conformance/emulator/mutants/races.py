"""The emulator's concurrency faults: each one shows only when requests overlap.

Every one is a fault real servers have had: a check and the change it guards made in two
steps with an await between them, a read-modify-write of shared state without the lock, an
answer sent before the change it announces is made. Their windows run from tens of
milliseconds (a slow store) down to a bare yield to the event loop, well under one.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import anyio

from ..ids import PART_PREFIX
from ..records import PartRecord, UploadRecord
from ..rules import Apply, Check
from .base import Mutant

# How long each fault's window stays open.
LOST_UPDATE_WINDOW_S = 0.05  # a slow metadata store between the read and the write
CANCEL_STORE_WINDOW_S = 0.02  # the status read, then written after a store round trip
LATE_CANCEL_S = 0.01  # a cancel answered at once, applied by a worker this much later
LATE_PART_S = 0.01  # a part answered at once, recorded by a worker this much later
FAST_STORE_S = 0.0005  # a round trip to a fast store: half a millisecond
YIELD_S = 0.0  # `anyio.sleep(0)`: one pass of the event loop, well under a millisecond

_BEHIND_THE_ANSWER: set[asyncio.Task[None]] = set()  # the loop holds tasks weakly only


def _later(delay: float, work: Callable[[], Awaitable[None]]) -> None:
    """Runs `work` after `delay`, once the answer has gone (a queue's worker, in a real
    server)."""
    async def run() -> None:
        await anyio.sleep(delay)
        await work()

    task = asyncio.get_running_loop().create_task(run())
    _BEHIND_THE_ANSWER.add(task)
    task.add_done_callback(_BEHIND_THE_ANSWER.discard)


async def _check_then_apply(upload: UploadRecord, check: Check, apply: Apply,
                            window: float) -> UploadRecord:
    # The check reads the state without the lock; by the time the change is written,
    # another request may have checked the same state and made its own change.
    await check()
    await anyio.sleep(window)
    async with upload.lock:
        return await apply()


async def _unlocked_part_list(upload: UploadRecord, admit: Callable[[], Awaitable[PartRecord]],
                              window: float) -> PartRecord:
    # The part list is read, then written back after an await: parallel parts overwrite
    # each other's writes.
    record = await admit()
    seen_parts, seen_received = dict(upload.parts), upload.received
    await anyio.sleep(window)
    upload.parts = {**seen_parts, record.id: record}
    upload.received = seen_received + record.size
    return record


# --- parts ----------------------------------------------------------------------------------
class LostUpdate(Mutant):
    name = "lost-update"
    description = ("parallel part additions read-modify-write the part list around a 50 ms "
                   "await, losing parts")
    # The valid completion refused after parallel parts is charged to COMPLETE-ORDER when it
    # carries the md5 (the parts' arrival order is unknown), to PART-PARALLEL without.
    caught_by = ("PART-PARALLEL", "COMPLETE-ORDER")

    async def record_part(self, upload: UploadRecord,
                          admit: Callable[[], Awaitable[PartRecord]]) -> PartRecord:
        return await _unlocked_part_list(upload, admit, LOST_UPDATE_WINDOW_S)


class LostUpdateOnAYield(Mutant):
    name = "lost-update-on-a-yield"
    description = ("parallel part additions read-modify-write the part list around a bare "
                   "yield to the event loop, losing parts")
    caught_by = ("PART-PARALLEL", "COMPLETE-ORDER")

    async def record_part(self, upload: UploadRecord,
                          admit: Callable[[], Awaitable[PartRecord]]) -> PartRecord:
        return await _unlocked_part_list(upload, admit, YIELD_S)


class ByteCountRace(Mutant):
    name = "byte-count-race"
    description = ("the running byte total is read, then written back after a yield, unlocked: "
                   "parallel parts lose bytes")
    caught_by = ("PART-PARALLEL", "COMPLETE-ORDER")

    async def record_part(self, upload: UploadRecord,
                          admit: Callable[[], Awaitable[PartRecord]]) -> PartRecord:
        async with upload.lock:
            record = await admit()
            upload.parts[record.id] = record  # the part list is right...
        seen = upload.received  # ...but the total is a counter of its own, kept unlocked
        await anyio.sleep(YIELD_S)
        upload.received = seen + record.size
        return record


class PartIdCounter(Mutant):
    name = "part-id-counter"
    description = ("part IDs come from a counter read, then written back after a yield: "
                   "parts sent at once get the same ID")
    caught_by = ("IDS-UNIQUE",)

    def __init__(self) -> None:
        self._last_id = 0

    async def new_part_id(self, fresh_id: Callable[[], str]) -> str:
        seen = self._last_id
        await anyio.sleep(YIELD_S)  # the sequence lives in a store: one round trip
        self._last_id = seen + 1
        return f"{PART_PREFIX}{seen + 1:024d}"


class PartRecordedLate(Mutant):
    name = "part-recorded-late"
    description = ("a part is answered at once and recorded 10 ms later in the background: "
                   "a completion right after it does not know it")
    caught_by = ("COMPLETE-VALID", "COMPLETE-MD5")

    async def record_part(self, upload: UploadRecord,
                          admit: Callable[[], Awaitable[PartRecord]]) -> PartRecord:
        async with upload.lock:
            record = await admit()

        async def write() -> None:
            async with upload.lock:
                upload.parts[record.id] = record
                upload.received += record.size

        _later(LATE_PART_S, write)
        return record


class PartNotRechecked(Mutant):
    name = "part-not-rechecked"
    description = ("a part is checked when it starts, not again once its bytes are in: one "
                   "ending after a completion or cancel is taken")
    caught_by = ("PART-AFTER-END",)

    def rechecks_part_on_arrival(self) -> bool:
        return False  # the window: however long the part's bytes take to arrive


# --- completion and cancel --------------------------------------------------------------------
class CompletionRace(Mutant):
    name = "completion-race"
    description = ("completion reads the status, then writes completed 0.5 ms later: "
                   "completions sent at once all succeed")
    caught_by = ("RACE-LINEARIZABLE",)

    async def complete_upload(self, upload: UploadRecord, check: Check,
                              apply: Apply) -> UploadRecord:
        return await _check_then_apply(upload, check, apply, FAST_STORE_S)


class CancelCheckThenAct(Mutant):
    name = "cancel-check-then-act"
    description = ("cancel reads the status, waits 20 ms for its store, then writes "
                   "cancelled: a racing completion and cancel both succeed")
    caught_by = ("RACE-LINEARIZABLE",)

    async def cancel_upload(self, upload: UploadRecord, check: Check,
                            apply: Apply) -> UploadRecord:
        return await _check_then_apply(upload, check, apply, CANCEL_STORE_WINDOW_S)


class CancelAppliedLate(Mutant):
    name = "cancel-applied-late"
    description = ("a cancel is answered at once and applied 10 ms later in the background: "
                   "a part sent right after it is taken")
    # Until it is applied, a completion (probes) or a part (races) after it is taken.
    caught_by = ("COMPLETE-STATE", "PART-AFTER-END")

    async def cancel_upload(self, upload: UploadRecord, check: Check,
                            apply: Apply) -> UploadRecord:
        async with upload.lock:
            await check()

        async def write() -> None:
            async with upload.lock:
                await apply()

        _later(LATE_CANCEL_S, write)
        return dataclasses.replace(upload, status="cancelled")  # what it will be, soon
