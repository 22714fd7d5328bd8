"""The recorder of concurrent requests: clock stamps, unanswered requests, uploads apart."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from conformance.history import History
from conformance.linearizability import Outcome, check
from conformance.upload_spec import AddPart, Answer, UploadSpecification


@dataclass(frozen=True)
class Reply:
    status: int | None


def ticking() -> Callable[[], float]:
    ticks = itertools.count()
    return lambda: float(next(ticks))


def test_a_request_is_stamped_before_and_after_it_is_sent() -> None:
    history: History[Reply] = History(clock=ticking())
    assert history.record("cancel", "in", lambda: Reply(200), upload="u1") == Reply(200)
    [operation] = history.for_upload("u1")
    assert (operation.index, operation.input, operation.output) == (0, "in", Reply(200))
    assert (operation.called, operation.returned) == (0.0, 1.0)


def test_an_answer_without_status_is_kept_as_no_answer() -> None:
    history: History[Reply] = History(no_answer=lambda r: r.status is None, clock=ticking())
    assert history.record("cancel", "in", lambda: Reply(None), upload="u1") == Reply(None)
    [operation] = history.for_upload("u1")
    assert operation.output is None and operation.returned is None


def test_an_exception_is_kept_as_no_answer_and_raised_again() -> None:
    history: History[Reply] = History(no_answer_errors=(TimeoutError,), clock=ticking())

    def timeout() -> Reply:
        raise TimeoutError

    def bug() -> Reply:
        raise KeyError("x")

    with pytest.raises(TimeoutError):
        history.record("cancel", "in", timeout, upload="u1")
    with pytest.raises(KeyError):
        history.record("cancel", "in", bug, upload="u1")
    [operation] = history.for_upload("u1")  # a bug of ours is no request of the history
    assert operation.output is None and operation.returned is None


def test_uploads_are_kept_apart_and_indexed_from_zero_in_call_order() -> None:
    history: History[Reply] = History(clock=ticking())
    for name, upload in [("a", "u2"), ("b", "u1"), ("c", "u2")]:
        history.record(name, name, lambda: Reply(200), upload=upload)
    assert history.uploads() == ["u2", "u1"]
    assert [(o.index, o.input) for o in history.for_upload("u2")] == [(0, "a"), (1, "c")]
    assert [r.name for r in history.records("u1")] == ["b"]
    assert history.for_upload("u3") == []


def test_requests_from_many_threads_make_a_history_the_checker_reads() -> None:
    history: History[Answer] = History(no_answer=lambda a: a.status is None)
    barrier = threading.Barrier(8)
    ids = itertools.count()

    def send() -> Answer:
        return Answer(200, f"p{next(ids)}")

    def add() -> None:
        barrier.wait()
        history.record("add_part", AddPart(1), send, upload="u1")

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    operations = history.for_upload("u1")
    assert sorted(o.index for o in operations) == list(range(8))
    assert all(o.returned is not None and o.called <= o.returned for o in operations)
    assert check(operations, UploadSpecification(8)).outcome is Outcome.LINEARIZABLE
