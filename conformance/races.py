"""Races: operations on one upload sent at the same moment, and the judgement of their answers.

The state machine and the race scenarios (`suite/test_races.py`) both run their races from
here. Each race sends its operations through `Exerciser.race` and is judged by one small
function (`_judge_*`): which outcomes some order of the operations allows. Those functions
are the one place a linearizability checker will take over.
"""

from __future__ import annotations

import functools
from typing import Any

from conformance.checks import Answer
from conformance.exerciser import HELD_PART_BYTES, Exerciser
from conformance.model import Expectation


def _took(answer: Answer) -> bool:
    return answer.status is not None and 200 <= answer.status < 300


def _completion(part_ids: list[str], md5: str | None) -> dict[str, Any]:
    return {"part_ids": part_ids} if md5 is None else {"part_ids": part_ids, "md5": md5}


# --- a completion and a cancel ---------------------------------------------------------------


def complete_against_cancel(run: Exerciser, upload: str) -> str | None:
    """A full upload's completion and its cancel, sent at once. Returns which one won
    ("completed" or "cancelled") when the answers allow one order, else None."""
    part_ids = list(run.model.uploads[upload].parts)
    expectation = run.model.expect_complete(upload, part_ids, None, run.target.now())
    adapter = run.target.adapter
    completed, cancelled = run.race(
        f"complete and cancel {run.name(upload)} at once",
        [lambda: adapter.complete(upload, {"part_ids": part_ids}),
         lambda: adapter.cancel(upload)])
    return _judge_complete_against_cancel(run, upload, part_ids, expectation, completed,
                                          cancelled)


def _judge_complete_against_cancel(run: Exerciser, upload: str, part_ids: list[str],
                                   expectation: Expectation, completed: Answer,
                                   cancelled: Answer) -> str | None:
    # Whichever goes first succeeds (the upload is pending and full), and the other then
    # finds it completed or cancelled: exactly one succeeds, in any order.
    winners = [a for a in (completed, cancelled) if _took(a)]
    run.check.expect(len(winners) == 1, "RACE-LINEARIZABLE",
                     f"{len(winners)} of a racing completion and cancel succeeded (completion "
                     f"{completed.status}, cancel {cancelled.status}); in any order exactly "
                     "one must")
    if len(winners) != 1:
        run.model.lose_track(upload)
        return None
    if winners[0] is completed:
        run.check.refusal(cancelled, "the cancel that lost the race")
        return "completed" if run.completed(upload, part_ids, expectation, completed) else None
    run.check.refusal(completed, "the completion that lost the race")
    run.cancelled(upload, cancelled)
    return "cancelled"


# --- completions -----------------------------------------------------------------------------


def completions_at_once(run: Exerciser, upload: str, width: int) -> bool:
    """`width` identical completions of a full upload, sent at once; True when the upload
    ended completed, as the answers allow."""
    part_ids = list(run.model.uploads[upload].parts)
    md5 = run.model.right_md5(upload, part_ids)
    body = _completion(part_ids, md5)
    expectation = run.model.expect_complete(upload, part_ids, md5, run.target.now())
    adapter = run.target.adapter
    answers = run.race(f"complete {run.name(upload)} {width} times at once",
                       [lambda: adapter.complete(upload, body)] * width)
    return _judge_completions(run, upload, part_ids, expectation, answers)


def _judge_completions(run: Exerciser, upload: str, part_ids: list[str],
                       expectation: Expectation, answers: list[Answer]) -> bool:
    # The first to be applied completes the upload; every later one finds it completed.
    winners = [a for a in answers if _took(a)]
    run.check.expect(len(winners) == 1, "RACE-LINEARIZABLE",
                     f"{len(winners)} of {len(answers)} identical completions sent at once "
                     f"succeeded ({sorted(a.status or 0 for a in answers)}); in any order "
                     "exactly one must")
    if len(winners) != 1:
        run.model.lose_track(upload)
        return False
    for answer in answers:
        if answer is not winners[0]:
            run.check.refusal(answer, "a completion that lost the race")
    return run.completed(upload, part_ids, expectation, winners[0])


# --- parts and a completion ------------------------------------------------------------------


def parts_against_completion(run: Exerciser, upload: str, extra: int) -> bool:
    """A full upload's completion while `extra` parts of 1 byte are sent with it; True when
    the upload ended completed and the model still knows what it holds."""
    part_ids = list(run.model.uploads[upload].parts)
    body = _completion(part_ids, run.model.right_md5(upload, part_ids))
    extras = [run.payload(1) for _ in range(extra)]
    adapter = run.target.adapter
    completed, *added = run.race(
        f"complete {run.name(upload)} while {extra} more part(s) of 1 byte are sent",
        [lambda: adapter.complete(upload, body),
         *[functools.partial(adapter.add_part, upload, p) for p in extras]])
    return _judge_parts_against_completion(run, upload, part_ids, completed, added)


def _judge_parts_against_completion(run: Exerciser, upload: str, part_ids: list[str],
                                    completed: Answer, added: list[Answer]) -> bool:
    # A part may get in before the completion (which then lists a subset, or overflows:
    # both left open) or be refused; but when none got in, the completion saw exactly the
    # parts it lists, in any order, and must have succeeded.
    for answer in added:
        run.check.answer(run.model.expect_racing_part(), answer, "a racing part")
    taken = any(_took(a) for a in added)
    expectation = run.model.expect_racing_completion(parts_taken=taken)
    accepted = run.check.answer(expectation, completed, "the racing completion")
    if taken:
        run.model.lose_track(upload)  # its state is no longer ours to model
        return False
    return accepted and run.completed(upload, part_ids, expectation, completed)


# --- a part still arriving when the upload ends ----------------------------------------------


def part_arriving_after(run: Exerciser, end: str) -> None:
    """A part starts on a new upload; another fills it, the upload is ended (`end`:
    "complete" or "cancel"), and only then the first part's last byte is sent. A part
    cannot be added before its bytes are in, so it comes after the end: refused."""
    upload = run.create({"filename": f"held-part-{end}.txt", "purpose": "assistants",
                         "bytes": HELD_PART_BYTES, "mime_type": "text/plain"})
    held = run.hold_part(upload) if upload else None
    if upload is None or held is None:
        return
    try:
        # A full round trip while the held part waits: by its end the target has it under way.
        part = run.add_part(upload, run.payload(HELD_PART_BYTES))
        if part is not None:
            if end == "complete":
                run.complete(upload, [part], None)
            else:
                run.cancel(upload)
        held.finish()
    finally:
        held.close()
