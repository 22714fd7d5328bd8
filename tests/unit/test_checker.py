"""The Checker: one answer against the oracle's expectation, and which requirements it breaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.checks import Checker
from conformance.model import accept, either, refuse
from conformance.recorder import ConformanceFailure, Recorder
from conformance.results import Exchange

ENVELOPE = {"error": {"message": "no", "type": "invalid_request_error", "param": None,
                      "code": None}}


@dataclass
class FakeAnswer:
    status: int | None
    json: Any = field(default_factory=lambda: dict(ENVELOPE))

    @property
    def exchange(self) -> Exchange:
        return Exchange("POST", "http://t/v1/uploads", {}, "", self.status)


def checker() -> Checker:
    return Checker(Recorder(), lambda: [])


def test_a_server_error_where_a_refusal_is_due_breaks_the_probed_rule_too() -> None:
    with pytest.raises(ConformanceFailure) as caught:
        checker().answer(refuse("COMPLETE-MD5", "the md5 is wrong"), FakeAnswer(500), "it")
    failure = caught.value
    assert failure.requirement == "COMPLETE-MD5"
    assert failure.also_breaks == ["NO-SERVER-ERROR"]
    assert "500" in failure.message and "refusal" in failure.message
    assert [f.requirement for f in failure.to_findings("t")] == ["COMPLETE-MD5",
                                                                 "NO-SERVER-ERROR"]


def test_a_server_error_on_a_valid_request_breaks_its_rule_too() -> None:
    with pytest.raises(ConformanceFailure) as caught:
        checker().answer(accept("CREATE-VALID", "the request is valid"), FakeAnswer(503), "it")
    assert (caught.value.requirement, caught.value.also_breaks) == ("CREATE-VALID",
                                                                    ["NO-SERVER-ERROR"])


def test_a_server_error_on_an_open_choice_breaks_only_no_server_error() -> None:
    with pytest.raises(ConformanceFailure) as caught:
        checker().answer(either("OPEN-CANCEL-TWICE", "a second cancel"), FakeAnswer(500), "it")
    assert (caught.value.requirement, caught.value.also_breaks) == ("NO-SERVER-ERROR", [])


def test_a_rule_already_failed_leaves_the_server_error_to_be_reported() -> None:
    check = checker()
    check.waived.add("COMPLETE-MD5")
    with pytest.raises(ConformanceFailure) as caught:
        check.answer(refuse("COMPLETE-MD5", "the md5 is wrong"), FakeAnswer(500), "it")
    assert (caught.value.requirement, caught.value.also_breaks) == ("NO-SERVER-ERROR", [])


def test_a_refusal_where_one_is_due_passes_and_an_acceptance_fails() -> None:
    check = checker()
    assert check.answer(refuse("COMPLETE-MD5", "wrong md5"), FakeAnswer(400), "it") is False
    assert check.recorder.passes["COMPLETE-MD5"] == 1
    with pytest.raises(ConformanceFailure) as caught:
        check.answer(refuse("COMPLETE-MD5", "wrong md5"), FakeAnswer(200, {}), "it")
    assert caught.value.requirement == "COMPLETE-MD5" and caught.value.also_breaks == []
