"""Operations on one upload sent at once, judged by the linearizability check.

A `Race` collects the operations (parts, completions, cancels) to send on one upload; sent
together (`Exerciser.race` releases them from a barrier), each one's interval and answer is
recorded in a `History`; then `judge` asks `linearizability.check` whether some order of
them, consistent with real time, explains every answer under the oracle's rules
(`upload_spec`). That one question
decides RACE-LINEARIZABLE for every race shape: a completion against a cancel, two
completions, parts against a completion. A failure shows the operations as a timeline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
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
CHECK_BUDGET_S: Final = 5.0  # a race has a handful of operations: far more than needed


class Race:
    """The operations of one race on `upload`, as the model knows the upload before it."""

    def __init__(self, target: Target, upload: str, parts: list[tuple[str, int]],
                 declared_bytes: int, right_md5: Callable[[list[str]], str | None],
                 name: Callable[[str], str] = str) -> None:
        self.target, self.upload, self.name = target, upload, name
        self.spec = UploadSpecification(declared_bytes, tuple(parts))
        self._right_md5 = right_md5
        self.history: History[Answer] = History(no_answer=lambda answer: answer.status is None)
        self._calls: list[Callable[[], Answer]] = []

    @classmethod
    def on(cls, run: Exerciser, upload: str) -> Race:
        """A race on an upload the exerciser's model follows, from the state it is in."""
        state = run.model.uploads[upload]
        return cls(run.target, upload, [(p.id, p.size) for p in state.parts.values()],
                   state.declared_bytes, lambda ids: run.model.right_md5(upload, ids),
                   lambda target_id: run.alias.get(target_id, target_id))

    def add_part(self, payload: Payload) -> None:
        adapter = self.target.adapter
        self._add("add_part", AddPart(len(payload)),
                  lambda: adapter.add_part(self.upload, payload))

    def complete(self, part_ids: list[str], md5: str | None = None) -> None:
        body: dict[str, Any] = {"part_ids": part_ids}
        if md5 is not None:
            body["md5"] = md5
        adapter = self.target.adapter
        self._add("complete", Complete(tuple(part_ids), md5, self._right_md5(part_ids)),
                  lambda: adapter.complete(self.upload, body))

    def cancel(self) -> None:
        adapter = self.target.adapter
        self._add("cancel", Cancel(), lambda: adapter.cancel(self.upload))

    def _add(self, name: str, spec_input: Any, send: Callable[[], Answer]) -> None:
        self._calls.append(lambda: self.history.record(name, spec_input, send,
                                                      upload=self.upload))

    @property
    def sends(self) -> list[Callable[[], Answer]]:
        """The operations, each recorded in the history as it is sent: for `Exerciser.race`,
        which releases them together."""
        return list(self._calls)

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
        return judge_operations(checker, ops, self.spec, self.name,
                                f"the {len(ops)} operations sent at once")


def judge_operations(checker: Checker, ops: Sequence[Operation[Any, SpecAnswer]],
                     spec: UploadSpecification, name: Callable[[str], str],
                     what: str) -> Result:
    """RACE-LINEARIZABLE for `ops` (`what` names them in a finding): a failure when no
    order explains their answers, a pass when one does, an observation (never a pass) when
    the search ran out of time. One home for the verdict of a history, the suite's races'
    and the proxy's overlapping traffic alike."""
    result = check(ops, spec, budget_s=CHECK_BUDGET_S)
    if result.outcome is Outcome.LINEARIZABLE:
        checker.ok(REQUIREMENT)
    elif result.outcome is Outcome.UNKNOWN:
        checker.recorder.observe(REQUIREMENT, f"{what} were not decided in "
                                 f"{CHECK_BUDGET_S:g} s (not counted as a pass)")
    else:
        answers = ", ".join(describe(op, name) for op in ops if op.index in result.stuck)
        checker.fail(REQUIREMENT,
                     f"no order of {what} explains their answers: after "
                     f"{len(result.order)} of them in order, nothing explains "
                     f"{answers or 'the rest'}",
                     timeline=rows(ops, lambda op: describe(op, name), marked=result.stuck))
    return result


def _part_id(answer: Answer) -> str | None:
    body = answer.json
    if answer.status is not None and 200 <= answer.status < 300 and isinstance(body, dict) \
            and isinstance(body.get("id"), str):
        return str(body["id"])
    return None
