"""`SqliteStore`: the emulator's metadata in `data_dir/emulator.sqlite3`, kept across restarts.

WAL mode with `synchronous=NORMAL`: a commit is in the WAL before the call returns, so a
process killed at any moment (`kill -9`) loses no committed change and the database is
never torn; only a power cut could lose the last few commits (never the database's
consistency). `FULL` would fsync the WAL on every commit, an fsync per create, and the
emulator is a test target, not a bank. Part bytes are fsynced before their row is committed
(`storage.SpoolFile.close`), so a row never outlives its bytes, even after a power cut.

One process per data directory (an exclusive `flock` on `emulator.lock`): at start the
files no row needs are deleted, which would break a second emulator's parts in flight.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from .records import FileRecord, PartRecord, UploadRecord, UploadStatus
from .store import Restored

DATABASE_NAME = "emulator.sqlite3"
LOCK_NAME = "emulator.lock"
_CLOCK_OFFSET = "clock_offset"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY, bytes INTEGER NOT NULL, filename TEXT NOT NULL,
    purpose TEXT NOT NULL, mime_type TEXT NOT NULL, created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, file_expires_after INTEGER, status TEXT NOT NULL,
    file_id TEXT, tenant TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS parts (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, upload_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, bytes INTEGER NOT NULL, created_at INTEGER NOT NULL,
    filename TEXT NOT NULL, purpose TEXT NOT NULL, expires_at INTEGER,
    pieces TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
    tenant TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value);
"""
# Columns added since the first schema: a database made before them gains them at start,
# with their default (the first key's tenant, "", for what was made before tenants).
_ADDED_COLUMNS = (("uploads", "tenant", "TEXT NOT NULL DEFAULT ''"),
                  ("files", "tenant", "TEXT NOT NULL DEFAULT ''"))


class DataDirInUse(OSError):
    """Another emulator process holds the data directory."""


