"""The machine's indexes: `pick` reads any index against any list, the same way each time."""

from __future__ import annotations

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from conformance.choices import INDEXES, pick

NO_DB = settings(database=None, max_examples=2000, derandomize=True)  # find(), reproducibly
FOUND = settings(NO_DB, phases=[Phase.generate])  # is one there? (no shrinking needed)


@settings(derandomize=True)
@given(st.integers(), st.lists(st.integers(), max_size=300))
def test_pick_is_total(index: int, items: list[int]) -> None:
    """Any index, even outside INDEXES, stands for one item of any list, or for none of an
    empty one: a step never fails for the state it finds."""
    got = pick(items, index)
    if items:
        assert got == items[index % len(items)]
    else:
        assert got is None
    assert pick(items, index) == got  # a pure reading


@pytest.mark.parametrize("length", [1, 7, 256])
def test_every_item_can_be_picked(length: int) -> None:
    items = list(range(length))
    assert pick(items, find(INDEXES, lambda i: pick(items, i) == length - 1,
                            settings=FOUND)) == length - 1


def test_indexes_shrink_to_the_first_item() -> None:
    assert pick(["u1", "u2", "u3"], find(INDEXES, lambda i: True, settings=NO_DB)) == "u1"
