"""Virtual payloads: the bytes of a part, defined by a seed and a size, never held whole.

A `Payload` streams deterministic pseudo-random bytes, so the suite can send 64 MiB parts
and check an assembled file byte for byte (`matches`) or by digest (`concat_md5`) in
constant memory.

The stream is built from fixed 4 MiB blocks, each a window of one pseudo-random pool (made
once) at an offset drawn from the seed and the block's index: blocks cost a slice, not a
generator's work per byte, so a 64 MiB part streams at memory speed. Byte `k` of a payload
does not depend on how the payload is read. Bytes 0-7 of a payload are its seed (the low 64
bits, little-endian), so byte 0 is the seed modulo 256: payloads whose seeds differ modulo
256 differ at their first byte, so any reordering, omission or repetition of them changes the
concatenation at the first part that moved.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from strategies.sizes import sizes_between

__all__ = [
    "MD5_CHOICES",
    "Payload",
    "concat_md5",
    "iter_concat",
    "matches",
    "md5_for",
    "payloads",
    "payloads_for_plan",
    "payloads_from_plan",
    "wrong_md5",
]

BLOCK_SIZE = 4 << 20  # large: a hash update waits less often for the GIL
DEFAULT_CHUNK_SIZE = BLOCK_SIZE  # chunks of one block go out as they are, not re-cut
_POOL_SIZE = 8 << 20  # block offsets range over it: blocks rarely repeat
_MAX_DISTINCT = 256  # first bytes available to tell parts apart
_SEED_BYTES = 8


def _seed_key(seed: int) -> bytes:
    # The full seed, however large, chooses the offsets.
    return seed.to_bytes((seed.bit_length() + 8) // 8 or 1, "little", signed=True)


@lru_cache(maxsize=1)
def _pool() -> bytes:
    """The pool, with a block's worth repeated at its end so that any window is one slice."""
    pool = random.Random(0x5EED).randbytes(_POOL_SIZE)
    return pool + pool[:BLOCK_SIZE]


def _views(seed: int, index: int, length: int) -> tuple[bytes | memoryview, ...]:
    """The first `length` bytes of block `index` of the payload with this seed, as views of
    the pool (after the seed's own bytes, for block 0): hashing them copies nothing."""
    where = hashlib.blake2b(_seed_key(seed) + index.to_bytes(8, "little"), digest_size=8)
    start = int.from_bytes(where.digest(), "little") % _POOL_SIZE
    window = memoryview(_pool())[start : start + length]
    if index:
        return (window,)
    head = (seed % 2**64).to_bytes(_SEED_BYTES, "little")[:length]
    return head, window[len(head):]


def _piece(seed: int, index: int, length: int) -> bytes:
    return b"".join(_views(seed, index, length))


def _rechunk(pieces: Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, not {chunk_size}")
    buffer = bytearray()
    for piece in pieces:
        if not buffer and len(piece) == chunk_size:
            yield piece
            continue
        buffer += piece
        while len(buffer) >= chunk_size:
            yield bytes(buffer[:chunk_size])
            del buffer[:chunk_size]
    if buffer:
        yield bytes(buffer)


@dataclass(frozen=True)
class Payload:
    """`size` deterministic bytes derived from `seed` (the bytes of one part, say).

    `len()` is the size, so a zero-byte payload is falsy: test `is None`, not truth.
    """

    seed: int
    size: int

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"a payload's size cannot be negative ({self.size})")

    def __len__(self) -> int:
        return self.size

    def _pieces(self) -> Iterator[bytes]:
        """The payload as block-aligned pieces (whole blocks, then the tail)."""
        full, tail = divmod(self.size, BLOCK_SIZE)
        for index in range(full):
            yield _piece(self.seed, index, BLOCK_SIZE)
        if tail:
            yield _piece(self.seed, full, tail)

    def iter_chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """The bytes in chunks of `chunk_size` (the last one may be shorter)."""
        return _rechunk(self._pieces(), chunk_size)

    def read(self) -> bytes:
        """All the bytes at once: for small payloads only."""
        return b"".join(self._pieces())

    def md5(self) -> str:
        """The lower-case hex md5 of the bytes, computed as they stream."""
        return _md5([self])

    def _windows(self) -> Iterator[bytes | memoryview]:
        """The bytes as views of the pool (and the seed's own 8), nothing copied."""
        full, tail = divmod(self.size, BLOCK_SIZE)
        for index in range(full + (1 if tail else 0)):
            yield from _views(self.seed, index, BLOCK_SIZE if index < full else tail)


def _md5(payloads: Iterable[Payload]) -> str:
    digest = hashlib.md5()
    for payload in payloads:
        for view in payload._windows():
            digest.update(view)
    return digest.hexdigest()


def _concat_pieces(payloads: Sequence[Payload]) -> Iterator[bytes]:
    for payload in payloads:
        yield from payload._pieces()


