"""Operations on one upload sent at once, judged by the linearizability check.

A `Race` collects the operations (parts, completions, cancels) to send on one upload,
releases them together from a barrier, records each one's interval and answer in a
`History`, and asks `linearizability.check` whether some order of them, consistent with real
time, explains every answer under the oracle's rules (`upload_spec`). That one question
decides RACE-LINEARIZABLE for every race shape: a completion against a cancel, two
completions, parts against a completion. A failure shows the operations as a timeline.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final

from conformance.checks import Answer, Checker
from conformance.history import History
from conformance.linearizability import Operation, Outcome, Result, check
from conformance.target import Target
from conformance.timeline import rows
from conformance.upload_spec import AddPart, Cancel, Complete, UploadSpecification, describe
from conformance.upload_spec import Answer as SpecAnswer
from strategies.payloads import Payload

if TYPE_CHECKING:
    from conformance.exerciser import Exerciser

REQUIREMENT: Final = "RACE-LINEARIZABLE"
BARRIER_TIMEOUT_S: Final = 30  # past that, operations sent "at once" are sent anyway
CHECK_BUDGET_S: Final = 5.0  # a race has a handful of operations: far more than needed


def send_at_once(calls: list[Callable[[], Answer]]) -> list[Answer]:
    """Runs every call on its own thread, released together from a barrier (each thread
    has its own connection from the client's pool); the answers in the calls' order."""
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], Answer]) -> Answer:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=BARRIER_TIMEOUT_S)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(released, calls))


class Race:
    """The operations of one race on `upload`, as the model knows the upload before it."""

    def __init__(self, target: Target, upload: str, parts: list[tuple[str, int]],
                 declared_bytes: int, right_md5: Callable[[list[str]], str | None]) -> None:
        self.target, self.upload = target, upload
        self.spec = UploadSpecification(declared_bytes, tuple(parts))
        self._right_md5 = right_md5
        self.history: History[Answer] = History(no_answer=lambda answer: answer.status is None)
        self._calls: list[Callable[[], Answer]] = []
        self.words: list[str] = []  # each operation in a few words, for the step

    @classmethod
    def on(cls, run: Exerciser, upload: str) -> Race:
        """A race on an upload the exerciser's model follows, from the state it is in."""
        state = run.model.uploads[upload]
        return cls(run.target, upload, [(p.id, p.size) for p in state.parts.values()],
                   state.declared_bytes, lambda ids: run.model.right_md5(upload, ids))

    def add_part(self, payload: Payload) -> None:
        adapter = self.target.adapter
        self._add("add_part", AddPart(len(payload)), lambda: adapter.add_part(self.upload, payload),
                  f"a part of {len(payload)} bytes")

    def complete(self, part_ids: list[str], md5: str | None = None) -> None:
        body: dict[str, Any] = {"part_ids": part_ids}
        if md5 is not None:
            body["md5"] = md5
        adapter = self.target.adapter
        self._add("complete", Complete(tuple(part_ids), md5, self._right_md5(part_ids)),
                  lambda: adapter.complete(self.upload, body), f"complete ({len(part_ids)} parts)")

    def cancel(self) -> None:
        adapter = self.target.adapter
        self._add("cancel", Cancel(), lambda: adapter.cancel(self.upload), "cancel")

    def _add(self, name: str, spec_input: Any, send: Callable[[], Answer], words: str) -> None:
        self._calls.append(lambda: self.history.record(name, spec_input, send,
                                                      upload=self.upload))
        self.words.append(words)

    def send(self) -> list[Answer]:
        """Sends every operation at once; the answers in the order they were added."""
        return send_at_once(self._calls)

    # --- the verdict ---------------------------------------------------------------------

    def operations(self) -> list[Operation[Any, SpecAnswer]]:
        """The history as the specification reads it: a status, and an accepted part's ID."""
        ops = []
        for recorded in self.history.records(self.upload):
            op, answer = recorded.operation, recorded.operation.output
            output = None if answer is None else SpecAnswer(answer.status, _part_id(answer)
                                                            if recorded.name == "add_part"
                                                            else None)
            ops.append(dataclasses.replace(op, output=output))
        return ops

    def judge(self, checker: Checker) -> Result:
        """Decides RACE-LINEARIZABLE: a failure (raised by `checker`) when no order explains
        the answers; a pass when one does; neither when the search ran out of time (UNKNOWN
        is observed, never counted as a pass)."""
        ops = self.operations()
        result = check(ops, self.spec, budget_s=CHECK_BUDGET_S)
        if result.outcome is Outcome.LINEARIZABLE:
            checker.ok(REQUIREMENT)
        elif result.outcome is Outcome.UNKNOWN:
            checker.recorder.observe(REQUIREMENT, f"a race of {len(ops)} operations was not "
                                     f"decided in {CHECK_BUDGET_S:g} s (not counted as a pass)")
        else:
            answers = ", ".join(describe(op) for op in ops if op.index in result.stuck)
            checker.fail(REQUIREMENT,
                         f"no order of the {len(ops)} operations sent at once explains their "
                         f"answers: after {len(result.order)} of them in order, nothing "
                         f"explains {answers or 'the rest'}",
                         timeline=rows(ops, describe, marked=result.stuck))
        return result


def _part_id(answer: Answer) -> str | None:
    body = answer.json
    if answer.status is not None and 200 <= answer.status < 300 and isinstance(body, dict) \
            and isinstance(body.get("id"), str):
        return str(body["id"])
    return None
