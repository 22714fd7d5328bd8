"""Sizes and size plans: limits respected, sums exact, boundaries reachable, small shrinks."""

from __future__ import annotations

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.api import PART_LIMIT, UPLOAD_LIMIT
from strategies.sizes import (
    SIZE_CHOICES,
    SizeChoice,
    declared_sizes,
    oversized_part_sizes,
    part_sizes,
    size_plans,
    size_plans_for_total,
    split_evenly,
)

REPRO = settings(derandomize=True)  # the same examples every run
NO_DB = settings(database=None, max_examples=2000, derandomize=True)  # find(), reproducibly
FOUND = settings(NO_DB, phases=[Phase.generate])  # is one there? (no shrinking needed)


def test_the_documented_limits() -> None:
    assert PART_LIMIT == 67_108_864
    assert UPLOAD_LIMIT == 8_589_934_592


@st.composite
def plan_requests(draw: st.DrawFn) -> tuple[int, int, int]:
    max_part = draw(st.sampled_from((1, 2, 7, 64, 1000, PART_LIMIT)))
    max_parts = draw(st.integers(1, 10))
    total = draw(st.integers(0, max_part * max_parts))
    return total, max_part, max_parts


@REPRO
@given(st.data(), plan_requests())
def test_a_plan_sums_to_its_total_within_the_limits(
    data: st.DataObject, request: tuple[int, int, int]
) -> None:
    total, max_part, max_parts = request
    plan = data.draw(size_plans(total, max_part, max_parts))
    assert sum(plan) == total
    assert len(plan) <= max_parts
    assert all(1 <= size <= max_part for size in plan)


@REPRO
@given(size_plans_for_total(10 * PART_LIMIT, max_parts=12))
def test_a_plan_with_a_drawn_total_respects_the_part_limit(plan: list[int]) -> None:
    assert 1 <= sum(plan) <= 10 * PART_LIMIT
    assert all(1 <= size <= PART_LIMIT for size in plan)


def test_an_impossible_plan_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        size_plans(100, max_part=10, max_parts=9)


def test_a_zero_total_is_the_empty_plan() -> None:
    assert find(size_plans(0), lambda plan: True) == []


@REPRO
@given(part_sizes(), declared_sizes(), oversized_part_sizes())
def test_sizes_stay_on_their_side_of_the_limits(part: int, declared: int, oversized: int) -> None:
    assert 1 <= part <= PART_LIMIT
    assert 1 <= declared <= UPLOAD_LIMIT
    assert oversized > PART_LIMIT


@pytest.mark.parametrize("boundary", [1, PART_LIMIT - 1, PART_LIMIT])
def test_part_sizes_reach_the_boundaries(boundary: int) -> None:
    assert find(part_sizes(), lambda size: size == boundary, settings=NO_DB) == boundary


def test_declared_sizes_reach_8_gib() -> None:
    assert find(declared_sizes(), lambda size: size == UPLOAD_LIMIT, settings=NO_DB)


def test_small_maxima_are_honoured() -> None:
    assert find(part_sizes(max_size=3), lambda size: size >= 3, settings=NO_DB) == 3


def test_sizes_shrink_to_the_smallest_allowed() -> None:
    assert find(part_sizes(), lambda size: True, settings=NO_DB) == 1
    assert find(oversized_part_sizes(), lambda size: True, settings=NO_DB) == PART_LIMIT + 1
    # 1001, or the boundary 4095 next to it: one shrink step cannot leave a boundary.
    assert find(declared_sizes(), lambda size: size > 1000, settings=NO_DB) in (1001, 4095)


def test_plans_shrink_to_full_parts_then_the_remainder() -> None:
    plan = find(size_plans(200, max_part=64), lambda plan: True, settings=NO_DB)
    assert len(plan) == 4  # the fewest parts that can carry 200 bytes
    plan = find(size_plans(1000, max_part=1000), lambda plan: len(plan) >= 2, settings=NO_DB)
    assert plan == [999, 1]


def test_plans_with_a_drawn_total_shrink_to_few_bytes() -> None:
    plan = find(size_plans_for_total(10**6, max_part=1000), lambda p: len(p) >= 3, settings=NO_DB)
    assert plan == [1, 1, 1]


@REPRO
@given(SIZE_CHOICES, st.integers(-64, 1 << 20))
def test_every_size_choice_gives_a_size_of_its_kind(size: SizeChoice, remaining: int) -> None:
    """Whatever the upload still needs, a choice reads as a size of its own kind, never
    negative: so the same draws make the same kind of part on any replay."""
    got, left = size.size(remaining), max(remaining, 0)
    if size.kind == 0:
        assert got == max(left, 1)  # all that remains (a byte when nothing does)
    elif size.kind == 1:
        assert 1 <= got <= max(left, 1)  # a share
    elif size.kind == 2:
        assert got == 0
    else:
        assert size.kind == 3 and left + 1 <= got <= left + 16


@REPRO
@given(SIZE_CHOICES, st.integers(-64, 0))
def test_the_machine_never_draws_a_negative_part_size(size: SizeChoice, remaining: int) -> None:
    """What `add_a_part` sends once an upload holds as much as or more than it declared
    (remaining = declared - added <= 0), which a correct target may cause."""
    assert 0 <= size.size(remaining) <= 16, f"{size} read against {remaining} bytes"


@pytest.mark.parametrize("kind", range(4))
def test_every_kind_of_next_part_is_generated(kind: int) -> None:
    assert find(SIZE_CHOICES, lambda size: size.kind == kind, settings=FOUND).kind == kind


@pytest.mark.parametrize("wanted", [1, 5, 10])
def test_a_share_reaches_every_size_that_fits(wanted: int) -> None:
    share = find(SIZE_CHOICES, lambda size: size.kind == 1 and size.size(10) == wanted,
                 settings=FOUND)
    assert share.size(10) == wanted


def test_the_next_part_shrinks_to_all_that_remains() -> None:
    assert find(SIZE_CHOICES, lambda size: True, settings=NO_DB).size(10) == 10


@REPRO
@given(st.integers(1, 10_000), st.integers(1, 8))
def test_split_evenly_adds_up(total: int, count: int) -> None:
    sizes = split_evenly(total, count)
    assert len(sizes) == count and sum(sizes) == total and max(sizes) - min(sizes) <= 1
