"""Orderings: the `part_ids` lists a completion sends, each of a named kind.

Each kind is a shape of list (a permutation, a subset, a list with a foreign ID, ...); what
the documentation expects of a completion with it is the oracle's to say
(`conformance.model.Model.expect_complete`), from the list itself, not from its kind.

An `OrderChoice` is drawn with a fixed shape (`ORDER_CHOICES`) and only then read against
the parts a step finds (why: `conformance.choices`). Shrinking leads to the identity: the
parts in the order they were added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hypothesis import strategies as st

__all__ = [
    "ORDER_CHOICES",
    "OrderChoice",
    "Ordering",
    "OrderingKind",
    "unknown_part_ids",
]


class OrderingKind(StrEnum):
    IDENTITY = "identity"  # the parts in the order they were added
    REVERSED = "reversed"
    SHUFFLED = "shuffled"  # a permutation other than the identity
    SUBSET = "subset"  # some of the parts (at least one left out), in some order
    DUPLICATE = "duplicate"  # every part, one of them listed twice
    FOREIGN = "foreign"  # the parts plus a part of another upload
    UNKNOWN = "unknown"  # the parts plus an ID that was never issued
    EMPTY = "empty"  # no part IDs at all


@dataclass(frozen=True)
class Ordering:
    """A `part_ids` list for completion and the kind of list it is."""

    kind: OrderingKind
    part_ids: list[str]

    def __str__(self) -> str:
        return f"{self.kind.value} {self.part_ids}"


_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_ODD_PART_IDS = (
    "part_",
    "part_../uploads",
    "../part_abc",
    "part abc",
    " ",
    "part_ünïcødé",
    "部分_1",
    "part_" + "a" * 300,
    "PART_ABC",
    "file-abc123",
    "upload_abc123",
)
_SLOTS = 8  # sort keys and subset marks, reused cyclically for longer lists


def unknown_part_ids() -> st.SearchStrategy[str]:
    """Part IDs no target issued: realistic (`part_` + 24 alphanumerics) or odd."""
    realistic = st.text(alphabet=_ALNUM, min_size=24, max_size=24).map(lambda s: "part_" + s)
    return st.one_of(realistic, st.sampled_from(_ODD_PART_IDS))


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
            listed = self._insert(ids, self._unknown([*ids, *foreign]))
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
        unknown, issued = self.unknown, set(taken)
        while unknown in issued:
            unknown += "0"
        return unknown


ORDER_CHOICES = st.builds(
    OrderChoice, st.integers(0, 7),
    st.tuples(*[st.integers(0, 7)] * _SLOTS), st.tuples(*[st.booleans()] * _SLOTS),
    st.integers(0, 255), st.integers(0, 255), unknown_part_ids())
