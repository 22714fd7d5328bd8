"""Lifecycles: well-formed scripts whose post-end steps name a catalog requirement."""

from __future__ import annotations

from hypothesis import find, given

from conformance.requirements import CATALOG
from strategies.lifecycles import Lifecycle, LifecycleStep, lifecycles, requirement_after


@given(lifecycles())
def test_a_lifecycle_is_create_parts_end_then_after(lifecycle: Lifecycle) -> None:
    steps = lifecycle.steps
    parts = len(lifecycle.part_sizes)
    assert steps[0] is LifecycleStep.CREATE
    assert steps[1 : 1 + parts] == [LifecycleStep.ADD_PART] * parts
    assert steps[1 + parts] is lifecycle.ending in (LifecycleStep.COMPLETE, LifecycleStep.CANCEL)
    assert steps[2 + parts :] == list(lifecycle.after)
    assert lifecycle.declared_bytes == sum(lifecycle.part_sizes) >= 1
    assert all(1 <= size <= 64 * 1024 for size in lifecycle.part_sizes)
    for step in lifecycle.after:
        assert requirement_after(lifecycle.ending, step) in CATALOG


def test_lifecycles_shrink_to_one_byte_completed() -> None:
    assert find(lifecycles(), lambda lifecycle: True) == Lifecycle((1,), LifecycleStep.COMPLETE)
