"""The emulator's in-memory state: one record per upload, part and file.

Records hold metadata only; the bytes of a part live in its spool file (see `storage`).
A completed file is a manifest: its parts in byte order, read one after another.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

UploadStatus = Literal["pending", "completed", "cancelled", "expired"]


@dataclass(eq=False)
class PartRecord:
    id: str
    upload_id: str
    created_at: int
    size: int
    path: Path


@dataclass(eq=False)
class FileRecord:
    id: str
    bytes: int
    created_at: int
    filename: str
    purpose: str
    expires_at: int | None
    pieces: list[PartRecord]  # the file's bytes: these parts' data, in this order
    tenant: str = ""  # whose it is: the tenant of the key that made its upload (auth.py)
    # Open downloads; a deleted file's data is removed once the last one ends.
    readers: int = 0
    deleted: bool = False


@dataclass(eq=False)
class UploadRecord:
    id: str
    bytes: int
    filename: str
    purpose: str
    mime_type: str
    created_at: int
    expires_at: int
    file_expires_after: int | None  # expires_after.seconds, applied to the completed file
    tenant: str = ""  # whose it is: the tenant of the key that created it (auth.py)
    status: UploadStatus = "pending"
    parts: dict[str, PartRecord] = field(default_factory=dict)  # in the order added
    received: int = 0  # bytes held by the recorded parts
    file: FileRecord | None = None
    # When it stopped pending (the clock's time; a restart counts from its start): it is
    # forgotten `retention` seconds later.
    ended_at: float | None = None
    # Serialises every change of this upload: part commits, completion, cancel, expiry.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
