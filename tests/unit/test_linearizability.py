"""The checker on classic histories of a register and a counter, whose answers are known."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.linearizability import Operation, Outcome, Result, check

OK = "ok"


class Register:
    """A register holding an int (0 at first): ("write", v) answers "ok", ("read",) a value."""

    def initial(self) -> int:
        return 0

    def step(self, state: int, input: tuple[Any, ...], output: Any) -> Iterable[int]:
        if input[0] == "write":
            return (input[1],) if output in (OK, None) else ()
        return (state,) if output is None or output == state else ()


class Counter:
    """("inc",) adds one; ("grow",) adds one or two, the answer does not say (nondeterminism);
    ("read",) answers the count."""

    def initial(self) -> int:
        return 0

    def step(self, state: int, input: tuple[Any, ...], output: Any) -> Iterable[int]:
        if input[0] == "inc":
            return (state + 1,)
        if input[0] == "grow":
            return (state + 1, state + 2)
        return (state,) if output is None or output == state else ()


def op(index: int, input: tuple[Any, ...], output: Any, called: float,
       returned: float | None) -> Operation[tuple[Any, ...], Any]:
    return Operation(index, input, output, called, returned)


def write(i: int, v: int, called: float, returned: float | None) -> Operation[Any, Any]:
    return op(i, ("write", v), None if returned is None else OK, called, returned)


def read(i: int, v: int, called: float, returned: float) -> Operation[Any, Any]:
    return op(i, ("read",), v, called, returned)


def inc(i: int, called: float, returned: float | None, kind: str = "inc") -> Operation[Any, Any]:
    return op(i, (kind,), None if returned is None else OK, called, returned)


def assert_witness(result: Result, history: list[Operation[Any, Any]], spec: Any) -> None:
    """The order given for a pass respects real time and replays through the spec."""
    by_index = {o.index: o for o in history}
    answered = {o.index for o in history if o.returned is not None}
    assert answered <= set(result.order)
    position = {index: k for k, index in enumerate(result.order)}
    for a in result.order:
        for b in result.order:
            ra = by_index[a].returned
            if ra is not None and ra < by_index[b].called:
                assert position[a] < position[b]
    states = {spec.initial()}
    for index in result.order:
        o = by_index[index]
        states = {after for s in states for after in spec.step(s, o.input, o.output)}
        assert states, f"the witness fails at operation {index}"


# --- a register ---------------------------------------------------------------------------

def test_sequential_write_then_read_is_linearizable() -> None:
    history = [write(0, 1, 0, 1), read(1, 1, 2, 3)]
    result = check(history, Register())
    assert result.outcome is Outcome.LINEARIZABLE and result.linearizable
    assert result.order == (0, 1)
    assert result.stuck == ()


def test_a_read_of_a_value_written_after_it_returned_is_not_linearizable() -> None:
    history = [read(0, 1, 0, 1), write(1, 1, 2, 3)]
    result = check(history, Register())
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert not result.linearizable
    assert result.order == ()  # nothing can come first: the read must, and cannot
    assert result.stuck == (0,)
    assert "not linearizable" in result.explanation


@pytest.mark.parametrize("seen", [1, 2])
def test_overlapping_writes_may_take_effect_in_either_order(seen: int) -> None:
    history = [write(0, 1, 0, 10), write(1, 2, 1, 9), read(2, seen, 11, 12)]
    result = check(history, Register())
    assert result.outcome is Outcome.LINEARIZABLE
    assert result.order[-1] == 2
    assert_witness(result, history, Register())


def test_overlapping_writes_cannot_explain_a_value_nobody_wrote() -> None:
    history = [write(0, 1, 0, 10), write(1, 2, 1, 9), read(2, 3, 11, 12)]
    result = check(history, Register())
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert result.stuck == (2,)
    assert set(result.order) == {0, 1}  # the longest prefix: both writes


def test_real_time_order_is_respected() -> None:
    # Reading 0 is explained only by putting the read before the write, which returned
    # before the read was called.
    late = [write(0, 1, 0, 1), read(1, 0, 2, 3)]
    assert check(late, Register()).outcome is Outcome.NOT_LINEARIZABLE
    overlapping = [write(0, 1, 0, 2.5), read(1, 0, 2, 3)]
    result = check(overlapping, Register())
    assert result.outcome is Outcome.LINEARIZABLE
    assert result.order == (1, 0)


def test_two_reads_cannot_see_the_writes_in_opposite_orders() -> None:
    history = [write(0, 1, 0, 10), write(1, 2, 0, 10),
               read(2, 1, 1, 2), read(3, 2, 3, 4), read(4, 1, 5, 6)]
    assert check(history, Register()).outcome is Outcome.NOT_LINEARIZABLE


# --- nondeterminism and unanswered requests --------------------------------------------

@pytest.mark.parametrize(("seen", "outcome"), [
    (1, Outcome.LINEARIZABLE), (2, Outcome.LINEARIZABLE), (3, Outcome.NOT_LINEARIZABLE),
])
def test_a_nondeterministic_step_allows_each_of_its_states(seen: int, outcome: Outcome) -> None:
    history = [inc(0, 0, 1, kind="grow"), read(1, seen, 2, 3)]
    assert check(history, Counter()).outcome is outcome


@pytest.mark.parametrize("seen", [0, 1])
def test_an_unanswered_write_may_or_may_not_have_taken_effect(seen: int) -> None:
    history = [write(0, 1, 0, None), read(1, seen, 1, 2)]
    result = check(history, Register())
    assert result.outcome is Outcome.LINEARIZABLE
    assert (0 in result.order) == (seen == 1)


def test_an_unanswered_write_may_take_effect_long_after_its_call() -> None:
    history = [write(0, 1, 0, None), read(1, 0, 5, 6), read(2, 1, 7, 8)]
    result = check(history, Register())
    assert result.outcome is Outcome.LINEARIZABLE
    assert result.order == (1, 0, 2)


def test_an_unanswered_write_cannot_be_undone() -> None:
    history = [write(0, 1, 0, None), read(1, 1, 5, 6), read(2, 0, 7, 8)]
    result = check(history, Register())
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert result.stuck == (2,)


def test_an_unanswered_increment_takes_effect_at_most_once() -> None:
    once = [inc(0, 0, None), read(1, 1, 5, 6)]
    assert check(once, Counter()).outcome is Outcome.LINEARIZABLE
    twice = [inc(0, 0, None), read(1, 1, 5, 6), read(2, 2, 7, 8)]
    result = check(twice, Counter())
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert result.order == (0, 1)
    assert result.stuck == (2,)


def test_an_unanswered_operation_orders_nothing_after_it() -> None:
    # Without an answer there is no return time: a later call may still come before it.
    history = [write(0, 5, 0, None), write(1, 7, 3, 4), read(2, 5, 5, 6)]
    result = check(history, Register())
    assert result.outcome is Outcome.LINEARIZABLE
    assert result.order == (1, 0, 2)


# --- the budget, and the edges -----------------------------------------------------------

def test_an_exhausted_budget_gives_unknown_never_a_pass() -> None:
    # 18 concurrent increments and a read no order explains: the search must try every
    # subset of the increments before it can say so.
    history = [inc(i, 0, 10) for i in range(18)] + [read(18, 100, 0, 10)]
    result = check(history, Counter(), budget_s=0)
    assert result.outcome is Outcome.UNKNOWN
    assert not result.linearizable
    assert result.stuck == ()
    assert "budget" in result.explanation


def test_memoization_decides_the_same_history_quickly() -> None:
    # 12! orders of the increments, but only 2**12 sets of them: each set is one state.
    history = [inc(i, 0, 10) for i in range(12)] + [read(12, 100, 0, 10)]
    result = check(history, Counter(), budget_s=10)
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert result.stuck == (12,)
    assert len(result.order) == 12
    assert result.steps < 2**12 * 14


def test_an_empty_history_is_linearizable() -> None:
    assert check([], Register()).outcome is Outcome.LINEARIZABLE


def test_a_history_of_unanswered_operations_only_is_linearizable() -> None:
    result = check([write(0, 1, 0, None), write(1, 2, 0, None)], Register())
    assert result.outcome is Outcome.LINEARIZABLE


def test_indices_are_kept_not_positions() -> None:
    history = [read(7, 1, 2, 3), write(3, 1, 0, 1)]
    assert check(history, Register()).order == (3, 7)


def test_repeated_indices_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        check([write(0, 1, 0, 1), read(0, 1, 2, 3)], Register())


@pytest.mark.parametrize(("output", "returned"), [(OK, None), (None, 1.0)])
def test_half_an_answer_is_refused(output: Any, returned: float | None) -> None:
    with pytest.raises(ValueError, match="both"):
        Operation(0, ("write", 1), output, 0.0, returned)


def test_a_return_before_the_call_is_refused() -> None:
    with pytest.raises(ValueError, match="before"):
        Operation(0, ("write", 1), OK, 2.0, 1.0)


# --- properties ---------------------------------------------------------------------------

register_inputs = st.one_of(st.tuples(st.just("write"), st.integers(0, 3)),
                            st.tuples(st.just("read")))


def run_sequentially(inputs: list[tuple[Any, ...]]) -> list[Operation[Any, Any]]:
    """A history a correct register gives, one operation after another in time."""
    value, history = 0, []
    for i, input in enumerate(inputs):
        if input[0] == "write":
            value, output = input[1], OK
        else:
            output = value
        history.append(op(i, input, output, 2 * i, 2 * i + 1))
    return history


@given(st.lists(register_inputs, max_size=12))
def test_a_sequential_run_is_linearizable(inputs: list[tuple[Any, ...]]) -> None:
    history = run_sequentially(inputs)
    result = check(history, Register())
    assert result.outcome is Outcome.LINEARIZABLE
    assert result.order == tuple(range(len(history)))


@given(st.lists(register_inputs, min_size=1, max_size=10), st.data())
def test_widening_intervals_keeps_a_history_linearizable(
        inputs: list[tuple[Any, ...]], data: st.DataObject) -> None:
    history = [
        replace(o, called=o.called - data.draw(st.integers(0, 6)),
                returned=(o.returned or 0) + data.draw(st.integers(0, 6)))
        for o in run_sequentially(inputs)
    ]
    result = check(history, Register())
    assert result.outcome is Outcome.LINEARIZABLE
    assert_witness(result, history, Register())


@given(st.lists(register_inputs, min_size=1, max_size=10), st.data())
def test_a_wrong_read_in_a_sequential_run_is_caught(
        inputs: list[tuple[Any, ...]], data: st.DataObject) -> None:
    history = run_sequentially([*inputs, ("read",)])
    last = history[-1]
    wrong = data.draw(st.integers(0, 4).filter(lambda v: v != last.output))
    history[-1] = replace(last, output=wrong)
    result = check(history, Register())
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert result.stuck == (last.index,)
    assert result.order == tuple(range(len(history) - 1))
