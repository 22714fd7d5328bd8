"""Orderings: the `part_ids` lists a completion sends, each of a named kind.

Each kind is a shape of list (a permutation, a subset, a list with a foreign ID, ...); what
the documentation expects of a completion with it is the oracle's to say
(`conformance.model.Model.expect_complete`), from the list itself, not from its kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

__all__ = [
    "Ordering",
    "OrderingKind",
    "orderings",
    "unknown_part_ids",
    "valid_orderings",
    "with_an_unknown_id",
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


@st.composite
def with_an_unknown_id(draw: st.DrawFn, ordering: Ordering) -> Ordering:
    """`ordering` with a never-issued part ID slipped in somewhere."""
    ids = list(ordering.part_ids)
    return Ordering(OrderingKind.UNKNOWN, draw(_insert(ids, unknown_part_ids(avoid=ids))))
