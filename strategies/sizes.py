"""Sizes: the documented limits and strategies for part sizes, declared sizes and size plans.

Every strategy here leans on the boundaries (1 byte, 64 MiB, 64 MiB + 1, 8 GiB) where
implementations go wrong, and shrinks towards small sizes and few parts. The one exception
is `SizeChoice`, the size of an upload's next part: drawn with a fixed shape and read
against the bytes the upload still needs (why: `conformance.choices`), it shrinks towards
all those bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.api import PART_LIMIT, UPLOAD_LIMIT

# Sizes where off-by-one and buffering bugs live: tiny, around the payload block size
# (64 KiB) and common buffer sizes, and the documented limits themselves.
_BOUNDARY_SIZES = (
    1,
    2,
    4095,
    4096,
    4097,
    65535,
    65536,
    65537,
    1 << 20,
    PART_LIMIT - 1,
    PART_LIMIT,
    PART_LIMIT + 1,
    UPLOAD_LIMIT - 1,
    UPLOAD_LIMIT,
)

__all__ = [
    "PART_LIMIT",
    "SIZE_CHOICES",
    "UPLOAD_LIMIT",
    "SizeChoice",
    "declared_sizes",
    "oversized_part_sizes",
    "part_sizes",
    "size_plans",
    "size_plans_for_total",
    "sizes_between",
    "split_evenly",
]


def sizes_between(min_size: int, max_size: int) -> st.SearchStrategy[int]:
    """Integers in [min_size, max_size], small ones and the boundaries likely; shrink down."""
    return _sizes(min_size, max_size, towards_max=False)


@lru_cache(maxsize=1024)  # building and validating strategies costs more than drawing
def _sizes(low: int, high: int, *, towards_max: bool) -> st.SearchStrategy[int]:
    if low > high:
        raise InvalidArgument(f"min_size={low} > max_size={high}")
    boundaries = sorted(
        {b for b in (*_BOUNDARY_SIZES, low, high) if low <= b <= high}, reverse=towards_max
    )
    step = st.integers(0, min(high - low, 1024))
    near = step.map(lambda k: high - k) if towards_max else step.map(lambda k: low + k)
    # one_of shrinks towards its first branch: sizes near the chosen end.
    return st.one_of(near, st.sampled_from(boundaries), st.integers(low, high))


def part_sizes(max_size: int = PART_LIMIT, min_size: int = 1) -> st.SearchStrategy[int]:
    """Sizes of parts a target must accept: 1 byte up to `max_size` (at most 64 MiB)."""
    return sizes_between(min_size, min(max_size, PART_LIMIT))


def oversized_part_sizes() -> st.SearchStrategy[int]:
    """Sizes of parts a target must refuse: 64 MiB + 1 byte and a little more."""
    return st.one_of(st.just(PART_LIMIT + 1), st.integers(PART_LIMIT + 1, PART_LIMIT + (1 << 20)))


def declared_sizes(max_size: int = UPLOAD_LIMIT, min_size: int = 1) -> st.SearchStrategy[int]:
    """Values for `bytes` in a create request a target must accept (at most 8 GiB)."""
    return sizes_between(min_size, min(max_size, UPLOAD_LIMIT))


def _min_parts(total: int, max_part: int) -> int:
    return -(-total // max_part)


@st.composite
def _plan(draw: st.DrawFn, total: int, max_part: int, max_parts: int) -> list[int]:
    count = draw(st.integers(_min_parts(total, max_part), min(max_parts, total)))
    plan: list[int] = []
    remaining = total
    for index in range(count - 1):
        after = count - index - 1  # parts still to come, each needing 1..max_part bytes
        low = max(1, remaining - after * max_part)
        high = min(max_part, remaining - after)
        # Shrinking moves bytes from the last part to the earlier ones, towards the plan
        # the SDK sends: full parts, then the remainder.
        size = draw(_sizes(low, high, towards_max=True))
        plan.append(size)
        remaining -= size
    return [*plan, remaining]


def size_plans(
    total: int, max_part: int = PART_LIMIT, max_parts: int = 8
) -> st.SearchStrategy[list[int]]:
    """Lists of positive part sizes, each at most `max_part`, that sum exactly to `total`.

    Shrinks towards as few parts as possible, as the SDK cuts a file: parts of `max_part`
    bytes, then the remainder (one part when `total <= max_part`). A `total` of 0 gives the
    empty plan (the open zero-byte case).
    """
    if total < 0 or max_part < 1 or max_parts < 0:
        raise InvalidArgument(f"bad plan bounds: {total=}, {max_part=}, {max_parts=}")
    if total == 0:
        return st.just([])
    if _min_parts(total, max_part) > max_parts:
        raise InvalidArgument(
            f"{total} bytes need more than {max_parts} parts of at most {max_part} bytes"
        )
    return _plan(total, max_part, max_parts)


def size_plans_for_total(
    max_total: int, max_part: int = PART_LIMIT, max_parts: int = 8, min_total: int = 1
) -> st.SearchStrategy[list[int]]:
    """Size plans whose total is drawn too: 1 byte (or `min_total`) up to `max_total`.

    The total is capped at what `max_parts` parts of `max_part` bytes can carry.
    """
    cap = min(max_total, max_part * max_parts, UPLOAD_LIMIT)
    return _plan_for_total(declared_sizes(cap, min_size=min_total), max_part, max_parts)


@st.composite
def _plan_for_total(
    draw: st.DrawFn, totals: st.SearchStrategy[int], max_part: int, max_parts: int
) -> list[int]:
    # A composite rather than flatmap: it shrinks the total and the plan together.
    return draw(size_plans(draw(totals), max_part, max_parts))


@dataclass(frozen=True, slots=True)
class SizeChoice:
    """The size of an upload's next part: all the remaining bytes, a share of them, an empty
    part or a few bytes too many (the last two are left open by the documentation)."""

    kind: int  # 0 all that remains (1 byte if none), 1 a share, 2 zero bytes, 3 too many
    amount: int

    def size(self, remaining: int) -> int:
        remaining = max(remaining, 0)  # below 0 when a target took more than declared
        if self.kind == 1 and remaining > 1:
            return 1 + self.amount % remaining
        if self.kind == 2:
            return 0
        if self.kind == 3:
            return remaining + 1 + self.amount % 16
        return max(remaining, 1)


SIZE_CHOICES = st.builds(SizeChoice, st.integers(0, 3), st.integers(0, 1 << 16))


def split_evenly(total: int, count: int) -> list[int]:
    """`count` sizes that differ by at most one byte and add up to `total`."""
    base, extra = divmod(total, count)
    return [base + (1 if i < extra else 0) for i in range(count)]
