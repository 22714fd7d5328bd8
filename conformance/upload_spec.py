"""The sequential rules of one upload, as a `Specification` for `linearizability.check`.

A state is one upload (its status, declared bytes, accepted parts); an input is adding a
part, completing or cancelling; an output is the status and part ID the target answered.
The rules are those of docs/rules.md: strict where it states them, open (both outcomes
allowed) where it leaves them open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from conformance.api import PART_LIMIT
from conformance.linearizability import Operation

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
# to if accepted, and whether a refusal is allowed.
@dataclass(frozen=True, slots=True)
class _Possible:
    accepted: tuple[UploadState, ...]
    refusal_allowed: bool


def _add_part(state: UploadState, add: AddPart, part_id: str) -> _Possible:
    if state.status != "pending":
        return _Possible((), True)  # rule 8: a completed or cancelled upload takes no part
    if add.size > PART_LIMIT:
        return _Possible((), True)  # rule 1: a part over 64 MiB is refused
    grown = replace(state, parts=(*state.parts, (part_id, add.size)))
    total = sum(size for _, size in state.parts) + add.size
    # Open: a zero-byte part; a part past the declared size (refused now or at completion).
    return _Possible((grown,), add.size == 0 or total > state.declared_bytes)


def _complete(state: UploadState, complete: Complete) -> _Possible:
    # The same readings as model.py's expect_complete, for one upload.
    if state.status != "pending":
        return _Possible((), True)
    sizes = dict(state.parts)
    listed = complete.part_ids
    if any(part_id not in sizes for part_id in listed):
        return _Possible((), True)  # unknown part IDs (or parts added later) are refused
    repeated = len(set(listed)) != len(listed)
    with_repeats = sum(sizes[part_id] for part_id in listed)
    distinct = sum(sizes[part_id] for part_id in set(listed))
    if state.declared_bytes not in {with_repeats, distinct}:
        return _Possible((), True)  # rule 6
    md5, right = complete.md5, complete.right_md5
    if md5 is not None and right is not None and not repeated and md5.lower() != right:
        return _Possible((), True)  # rule 7
    done = replace(state, status="completed", completed_with=listed)
    # Open: a part listed twice, a subset of the parts, an empty upload, a zero-byte part,
    # an md5 not judged (unknown, or the right one in upper case).
    open_ = (repeated or len(set(listed)) < len(state.parts) or not listed
             or any(sizes[part_id] == 0 for part_id in listed)
             or (md5 is not None and (right is None or repeated or md5 != right)))
    return _Possible((done,), open_)


def _cancel(state: UploadState) -> _Possible:
    if state.status == "pending":
        return _Possible((replace(state, status="cancelled"),), False)
    if state.status == "cancelled":  # open: cancelling a cancelled upload
        return _Possible((state,), True)
    return _Possible((), True)


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


def describe(op: Operation[Any, Any]) -> str:
    """One operation and its answer in a few words, for `timeline`."""
    action = _describe_input(op.input)
    if op.output is None:
        return f"{action} -> no answer"
    answer: Answer = op.output
    status = "no status" if answer.status is None else str(answer.status)
    part = f" {answer.part_id}" if answer.part_id is not None else ""
    return f"{action} -> {status}{part}"


def _describe_input(input: Any) -> str:
    if isinstance(input, AddPart):
        return f"add a part of {input.size} B"
    if isinstance(input, Complete):
        md5 = f", md5 {input.md5}" if input.md5 is not None else ""
        return f"complete [{', '.join(input.part_ids)}]{md5}"
    if isinstance(input, Cancel):
        return "cancel"
    return repr(input)
