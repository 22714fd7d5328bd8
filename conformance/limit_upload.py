"""An upload of the documented maximum: 8 GiB in 64 MiB parts, completed with its md5 and
read back where the target serves files.

One callable, so that the thorough profile (`suite/test_limit_bytes.py`) and
`bench/big_upload.py` run the very same code (the bench with a smaller size too). The
parts travel several at once (the API allows parallel parts), each judged as its answer
comes; the md5 of the whole is computed once, on a thread of its own while the parts are
sent, and the oracle, the step's label and the completion reuse it (`concat_md5`
remembers it); reading the file back compares bytes with the payloads, without hashing them
again.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Final

from conformance import api
from conformance.api import PART_LIMIT, UPLOAD_LIMIT
from conformance.checks import Answer
from conformance.exerciser import BARRIER_TIMEOUT_S, Exerciser, scenario
from conformance.model import Expectation
from conformance.suite.test_limits import declaration
from conformance.target import Target
from strategies.payloads import DEFAULT_CHUNK_SIZE, Payload, concat_md5

PARTS_AT_ONCE: Final = 4  # two streams keep two cores busy; four ride out a slow answer

InFlight = tuple[Payload, Expectation, Future[Answer]]


def upload_of(target: Target, size: int = UPLOAD_LIMIT, at_once: int = PARTS_AT_ONCE) -> None:
    """Creates an upload of `size` bytes, adds it in 64 MiB parts (the last one the rest),
    `at_once` at a time, completes it with the right md5 and reads the file back. What it
    finds is recorded as the findings of one scenario."""
    what = f"an upload of {_size_label(size)} in 64 MiB parts, {at_once} at once"
    with scenario(target, what) as run, ThreadPoolExecutor(max_workers=1) as hasher:
        upload = run.create(declaration(size))
        if not upload:
            return
        payloads = [run.payload(min(PART_LIMIT, size - start))
                    for start in range(0, size, PART_LIMIT)]
        md5 = hasher.submit(concat_md5, payloads)  # remembered: the completion asks again
        part_ids = add_parts_in_flight(run, upload, payloads, at_once)
        if part_ids is not None:
            md5.result()
            run.complete(upload, part_ids, run.model.right_md5(upload, part_ids))
        else:
            md5.cancel()


def add_parts_in_flight(run: Exerciser, upload: str, payloads: Sequence[Payload],
                        at_once: int) -> list[str] | None:
    """Sends the parts with up to `at_once` of them travelling together, each judged in
    turn as its answer comes; the IDs of the parts, when the target took every one. After
    the first part not taken, none more is sent."""
    if not run.target.spend(sum(len(p) for p in payloads)):
        return None
    add, ok = run.target.adapter.add_part, True
    part_ids: list[str] = []
    started = threading.Event()
    started.set()

    def send(payload: Payload, after: threading.Event, now: threading.Event) -> Answer:
        # Each request starts once the one before has begun its body: the target meets
        # them in the order sent, the order part_ids lists them in.
        after.wait(BARRIER_TIMEOUT_S)
        try:
            return add(upload, _Signalling(payload, now))
        finally:
            now.set()

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        sent: deque[InFlight] = deque()
        for payload in payloads:
            if len(sent) == at_once and not (ok := _judged(run, upload, sent.popleft(),
                                                           part_ids)):
                break
            # The first goes alone: a refusal of it is the part's own fault, not that of
            # parts in parallel.
            expectation = run.model.expect_add_part(upload, len(payload), run.target.now(),
                                                    parallel=bool(sent))
            after, started = started, threading.Event()
            sent.append((payload, expectation, pool.submit(send, payload, after, started)))
        while ok and sent:
            ok = _judged(run, upload, sent.popleft(), part_ids)
        # Leaving the pool lets the parts still travelling end, unjudged: the scenario
        # cancels the upload after.
    return part_ids if ok else None


def _judged(run: Exerciser, upload: str, sent: InFlight, part_ids: list[str]) -> bool:
    payload, expectation, future = sent
    answer = future.result()
    run.step(f"{api.ADD_PART.step_word} of {len(payload)} bytes to {run.name(upload)} "
             "(several parts travelling at once)", answer)
    part_id = run.part_answered(upload, payload, expectation, answer, parallel=True)
    if part_id is not None:
        part_ids.append(part_id)
    return part_id is not None


class _Signalling(Payload):
    """A payload that says when its first bytes are taken to be sent."""

    _started: threading.Event

    def __init__(self, payload: Payload, started: threading.Event) -> None:
        super().__init__(payload.seed, payload.size)
        object.__setattr__(self, "_started", started)

    def iter_chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        for chunk in super().iter_chunks(chunk_size):
            self._started.set()
            yield chunk


def _size_label(size: int) -> str:
    gib, mib = size / (1 << 30), size / (1 << 20)
    return f"{gib:g} GiB" if gib >= 1 else f"{mib:g} MiB"
