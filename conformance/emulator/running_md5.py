"""The md5 of an upload's parts, kept up while the parts arrive, so that a completion whose
`part_ids` lists them in the order they were started needs no pass over its bytes.

Each part is hashed (on a worker thread, from its spool file, which the page cache still
holds) once it is recorded, in the order the parts were started, one after the other; after
each, the digest's state is kept (an md5 state is a few hundred bytes). At completion the
longest run of `part_ids` that matches that order from the start is taken from the state
after it, and only the rest is hashed then, in `part_ids` order: a client that lists its
parts as it sent them (the usual way) waits for nothing, one that lists them otherwise
waits as long as before. Every answer is the md5 of the listed parts' bytes, whatever the
order: only the time it takes depends on it.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import anyio.to_thread

from .storage import hash_files

# A part this small is hashed on the event loop: a thread's round trip costs more.
_INLINE_BYTES = 256 * 1024


class RunningMd5:
    """One upload's running md5, over its parts in the order they were started."""

    def __init__(self) -> None:
        self._digest = hashlib.md5(usedforsecurity=False)
        self._states: list[tuple[str, Any]] = []  # (part ID, the digest after it), in order
        self._arrived: dict[str, asyncio.Future[Path | None]] = {}
        self._last: asyncio.Task[None] | None = None
        self._broken = False  # a part could not be read: what follows is not kept

    def started(self, part_id: str) -> None:
        arrived: asyncio.Future[Path | None] = asyncio.get_running_loop().create_future()
        self._arrived[part_id] = arrived
        self._last = asyncio.ensure_future(self._hash_after(self._last, part_id, arrived))

    def recorded(self, part_id: str, path: Path) -> None:
        self._settle(part_id, path)

    def abandoned(self, part_id: str) -> None:
        self._settle(part_id, None)

    def _settle(self, part_id: str, path: Path | None) -> None:
        arrived = self._arrived.pop(part_id, None)
        if arrived is not None and not arrived.done():
            arrived.set_result(path)

    async def _hash_after(self, before: asyncio.Task[None] | None, part_id: str,
                          arrived: asyncio.Future[Path | None]) -> None:
        if before is not None:
            await before
        path = await arrived
        if path is None or self._broken:
            return
        try:
            if path.stat().st_size <= _INLINE_BYTES:
                _hash_file(self._digest, path)
            else:
                await anyio.to_thread.run_sync(_hash_file, self._digest, path)
        except OSError:  # deleted meanwhile (a cancel, expiry): the order stops here
            self._broken = True
            return
        self._states.append((part_id, self._digest.copy()))

    async def md5_of(self, part_ids: list[str], paths: list[Path]) -> str:
        """The md5 of these parts' files in this order, from the longest prefix hashed
        already. Waits for the parts already arrived to be hashed first."""
        if self._last is not None and not self._arrived:
            # Every started part has arrived or gone: the chain ends soon. With one still
            # arriving it would wait for it, and it for this completion (the upload's lock).
            await asyncio.shield(self._last)
        kept = 0
        for (hashed, _), listed in zip(self._states, part_ids, strict=False):
            if hashed != listed:
                break
            kept += 1
        digest = self._states[kept - 1][1].copy() if kept else \
            hashlib.md5(usedforsecurity=False)
        rest = paths[kept:]
        if rest:
            await anyio.to_thread.run_sync(hash_files, digest, rest)
        return str(digest.hexdigest())

    def close(self) -> None:
        """The upload ended: nothing more will be asked; parts still arriving are dropped."""
        for part_id in list(self._arrived):
            self._settle(part_id, None)
        self._broken = True


def _hash_file(digest: Any, path: Path) -> None:
    hash_files(digest, [path])
