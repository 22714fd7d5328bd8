"""Races: operations on one upload sent at the same moment, and the judgement of their answers.

The state machine and the race scenarios (`suite/test_races.py`) both run their races from
here. Each race is a `concurrency.Race`: its operations are sent through `Exerciser.race`
(released at a barrier), recorded with their times, and judged together by the
linearizability check (RACE-LINEARIZABLE: some order consistent with real time must explain
every answer). What is left here is each race's shape, and moving the model along when its
outcome is one the model can follow.
"""

from __future__ import annotations

from conformance.checks import Answer
from conformance.concurrency import Race
from conformance.exerciser import HELD_PART_BYTES, Exerciser


def _took(answer: Answer) -> bool:
    return answer.status is not None and 200 <= answer.status < 300


def _sent(run: Exerciser, what: str, race: Race) -> list[Answer]:
    """Sends the race's operations at once, then lets the linearizability check judge every
    answer together (RACE-LINEARIZABLE); the answers, in the order they were added."""
    answers = run.race(what, race.sends)
    race.judge(run.check)
    return answers


# --- a completion and a cancel ---------------------------------------------------------------


def complete_against_cancel(run: Exerciser, upload: str) -> str | None:
    """A full upload's completion and its cancel, sent at once. Returns which one won
    ("completed" or "cancelled") when the model can follow the upload, else None."""
    part_ids = list(run.model.uploads[upload].parts)
    expectation = run.model.expect_complete(upload, part_ids, None, run.target.now())
    race = Race.on(run, upload)
    race.complete(part_ids)
    race.cancel()
    completed, cancelled = _sent(run, f"complete and cancel {run.name(upload)} at once", race)
    winners = [a for a in (completed, cancelled) if _took(a)]
    if len(winners) != 1:  # an order explains it, but not one the model can follow
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
    expectation = run.model.expect_complete(upload, part_ids, md5, run.target.now())
    race = Race.on(run, upload)
    for _ in range(width):
        race.complete(part_ids, md5)
    answers = _sent(run, f"complete {run.name(upload)} {width} times at once", race)
    winners = [a for a in answers if _took(a)]
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
    md5 = run.model.right_md5(upload, part_ids)
    expectation = run.model.expect_complete(upload, part_ids, md5, run.target.now())
    race = Race.on(run, upload)
    race.complete(part_ids, md5)
    for _ in range(extra):
        race.add_part(run.payload(1))
    completed, *added = _sent(run, f"complete {run.name(upload)} while {extra} more part(s) "
                                   "of 1 byte are sent", race)
    for answer in added:  # each answer sane (the race as a whole is judged already)
        run.check.answer(run.model.expect_racing_part(), answer, "a racing part")
    if any(_took(a) for a in added):
        run.model.lose_track(upload)  # its state is no longer ours to model
        return False
    if not _took(completed):
        run.check.refusal(completed, "the racing completion")
        return False
    return run.completed(upload, part_ids, expectation, completed)


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
