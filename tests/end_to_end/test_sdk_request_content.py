"""SDK-REQUEST-CONFORMS holds what an SDK sent to what it was asked to send, not only to the
document: a part's bytes (size and md5) and a JSON body's fields.

A request can be valid against the OpenAPI document and still not be the one asked for
(other bytes in `data`, another filename): these SDKs do that, and must be named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai

from conformance.adapters.driver import DriverAdapter
from conformance.adapters.http import HttpAdapter
from conformance.adapters.sdk_python import OpenAIPythonAdapter
from conformance.client import TargetClient
from conformance.emulator import EmulatorServer
from conformance.recorder import Recorder
from strategies.payloads import Payload
from tests.support.adapter_helpers import API_KEY, messages, target_with

CREATE = {"filename": "c.txt", "purpose": "assistants", "bytes": 10, "mime_type": "text/plain"}


class _RenamingAdapter(OpenAIPythonAdapter):
    """An SDK that sends another filename than the one it was given."""

    def call_create(self, sdk: Any, params: dict[str, Any], extra: dict[str, Any]) -> Any:
        return super().call_create(sdk, {**params, "filename": "renamed.txt"}, extra)


def _python(cls: type[OpenAIPythonAdapter]
            ) -> Callable[[str, TargetClient, Recorder], OpenAIPythonAdapter]:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> OpenAIPythonAdapter:
        return cls(base_url, API_KEY, recorder=recorder, openai=openai,
                   sink=client.record_exchange, fallback=HttpAdapter(client))
    return make


def test_a_json_body_other_than_the_one_asked_for_is_named(emulator: EmulatorServer) -> None:
    with target_with(emulator.base_url, _python(_RenamingAdapter)) as target:
        answer = target.adapter.create(CREATE)
        assert answer.status == 200  # valid against the document: only the asking tells
        problems = [c.problem for c in getattr(answer, "checks", []) if c.problem]
    assert len(problems) == 1
    assert "the JSON body is not what the SDK was asked to send: body/filename: " \
           "'renamed.txt' where 'c.txt' was expected" in problems[0]


def test_the_sdk_sending_what_it_was_asked_passes(emulator: EmulatorServer) -> None:
    with target_with(emulator.base_url, _python(OpenAIPythonAdapter)) as target:
        answer = target.adapter.create(CREATE)
        checks = getattr(answer, "checks", [])
    assert [c.problem for c in checks] == [None, None]  # the request, and the result


def test_a_part_with_other_bytes_is_named(emulator: EmulatorServer,
                                         fake_driver: list[str]) -> None:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> DriverAdapter:
        return DriverAdapter([*fake_driver, "--mode", "garbles-binary", "--report-http"],
                             base_url, API_KEY, recorder=recorder,
                             sink=client.record_exchange, fallback=HttpAdapter(client))

    with target_with(emulator.base_url, make) as target:
        upload = target.client.request("POST", "/uploads", json=CREATE).json["id"]
        answer = target.adapter.add_part(upload, Payload(3, 10))
        problems = [c.problem for c in getattr(answer, "checks", []) if c.problem]
        assert messages(target, "SDK-REQUEST-CONFORMS") == []  # travels on the answer
    assert len(problems) == 1
    assert "the 'data' field holds other bytes than the part's" in problems[0]