class SqliteStore:
    durable = True

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = _lock_exclusively(data_dir / LOCK_NAME)
        # Served from uvicorn's thread, opened (and restored) from the caller's: one
        # connection, used by one thread at a time under `_lock`.
        self._db = sqlite3.connect(data_dir / DATABASE_NAME, isolation_level=None,
                                   check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        for table, column, definition in _ADDED_COLUMNS:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    # --- start --------------------------------------------------------------------------
    def restore(self, part_path: Callable[[str], Path]) -> Restored:
        restored = Restored()
        with self._lock:
            uploads = self._db.execute("SELECT id, bytes, filename, purpose, mime_type, "
                                       "created_at, expires_at, file_expires_after, status, "
                                       "file_id, tenant FROM uploads").fetchall()
            parts = self._db.execute(
                "SELECT id, upload_id, created_at, size FROM parts ORDER BY seq").fetchall()
            files = self._db.execute("SELECT id, bytes, created_at, filename, purpose, "
                                     "expires_at, pieces, deleted, tenant FROM files").fetchall()
            offset = self._db.execute("SELECT value FROM settings WHERE name = ?",
                                      (_CLOCK_OFFSET,)).fetchone()
        file_of: dict[str, str] = {}
        for (upload_id, size, filename, purpose, mime_type, created_at, expires_at,
             expires_after, status, file_id, tenant) in uploads:
            restored.uploads[upload_id] = UploadRecord(
                id=upload_id, bytes=size, filename=filename, purpose=purpose,
                mime_type=mime_type, created_at=created_at, expires_at=expires_at,
                file_expires_after=expires_after, status=status, tenant=tenant)
            if file_id is not None:
                file_of[upload_id] = file_id
        for part_id, upload_id, created_at, size in parts:
            part = PartRecord(id=part_id, upload_id=upload_id, created_at=created_at, size=size,
                              path=part_path(part_id))
            restored.parts[part_id] = part
            if (upload := restored.uploads.get(upload_id)) is not None:
                upload.parts[part_id] = part  # in the order added: `seq`
                upload.received += size
        every_file: dict[str, FileRecord] = {}
        for (file_id, size, created_at, filename, purpose, expires_at, pieces, deleted,
             tenant) in files:
            every_file[file_id] = FileRecord(
                id=file_id, bytes=size, created_at=created_at, filename=filename,
                purpose=purpose, expires_at=expires_at,
                pieces=[restored.parts[p] for p in json.loads(pieces) if p in restored.parts],
                deleted=bool(deleted), tenant=tenant)
        for upload_id, file_id in file_of.items():
            restored.uploads[upload_id].file = every_file.get(file_id)
        restored.files = {k: file for k, file in every_file.items() if not file.deleted}
        restored.clock_offset = float(offset[0]) if offset else 0.0
        return restored

    # --- changes ------------------------------------------------------------------------
    def add_upload(self, upload: UploadRecord) -> None:
        # OR REPLACE: what the records do with a repeated ID (only a mutant makes one).
        self._write("INSERT OR REPLACE INTO uploads (id, bytes, filename, purpose, mime_type, "
                    "created_at, expires_at, file_expires_after, status, file_id, tenant) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                    (upload.id, upload.bytes, upload.filename, upload.purpose,
                     upload.mime_type, upload.created_at, upload.expires_at,
                     upload.file_expires_after, upload.status, upload.tenant))

    def add_part(self, part: PartRecord) -> None:
        self._write("INSERT OR REPLACE INTO parts (id, upload_id, created_at, size) "
                    "VALUES (?, ?, ?, ?)", (part.id, part.upload_id, part.created_at, part.size))

    def set_status(self, upload_id: str, status: UploadStatus) -> None:
        self._write("UPDATE uploads SET status = ? WHERE id = ?", (status, upload_id))

    def complete(self, upload_id: str, file: FileRecord) -> None:
        """The file (its manifest: part IDs in byte order) and the status, in one commit."""
        pieces = json.dumps([piece.id for piece in file.pieces])
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO files (id, bytes, created_at, filename, "
                       "purpose, expires_at, pieces, deleted, tenant) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                       (file.id, file.bytes, file.created_at, file.filename, file.purpose,
                        file.expires_at, pieces, file.tenant))
            db.execute("UPDATE uploads SET status = 'completed', file_id = ? WHERE id = ?",
                       (file.id, upload_id))

    def delete_file(self, file_id: str) -> None:
        self._write("UPDATE files SET deleted = 1 WHERE id = ?", (file_id,))

    def forget_uploads(self, upload_ids: list[str]) -> None:
        """The uploads' rows go, with every part row no live file needs and the rows of
        deleted files no upload names; one commit (each sweep, so also with no IDs)."""
        with self._transaction() as db:
            db.executemany("DELETE FROM uploads WHERE id = ?",
                           [(upload_id,) for upload_id in upload_ids])
            db.execute("DELETE FROM files WHERE deleted = 1 AND id NOT IN "
                       "(SELECT file_id FROM uploads WHERE file_id IS NOT NULL)")
            # Also the parts of files deleted after their upload was forgotten.
            db.execute("DELETE FROM parts WHERE upload_id NOT IN (SELECT id FROM uploads) "
                       "AND id NOT IN (SELECT piece.value FROM files, "
                       "json_each(files.pieces) AS piece WHERE files.deleted = 0)")

    def save_clock_offset(self, offset: float) -> None:
        self._write("INSERT OR REPLACE INTO settings VALUES (?, ?)", (_CLOCK_OFFSET, offset))

    def close(self) -> None:
        with self._lock:
            self._db.close()
        if not self._lock_file.closed:
            self._lock_file.close()  # releases the flock

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _write(self, sql: str, values: tuple[object, ...]) -> None:
        with self._lock:
            self._db.execute(sql, values)  # autocommit: one statement, one transaction


def _lock_exclusively(path: Path) -> TextIO:
    handle = open(path, "a")  # noqa: SIM115 - held open for the life of the store
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirInUse(f"{path.parent} is in use by another emulator (it holds "
                           f"{path.name})") from None
    return handle
