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

import asyncio
import errno
import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import anyio.to_thread

# Big enough that a write costs one system call per few MiB, small enough that the parts
# in flight hold little (two buffers each at most).
WRITE_BUFFER_BYTES = 2 * 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024
HASH_CHUNK_BYTES = 8 * 1024 * 1024
_IOV_MAX = getattr(os, "IOV_MAX", 1024)  # slices one writev takes


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
    """One part's bytes, written as they arrive: the slices are gathered (kept, not copied)
    up to `WRITE_BUFFER_BYTES`, then written in one system call by a thread (`pump`), one
    batch at a time while the next one gathers, so the event loop never waits for the
    disk."""

    def __init__(self, path: Path, durable: bool = False,
                 quota: SpoolQuota | None = None,
                 writer: ThreadPoolExecutor | None = None) -> None:
        self.path = path
        self.size = 0
        self._durable = durable
        self._quota = quota
        self._writer = writer
        self._gathered: list[bytes | memoryview] = []
        self._gathered_bytes = 0
        self._writing: Future[None] | None = None
        self._file: BinaryIO = open(path, "wb", buffering=0)  # noqa: SIM115

    def write(self, data: bytes | memoryview) -> None:
        if self._quota is not None:
            self._quota.take(len(data))
        self.size += len(data)  # first: a write that fails still gives its bytes back
        if not isinstance(data, bytes) and not isinstance(data.obj, bytes):
            data = bytes(data)  # a view of a buffer its owner may change: copied
        self._gathered.append(data)
        self._gathered_bytes += len(data)

    async def pump(self) -> None:
        """Hands what is gathered to the writer thread, once it is a batch and the batch
        before it is written (a write's failure, a full disk say, is raised here)."""
        if self._gathered_bytes < WRITE_BUFFER_BYTES or self._writer is None:
            return
        if self._writing is not None:
            # Shielded: a request cancelled here must not cancel the write, which `close`
            # waits for.
            await asyncio.shield(asyncio.wrap_future(self._writing))
        batch, self._gathered, self._gathered_bytes = self._gathered, [], 0
        self._writing = self._writer.submit(_write_all, self._file, batch)

    async def close(self) -> None:
        """Close; when durable, the bytes (and the file's name) are on disk once it returns."""
        if not self._file.closed:
            await anyio.to_thread.run_sync(self._close_now)

    def _close_now(self) -> None:
        try:
            if self._writing is not None:
                self._writing.result()
            batch, self._gathered, self._gathered_bytes = self._gathered, [], 0
            _write_all(self._file, batch)
            if self._durable:
                os.fsync(self._file.fileno())
                _fsync_directory(self.path.parent)
        finally:
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
        # The threads that write the spool files' buffers (one per part being received).
        self._writer = ThreadPoolExecutor(max_workers=8, thread_name_prefix="spool-writer")
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
        return SpoolFile(self.path_of(part_id), self.durable, self.quota, self._writer)

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
        self._writer.shutdown(wait=True)
        if self._remove_root is not None:  # a durable spool is kept
            self._remove_root()


def _write_all(file: BinaryIO, batch: list[bytes | memoryview]) -> None:
    """Writes the slices in order, with as few system calls as the platform allows."""
    views = [memoryview(piece) for piece in batch]
    while views:
        written = os.writev(file.fileno(), views[:_IOV_MAX])
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if views and written:
            views[0] = views[0][written:]


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
    hash_files(digest, paths)
    return digest.hexdigest()


def hash_files(digest: Any, paths: Iterable[Path]) -> None:
    """Feeds the files' bytes to `digest`, in `HASH_CHUNK_BYTES` reads into one buffer: the
    hash runs without the GIL, and each large update means fewer waits to take it back
    from the event loop."""
    buffer: bytearray | None = None
    for path in paths:
        with open(path, "rb", buffering=0) as handle:
            if os.fstat(handle.fileno()).st_size <= HASH_CHUNK_BYTES:
                digest.update(handle.readall())
                continue
            buffer = buffer or bytearray(HASH_CHUNK_BYTES)
            view = memoryview(buffer)
            while read := handle.readinto(buffer):
                digest.update(view[:read])
