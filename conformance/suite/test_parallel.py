"""Parts added in parallel (rule 4), as a fixed scenario that runs the same way every time.

The state machine also sends parallel parts, but only when Hypothesis happens to pick that
rule; this scenario makes sure every run sends several parts at once, released together so
that they really overlap at the target, and then completes the upload with every part in a
shuffled order and the md5 of that order (the file is read back where the target serves
files).
"""

from __future__ import annotations

import random

from conformance.exerciser import Exerciser, scenario
from conformance.suite._verdict import fail_on_broken_musts, stop_early
from conformance.target import Target

# Parts sent at once, one round each; each part has a connection of its own (the suite's
# client keeps up to 64 open).
WIDTHS = (2, 4, 8, 16, 32, 64)
PART_BYTES = 32  # small parts: the race is in the bookkeeping, not in the bytes


def _one_round(run: Exerciser, width: int, shuffle: random.Random) -> None:
    upload = run.create({"filename": f"parallel-{width}.txt", "purpose": "assistants",
                         "bytes": width * PART_BYTES, "mime_type": "text/plain"})
    if upload is None:
        return
    part_ids = run.add_parts_at_once(upload, [run.payload(PART_BYTES) for _ in range(width)])
    if part_ids is None:
        return
    shuffle.shuffle(part_ids)
    run.complete(upload, part_ids, run.model.right_md5(upload, part_ids), "shuffled")


def test_parts_sent_at_once_are_all_kept(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    shuffle = random.Random(uploads_target.seed)
    for width in WIDTHS:
        with scenario(uploads_target, f"{width} parts sent at once") as run:
            _one_round(run, width, shuffle)
        if stop_early(uploads_target, since):
            break
    fail_on_broken_musts(uploads_target, since)
