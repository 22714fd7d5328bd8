"""Time for the emulator: a `Clock` protocol and the clock the test controls can advance."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> float:
        return time.time()


class OffsetClock:
    """Another clock plus an offset that only grows; the test controls advance it."""

    def __init__(self, base: Clock, offset: float = 0.0) -> None:
        self._base = base
        self._offset = offset  # a durable emulator restarts with the offset it had
        # The server runs in its own thread while a test may read the clock from another.
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._base.now() + self._offset

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds` (>= 0); returns the new now."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._base.now() + self._offset
