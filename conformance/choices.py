"""Draws of a fixed shape, read against whatever state a step of the machine finds.

Hypothesis replays an example by replaying its draws. If what a step draws depended on the
target's answers (a list of uploads the target accepted, the bytes an upload still needs),
a target that answers a replay differently would change the shape of the draws and end the
exploration ("Inconsistent data generation"). So every draw has bounds of its own, and
the step maps it onto the state it finds: an index modulo the list's length (here), a size
as a share of what remains (`strategies.sizes.SizeChoice`), an ordering as sort keys over
the parts (`strategies.orderings.OrderChoice`), an md5 as one of four (`strategies.payloads.
md5_for`). A step that finds nothing to act on does nothing; the draws that follow it keep
their meaning.

Shrinking moves each draw towards 0: the first upload, all the remaining bytes, the
parts in the order they were added, no md5.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

INDEXES = st.integers(0, 255)  # an index into a list of the state's, modulo its length


def pick(items: Sequence[T], index: int) -> T | None:
    """The item `index` stands for (None when there are none)."""
    return items[index % len(items)] if items else None
