"""A history of concurrent operations drawn for a person: one line per operation.

`rows` draws each operation (a finding carries them); `render_text` aligns them for a
Markdown code block, and report.html's template lays the same rows out as a table. Times
are milliseconds after the first call; each operation's interval is a bar over a fixed
width, so overlaps can be seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.linearizability import Operation

__all__ = ["Row", "render_text", "rows", "timeline"]

BAR_WIDTH = 40
NO_ANSWER = "no answer"

Describe = Callable[[Operation[Any, Any]], str]


@dataclass(frozen=True, slots=True)
class Row:
    """One operation of a timeline, drawn: what a finding carries into every report."""

    index: int
    called_ms: str
    returned_ms: str
    bar: str
    text: str
    marked: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


def _bar(start: int, end: int | None, width: int) -> str:
    if end is None:  # no answer: open to the right edge, it may have taken effect any time
        return " " * start + "[" + "~" * (width - start - 1)
    if end == start:  # shorter than one column
        return " " * start + "*" + " " * (width - start - 1)
    return " " * start + "[" + "=" * (end - start - 1) + "]" + " " * (width - end - 1)


def rows(operations: Sequence[Operation[Any, Any]], describe: Describe, *,
         marked: Collection[int] = (), width: int = BAR_WIDTH) -> list[Row]:
    """The operations in call order, each with its interval drawn over `width` columns."""
    ops = sorted(operations, key=lambda op: (op.called, op.index))
    if not ops:
        return []
    first = ops[0].called
    last = max(max(op.called for op in ops),
               max((op.returned for op in ops if op.returned is not None), default=first))
    span = (last - first) or 1.0  # one instant: every bar starts at the left edge

    def column(t: float) -> int:
        return min(width - 1, round((t - first) / span * (width - 1)))

    return [
        Row(
            index=op.index,
            called_ms=f"{(op.called - first) * 1000:.1f}",
            returned_ms=NO_ANSWER if op.returned is None else f"{(op.returned - first) * 1000:.1f}",
            bar=_bar(column(op.called), None if op.returned is None else column(op.returned),
                     width),
            text=describe(op),
            marked=op.index in marked,
        )
        for op in ops
    ]


def timeline(operations: Sequence[Operation[Any, Any]], describe: Describe, *,
             marked: Collection[int] = (), width: int = BAR_WIDTH) -> str:
    """Plain text, one line per operation in call order; `marked` ones start with "!"."""
    return render_text(rows(operations, describe, marked=marked, width=width))


def render_text(drawn: Sequence[Row]) -> str:
    """Rows as aligned plain text, for a Markdown code block or a console."""
    if not drawn:
        return "(no operations)"
    width = len(drawn[0].bar)
    index_w = max(len("#"), *(len(str(r.index)) for r in drawn))
    called_w = max(len("call ms"), *(len(r.called_ms) for r in drawn))
    returned_w = max(len("return ms"), *(len(r.returned_ms) for r in drawn))
    lines = [f"  {'#':>{index_w}}  {'call ms':>{called_w}}  {'return ms':>{returned_w}}  "
             f"|{' ' * width}|  operation"]
    for r in drawn:
        flag = "!" if r.marked else " "
        lines.append(f"{flag} {r.index:>{index_w}}  {r.called_ms:>{called_w}}  "
                     f"{r.returned_ms:>{returned_w}}  |{r.bar}|  {r.text}")
    return "\n".join(lines)
