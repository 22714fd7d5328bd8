"""The sequential rules of one upload, as a `Specification` for `linearizability.check`.

A state is one upload (its status, declared bytes, accepted parts); an input is adding a
part, completing or cancelling; an output is the status and part ID the target answered.
The rules are the oracle's (`model.py`, asked about an upload in each state): a MUST is
strict, what the documentation leaves open allows both outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from conformance.linearizability import Operation
from conformance.model import Expectation, Model, Part, Verdict

__all__ = ["AddPart", "Answer", "Cancel", "Complete", "UploadSpecification", "UploadState",
           "describe"]

Status = Literal["pending", "completed", "cancelled"]
# A part whose add_part got no answer (or a 5xx) but took effect: its ID was never seen, so
# no completion can list it; it counts only as "another part of the upload".
UNSEEN_PART_ID: Final = "<unseen>"
# Answers that say the request was not processed, without judging it: no effect.
_NOT_JUDGED: Final = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class UploadState:
    status: Status
    declared_bytes: int
    parts: tuple[tuple[str, int], ...]  # (part ID, size) in the order they were accepted
    completed_with: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class AddPart:
    size: int


@dataclass(frozen=True, slots=True)
class Complete:
    """`part_ids` as the target's answers named them; `right_md5`: the md5 of the bytes the
    listed parts hold (None: not known, so an `md5` given is not judged)."""

    part_ids: tuple[str, ...]
    md5: str | None = None
    right_md5: str | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    pass


UploadInput = AddPart | Complete | Cancel


@dataclass(frozen=True, slots=True)
class Answer:
    """What the spec reads of a target's answer: its status (None: no answer) and, for an
    accepted part, the part's ID."""

    status: int | None
    part_id: str | None = None


_Verdict = Literal["accepted", "refused", "unknown", "not judged"]


def _verdict(answer: Answer | None) -> _Verdict:
    status = None if answer is None else answer.status
    if status is None:
        return "unknown"
    if status in _NOT_JUDGED:
        return "not judged"
    if 200 <= status < 300:
        return "accepted"
    if 400 <= status < 500:
        return "refused"
    return "unknown"  # a 5xx (or stranger): it may or may not have taken effect


# What an operation may do in a state, before its answer is read: the states it may lead
# to if accepted, and whether a refusal is allowed. The oracle says which.
@dataclass(frozen=True, slots=True)
class _Possible:
    accepted: tuple[UploadState, ...]
    refusal_allowed: bool


_UPLOAD: Final = "the-upload"
_CREATED_AT: Final = 1_700_000_000  # a race lasts seconds: expiry never comes into it
_NOW: Final = _CREATED_AT + 1


def _oracle(state: UploadState) -> Model:
    """The oracle holding just this upload, in this state."""
    model = Model()
    model.record_create({"filename": "race", "purpose": "batch", "mime_type": "application/jsonl",
                         "bytes": state.declared_bytes}, _UPLOAD, _CREATED_AT)
    for part_id, size in state.parts:
        model.record_part(_UPLOAD, Part(part_id, size, None))
    if state.status == "completed":
        model.record_complete(_UPLOAD, state.completed_with or (), None)
    elif state.status == "cancelled":
        model.record_cancel(_UPLOAD)
    return model


def _possible(expectation: Expectation, after: UploadState) -> _Possible:
    accepted = () if expectation.verdict is Verdict.REFUSE else (after,)
    return _Possible(accepted, expectation.verdict is not Verdict.ACCEPT)


def _add_part(state: UploadState, add: AddPart, part_id: str) -> _Possible:
    if part_id == UNSEEN_PART_ID:  # one unseen ID per unseen part, so none overwrites another
        part_id = f"{UNSEEN_PART_ID}{sum(p.startswith(UNSEEN_PART_ID) for p, _ in state.parts)}"
    expectation = _oracle(state).expect_add_part(_UPLOAD, add.size, _NOW)
    return _possible(expectation, replace(state, parts=(*state.parts, (part_id, add.size))))


def _complete(state: UploadState, complete: Complete) -> _Possible:
    # An md5 whose right value is not known cannot be judged: the rest is, and a refusal
    # (perhaps for that md5) stays possible.
    unjudged_md5 = complete.md5 is not None and complete.right_md5 is None
    expectation = _oracle(state).expect_complete(
        _UPLOAD, complete.part_ids, None if unjudged_md5 else complete.md5, _NOW,
        complete.right_md5)
    possible = _possible(expectation, replace(state, status="completed",
                                              completed_with=complete.part_ids))
    return replace(possible, refusal_allowed=True) if unjudged_md5 else possible


def _cancel(state: UploadState) -> _Possible:
    expectation = _oracle(state).expect_cancel(_UPLOAD, _NOW)
    # Cancelling a cancelled upload (open) leaves it cancelled.
    return _possible(expectation, replace(state, status="cancelled"))


class UploadSpecification:
    """One upload's sequential rules, from a chosen starting state (parts already added, for
    a race that begins after them)."""

    def __init__(self, declared_bytes: int, parts: tuple[tuple[str, int], ...] = (),
                 status: Status = "pending") -> None:
        self._initial = UploadState(status, declared_bytes, tuple(parts))

    def initial(self) -> UploadState:
        return self._initial

    def step(self, state: UploadState, input: UploadInput,
             output: Answer | None) -> Iterable[UploadState]:
        verdict = _verdict(output)
        if verdict == "not judged":
            return (state,)
        if isinstance(input, AddPart):
            seen = output.part_id if output is not None and verdict == "accepted" else None
            possible = _add_part(state, input, seen or UNSEEN_PART_ID)
        elif isinstance(input, Complete):
            possible = _complete(state, input)
        elif isinstance(input, Cancel):
            possible = _cancel(state)
        else:
            raise TypeError(f"not an upload operation: {input!r}")
        if verdict == "accepted":
            return possible.accepted
        if verdict == "refused":
            return (state,) if possible.refusal_allowed else ()
        # No answer, or a 5xx: it took effect (as accepted) or it did not.
        return (state, *possible.accepted)


def describe(op: Operation[Any, Any], name: Callable[[str], str] = str) -> str:
    """One operation and its answer in a few words, for `timeline`; `name` shortens IDs
    (the steps' p1, p2)."""
    action = _describe_input(op.input, name)
    if op.output is None:
        return f"{action} -> no answer"
    answer: Answer = op.output
    status = "no status" if answer.status is None else str(answer.status)
    part = f" {name(answer.part_id)}" if answer.part_id is not None else ""
    return f"{action} -> {status}{part}"


def _describe_input(input: Any, name: Callable[[str], str]) -> str:
    if isinstance(input, AddPart):
        return f"add a part of {input.size} B"
    if isinstance(input, Complete):
        md5 = ""
        if input.md5 is not None:
            md5 = ", the right md5" if input.md5 == input.right_md5 else f", md5 {input.md5}"
        return f"complete [{', '.join(name(p) for p in input.part_ids)}]{md5}"
    if isinstance(input, Cancel):
        return "cancel"
    return repr(input)
