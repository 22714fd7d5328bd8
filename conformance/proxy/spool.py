"""Each part's bytes, spooled to a temporary file as they stream through the proxy.

The md5 a client sends at completion must be that of the listed parts' bytes in the listed
order, whatever order they were sent in, and the proxy holds no part in memory: so each
part is written to a file of its own as it passes, and the files are hashed in the listed
order when the judge asks. A part's file goes when its upload ends (`discard`), the folder
when the proxy stops (`close`).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["PartWriter", "Spool", "SpooledPart"]

READ_SIZE: Final = 1024 * 1024


@dataclass(eq=False, slots=True)
class SpooledPart:
    """One part's bytes on disk (the model keeps it as the part's opaque content)."""

    number: int
    path: Path
    size: int = 0
    complete: bool = False  # every byte of the field went through
    gone: bool = False  # discarded: its upload ended


class PartWriter:
    """Writes one part's bytes as they arrive (on the proxy's event loop: plain writes to
    the page cache, far quicker than the socket that feeds them)."""

    def __init__(self, part: SpooledPart) -> None:
        self.part = part
        self._fd: int | None = os.open(part.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def write(self, data: bytes | memoryview) -> None:
        if self._fd is None:
            return
        size = len(data)
        written = os.write(self._fd, data)
        if written < size:  # a short write (rare on a regular file): the rest, in a copy
            rest = bytes(data[written:])
            while rest:
                rest = rest[os.write(self._fd, rest):]
        self.part.size += size

    def close(self, complete: bool) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.part.complete = complete


class Spool:
    """The folder of spooled parts, and the md5 of parts taken in a given order."""

    def __init__(self, parent: Path | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="uploads-proxy-", dir=parent))
        self._names = itertools.count(1)
        self._digests: dict[tuple[int, ...], str] = {}  # the last few asked, by part ids
        self._lock = threading.Lock()

    def writer(self) -> PartWriter:
        number = next(self._names)
        return PartWriter(SpooledPart(number, self.folder / f"part-{number}.bin"))

    def md5(self, parts: Sequence[object]) -> str:
        """The md5 of these parts' bytes, one after the other (the model's `Digest`)."""
        spooled = [p for p in parts if isinstance(p, SpooledPart)]
        if len(spooled) != len(parts) or any(p.gone or not p.complete for p in spooled):
            raise LookupError("a part's bytes are no longer (or were never) on the spool")
        key = tuple(p.number for p in spooled)
        with self._lock:
            if key in self._digests:
                return self._digests[key]
        digest = hashlib.md5(usedforsecurity=False)
        for part in spooled:
            with open(part.path, "rb") as handle:
                while chunk := handle.read(READ_SIZE):
                    digest.update(chunk)
        found = digest.hexdigest()
        with self._lock:
            if len(self._digests) > 64:  # asked again at once, or never: keep it small
                self._digests.clear()
            self._digests[key] = found
        return found

    def discard(self, parts: Sequence[object]) -> None:
        """Deletes these parts' files (their upload has ended)."""
        for part in parts:
            if isinstance(part, SpooledPart) and not part.gone:
                part.gone = True
                part.path.unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
