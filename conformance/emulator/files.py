"""Completed files: looked up (honouring `expires_after`), downloaded, and deleted.

A file is a manifest of its upload's parts in byte order; its data is those parts' spool
files. Deleting a file (or its expiry) deletes the data, but not under a running download:
the last reader deletes it when it ends. Another tenant's file is answered as one that
never existed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from .auth import NO_TENANT
from .clock import Clock
from .errors import SERVER_ERROR, ApiError, not_found
from .ids import quote_id
from .records import FileRecord
from .rules import Rules
from .storage import Storage
from .store import MetadataStore


class FileStore:
    def __init__(self, clock: Clock, storage: Storage, store: MetadataStore,
                 restored: dict[str, FileRecord] | None = None,
                 rules: Rules | None = None) -> None:
        self._rules = rules or Rules()
        self._clock = clock
        self._storage = storage
        self._store = store
        self._files: dict[str, FileRecord] = dict(restored or {})

    def __contains__(self, file_id: object) -> bool:
        return file_id in self._files

    def add(self, file: FileRecord) -> None:
        self._files[file.id] = file

    async def find(self, file_id: str, tenant: str = NO_TENANT) -> FileRecord:
        file = self._files.get(file_id)
        if file is not None and self._has_expired(file):
            await self._drop(file)
            file = None
        if file is None or not self._rules.sees(file.tenant, tenant):
            raise not_found(f"No file with ID {quote_id(file_id)}.", param="file_id",
                            code="file_not_found")
        return file

    async def delete(self, file_id: str, tenant: str = NO_TENANT) -> None:
        await self._drop(await self.find(file_id, tenant))

    def content(self, file: FileRecord) -> AsyncIterator[bytes]:
        """The file's bytes, streamed; a delete meanwhile waits for the download to end."""
        if not all(part.path.exists() for part in file.pieces):
            # Only a mutant gets here (say, completing a cancelled upload whose data is gone):
            # answer an envelope now rather than break the connection half-way.
            raise ApiError(500, f"The data of file {file.id} is missing.", type=SERVER_ERROR,
                           code="file_data_missing")
        file.readers += 1
        return self._stream(file)

    async def _stream(self, file: FileRecord) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._storage.read(part.path for part in file.pieces):
                yield chunk
        finally:
            file.readers -= 1
            if file.deleted and file.readers == 0:
                with anyio.CancelScope(shield=True):
                    await self._storage.delete(part.path for part in file.pieces)

    async def sweep(self) -> None:
        """Drop every file whose `expires_after` has run out, so its bytes go now."""
        for file in [file for file in self._files.values() if self._has_expired(file)]:
            await self._drop(file)

    def _has_expired(self, file: FileRecord) -> bool:
        return file.expires_at is not None and self._clock.now() >= file.expires_at

    async def _drop(self, file: FileRecord) -> None:
        if file.id not in self._files:
            return  # dropped already (a sweep and a request, say)
        self._store.delete_file(file.id)  # a kill before the bytes go: the next start does it
        self._files.pop(file.id, None)
        file.deleted = True
        if file.readers == 0:
            await self._storage.delete(part.path for part in file.pieces)
