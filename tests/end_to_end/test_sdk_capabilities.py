"""What an SDK's version lacks is not testable, and what it raises is its own finding.

Each incompatibility class is planted with a stand-in SDK (`tests/support/fake_sdks.py`,
or the stand-in driver): no Uploads API at all, no chunked helper, a create without
`expires_after`, an error of the SDK's own inside an operation, a part refused as a stream.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import openai
import pytest

from conformance.adapters.chunked import check_chunked_upload
from conformance.adapters.driver import DriverAdapter, DriverError
from conformance.adapters.http import HttpAdapter
from conformance.adapters.sdk_capabilities import NoUploadsApi, python_sdk_problem
from conformance.adapters.sdk_python import OpenAIPythonAdapter
from conformance.client import TargetClient
from conformance.emulator import EmulatorServer
from conformance.exerciser import scenario
from conformance.recorder import ConformanceFailure, Recorder
from conformance.reporting import EXIT_RUN_FAILED
from conformance.results import Outcome, Untested
from conformance.run import RunSettings, run
from conformance.target import Target
from tests.support.adapter_helpers import API_KEY, run_machine, target_with
from tests.support.fake_sdks import fake_openai

CREATE = {"filename": "x.txt", "purpose": "assistants", "bytes": 4, "mime_type": "text/plain"}
EXPIRING = {**CREATE, "expires_after": {"anchor": "created_at", "seconds": 3600}}


def _python(module: ModuleType) -> Callable[[str, TargetClient, Recorder], OpenAIPythonAdapter]:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> OpenAIPythonAdapter:
        return OpenAIPythonAdapter(base_url, API_KEY, recorder=recorder, openai=module,
                                   sink=client.record_exchange, fallback=HttpAdapter(client))
    return make


def _driver(command: list[str]) -> Callable[[str, TargetClient, Recorder], DriverAdapter]:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> DriverAdapter:
        return DriverAdapter(command, base_url, API_KEY, recorder=recorder,
                             sink=client.record_exchange, fallback=HttpAdapter(client))
    return make


def _verdict(target: Target, requirement: str) -> Any:
    return next(v for v in target.recorder.verdicts() if v.id == requirement)


# --- what the version offers --------------------------------------------------------------


def test_the_installed_sdk_offers_the_full_set(emulator: EmulatorServer) -> None:
    with target_with(emulator.base_url, _python(openai)) as target:
        found = target.adapter.capabilities
        assert (found.uploads, found.chunked_upload, found.expires_after) == (True, True, True)
        assert found.label == f"openai-python {openai.__version__}"
    assert python_sdk_problem(openai) is None


def test_an_sdk_without_uploads_stops_the_run_with_exit_2(emulator: EmulatorServer,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    old = fake_openai("1.36.1", missing=["uploads"])
    says = "openai-python 1.36.1 has no Uploads API (client.uploads)"
    with pytest.raises(NoUploadsApi, match=r"1\.36\.1 has no Uploads API \(client\.uploads\)"):
        OpenAIPythonAdapter(emulator.base_url, API_KEY, openai=old)
    monkeypatch.setitem(__import__("sys").modules, "openai", old)
    report = run(RunSettings(sdk="openai-python", api_key=API_KEY, report_dir=tmp_path))
    assert report.exit_status == EXIT_RUN_FAILED
    assert any(says in error for error in report.errors)


def test_a_missing_chunked_helper_is_not_testable_with_the_version(
        emulator: EmulatorServer) -> None:
    with target_with(emulator.base_url,
                     _python(fake_openai("1.40.8", missing=["upload_file_chunked"]))) as target:
        assert check_chunked_upload(target.adapter, target.checker, target.client) == []  # type: ignore[arg-type]
        verdict = _verdict(target, "SDK-CHUNKED-UPLOAD")
        assert verdict.status is Outcome.NOT_TESTABLE and not target.recorder.failures
        assert verdict.not_testable_reason == "openai-python 1.40.8 has no upload_file_chunked"
        assert verdict.untested_cause == Untested.TARGET.value


def test_a_create_without_expires_after_sends_it_as_extra_body(emulator: EmulatorServer) -> None:
    with target_with(emulator.base_url,
                     _python(fake_openai("1.50.0", missing=["expires_after"]))) as target:
        adapter = target.adapter
        assert not adapter.capabilities.expires_after
        answer = adapter.create(EXPIRING)
        assert answer.status == 200
        assert [c.problem for c in answer.checks] == [None, None]  # type: ignore[attr-defined]
        assert '"expires_after"' in answer.exchange.request_body  # the request as intended
        assert target.recorder.observations["SDK-REQUEST-CONFORMS"] == {
            "openai-python 1.50.0 has no expires_after on uploads.create: sent in extra_body": 1}
        # The machine through it: no failure at all (the "create sent 0 requests").
        assert run_machine(target, examples=8) == set()


# --- what the SDK raised is its own finding -----------------------------------------------


def test_an_error_inside_the_sdk_is_its_finding_with_only_its_steps_exchanges(
        emulator: EmulatorServer) -> None:
    broken = fake_openai("9.9.9", raises={
        "complete": RuntimeError(f"pool closed (client built with {API_KEY})")})
    with target_with(emulator.base_url, _python(broken)) as target, \
            scenario(target, "a completion through an SDK that raises") as script, \
            pytest.raises(ConformanceFailure) as raised:
        upload = script.create(CREATE)
        assert upload is not None
        part = script.add_part(upload, script.payload(4))
        assert part is not None
        script.complete(upload, [part], None)
    failure = raised.value
    assert failure.requirement == "SDK-REQUEST-CONFORMS"
    assert failure.message == ("openai-python: completion raised RuntimeError: pool closed "
                               "(client built with [REDACTED]) before sending any request")
    assert "complete" in failure.steps[-1] and len(failure.steps) == 3
    # Only the completion's record, not the create's and the part's exchanges.
    assert [e.url for e in failure.exchanges] == [
        f"{emulator.base_url} (completeUpload: not sent)"]
    assert API_KEY not in str([e.to_dict() for e in failure.exchanges])
    assert "RuntimeError: pool closed" in str(failure.exchanges[0].error)


def test_a_part_refused_as_a_stream_is_the_sdks_fault_not_the_targets(
        emulator: EmulatorServer) -> None:
    picky = fake_openai("9.9.9", parts_need_bytes=True)
    with target_with(emulator.base_url, _python(picky)) as target:
        upload = target.adapter.create(CREATE)
        answer = target.adapter.add_part(upload.json["id"], _payload(4))
        assert answer.status == 200  # the fallback sent it: the target is judged on that
        [check] = answer.checks  # type: ignore[attr-defined]
        assert check.problem == ("openai-python: a part of 4 bytes raised TypeError: Expected "
                                 "file input to be bytes, not PayloadReader before sending any "
                                 "request")


def _payload(size: int) -> Any:
    from strategies.payloads import Payload

    return Payload(1, size)


# --- drivers --------------------------------------------------------------------------------


def test_a_driver_that_says_nothing_offers_the_full_set_but_its_operations(
        emulator: EmulatorServer, fake_driver: list[str]) -> None:
    with target_with(emulator.base_url, _driver(fake_driver)) as target:
        found = target.adapter.capabilities
        assert (found.uploads, found.expires_after, found.chunked_upload) == (True, True, False)
        check_chunked_upload(target.adapter, target.checker, target.client)  # type: ignore[arg-type]
        assert _verdict(target, "SDK-CHUNKED-UPLOAD").not_testable_reason == \
            "fake-sdk 0.1 has no upload_file_chunked"


def test_a_driver_says_what_its_sdk_lacks(emulator: EmulatorServer,
                                         fake_driver: list[str]) -> None:
    adapter = DriverAdapter([*fake_driver, "--lacks", "expires_after"], emulator.base_url,
                            API_KEY)
    try:
        assert not adapter.capabilities.expires_after and adapter.capabilities.uploads
    finally:
        adapter.close()
    with pytest.raises(DriverError, match=r"fake-sdk 0\.1 has no Uploads API"):
        DriverAdapter([*fake_driver, "--lacks", "uploads"], emulator.base_url, API_KEY)


@pytest.mark.parametrize("report_http", [True, False], ids=["http", "no-http"])
def test_an_error_inside_a_drivers_sdk_is_its_finding(emulator: EmulatorServer,
                                                     fake_driver: list[str],
                                                     report_http: bool) -> None:
    command = [*fake_driver, "--mode", "raises", *(["--report-http"] if report_http else [])]
    with target_with(emulator.base_url, _driver(command)) as target:
        answer = target.adapter.create(CREATE)
        assert answer.status == 200  # through the fallback: the target is not blamed
        [check] = [c for c in answer.checks if c.problem]  # type: ignore[attr-defined]
        assert check.requirement == "SDK-REQUEST-CONFORMS"
        assert check.problem.startswith("fake-sdk: create raised TypeError: create() got an "
                                        "unexpected keyword argument 'expires_after' (client "
                                        "key [REDACTED])")
        assert "the driver's stderr ends with: Traceback: create(api_key=[REDACTED])" \
            in check.problem
        assert API_KEY not in str(check) and len(check.exchanges) == 1

