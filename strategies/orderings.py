"""Orderings: the `part_ids` lists a completion sends, each of a named kind.

Permutations of an upload's parts must be honoured in order (COMPLETE-ORDER); lists with a
foreign or never-issued ID must be refused (COMPLETE-FOREIGN-PART); subsets, duplicates and
the empty list are left open by the documentation and only observed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

__all__ = [
    "EXPECTATIONS",
    "Expectation",
    "Ordering",
    "OrderingKind",
    "expectation",
    "orderings",
    "unknown_part_ids",
    "valid_orderings",
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


class Expectation(StrEnum):
    VALID = "valid"  # must be accepted when the bytes add up (COMPLETE-ORDER)
    REFUSED = "refused"  # documented invalid: must be refused with a 4xx
    OPEN = "open"  # left open by the documentation: observed, never failed


# What the documentation says of each kind, apart from the byte-count rule (rule 6): an
# ordering whose parts do not add up to the declared bytes must be refused whatever its kind.
EXPECTATIONS: dict[OrderingKind, tuple[Expectation, str]] = {
    OrderingKind.IDENTITY: (Expectation.VALID, "COMPLETE-ORDER"),
    OrderingKind.REVERSED: (Expectation.VALID, "COMPLETE-ORDER"),
    OrderingKind.SHUFFLED: (Expectation.VALID, "COMPLETE-ORDER"),
    OrderingKind.SUBSET: (Expectation.OPEN, "OPEN-SUBSET-COMPLETION"),
    OrderingKind.DUPLICATE: (Expectation.OPEN, "OPEN-DUPLICATE-PART-IDS"),
    OrderingKind.FOREIGN: (Expectation.REFUSED, "COMPLETE-FOREIGN-PART"),
    OrderingKind.UNKNOWN: (Expectation.REFUSED, "COMPLETE-FOREIGN-PART"),
    OrderingKind.EMPTY: (Expectation.OPEN, "OPEN-SUBSET-COMPLETION"),
}


def expectation(kind: OrderingKind, part_count: int) -> tuple[Expectation, str]:
    """What the documentation expects of an ordering of `kind` over `part_count` parts.

    An empty list for an upload without parts is the identity: the open zero-byte case.
    """
    if kind is OrderingKind.EMPTY and part_count == 0:
        return Expectation.OPEN, "OPEN-EMPTY-UPLOAD"
    return EXPECTATIONS[kind]


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


def unknown_part_ids(avoid: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Part IDs no target issued: realistic (`part_` + 24 alphanumerics) or odd."""
    realistic = st.text(alphabet=_ALNUM, min_size=24, max_size=24).map(lambda s: "part_" + s)
    taken = set(avoid)
    return st.one_of(realistic, st.sampled_from(_ODD_PART_IDS)).filter(
        lambda part_id: part_id not in taken
    )


def _non_identity_permutations(ids: list[str]) -> st.SearchStrategy[list[str]]:
    def rotate_if_identity(order: list[str]) -> list[str]:
        return order[1:] + order[:1] if order == ids else order

    return st.permutations(ids).map(rotate_if_identity)


def _distinct(part_ids: Sequence[str]) -> list[str]:
    ids = list(part_ids)
    if len(set(ids)) != len(ids):
        raise InvalidArgument(f"part_ids must be distinct: {ids}")
    return ids


def _kinds(part_count: int, has_foreign: bool) -> list[OrderingKind]:
    kinds = [OrderingKind.IDENTITY]
    if part_count >= 2:
        kinds += [OrderingKind.REVERSED, OrderingKind.SHUFFLED, OrderingKind.SUBSET]
    if part_count >= 1:
        kinds += [OrderingKind.DUPLICATE, OrderingKind.EMPTY]
    if has_foreign:
        kinds.append(OrderingKind.FOREIGN)
    kinds.append(OrderingKind.UNKNOWN)
    return kinds


@st.composite
def _insert(draw: st.DrawFn, ids: list[str], extra: st.SearchStrategy[str]) -> list[str]:
    position = draw(st.integers(0, len(ids)))
    return [*ids[:position], draw(extra), *ids[position:]]


def _of_kind(
    kind: OrderingKind, ids: list[str], foreign_ids: Sequence[str]
) -> st.SearchStrategy[list[str]]:
    if kind is OrderingKind.IDENTITY:
        return st.just(ids)
    if kind is OrderingKind.REVERSED:
        return st.just(ids[::-1])
    if kind is OrderingKind.SHUFFLED:
        return _non_identity_permutations(ids)
    if kind is OrderingKind.SUBSET:
        # A proper, non-empty subset, in some order.
        subsets = st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids) - 1, unique=True)
        return subsets.flatmap(st.permutations)
    if kind is OrderingKind.DUPLICATE:
        return _insert(ids, st.sampled_from(ids))
    if kind is OrderingKind.FOREIGN:
        return _insert(ids, st.sampled_from(list(foreign_ids)))
    if kind is OrderingKind.UNKNOWN:
        return _insert(ids, unknown_part_ids(avoid=[*ids, *foreign_ids]))
    return st.just([])


@st.composite
def orderings(
    draw: st.DrawFn, part_ids: Sequence[str], foreign_ids: Sequence[str] = ()
) -> Ordering:
    """Orderings of every kind that applies to `part_ids` (FOREIGN needs `foreign_ids`).

    Shrinks towards the identity.
    """
    ids = _distinct(part_ids)
    kind = draw(st.sampled_from(_kinds(len(ids), bool(foreign_ids))))
    return Ordering(kind, draw(_of_kind(kind, ids, foreign_ids)))


@st.composite
def valid_orderings(draw: st.DrawFn, part_ids: Sequence[str]) -> Ordering:
    """Permutations only (identity, reversed, shuffled): must be honoured in order."""
    ids = _distinct(part_ids)
    kinds = [OrderingKind.IDENTITY]
    if len(ids) >= 2:
        kinds += [OrderingKind.REVERSED, OrderingKind.SHUFFLED]
    kind = draw(st.sampled_from(kinds))
    return Ordering(kind, draw(_of_kind(kind, ids, ())))
