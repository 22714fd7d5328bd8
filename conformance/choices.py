"""Draws of a fixed shape, read against whatever state a step of the machine finds.

Hypothesis replays an example by replaying its draws. If what a step draws depended on the
target's answers (a list of uploads the target accepted, the bytes an upload still needs),
a target that answers a replay differently would change the shape of the draws and end the
exploration ("Inconsistent data generation"). So every draw here has bounds of its own, and
the step maps it onto the state it finds: an index modulo the list's length, a size as a
share of what remains, an ordering as sort keys over the parts. A step that finds nothing
to act on does nothing; the draws that follow it keep their meaning.

Shrinking moves each draw towards 0: the first upload, all the remaining bytes, the
parts in the order they were added, no md5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from hypothesis import strategies as st

from strategies.orderings import Ordering, OrderingKind, unknown_part_ids
from strategies.payloads import wrong_md5

T = TypeVar("T")

INDEXES = st.integers(0, 255)  # an index into a list of the state's, modulo its length
_SLOTS = 8  # sort keys and subset marks, reused cyclically for longer lists


def pick(items: Sequence[T], index: int) -> T | None:
    """The item `index` stands for (None when there are none)."""
    return items[index % len(items)] if items else None


# --- part sizes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SizeChoice:
    """The size of an upload's next part: all the remaining bytes, a share of them, an empty
    part or a few bytes too many (the last two are left open by the documentation)."""

    kind: int  # 0 all that remains, 1 a share, 2 zero bytes, 3 too many
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


# --- md5 --------------------------------------------------------------------------------

MD5_CHOICES = st.integers(0, 3)  # none, the right one, a wrong one, the right one upper-case


def md5_for(choice: int, right: str | None) -> str | None:
    """The md5 a completion sends; a made-up one when the right one is not known."""
    if choice == 0:
        return None
    if right is None:
        return "0" * 32
    return (right, wrong_md5(right), right.upper())[choice - 1]


# --- orderings --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderChoice:
    """A `part_ids` list for completion, of a kind that applies to the parts found."""

    kind: int  # an index into the kinds that apply
    keys: tuple[int, ...]  # sort keys: the order of the parts (all 0: as added)
    marks: tuple[bool, ...]  # which parts a subset leaves out
    position: int  # where an extra ID goes
    other: int  # which part is listed twice, or which foreign part is listed
    unknown: str  # a part ID no target issued

    def permutation(self, ids: Sequence[str]) -> list[str]:
        order = sorted(range(len(ids)), key=lambda i: (self.keys[i % _SLOTS], i))
        return [ids[i] for i in order]

    def valid(self, ids: Sequence[str]) -> Ordering:
        """Every part once: as added, reversed or shuffled (to be honoured in that order)."""
        kinds = [OrderingKind.IDENTITY]
        if len(ids) >= 2:
            kinds += [OrderingKind.REVERSED, OrderingKind.SHUFFLED]
        return self._of(kinds[self.kind % len(kinds)], list(ids), ())

    def any(self, ids: Sequence[str], foreign: Sequence[str]) -> Ordering:
        """A list of any kind that applies: a subset, a duplicate, a foreign or unknown ID."""
        kinds = [OrderingKind.IDENTITY]
        if len(ids) >= 2:
            kinds += [OrderingKind.REVERSED, OrderingKind.SHUFFLED, OrderingKind.SUBSET]
        if ids:
            kinds += [OrderingKind.DUPLICATE, OrderingKind.EMPTY]
        if foreign:
            kinds.append(OrderingKind.FOREIGN)
        kinds.append(OrderingKind.UNKNOWN)
        return self._of(kinds[self.kind % len(kinds)], list(ids), foreign)

    def with_unknown(self, ordering: Ordering) -> Ordering:
        """`ordering` with a never-issued part ID slipped in."""
        return Ordering(OrderingKind.UNKNOWN, self._insert(list(ordering.part_ids),
                                                           self._unknown(ordering.part_ids)))

    def _of(self, kind: OrderingKind, ids: list[str], foreign: Sequence[str]) -> Ordering:
        if kind is OrderingKind.REVERSED:
            listed = ids[::-1]
        elif kind is OrderingKind.SHUFFLED:
            listed = self.permutation(ids)
            if listed == ids:  # not the identity: rotate it
                listed = listed[1:] + listed[:1]
        elif kind is OrderingKind.SUBSET:
            kept = [p for i, p in enumerate(ids) if not self.marks[i % _SLOTS]]
            kept = kept[: len(ids) - 1] or ids[:1]  # a proper subset, never empty
            listed = self.permutation(kept)
        elif kind is OrderingKind.DUPLICATE:
            listed = self._insert(ids, ids[self.other % len(ids)])
        elif kind is OrderingKind.FOREIGN:
            listed = self._insert(ids, foreign[self.other % len(foreign)])
        elif kind is OrderingKind.UNKNOWN:
            listed = self._insert(ids, self._unknown(ids))
        elif kind is OrderingKind.EMPTY:
            listed = []
        else:
            listed = ids
        return Ordering(kind, listed)

    def _insert(self, ids: list[str], extra: str) -> list[str]:
        at = self.position % (len(ids) + 1)
        return [*ids[:at], extra, *ids[at:]]

    def _unknown(self, taken: Sequence[str]) -> str:
        # Drawn without knowing the issued IDs (that would make the draw depend on them);
        # a clash with one is next to impossible, and is made unknown here if it happens.
        return self.unknown if self.unknown not in taken else self.unknown + "0"


ORDER_CHOICES = st.builds(
    OrderChoice, st.integers(0, 7),
    st.tuples(*[st.integers(0, 7)] * _SLOTS), st.tuples(*[st.booleans()] * _SLOTS),
    st.integers(0, 255), st.integers(0, 255), unknown_part_ids())
