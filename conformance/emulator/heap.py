"""Giving freed heap memory back to the operating system after each sweep.

Under steady load the emulator frees as much as it allocates (ended uploads are forgotten,
spool buffers closed), yet glibc's allocator keeps freed pages in its arenas, fragmented by
the many threads that serve request bodies, and the process's RSS creeps up for hours.
`malloc_trim` returns those pages. Elsewhere (musl, macOS) there is nothing to call and this
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # no libc to load, or not glibc
        return None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def give_back_free_memory() -> bool:
    """Returns freed heap pages to the OS; False where the allocator cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
