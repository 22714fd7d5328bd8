"""Parts added in parallel (rule 4), as a fixed scenario that runs the same way every time.

The state machine also sends parallel parts, but only when Hypothesis happens to pick that
rule; this scenario makes sure every run sends several parts at once, released together by
a barrier so that they really overlap at the target, and then completes the upload with
every part in a shuffled order, the md5 of that order, and (where the target serves files)
the content read back byte for byte.
"""

from __future__ import annotations

import contextlib
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from conformance.checks import Answer
from conformance.model import accept
from conformance.suite._scenario import Scenario, scenario
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target
from strategies.payloads import Payload, concat_md5

WIDTHS = (4, 8, 16)  # parts sent at once, one round each
PART_BYTES = 32  # small parts: the race is in the bookkeeping, not in the bytes
PARALLEL_PART = accept("PART-PARALLEL", "parts may be added in parallel")
USABLE = accept("PART-PARALLEL", "every part accepted in parallel must be usable at completion")


def _send_together(target: Target, upload: str, payloads: list[Payload]) -> list[Answer]:
    """Sends every payload at once: each thread waits at a barrier, then sends its part."""
    barrier = threading.Barrier(len(payloads))

    def send(payload: Payload) -> Answer:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)  # past that, send anyway rather than not at all
        return target.adapter.add_part(upload, payload)

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        return list(pool.map(send, payloads))


def _one_round(target: Target, script: Scenario, width: int, shuffle: random.Random) -> None:
    upload = script.create({"filename": f"parallel-{width}.txt", "purpose": "assistants",
                            "bytes": width * PART_BYTES, "mime_type": "text/plain"})
    if upload is None or not target.spend(width * PART_BYTES):
        return
    payloads = [Payload(target.seed + 1000 * width + i, PART_BYTES) for i in range(width)]
    answers = _send_together(target, upload, payloads)
    script.step(f"add {width} parts of {PART_BYTES} bytes at once", *answers)
    part_ids: list[str] = []
    by_id: dict[str, Payload] = {}
    for payload, answer in zip(payloads, answers, strict=True):
        part_id = script.record_part(upload, payload, PARALLEL_PART, answer)
        if part_id is None:
            return
        part_ids.append(part_id)
        by_id[part_id] = payload
    shuffle.shuffle(part_ids)
    ordered = [by_id[p] for p in part_ids]
    answer = script.complete(upload, part_ids, concat_md5(ordered), USABLE)
    file = script.completed_file(upload, answer)
    if file is not None:
        script.check_content(file, ordered)


def test_parts_sent_at_once_are_all_kept(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    shuffle = random.Random(uploads_target.seed)
    for width in WIDTHS:
        with scenario(uploads_target, f"{width} parts sent at once") as script:
            _one_round(uploads_target, script, width, shuffle)
    fail_on_broken_musts(uploads_target, since)
