"""Records concurrent requests as a history that `linearizability.check` can judge.

`History.record` stamps the monotonic clock just before and just after a request is sent,
from any thread, and keeps what came back under the upload it was about, so that each
upload's operations can be checked on their own.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from conformance.linearizability import Operation

__all__ = ["History", "Recorded"]

AnswerT = TypeVar("AnswerT")


@dataclass(frozen=True, slots=True)
class Recorded:
    """One recorded request: its upload, the operation's name, and the operation itself."""

    upload: str
    name: str
    operation: Operation[Any, Any]
    sequence: int  # the order of the calls, to break ties between equal clock readings


class History(Generic[AnswerT]):
    """A thread-safe record of requests and their answers, by upload.

    `no_answer(answer)` True: an answer object that stands for no answer (a transport
    failure returned as an answer without a status) is kept as unanswered. An exception of
    one of `no_answer_errors` raised by `send` is kept as unanswered too, then re-raised.
    """

    def __init__(self, *, no_answer: Callable[[AnswerT], bool] | None = None,
                 no_answer_errors: tuple[type[BaseException], ...] = (Exception,),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._no_answer = no_answer
        self._no_answer_errors = no_answer_errors
        self._clock = clock
        self._lock = threading.Lock()
        self._sequence = itertools.count()
        self._records: list[Recorded] = []

    def record(self, operation_name: str, input: Any, send: Callable[[], AnswerT], *,
               upload: str) -> AnswerT:
        """Sends (`send()`), records the request and its answer, and gives the answer back."""
        with self._lock:
            sequence = next(self._sequence)
        called = self._clock()
        try:
            answer = send()
        except self._no_answer_errors:
            # The request may have reached the target: it may or may not have taken effect.
            self._keep(upload, operation_name, input, None, called, None, sequence)
            raise
        returned = self._clock()
        if self._no_answer is not None and self._no_answer(answer):
            self._keep(upload, operation_name, input, None, called, None, sequence)
        else:
            self._keep(upload, operation_name, input, answer, called, returned, sequence)
        return answer

    def _keep(self, upload: str, name: str, input: Any, output: Any, called: float,
              returned: float | None, sequence: int) -> None:
        operation = Operation(sequence, input, output, called, returned)
        with self._lock:
            self._records.append(Recorded(upload, name, operation, sequence))

    def records(self, upload: str) -> list[Recorded]:
        """The upload's requests in call order, their operations indexed 0..n-1."""
        with self._lock:
            mine = [r for r in self._records if r.upload == upload]
        mine.sort(key=lambda r: (r.operation.called, r.sequence))
        return [dataclasses.replace(r, operation=dataclasses.replace(r.operation, index=i))
                for i, r in enumerate(mine)]

    def for_upload(self, upload: str) -> list[Operation[Any, Any]]:
        """The upload's operations in call order, indexed 0..n-1, ready for `check`."""
        return [r.operation for r in self.records(upload)]

    def uploads(self) -> list[str]:
        """The uploads recorded, in the order of their first request."""
        with self._lock:
            ordered = sorted(self._records, key=lambda r: r.sequence)
        return list(dict.fromkeys(r.upload for r in ordered))
