"""What the emulator keeps between runs: the `MetadataStore` seam, and `MemoryStore`.

The records in memory (`records.py`) are the working state in every mode, guarded by the
uploads' locks as before; each change is written through to the store just before it is made
in memory, in the same pass of the event loop, so the store never sees an order the records
did not. `MemoryStore` keeps nothing (the default: a run forgets everything, as fast as it
was); `SqliteStore` (`sqlite_store.py`, for `data_dir`) keeps every change and hands the
records back at the next start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .records import FileRecord, PartRecord, UploadRecord, UploadStatus


@dataclass
class Restored:
    """The records a store hands back at start (empty for a fresh or memory-only store)."""

    uploads: dict[str, UploadRecord] = field(default_factory=dict)
    parts: dict[str, PartRecord] = field(default_factory=dict)
    files: dict[str, FileRecord] = field(default_factory=dict)  # the files not deleted
    clock_offset: float = 0.0

    def live_paths(self) -> set[Path]:
        """The spool files something still needs: pending uploads' parts, live files' pieces."""
        needed = {part.path for upload in self.uploads.values() if upload.status == "pending"
                  for part in upload.parts.values()}
        needed.update(piece.path for file in self.files.values() for piece in file.pieces)
        return needed


class MetadataStore(Protocol):
    """Each method writes one change for good (or raises, and then nothing was written)."""

    durable: bool  # whether part bytes must be on disk (fsync) before a part is recorded

    def restore(self, part_path: Callable[[str], Path]) -> Restored: ...
    def add_upload(self, upload: UploadRecord) -> None: ...
    def add_part(self, part: PartRecord) -> None: ...
    def set_status(self, upload_id: str, status: UploadStatus) -> None: ...
    def complete(self, upload_id: str, file: FileRecord) -> None: ...
    def delete_file(self, file_id: str) -> None: ...
    def forget_uploads(self, upload_ids: list[str]) -> None: ...
    def save_clock_offset(self, offset: float) -> None: ...
    def close(self) -> None: ...


class MemoryStore:
    """Keeps nothing: without a data directory the records in memory are all there is."""

    durable = False

    def restore(self, part_path: Callable[[str], Path]) -> Restored:
        return Restored()

    def add_upload(self, upload: UploadRecord) -> None:
        pass

    def add_part(self, part: PartRecord) -> None:
        pass

    def set_status(self, upload_id: str, status: UploadStatus) -> None:
        pass

    def complete(self, upload_id: str, file: FileRecord) -> None:
        pass

    def delete_file(self, file_id: str) -> None:
        pass

    def forget_uploads(self, upload_ids: list[str]) -> None:
        pass

    def save_clock_offset(self, offset: float) -> None:
        pass

    def close(self) -> None:
        pass
