"""Where part bytes live: one spool file per part, named by its ID.

Without a data directory the spool is a private temporary directory of the run, removed at
its end. With one it is `data_dir/parts`, kept: a part's bytes are fsynced before the part is
recorded, and at start the files no record needs (a part cut off by a kill, the data of a
cancelled upload whose deletion a kill interrupted) are deleted.

Nothing here holds a whole part in memory: a part is written slice by slice as it arrives,
and hashing and reading stream a file's parts in fixed-size chunks on a worker thread so
the event loop keeps serving. Spool names come from generated IDs only, never from a request.

A `SpoolQuota` (`max_disk_bytes`) makes a write past it fail with ENOSPC, as a full disk
does, so the one path that answers a full disk (`errors.disk_full`) is the one tested.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

WRITE_BUFFER_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024


class SpoolQuota:
    """How many bytes of part data the spool may hold; a write past it fails with ENOSPC."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()  # deletions give bytes back from worker threads

    def take(self, size: int) -> None:
        with self._lock:
            if self.used + size > self.limit:
                raise OSError(errno.ENOSPC, f"No space left on device (the spool holds "
                                            f"{self.used} of its {self.limit} bytes)")
            self.used += size

    def give_back(self, size: int) -> None:
        with self._lock:
            self.used = max(0, self.used - size)


class SpoolFile:
    """One part's bytes, written as they arrive."""

    def __init__(self, path: Path, durable: bool = False,
                 quota: SpoolQuota | None = None) -> None:
        self.path = path
        self.size = 0
        self._durable = durable
        self._quota = quota
        # Buffered: the request body arrives in ~64 KiB slices; disk writes happen per MiB.
        self._file: BinaryIO = open(path, "wb", buffering=WRITE_BUFFER_BYTES)  # noqa: SIM115

    def write(self, data: bytes | memoryview) -> None:
        if self._quota is not None:
            self._quota.take(len(data))
        self.size += len(data)  # first: a write that fails still gives its bytes back
        self._file.write(data)

    async def close(self) -> None:
        """Close; when durable, the bytes (and the file's name) are on disk once it returns."""
        if not self._file.closed:
            await anyio.to_thread.run_sync(self._close_now)

    def _close_now(self) -> None:
        if self._durable:
            self._file.flush()
            os.fsync(self._file.fileno())
            _fsync_directory(self.path.parent)
        self._file.close()

    async def discard(self) -> None:
        """Close and delete: the part was refused, its client went away, or the disk is full
        (then closing fails to flush too, and the file goes all the same)."""
        try:
            await self.close()
        except OSError:
            pass
        finally:
            await anyio.to_thread.run_sync(_unlink_all, [self.path])
            if self._quota is not None:
                self._quota.give_back(self.size)


class Storage:
    """The spool directory: `data_dir/parts` when durable, kept; otherwise a temporary
    `uploads-emulator-XXXX` (in `data_dir` if given), removed when the run ends (or at
    interpreter exit as a fallback), as its metadata is gone with the process."""

    def __init__(self, data_dir: Path | None, durable: bool = False,
                 max_bytes: int | None = None) -> None:
        self.quota = None if max_bytes is None else SpoolQuota(max_bytes)
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self.durable = durable
        if durable:
            assert data_dir is not None, "a durable spool lives in a data directory"
            self.root = data_dir / "parts"
            self.root.mkdir(exist_ok=True)
            self._remove_root: weakref.finalize[..., None] | None = None
        else:
            self.root = Path(tempfile.mkdtemp(prefix="uploads-emulator-", dir=data_dir))
            self._remove_root = weakref.finalize(self, shutil.rmtree, self.root, True)

    def path_of(self, part_id: str) -> Path:
        return self.root / part_id

    def spool(self, part_id: str) -> SpoolFile:
        return SpoolFile(self.path_of(part_id), self.durable, self.quota)

    def remove_unneeded(self, needed: set[Path]) -> list[Path]:
        """At start: delete every spool file that no record needs; returns them. What stays
        counts against the quota."""
        unneeded = [path for path in self.spooled_files() if path not in needed]
        _unlink_all(unneeded)
        if self.quota is not None:
            self.quota.used = sum(path.stat().st_size for path in self.spooled_files())
        return unneeded

    async def delete(self, paths: Iterable[Path]) -> None:
        freed = await anyio.to_thread.run_sync(_unlink_all, list(paths))
        if self.quota is not None:
            self.quota.give_back(freed)

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
        if self._remove_root is not None:  # a durable spool is kept
            self._remove_root()


def _unlink_all(paths: list[Path]) -> int:
    """Deletes the files; returns how many bytes they held."""
    freed = 0
    for path in paths:
        try:
            freed += path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            pass
    return freed


def _fsync_directory(path: Path) -> None:
    # A new file's name is in its directory's data: without this a power cut may lose it.
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_for_reading(path: Path) -> BinaryIO:
    return open(path, "rb")


def _md5_of(paths: list[Path]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for path in paths:
        with open(path, "rb") as handle:
            while chunk := handle.read(READ_CHUNK_BYTES):
                digest.update(chunk)
    return digest.hexdigest()
