"""Whether a concurrent history of operations can be explained by one sequential order.

`check` searches for an order of the operations that respects real time (an operation that
returned before another was called comes first) and that a sequential `Specification`
accepts, answer by answer: Wing & Gong's search with Lowe's memoization, as in Knossos and
porcupine. It knows nothing of uploads; `upload_spec.py` is one specification.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["Operation", "Outcome", "Result", "Specification", "check"]

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
StateT = TypeVar("StateT", bound=Hashable)  # hashable: the search remembers states
_InputT_contra = TypeVar("_InputT_contra", contravariant=True)
_OutputT_contra = TypeVar("_OutputT_contra", contravariant=True)

_CLOCK_EVERY = 256  # steps between two looks at the clock: a look costs more than a step


@dataclass(frozen=True, slots=True)
class Operation(Generic[InputT, OutputT]):
    """One request of a history and what came of it.

    `output` and `returned` are both None when no answer came (a timeout, a reset): such an
    operation may or may not have taken effect, at any time after it was called. Times are
    `time.monotonic()` seconds.
    """

    index: int
    input: InputT
    output: OutputT | None
    called: float
    returned: float | None

    def __post_init__(self) -> None:
        # Half an answer (a time without an output, or the reverse) would be read two ways.
        if (self.output is None) != (self.returned is None):
            raise ValueError(f"operation {self.index}: output and returned must both be None "
                             "(no answer) or both be set")
        if self.returned is not None and self.returned < self.called:
            raise ValueError(f"operation {self.index} returned before it was called")

    @property
    def answered(self) -> bool:
        return self.returned is not None


class Specification(Protocol[StateT, _InputT_contra, _OutputT_contra]):
    """A sequential model of the system: its first state, and what one operation may do."""

    def initial(self) -> StateT:
        """The state before the first operation."""
        ...

    def step(self, state: StateT, input: _InputT_contra,
             output: _OutputT_contra | None) -> Iterable[StateT]:
        """The states the system may be in after `input` was applied in `state` and answered
        `output`: none when that answer is impossible there, several when the answer leaves
        the outcome open. `output` None: no answer came; the states if it took effect (the
        checker itself also lets it never take effect)."""
        ...


class Outcome(enum.Enum):
    LINEARIZABLE = "linearizable"
    NOT_LINEARIZABLE = "not linearizable"
    UNKNOWN = "unknown"  # the time budget ran out: never a pass


@dataclass(frozen=True, slots=True)
class Result:
    """What `check` found.

    `order`: the operation indices in a witnessing order when linearizable; otherwise the
    longest order found that explains every answer in it. `stuck` (a failure only): the
    operations that could come next after that order but whose answers no state explains.
    """

    outcome: Outcome
    order: tuple[int, ...]
    stuck: tuple[int, ...]
    explanation: str
    steps: int = 0

    @property
    def linearizable(self) -> bool:
        return self.outcome is Outcome.LINEARIZABLE


@dataclass(slots=True)
class _Frame(Generic[StateT]):
    done: int  # bitmask over positions: the operations linearized so far
    state: StateT
    successors: Iterator[tuple[int, StateT]]


def check(operations: Sequence[Operation[InputT, OutputT]],
          spec: Specification[StateT, InputT, OutputT], *, budget_s: float = 5.0) -> Result:
    """Whether some order of `operations`, consistent with real time, explains every answer.

    Unanswered operations may be left out of the order (they never took effect). Gives
    `Outcome.UNKNOWN` when `budget_s` seconds (monotonic) pass before the search ends.
    """
    ops = sorted(operations, key=lambda op: (op.called, op.index))
    if len({op.index for op in ops}) != len(ops):
        raise ValueError("operation indices must be unique")
    n = len(ops)
    # must_precede[p]: positions that returned before position p was called.
    must_precede = [
        sum(1 << q for q, other in enumerate(ops)
            if other.returned is not None and other.returned < op.called)
        for op in ops
    ]
    answered = sum(1 << p for p, op in enumerate(ops) if op.answered)
    deadline = time.monotonic() + budget_s

    def successors(done: int, state: StateT) -> Iterator[tuple[int, StateT]]:
        # Positions are in call order, so the earliest-called candidates are tried first:
        # the order a well-behaved server most likely followed.
        for p in range(n):
            if not (done >> p) & 1 and (must_precede[p] & ~done) == 0:
                for after in spec.step(state, ops[p].input, ops[p].output):
                    yield p, after

    start = spec.initial()
    visited: set[tuple[int, StateT]] = {(0, start)}
    stack: list[_Frame[StateT]] = [_Frame(0, start, successors(0, start))]
    path: list[int] = []  # path[k]: the position linearized at depth k
    best: tuple[tuple[int, ...], int, StateT] = ((), 0, start)  # longest path, its mask and state
    steps = 0

    def indices(positions: Iterable[int]) -> tuple[int, ...]:
        return tuple(ops[p].index for p in positions)

    while stack:
        frame = stack[-1]
        if (frame.done & answered) == answered:
            order = indices(path)
            return Result(Outcome.LINEARIZABLE, order, (),
                          f"linearizable: {len(order)} of {n} operations in order", steps)
        steps += 1
        if steps % _CLOCK_EVERY == 0 and time.monotonic() >= deadline:
            return Result(Outcome.UNKNOWN, indices(best[0]), (),
                          f"unknown: the {budget_s:g} s budget ran out after {steps} steps "
                          f"({len(best[0])} of {n} operations ordered at best)", steps)
        nxt = next(frame.successors, None)
        if nxt is None:
            stack.pop()
            if path:
                path.pop()
            continue
        position, after = nxt
        done = frame.done | 1 << position
        if (done, after) in visited:  # Lowe: the same ops done, the same state: seen it
            continue
        visited.add((done, after))
        path.append(position)
        stack.append(_Frame(done, after, successors(done, after)))
        if len(path) > len(best[0]):
            best = (tuple(path), done, after)

    prefix, done, state = best
    stuck = tuple(
        p for p in range(n)
        if ops[p].answered and not (done >> p) & 1 and (must_precede[p] & ~done) == 0
        and not any(True for _ in spec.step(state, ops[p].input, ops[p].output))
    )
    return Result(Outcome.NOT_LINEARIZABLE, indices(prefix), indices(stuck),
                  f"not linearizable: after {len(prefix)} of {n} operations in order, no state "
                  f"explains the answers of operations {list(indices(stuck))}", steps)
