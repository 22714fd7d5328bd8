"""Orderings: each kind has its stated shape, and the oracle judges each kind as documented."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.model import Model, Part, Verdict
from strategies.orderings import (
    Ordering,
    OrderingKind,
    orderings,
    unknown_part_ids,
    valid_orderings,
    with_an_unknown_id,
)

NO_DB = settings(database=None, max_examples=2000, derandomize=True)  # find(), reproducibly
part_id_lists = st.lists(
    st.text("abcdef0123456789", min_size=1, max_size=6).map(lambda s: "part_" + s),
    max_size=6,
    unique=True,
)
FOREIGN = ["part_foreign1", "part_foreign2"]


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


@given(st.data(), part_id_lists, st.booleans())
def test_each_kind_has_its_shape(data: st.DataObject, ids: list[str], with_foreign: bool) -> None:
    foreign = FOREIGN if with_foreign else []
    ordering = data.draw(orderings(ids, foreign))
    check_shape(ordering, ids, foreign)
    if not foreign:
        assert ordering.kind is not OrderingKind.FOREIGN


@given(st.data(), part_id_lists)
def test_valid_orderings_are_permutations(data: st.DataObject, ids: list[str]) -> None:
    ordering = data.draw(valid_orderings(ids))
    assert sorted(ordering.part_ids) == sorted(ids)
    assert ordering.kind in {OrderingKind.IDENTITY, OrderingKind.REVERSED, OrderingKind.SHUFFLED}


@pytest.mark.parametrize("kind", list(OrderingKind))
def test_every_kind_is_generated(kind: OrderingKind) -> None:
    ids = ["part_a", "part_b", "part_c"]
    found = find(orderings(ids, FOREIGN), lambda o: o.kind is kind, settings=NO_DB)
    check_shape(found, ids, FOREIGN)


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


@given(st.data(), part_id_lists)
def test_the_oracle_judges_each_kind_as_documented(data: st.DataObject, ids: list[str]) -> None:
    ordering = data.draw(orderings(ids, FOREIGN))
    expectation = _full_upload(ids).expect_complete("u1", ordering.part_ids, None, 1)
    if ordering.kind in {OrderingKind.FOREIGN, OrderingKind.UNKNOWN}:
        assert (expectation.verdict, expectation.requirement) == (
            Verdict.REFUSE, "COMPLETE-FOREIGN-PART")
    elif ordering.kind in {OrderingKind.IDENTITY, OrderingKind.REVERSED,
                           OrderingKind.SHUFFLED} and ids:
        assert expectation.verdict is Verdict.ACCEPT
    else:  # subsets, duplicates, the empty list: left open, or short of the declared bytes
        assert expectation.verdict is not Verdict.ACCEPT


@given(st.data(), part_id_lists)
def test_an_unknown_id_is_slipped_into_a_valid_ordering(data: st.DataObject,
                                                        ids: list[str]) -> None:
    ordering = data.draw(with_an_unknown_id(data.draw(valid_orderings(ids))))
    assert ordering.kind is OrderingKind.UNKNOWN
    strangers = [p for p in ordering.part_ids if p not in ids]
    assert len(strangers) == 1 and len(ordering.part_ids) == len(ids) + 1


@given(unknown_part_ids(avoid=["part_" + "a" * 24, "part_"]))
def test_unknown_ids_avoid_the_issued_ones(part_id: str) -> None:
    assert part_id not in {"part_" + "a" * 24, "part_"}


def test_duplicate_inputs_are_refused() -> None:
    with pytest.raises(InvalidArgument):
        find(orderings(["part_a", "part_a"]), lambda o: True)


def test_orderings_shrink_to_the_identity() -> None:
    ids = ["part_a", "part_b", "part_c", "part_d"]
    assert find(orderings(ids), lambda o: True, settings=NO_DB) == Ordering(
        OrderingKind.IDENTITY, ids
    )
    shuffled = find(valid_orderings(ids), lambda o: o.kind is OrderingKind.SHUFFLED)
    assert shuffled.part_ids != ids
