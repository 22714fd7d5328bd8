"""Races on one upload, as fixed scenarios that run the same way every time (rules 4 and 8).

Operations sent at the same moment, released together so that they overlap at the target:
a completion and a cancel, identical completions, parts and a completion. In any order of
such operations exactly one completion or cancel can succeed, and what it left must hold
(`conformance/races.py` sends each race; the linearizability check judges it). After it,
the end is final: a part sent once the end was answered, or one whose last byte arrives only
then, is refused. Several rounds each, as a fault with a window under a millisecond shows in
some rounds only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from conformance import races
from conformance.exerciser import Exerciser, scenario
from conformance.suite._verdict import fail_on_broken_musts, stop_early
from conformance.target import Target

ROUNDS = 4
COMPLETION_WIDTHS = (2, 2, 3, 4, 4, 8)  # identical completions sent at once, one round each
EXTRA_PARTS = (1, 2, 4)  # parts sent with a completion, one round each
PART_BYTES = 16


def _full_upload(run: Exerciser, parts: int = 2, room: int = 0) -> str | None:
    """A pending upload holding `parts` parts, added one by one: its declared bytes, or
    `room` bytes fewer."""
    upload = run.create({"filename": "race.txt", "purpose": "assistants",
                         "bytes": parts * PART_BYTES + room, "mime_type": "text/plain"})
    if upload is None:
        return None
    for _ in range(parts):
        if run.add_part(upload, run.payload(PART_BYTES)) is None:
            return None
    return upload


def test_a_part_right_after_the_end_is_refused(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    for round_ in range(1, ROUNDS + 1):
        with scenario(uploads_target, f"a part right after a cancel, round {round_}") as run:
            # Room for the part: only the cancel can be the reason to refuse it.
            upload = _full_upload(run, parts=1, room=1)
            if upload and run.cancel(upload):
                run.add_part(upload, run.payload(1))
        with scenario(uploads_target, f"a part right after a completion, round {round_}") \
                as run:
            upload = _full_upload(run, parts=1)
            if upload and run.complete(upload, list(run.model.uploads[upload].parts), None):
                run.add_part(upload, run.payload(1))
        if stop_early(uploads_target, since):
            break
    fail_on_broken_musts(uploads_target, since)


Race = Callable[[Exerciser, str], bool]  # a race on a full upload: True when it ended it


def _race_rounds(target: Target, rounds: list[tuple[str, Race]]) -> None:
    """Each round its own scenario on a new full upload; once a race ended the upload, one
    more part must be refused. A fail-fast run stops at the first round that broke a MUST."""
    since = len(target.recorder.failures)
    for name, race in rounds:
        with scenario(target, name) as run:
            upload = _full_upload(run)
            if upload and race(run, upload):
                run.add_part(upload, run.payload(1))  # whichever won, the upload has ended
        if stop_early(target, since):
            break
    fail_on_broken_musts(target, since)


def test_a_completion_racing_a_cancel_has_one_winner(uploads_target: Target) -> None:
    _race_rounds(uploads_target, [
        (f"a completion and a cancel at once, round {round_}",
         lambda run, upload: races.complete_against_cancel(run, upload) is not None)
        for round_ in range(1, ROUNDS + 1)])


def test_completions_sent_at_once_have_one_winner(uploads_target: Target) -> None:
    _race_rounds(uploads_target, [
        (f"{width} completions at once", functools.partial(_completions, width=width))
        for width in COMPLETION_WIDTHS])


def test_a_part_arriving_after_the_end_is_refused(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    for end in ("complete", "cancel"):
        with scenario(uploads_target, f"a part whose last byte arrives after a {end}") as run:
            races.part_arriving_after(run, end)
    fail_on_broken_musts(uploads_target, since)


def test_parts_racing_a_completion_never_undo_it(uploads_target: Target) -> None:
    _race_rounds(uploads_target, [
        (f"a completion racing {extra} more part(s)",
         functools.partial(_parts_and_completion, extra=extra))
        for extra in EXTRA_PARTS])


def _completions(run: Exerciser, upload: str, width: int) -> bool:
    return races.completions_at_once(run, upload, width)


def _parts_and_completion(run: Exerciser, upload: str, extra: int) -> bool:
    return races.parts_against_completion(run, upload, extra)
