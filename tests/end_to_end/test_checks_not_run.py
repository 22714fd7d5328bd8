"""A PASS only with its checks run: a probe that stopped before its check leaves its
requirement short of a PASS, saying which checks ran and which did not, and a requirement
whose checks nothing could observe is not PASS either."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.adapters.http import HttpAdapter
from conformance.api import PART_LIMIT
from conformance.emulator import EmulatorConfig, create_app
from conformance.exerciser import scenario
from conformance.recorder import Recorder
from conformance.results import Outcome, RequirementResult, Untested
from conformance.suite import test_limit_bytes as limit_bytes  # a module: not collected here
from conformance.target import Target
from tests.support.adapter_helpers import API_KEY, target_with
from tests.support.flaky_targets import receive_once
from tests.support.serving import serve_app

Scope = dict[str, Any]


class RefusesCreatesOf:
    """The emulator, answering 500 to a create that declares `declared` bytes."""

    def __init__(self, declared: int) -> None:
        self.app = create_app(EmulatorConfig(api_key=API_KEY))
        self.declared = declared

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" \
                and scope["path"] == "/v1/uploads":
            body = b""
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            if json.loads(body or b"{}").get("bytes") == self.declared:
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"boom"})
                return
            await self.app(scope, receive_once(body), send)
            return
        await self.app(scope, receive, send)


@contextmanager
def _target(app: Any) -> Iterator[Target]:
    with serve_app(app) as base_url, \
            target_with(base_url, lambda url, client, rec: HttpAdapter(client)) as target:
        yield target


def _verdict(recorder: Recorder, requirement: str) -> RequirementResult:
    return next(r for r in recorder.verdicts() if r.id == requirement)


def test_a_size_limit_whose_refusal_was_never_sent_is_not_pass() -> None:
    # The create of the 64 MiB + 1 upload is answered 500: that part is never sent, while
    # the part of exactly 64 MiB is accepted (a pass of PART-SIZE-LIMIT).
    with _target(RefusesCreatesOf(PART_LIMIT + 1)) as target:
        with contextlib.suppress(pytest.fail.Exception):  # NO-SERVER-ERROR fails the test
            limit_bytes.test_part_of_exactly_64_mib_is_accepted_and_one_byte_more_refused(
                target)
        result = _verdict(target.recorder, "PART-SIZE-LIMIT")
    assert result.passed >= 1  # the 64 MiB part was taken...
    assert result.status is Outcome.NOT_TESTABLE  # ...but that is not the whole rule
    assert result.untested_cause == Untested.INCOMPLETE.value
    assert result.not_run and result.not_run[0].startswith("a part of 64 MiB + 1 byte (")
    assert "500" in result.not_run[0], result.not_run
    assert "ran: a part of exactly 64 MiB" in result.not_testable_reason


def test_the_same_scenarios_all_reaching_their_checks_pass(emulator: Any) -> None:
    with target_with(emulator.base_url, lambda url, client, rec: HttpAdapter(client)) as target:
        limit_bytes.test_part_of_exactly_64_mib_is_accepted_and_one_byte_more_refused(target)
        result = _verdict(target.recorder, "PART-SIZE-LIMIT")
    assert result.status is Outcome.PASS and result.not_run == []


def test_a_check_not_run_in_one_scenario_but_run_by_it_later_counts_as_run() -> None:
    recorder = Recorder()
    recorder.passed("CREATE-INVALID")
    recorder.planned_check("CREATE-INVALID", "a create with x", "it stopped at: create -> 500")
    assert _verdict(recorder, "CREATE-INVALID").status is Outcome.NOT_TESTABLE
    other = Recorder()  # another process ran the same scenario to its check
    other.planned_check("CREATE-INVALID", "a create with x")
    recorder.merge(other.to_dict())
    assert _verdict(recorder, "CREATE-INVALID").status is Outcome.PASS


def test_a_scenario_whose_check_ran_leaves_nothing_not_run(emulator: Any) -> None:
    with target_with(emulator.base_url, lambda url, client, rec: HttpAdapter(client)) as target:
        with scenario(target, "a create refused", ("CREATE-INVALID",)) as ex:
            ex.create({"filename": "x.txt", "purpose": "assistants", "bytes": -1,
                       "mime_type": "text/plain"})
        with scenario(target, "nothing sent", ("PART-INVALID",)):
            pass
        recorder = target.recorder
    assert recorder.coverage["CREATE-INVALID"] == {"a create refused": ""}
    assert recorder.coverage["PART-INVALID"] == {
        "nothing sent": "it stopped at: nothing was sent"}


def test_complete_order_that_nothing_could_observe_is_not_pass() -> None:
    recorder = Recorder()
    recorder.passed("COMPLETE-ORDER")  # accepted completions in a new order, with an md5...
    result = _verdict(recorder, "COMPLETE-ORDER")
    assert result.status is Outcome.NOT_TESTABLE  # ...that nothing showed to be checked
    assert result.untested_cause == Untested.TARGET.value
    assert "CONTENT-BYTES did not run" in result.not_testable_reason
    recorder.passed("COMPLETE-MD5")  # the md5 is checked: the order shows in it
    assert _verdict(recorder, "COMPLETE-ORDER").status is Outcome.PASS
