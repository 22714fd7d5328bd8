"""Where part bytes live: one spool file per part, in a private directory of the run.

Nothing here holds a whole part in memory: a part is written slice by slice as it arrives,
and hashing and reading stream a file's parts in fixed-size chunks on a worker thread so
the event loop keeps serving. Spool names come from generated IDs only, never from a request.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import weakref
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

WRITE_BUFFER_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024


class SpoolFile:
    """One part's bytes, written as they arrive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        # Buffered: the request body arrives in ~64 KiB slices; disk writes happen per MiB.
        self._file: BinaryIO = open(path, "wb", buffering=WRITE_BUFFER_BYTES)  # noqa: SIM115

    def write(self, data: bytes | memoryview) -> None:
        self._file.write(data)
        self.size += len(data)

    async def close(self) -> None:
        if not self._file.closed:
            await anyio.to_thread.run_sync(self._file.close)

    async def discard(self) -> None:
        """Close and delete: the part was refused or its client went away."""
        await self.close()
        await anyio.to_thread.run_sync(_unlink_all, [self.path])


class Storage:
    """The spool directory: `data_dir/uploads-emulator-XXXX`, removed when the run ends.

    Metadata lives in memory only, so spool files would be orphans once the process exits;
    the whole run directory goes at shutdown (or at interpreter exit as a fallback).
    """

    def __init__(self, data_dir: Path | None) -> None:
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="uploads-emulator-", dir=data_dir))
        self._remove_root = weakref.finalize(self, shutil.rmtree, self.root, True)

    def spool(self, part_id: str) -> SpoolFile:
        return SpoolFile(self.root / part_id)

    async def delete(self, paths: Iterable[Path]) -> None:
        await anyio.to_thread.run_sync(_unlink_all, list(paths))

    async def md5(self, paths: Iterable[Path]) -> str:
        return await anyio.to_thread.run_sync(_md5_of, list(paths))

    async def read(self, paths: Iterable[Path]) -> AsyncIterator[bytes]:
        for path in paths:
            handle = await anyio.to_thread.run_sync(_open_for_reading, path)
            try:
                while chunk := await anyio.to_thread.run_sync(handle.read, READ_CHUNK_BYTES):
                    yield chunk
            finally:
                await anyio.to_thread.run_sync(handle.close)

    def spooled_files(self) -> list[Path]:
        """Every spool file on disk (for tests and benchmarks)."""
        return sorted(self.root.iterdir()) if self.root.exists() else []

    def close(self) -> None:
        self._remove_root()


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _open_for_reading(path: Path) -> BinaryIO:
    return open(path, "rb")


def _md5_of(paths: list[Path]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for path in paths:
        with open(path, "rb") as handle:
            while chunk := handle.read(READ_CHUNK_BYTES):
                digest.update(chunk)
    return digest.hexdigest()
