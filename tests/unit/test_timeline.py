"""The timeline a report shows of a concurrent history."""

from __future__ import annotations

from typing import Any

from conformance.linearizability import Operation
from conformance.timeline import timeline

WIDTH = 11  # one column per millisecond over the 10 ms the histories span


def op(index: int, text: str, called: float, returned: float | None) -> Operation[str, str]:
    return Operation(index, text, None if returned is None else "ok", called, returned)


def text(o: Operation[Any, Any]) -> str:
    return f"{o.input} -> {o.output or 'no answer'}"


# Times in seconds as time.monotonic() gives them: far from zero.
HISTORY = [
    op(1, "cancel", 100.002, None),
    op(0, "complete", 100.000, 100.010),
    op(2, "add part", 100.004, 100.004),
]


def bars(rendered: str) -> list[str]:
    return [line.split("|")[1] for line in rendered.splitlines()[1:]]


def test_one_line_per_operation_in_call_order_with_offsets_in_ms() -> None:
    lines = timeline(HISTORY, text, width=WIDTH).splitlines()
    assert len(lines) == 4
    assert lines[0].split() == ["#", "call", "ms", "return", "ms", "|", "|", "operation"]
    assert lines[1].split()[:3] == ["0", "0.0", "10.0"]
    assert lines[2].split()[:4] == ["1", "2.0", "no", "answer"]
    assert lines[3].split()[:3] == ["2", "4.0", "4.0"]
    assert lines[1].endswith("complete -> ok")
    assert lines[2].endswith("cancel -> no answer")


def test_bars_show_each_interval_over_a_fixed_width() -> None:
    assert bars(timeline(HISTORY, text, width=WIDTH)) == [
        "[=========]",  # 0 to 10 ms: the whole span
        "  [~~~~~~~~",  # from 2 ms, open to the right: no answer
        "    *      ",  # an instant at 4 ms
    ]
    assert all(len(b) == 40 for b in bars(timeline(HISTORY, text)))


def test_marked_operations_are_flagged() -> None:
    lines = timeline(HISTORY, text, marked={2}).splitlines()
    assert [line[0] for line in lines[1:]] == [" ", " ", "!"]


def test_a_history_at_one_instant_and_an_empty_one() -> None:
    same = [op(0, "a", 5.0, 5.0), op(1, "b", 5.0, None)]
    assert bars(timeline(same, text, width=4)) == ["*   ", "[~~~"]
    assert timeline([], text) == "(no operations)"
