"""The upload's sequential rules, one step at a time and in the races the suite runs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.api import PART_LIMIT
from conformance.linearizability import Operation, Outcome, check
from conformance.upload_spec import (
    UNSEEN_PART_ID,
    AddPart,
    Answer,
    Cancel,
    Complete,
    UploadSpecification,
    UploadState,
    describe,
)

OK, REFUSED, FAILED = Answer(200), Answer(400), Answer(500)


def op(index: int, input: Any, answer: Answer | None, called: float,
       returned: float | None) -> Operation[Any, Answer]:
    return Operation(index, input, answer, called, None if answer is None else returned)


def part(index: int, size: int, answer: Answer | None, called: float,
         returned: float) -> Operation[Any, Answer]:
    return op(index, AddPart(size), answer, called, returned)


def pending(declared: int, *parts: tuple[str, int]) -> UploadState:
    return UploadState("pending", declared, tuple(parts))


def after(state: UploadState, input: Any, answer: Answer | None) -> list[UploadState]:
    return list(UploadSpecification(state.declared_bytes).step(state, input, answer))


# --- one step -----------------------------------------------------------------------------

def test_an_accepted_part_is_added_with_its_id() -> None:
    assert after(pending(10), AddPart(4), Answer(200, "p1")) == [pending(10, ("p1", 4))]


def test_a_part_within_the_declared_bytes_must_be_accepted() -> None:
    assert after(pending(10, ("p1", 4)), AddPart(6), REFUSED) == []


def test_a_part_past_the_declared_bytes_may_go_either_way() -> None:
    state = pending(10, ("p1", 8))
    assert after(state, AddPart(3), REFUSED) == [state]
    assert after(state, AddPart(3), Answer(201, "p2")) == [pending(10, ("p1", 8), ("p2", 3))]


def test_a_zero_byte_part_may_go_either_way() -> None:
    assert after(pending(10), AddPart(0), REFUSED) == [pending(10)]
    assert after(pending(10), AddPart(0), Answer(200, "p")) == [pending(10, ("p", 0))]


def test_a_part_over_64_mib_must_be_refused() -> None:
    state = pending(2 * PART_LIMIT)
    assert after(state, AddPart(PART_LIMIT + 1), Answer(200, "p")) == []
    assert after(state, AddPart(PART_LIMIT + 1), REFUSED) == [state]


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_an_ended_upload_takes_no_part(status: Any) -> None:
    state = UploadState(status, 10, (("p1", 4),))
    assert after(state, AddPart(1), Answer(200, "p2")) == []
    assert after(state, AddPart(1), REFUSED) == [state]


def test_an_unanswered_part_may_have_been_added_under_an_id_nobody_saw() -> None:
    assert after(pending(10), AddPart(4), None) == [pending(10),
                                                    pending(10, (f"{UNSEEN_PART_ID}0", 4))]
    assert after(pending(10), AddPart(4), FAILED) == after(pending(10), AddPart(4), None)


def test_a_valid_completion_must_be_accepted() -> None:
    state = pending(10, ("p1", 4), ("p2", 6))
    done = UploadState("completed", 10, state.parts, ("p2", "p1"))
    assert after(state, Complete(("p2", "p1")), OK) == [done]
    assert after(state, Complete(("p2", "p1")), REFUSED) == []


@pytest.mark.parametrize("listed", [("p1",), ("p1", "p3"), ("p2", "p2")])
def test_a_completion_whose_sizes_do_not_add_up_or_names_an_unknown_part_is_refused(
        listed: tuple[str, ...]) -> None:
    state = pending(10, ("p1", 4), ("p2", 6))
    assert after(state, Complete(listed), OK) == []
    assert after(state, Complete(listed), REFUSED) == [state]


@pytest.mark.parametrize(("state", "listed"), [
    (pending(10, ("p1", 5)), ("p1", "p1")),  # a part listed twice
    (pending(10, ("p1", 10), ("p2", 3)), ("p1",)),  # a subset of the parts
    (pending(0), ()),  # an empty upload
], ids=["twice", "subset", "empty"])
def test_the_open_completions_may_go_either_way(state: UploadState,
                                                 listed: tuple[str, ...]) -> None:
    assert after(state, Complete(listed), REFUSED) == [state]
    assert [s.status for s in after(state, Complete(listed), OK)] == ["completed"]


def test_the_md5_is_judged_when_the_right_one_is_known() -> None:
    state = pending(10, ("p1", 10))
    assert after(state, Complete(("p1",), md5="aa", right_md5="bb"), OK) == []
    assert after(state, Complete(("p1",), md5="aa", right_md5="aa"), REFUSED) == []
    assert after(state, Complete(("p1",), md5="AA", right_md5="aa"), REFUSED) == [state]
    assert after(state, Complete(("p1",), md5="aa"), REFUSED) == [state]
    assert len(after(state, Complete(("p1",), md5="aa"), OK)) == 1


def test_cancel_rules() -> None:
    cancelled = UploadState("cancelled", 10, ())
    completed = UploadState("completed", 10, (("p", 10),), ("p",))
    assert after(pending(10), Cancel(), OK) == [cancelled]
    assert after(pending(10), Cancel(), REFUSED) == []
    assert after(completed, Cancel(), OK) == []
    assert after(completed, Cancel(), REFUSED) == [completed]
    # docs/rules.md leaves cancelling a cancelled upload open.
    assert after(cancelled, Cancel(), OK) == [cancelled]
    assert after(cancelled, Cancel(), REFUSED) == [cancelled]


def test_completing_an_ended_upload_is_refused() -> None:
    completed = UploadState("completed", 10, (("p", 10),), ("p",))
    assert after(completed, Complete(("p",)), OK) == []
    assert after(completed, Complete(("p",)), Answer(404)) == [completed]


@pytest.mark.parametrize("status", [408, 429])
def test_a_request_not_processed_changes_nothing(status: int) -> None:
    assert after(pending(10), Cancel(), Answer(status)) == [pending(10)]


def test_other_inputs_are_refused() -> None:
    with pytest.raises(TypeError):
        after(pending(10), "delete", OK)


def test_describe() -> None:
    assert describe(op(0, AddPart(4), Answer(200, "p1"), 0, 1)) == "add a part of 4 B -> 200 p1"
    assert describe(op(1, Complete(("a", "b"), md5="ff"), REFUSED, 0, 1)) \
        == "complete [a, b], md5 ff -> 400"
    assert describe(op(2, Cancel(), None, 0, None)) == "cancel -> no answer"
    assert describe(op(3, Cancel(), Answer(None), 0, 1)) == "cancel -> no status"


# --- the races ----------------------------------------------------------------------------

FULL = UploadSpecification(10, (("p1", 4), ("p2", 6)))  # parts added before the race


def test_a_completion_and_a_cancel_that_both_succeed_are_not_linearizable() -> None:
    history = [op(0, Complete(("p1", "p2")), OK, 0, 10), op(1, Cancel(), OK, 1, 9)]
    result = check(history, FULL)
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert len(result.order) == 1


@pytest.mark.parametrize(("completed", "cancelled"), [(OK, REFUSED), (REFUSED, OK)])
def test_a_completion_racing_a_cancel_may_lose_or_win(completed: Answer,
                                                      cancelled: Answer) -> None:
    history = [op(0, Complete(("p1", "p2")), completed, 0, 10), op(1, Cancel(), cancelled, 1, 9)]
    result = check(history, FULL)
    assert result.outcome is Outcome.LINEARIZABLE
    assert result.order == ((0, 1) if completed is OK else (1, 0))


def test_two_completions_that_both_succeed_are_not_linearizable() -> None:
    history = [op(0, Complete(("p1", "p2")), OK, 0, 10), op(1, Complete(("p2", "p1")), OK, 1, 9)]
    assert check(history, FULL).outcome is Outcome.NOT_LINEARIZABLE
    history[1] = op(1, Complete(("p2", "p1")), REFUSED, 1, 9)
    assert check(history, FULL).outcome is Outcome.LINEARIZABLE


def test_a_part_accepted_after_a_completion_returned_is_not_linearizable() -> None:
    spec = UploadSpecification(10, (("p1", 10),))
    history = [op(0, Complete(("p1",)), OK, 0, 1), part(1, 5, Answer(200, "p2"), 2, 3)]
    result = check(history, spec)
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert result.order == (0,)
    assert result.stuck == (1,)
    # Racing the completion instead, the part may have come first (past the declared
    # bytes, then left out of the listing): both are open.
    history[1] = part(1, 5, Answer(200, "p2"), 0.5, 3)
    assert check(history, spec).outcome is Outcome.LINEARIZABLE


def test_parallel_parts_all_accepted_then_a_completion_listing_all_is_linearizable() -> None:
    history = [part(0, 3, Answer(200, "p1"), 0, 5), part(1, 3, Answer(200, "p2"), 1, 6),
               part(2, 4, Answer(200, "p3"), 2, 4),
               op(3, Complete(("p2", "p1", "p3")), OK, 7, 8)]
    result = check(history, UploadSpecification(10))
    assert result.outcome is Outcome.LINEARIZABLE
    assert result.order[-1] == 3


def test_a_lost_part_is_not_linearizable() -> None:
    # Every part was accepted, yet the completion listing them all was refused as if one
    # were missing.
    history = [part(0, 3, Answer(200, "p1"), 0, 5), part(1, 3, Answer(200, "p2"), 1, 6),
               part(2, 4, Answer(200, "p3"), 2, 4),
               op(3, Complete(("p1", "p2", "p3")), REFUSED, 7, 8)]
    result = check(history, UploadSpecification(10))
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert result.stuck == (3,)
    assert set(result.order) == {0, 1, 2}


def test_a_completion_listing_a_part_added_after_it_returned_is_not_linearizable() -> None:
    spec = UploadSpecification(10, (("p1", 5),))
    history = [op(0, Complete(("p1", "p2")), OK, 0, 1), part(1, 5, Answer(200, "p2"), 2, 3)]
    result = check(history, spec)
    assert result.outcome is Outcome.NOT_LINEARIZABLE
    assert result.order == ()
    assert result.stuck == (0,)  # p2 is not a part of the upload when it must complete


@pytest.mark.parametrize("cancel", [None, FAILED], ids=["no answer", "5xx"])
def test_an_unanswered_cancel_then_a_successful_completion_is_linearizable(
        cancel: Answer | None) -> None:
    history = [op(0, Cancel(), cancel, 0, 0.5), op(1, Complete(("p1", "p2")), OK, 1, 2)]
    result = check(history, FULL)
    assert result.outcome is Outcome.LINEARIZABLE
    # ... and so is a refused completion: the cancel took effect.
    history[1] = op(1, Complete(("p1", "p2")), REFUSED, 1, 2)
    assert check(history, FULL).outcome is Outcome.LINEARIZABLE


def test_an_unanswered_part_makes_a_later_listing_a_subset() -> None:
    # If the part without an answer got in, the completion lists a subset: open.
    spec = UploadSpecification(10, (("p1", 10),))
    history = [part(0, 3, None, 0, 1), op(1, Complete(("p1",)), REFUSED, 2, 3)]
    assert check(history, spec).outcome is Outcome.LINEARIZABLE
    history[0] = part(0, 3, REFUSED, 0, 1)  # refused past the declared bytes: no effect
    assert check(history, spec).outcome is Outcome.NOT_LINEARIZABLE


# --- a property: what a sequential run of the rules gives is linearizable ------------------

inputs = st.one_of(
    st.builds(AddPart, st.integers(0, 6)),
    st.builds(Cancel),
    st.just("complete"),  # drawn from the parts seen so far, below
)


@given(st.integers(0, 12), st.lists(inputs, max_size=10), st.data())
def test_a_sequential_run_of_the_rules_is_linearizable(
        declared: int, drawn: list[Any], data: st.DataObject) -> None:
    spec = UploadSpecification(declared)
    state, seen, history = spec.initial(), [], []
    for i, input in enumerate(drawn):
        if input == "complete":
            listed = data.draw(st.lists(st.sampled_from([*seen, "bogus"]), max_size=4))
            input = Complete(tuple(listed))
        accepted = Answer(200, f"p{i}") if isinstance(input, AddPart) else OK
        answers = [accepted, REFUSED, FAILED, None]
        possible = [(a, s) for a in answers for s in spec.step(state, input, a)]
        answer, state = data.draw(st.sampled_from(possible))  # a 5xx or None always fits
        if answer is not None and answer.part_id is not None:
            seen.append(answer.part_id)
        history.append(op(i, input, answer, 2 * i, 2 * i + 1))
    result = check(history, spec)
    assert result.outcome is Outcome.LINEARIZABLE, result.explanation