def iter_concat(
    payloads: Sequence[Payload], chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[bytes]:
    """The concatenation of `payloads` in order, in chunks of `chunk_size`."""
    return _rechunk(_concat_pieces(payloads), chunk_size)


def concat_md5(payloads: Sequence[Payload]) -> str:
    """The md5 (lower-case hex) of the concatenation of `payloads` in order, streamed.
    Remembered for the last few lists: an 8 GiB upload's is asked for by the scenario, the
    oracle and the step's label, and is hashed once (while its parts are sent)."""
    return _remembered_md5(tuple(payloads))


@lru_cache(maxsize=16)
def _remembered_md5(payloads: tuple[Payload, ...]) -> str:
    return _md5(payloads)


# --- comparing received content with the expected concatenation -------------------------


def _same(a: memoryview, b: memoryview) -> bool:
    # Comparing memoryviews goes item by item (about 1 GiB/s); bytes compare with memcmp.
    # A slice that spans its whole object is compared as that object, without a copy.
    return _as_bytes(a) == _as_bytes(b)


def _as_bytes(view: memoryview) -> bytes:
    whole = view.obj
    if isinstance(whole, bytes) and len(whole) == view.nbytes and view.c_contiguous:
        return whole
    return view.tobytes()


def _first_difference(a: memoryview, b: memoryview) -> int:
    step = 4096
    start = 0
    while a[start : start + step] == b[start : start + step]:
        start += step
    return next(i for i in range(start, start + step) if a[i] != b[i])


class _Layout:
    """Where each part of a concatenation starts, to name the part a byte offset falls in."""

    def __init__(self, payloads: Sequence[Payload]) -> None:
        self.payloads = payloads
        self.starts: list[int] = []
        offset = 0
        for payload in payloads:
            self.starts.append(offset)
            offset += payload.size
        self.total = offset

    def where(self, offset: int) -> str:
        if offset >= self.total:
            return "past the end of the expected content"
        index = bisect.bisect_right(self.starts, offset) - 1
        payload = self.payloads[index]
        within = offset - self.starts[index]
        return f"byte {within} of part #{index} ({payload.size} bytes, seed {payload.seed})"

    def parts_starting_with(self, byte: int) -> list[int]:
        return [i for i, p in enumerate(self.payloads) if p.size and p.seed & 0xFF == byte]


def matches(payloads: Sequence[Payload], content_chunks: Iterable[bytes]) -> tuple[bool, str]:
    """Compare received content with the concatenation of `payloads`, incrementally.

    Returns (True, summary) when the bytes are equal, else (False, a description of the
    first difference: its byte offset, the part it falls in, expected and received lengths).
    """
    layout = _Layout(payloads)
    expected = _concat_pieces(payloads)
    received = iter(content_chunks)
    current = memoryview(b"")
    used = 0  # bytes of `current` already compared
    offset = 0  # bytes compared and equal so far
    for chunk in received:
        got = memoryview(chunk)
        position = 0
        while position < len(got):
            if used == len(current):
                piece = next(expected, None)
                if piece is None:
                    total = offset + len(got) - position + sum(len(c) for c in received)
                    return False, (
                        f"content is too long: expected {layout.total} bytes, got {total}; "
                        f"the first {layout.total} bytes match"
                    )
                current, used = memoryview(piece), 0
            n = min(len(got) - position, len(current) - used)
            want, have = current[used : used + n], got[position : position + n]
            if not _same(want, have):
                k = _first_difference(want, have)
                total = offset + len(got) - position + sum(len(c) for c in received)
                return False, _describe(layout, offset + k, want[k], have[k], total)
            position += n
            used += n
            offset += n
    if offset < layout.total:
        return False, (
            f"content is too short: expected {layout.total} bytes, got {offset}; it ends at "
            f"{layout.where(offset)}"
        )
    parts = "1 part" if len(payloads) == 1 else f"{len(payloads)} parts"
    return True, f"all {layout.total} bytes match ({parts})"


def _describe(layout: _Layout, offset: int, want: int, have: int, total: int) -> str:
    text = (
        f"first difference at byte offset {offset} ({layout.where(offset)}): expected "
        f"0x{want:02x}, got 0x{have:02x}; expected {layout.total} bytes, got {total}"
    )
    if offset in layout.starts:
        # Byte 0 of a part is its seed mod 256: name the part(s) the received byte starts.
        likely = layout.parts_starting_with(have)
        if likely:
            names = ", ".join(f"#{i}" for i in likely)
            text += f" (the byte received is how part {names} starts: parts out of order?)"
    return text


# --- strategies -----------------------------------------------------------------------


def payloads(max_size: int, min_size: int = 1) -> st.SearchStrategy[Payload]:
    """Payloads of `min_size`..`max_size` bytes; shrinks towards 1 byte and seed 0."""
    return st.builds(
        Payload, seed=st.integers(0, 2**32 - 1), size=sizes_between(min_size, max_size)
    )


def payloads_from_plan(plan: Sequence[int], first_seed: int = 0) -> list[Payload]:
    """One payload per planned size, with consecutive seeds (so they tell apart)."""
    return [Payload(first_seed + i, size) for i, size in enumerate(plan)]


def payloads_for_plan(plan: Sequence[int]) -> st.SearchStrategy[list[Payload]]:
    """One payload per planned size, seeds pairwise distinct modulo 256.

    Any reordering, omission or repetition of the parts is therefore visible in the
    concatenation. Shrinks towards seeds 0, 1, 2, ... in plan order.
    """
    if len(plan) > _MAX_DISTINCT:
        raise InvalidArgument(f"at most {_MAX_DISTINCT} parts can be told apart")
    seeds = st.lists(
        st.integers(0, _MAX_DISTINCT - 1), min_size=len(plan), max_size=len(plan), unique=True
    )
    return seeds.map(lambda drawn: [Payload(s, n) for s, n in zip(drawn, plan, strict=True)])


def wrong_md5(right: str) -> str:
    """A well-formed md5 that is not `right`: the md5 of other bytes."""
    return hashlib.md5(right.encode()).hexdigest()


# Which md5 a completion sends, drawn with a fixed shape and read against the right md5
# the step finds (why: `conformance.choices`); shrinks towards none.
MD5_CHOICES = st.integers(0, 3)  # none, the right one, a wrong one, the right one upper-case


def md5_for(choice: int, right: str | None) -> str | None:
    """The md5 a completion sends: none, the right one, a wrong one, or the right one in
    upper-case hex (left open); a made-up one when the right one is not known."""
    if choice == 0:
        return None
    if right is None:
        return "0" * 32
    return (right, wrong_md5(right), right.upper())[choice - 1]
