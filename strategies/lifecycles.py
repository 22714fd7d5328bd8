"""Lifecycles: short scripts of one upload's life, for example-based sequence tests.

A lifecycle creates an upload, adds its parts, ends it by completion or cancel, then tries
a few operations on the ended upload, every one of which the documentation constrains.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hypothesis import strategies as st

from strategies.sizes import size_plans_for_total

__all__ = ["Lifecycle", "LifecycleStep", "lifecycles", "requirement_after"]


class LifecycleStep(StrEnum):
    CREATE = "create"
    ADD_PART = "add_part"
    COMPLETE = "complete"
    CANCEL = "cancel"


_ENDINGS = (LifecycleStep.COMPLETE, LifecycleStep.CANCEL)
_AFTER_END = (LifecycleStep.ADD_PART, LifecycleStep.COMPLETE, LifecycleStep.CANCEL)

# The requirement an operation on an ended upload exercises: all are refusals, except a
# second cancel, which the documentation leaves open.
_REQUIREMENT_AFTER = {
    (LifecycleStep.COMPLETE, LifecycleStep.ADD_PART): "PART-AFTER-END",
    (LifecycleStep.COMPLETE, LifecycleStep.COMPLETE): "COMPLETE-STATE",
    (LifecycleStep.COMPLETE, LifecycleStep.CANCEL): "CANCEL-STATE",
    (LifecycleStep.CANCEL, LifecycleStep.ADD_PART): "PART-AFTER-END",
    (LifecycleStep.CANCEL, LifecycleStep.COMPLETE): "COMPLETE-STATE",
    (LifecycleStep.CANCEL, LifecycleStep.CANCEL): "OPEN-CANCEL-TWICE",
}


def requirement_after(ending: LifecycleStep, step: LifecycleStep) -> str:
    """The requirement ID that `step`, tried after the upload ended by `ending`, checks."""
    return _REQUIREMENT_AFTER[ending, step]


@dataclass(frozen=True)
class Lifecycle:
    """Create an upload of sum(part_sizes) bytes, add the parts in order, end it, then
    try the `after` operations on the ended upload."""

    part_sizes: tuple[int, ...]
    ending: LifecycleStep  # COMPLETE (with the parts in order) or CANCEL
    after: tuple[LifecycleStep, ...] = ()

    @property
    def declared_bytes(self) -> int:
        return sum(self.part_sizes)

    @property
    def steps(self) -> list[LifecycleStep]:
        """The whole script, in order."""
        parts = [LifecycleStep.ADD_PART] * len(self.part_sizes)
        return [LifecycleStep.CREATE, *parts, self.ending, *self.after]


def lifecycles(
    max_bytes: int = 64 * 1024, max_parts: int = 4, max_after: int = 3
) -> st.SearchStrategy[Lifecycle]:
    """Small lifecycles; shrinks to create, one 1-byte part, complete."""
    return st.builds(
        Lifecycle,
        part_sizes=size_plans_for_total(max_bytes, max_part=max_bytes, max_parts=max_parts).map(
            tuple
        ),
        ending=st.sampled_from(_ENDINGS),
        after=st.lists(st.sampled_from(_AFTER_END), max_size=max_after).map(tuple),
    )
