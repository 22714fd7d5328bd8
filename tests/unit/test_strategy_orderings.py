"""Orderings: each kind has its stated shape whatever parts a choice is read against, and the
oracle judges each kind as documented."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from conformance.model import Model, Part, Verdict
from strategies.orderings import ORDER_CHOICES, OrderChoice, Ordering, OrderingKind

REPRO = settings(derandomize=True)  # the same examples every run
NO_DB = settings(database=None, max_examples=2000, derandomize=True)  # find(), reproducibly
FOUND = settings(NO_DB, phases=[Phase.generate])  # is one there? (shrinking it costs seconds)
# Longer than the choice's 8 sort keys and marks, so their cyclic reuse is exercised too.
part_id_lists = st.lists(
    st.text("abcdef0123456789", min_size=1, max_size=6).map(lambda s: "part_" + s),
    max_size=20,
    unique=True,
)
FOREIGN = ["part_foreign1", "part_foreign2"]
VALID_KINDS = [OrderingKind.IDENTITY, OrderingKind.REVERSED, OrderingKind.SHUFFLED]


def check_shape(ordering: Ordering, ids: list[str], foreign: list[str]) -> None:
    got, kind = ordering.part_ids, ordering.kind
    if kind is OrderingKind.IDENTITY:
        assert got == ids
    elif kind is OrderingKind.REVERSED:
        assert got == ids[::-1] and len(ids) >= 2
    elif kind is OrderingKind.SHUFFLED:
        assert sorted(got) == sorted(ids) and got != ids
    elif kind is OrderingKind.SUBSET:
        assert got and len(set(got)) == len(got) and set(got) < set(ids)
    elif kind is OrderingKind.DUPLICATE:
        assert set(got) == set(ids) and len(got) == len(ids) + 1
        assert max(Counter(got).values()) == 2
    elif kind is OrderingKind.FOREIGN:
        assert [p for p in got if p in foreign] != [] and len(got) == len(ids) + 1
        assert [p for p in got if p not in foreign] == ids
    elif kind is OrderingKind.UNKNOWN:
        strangers = [p for p in got if p not in ids and p not in foreign]
        assert len(strangers) == 1 and len(got) == len(ids) + 1
        assert [p for p in got if p in ids] == ids
    else:
        assert kind is OrderingKind.EMPTY and got == []


def every_kind_of(order: OrderChoice) -> list[OrderChoice]:
    """`order` with each kind it can draw: every kind is checked on every example."""
    return [replace(order, kind=kind) for kind in range(len(OrderingKind))]


@REPRO
@given(ORDER_CHOICES, part_id_lists, st.booleans())
def test_each_kind_has_its_shape(order: OrderChoice, ids: list[str], with_foreign: bool) -> None:
    foreign = FOREIGN if with_foreign else []
    for choice in every_kind_of(order):
        ordering = choice.any(ids, foreign)
        check_shape(ordering, ids, foreign)
        if not foreign:
            assert ordering.kind is not OrderingKind.FOREIGN


@REPRO
@given(ORDER_CHOICES, part_id_lists)
def test_valid_orderings_are_permutations(order: OrderChoice, ids: list[str]) -> None:
    for choice in every_kind_of(order):
        ordering = choice.valid(ids)
        assert sorted(ordering.part_ids) == sorted(ids)
        assert ordering.kind in VALID_KINDS
        check_shape(ordering, ids, [])  # SHUFFLED is never the identity


# One list of parts for each case the kinds that apply depend on: none, one, several.
SMALLEST_OF_ITS_CASE = [[], ["part_x"], ["part_x", "part_y"]]


@REPRO
@given(ORDER_CHOICES, part_id_lists)
def test_a_choice_is_of_the_same_kind_whatever_parts_it_is_read_against(
    order: OrderChoice, ids: list[str]
) -> None:
    """What decides the kind is the choice and which kinds apply (no part, one, several;
    foreign parts or not), never the parts' number or names: the same draws, replayed
    against a target that answered differently, are the same kind of completion."""
    same_case = SMALLEST_OF_ITS_CASE[min(len(ids), 2)]
    for choice in every_kind_of(order):
        for foreign in ([], FOREIGN):
            assert choice.any(ids, foreign).kind is choice.any(same_case, foreign).kind
        assert choice.valid(ids).kind is choice.valid(same_case).kind
        assert choice.any(ids, FOREIGN) == choice.any(ids, FOREIGN)  # a pure reading


@pytest.mark.parametrize("kind", list(OrderingKind))
def test_every_kind_is_generated(kind: OrderingKind) -> None:
    ids = ["part_a", "part_b", "part_c"]
    found = find(ORDER_CHOICES, lambda o: o.any(ids, FOREIGN).kind is kind, settings=FOUND)
    check_shape(found.any(ids, FOREIGN), ids, FOREIGN)


@pytest.mark.parametrize("kind", VALID_KINDS)
def test_every_valid_kind_is_generated(kind: OrderingKind) -> None:
    ids = ["part_a", "part_b", "part_c"]
    found = find(ORDER_CHOICES, lambda o: o.valid(ids).kind is kind, settings=FOUND)
    check_shape(found.valid(ids), ids, [])


def _full_upload(ids: list[str]) -> Model:
    """A pending upload holding one byte per part, and another upload owning FOREIGN."""
    model = Model()
    body = {"filename": "a.txt", "purpose": "assistants", "mime_type": "text/plain"}
    model.record_create({**body, "bytes": len(ids)}, "u1", 0)
    model.record_create({**body, "bytes": len(FOREIGN)}, "u2", 0)
    for part_id in ids:
        model.record_part("u1", Part(part_id, 1, None))
    for part_id in FOREIGN:
        model.record_part("u2", Part(part_id, 1, None))
    return model


@REPRO
@given(ORDER_CHOICES, part_id_lists)
def test_the_oracle_judges_each_kind_as_documented(order: OrderChoice, ids: list[str]) -> None:
    model = _full_upload(ids)
    for choice in every_kind_of(order):
        ordering = choice.any(ids, FOREIGN)
        expectation = model.expect_complete("u1", ordering.part_ids, None, 1)
        if ordering.kind in {OrderingKind.FOREIGN, OrderingKind.UNKNOWN}:
            assert (expectation.verdict, expectation.requirement) == (
                Verdict.REFUSE, "COMPLETE-FOREIGN-PART")
        elif ordering.kind in VALID_KINDS and ids:
            assert expectation.verdict is Verdict.ACCEPT
        else:  # subsets, duplicates, the empty list: open, or short of the declared bytes
            assert expectation.verdict is not Verdict.ACCEPT


@REPRO
@given(ORDER_CHOICES, part_id_lists)
def test_an_unknown_id_is_slipped_into_a_valid_ordering(order: OrderChoice,
                                                        ids: list[str]) -> None:
    ordering = order.with_unknown(order.valid(ids))
    assert ordering.kind is OrderingKind.UNKNOWN
    strangers = [p for p in ordering.part_ids if p not in ids]
    assert len(strangers) == 1 and len(ordering.part_ids) == len(ids) + 1


@REPRO
@given(ORDER_CHOICES, st.integers(0, 3))
def test_an_unknown_id_is_never_an_issued_one(order: OrderChoice, clashes: int) -> None:
    """The unknown ID is drawn blind to the issued ones: when it clashes with one (of the
    upload's or another's), what is sent is still unknown."""
    taken = [order.unknown + "0" * i for i in range(clashes + 1)]
    ids, foreign = ["part_a", *taken[:-1]], [taken[-1]]
    valid = order.valid(ids)
    check_shape(order.with_unknown(valid), valid.part_ids, [])
    readings = [choice.any(ids, foreign) for choice in every_kind_of(order)]
    unknowns = [o for o in readings if o.kind is OrderingKind.UNKNOWN]
    assert unknowns
    for ordering in unknowns:
        check_shape(ordering, ids, foreign)


def test_orderings_shrink_to_the_identity() -> None:
    ids = ["part_a", "part_b", "part_c", "part_d"]
    smallest = find(ORDER_CHOICES, lambda o: True, settings=NO_DB)
    assert smallest.any(ids, FOREIGN) == Ordering(OrderingKind.IDENTITY, ids)
    assert smallest.valid(ids) == Ordering(OrderingKind.IDENTITY, ids)
    # Where a shuffle shrinks to: sort keys all 0 (the identity), so it is rotated instead.
    shuffled = replace(smallest, kind=VALID_KINDS.index(OrderingKind.SHUFFLED)).valid(ids)
    assert shuffled == Ordering(OrderingKind.SHUFFLED, [*ids[1:], ids[0]])
