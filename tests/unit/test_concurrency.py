"""A race judged by the linearizability check, against small fake targets: answers no order
explains fail RACE-LINEARIZABLE with a timeline; answers some order explains pass it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest

from conformance.adapters.http import HttpAdapter
from conformance.checks import Answer
from conformance.client import TargetClient
from conformance.concurrency import REQUIREMENT, Race
from conformance.linearizability import Outcome
from conformance.profiles import PROFILES
from conformance.recorder import ConformanceFailure, Recorder
from conformance.target import Target
from strategies.payloads import Payload

BASE = "http://fake.test/v1"
KEY = "sk-race-0123456789"
UPLOAD = "upload_1"
Handler = Callable[[httpx.Request], httpx.Response]


def _refused(request: httpx.Request) -> httpx.Response:
    return httpx.Response(400, json={"error": {"message": "no", "type": "invalid_request_error",
                                               "param": None, "code": None}})


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "part_2" if request.url.path.endswith("/parts")
                                     else UPLOAD})


def _by_operation(**answers: Handler) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        return answers[request.url.path.rsplit("/", 1)[-1]](request)
    return handle


def _send(race: Race) -> list[Answer]:
    """The race's operations at once, as `Exerciser.race` sends them (without its barrier)."""
    with ThreadPoolExecutor(max_workers=len(race.sends)) as pool:
        return list(pool.map(lambda send: send(), race.sends))


@contextmanager
def _race(handler: Handler, parts: list[tuple[str, int]]) -> Iterator[tuple[Race, Target]]:
    with TargetClient(BASE, KEY, transport=httpx.MockTransport(handler)) as client:
        target = Target(base_url=BASE, client=client, adapter=HttpAdapter(client),
                        recorder=Recorder(), profile=PROFILES["quick"])
        yield Race(target, UPLOAD, parts, sum(size for _, size in parts), lambda ids: None), \
            target


def test_a_completion_and_a_cancel_that_both_succeed_fail_with_a_timeline() -> None:
    with _race(_ok, [("part_1", 10)]) as (race, target):
        race.complete(["part_1"])
        race.cancel()
        answers = _send(race)
        assert [a.status for a in answers] == [200, 200]
        with pytest.raises(ConformanceFailure) as failed:
            race.judge(target.checker)
    failure = failed.value
    assert failure.requirement == REQUIREMENT and "no order of the 2 operations" in failure.message
    assert len(failure.timeline) == 2 and sum(row.marked for row in failure.timeline) == 1
    assert {row.text.split(" ->")[0] for row in failure.timeline} == {"complete [part_1]",
                                                                      "cancel"}


def test_exactly_one_winner_passes() -> None:
    # Both requests are in before either is answered, so either order is possible.
    both_in = threading.Barrier(2, timeout=10)

    def handler(request: httpx.Request) -> httpx.Response:
        both_in.wait()
        return _by_operation(complete=_refused, cancel=_ok)(request)

    with _race(handler, [("part_1", 10)]) as (race, target):
        race.complete(["part_1"])
        race.cancel()
        _send(race)
        assert race.judge(target.checker).outcome is Outcome.LINEARIZABLE
        assert target.recorder.passes[REQUIREMENT] == 1


def test_a_completion_refused_though_no_racing_part_got_in_fails() -> None:
    handler = _by_operation(complete=_refused, parts=_refused)
    with _race(handler, [("part_1", 10)]) as (race, target):
        race.complete(["part_1"])
        race.add_part(Payload(1, 1))
        _send(race)
        with pytest.raises(ConformanceFailure, match="nothing explains complete"):
            race.judge(target.checker)


def test_a_cancel_without_an_answer_may_not_have_happened() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/cancel"):
            raise httpx.ReadError("connection reset")
        return _ok(request)

    with _race(handler, [("part_1", 10)]) as (race, target):
        race.complete(["part_1"])
        race.cancel()
        _send(race)
        ops = race.operations()
        assert [op.output is None for op in ops].count(True) == 1
        assert race.judge(target.checker).outcome is Outcome.LINEARIZABLE


def test_the_history_reads_an_accepted_parts_id() -> None:
    with _race(_by_operation(complete=_refused, parts=_ok), [("part_1", 10)]) as (race, _):
        race.add_part(Payload(1, 1))
        _send(race)
        (op,) = race.operations()
        assert op.output is not None and op.output.part_id == "part_2"
        assert json.dumps(op.output.status) == "200"
