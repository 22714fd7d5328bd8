"""SDK drivers: the Node.js SDK through the machine, and drivers that misbehave."""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from conformance.adapters.driver import DriverAdapter, DriverError
from conformance.adapters.http import HttpAdapter
from conformance.adapters.registry import adapter_versions
from conformance.adapters.sdk_python import check_chunked_upload
from conformance.client import TargetClient
from conformance.emulator import EmulatorServer
from conformance.recorder import Recorder
from conformance.reporting import EXIT_RUN_FAILED
from conformance.run import RunSettings, run
from strategies.payloads import Payload
from tests.support.adapter_helpers import (
    API_KEY,
    exchanges_text,
    messages,
    run_machine,
    sdk_passes,
    target_with,
)

CREATE = {"filename": "d.txt", "purpose": "assistants", "bytes": 1000, "mime_type": "text/plain"}


def _maker(command: str | Sequence[str], **options: Any
           ) -> Callable[[str, TargetClient, Recorder], DriverAdapter]:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> DriverAdapter:
        return DriverAdapter(command, base_url, API_KEY, recorder=recorder,
                             sink=client.record_exchange, fallback=HttpAdapter(client), **options)
    return make


# --- the Node.js SDK ------------------------------------------------------------------


def test_the_machine_runs_through_the_node_sdk(emulator: EmulatorServer,
                                               node_driver: str) -> None:
    with target_with(emulator.base_url, _maker(node_driver)) as target:
        assert run_machine(target) == set()
        passes = sdk_passes(target)
        assert passes["SDK-REQUEST-CONFORMS"] > 50 and passes["SDK-RESULT-MATCHES"] > 50
        assert "openai-node: 400 raises BadRequestError" in \
            target.recorder.observations["OPEN-REFUSAL-CODE"]
        versions = adapter_versions(target.adapter)
        assert versions["sdk"] == "openai-node" and versions["sdk_version"] == "6.49.0"
        log = exchanges_text(target.client)
        assert API_KEY not in log and "reported by the SDK driver" in log


def test_large_parts_travel_as_files_and_small_ones_inline(emulator: EmulatorServer,
                                                           node_driver: str) -> None:
    with target_with(emulator.base_url, _maker(node_driver, inline_limit=600)) as target:
        upload = target.adapter.create(CREATE).json["id"]
        parts = [target.adapter.add_part(upload, Payload(s, n))
                 for s, n in ((1, 500), (2, 500))]  # the second goes as a file
        assert [p.status for p in parts] == [200, 200]
        ids = [p.json["id"] for p in parts]
        done = target.adapter.complete(upload, {"part_ids": ids[::-1]})
        assert done.status == 200 and done.json["file"]["bytes"] == 1000
        assert target.recorder.passes.get("SDK-REQUEST-CONFORMS", 0) == 0  # not yet reported
        created = target.adapter.create(CREATE)
        target.adapter.report_checks(target.checker, [created, *parts, done])
        assert target.recorder.failures == []
        assert target.recorder.passes["SDK-REQUEST-CONFORMS"] == 4


def test_the_node_sdk_has_no_chunked_helper_to_test(emulator: EmulatorServer,
                                                    node_driver: str) -> None:
    with target_with(emulator.base_url, _maker(node_driver)) as target:
        assert check_chunked_upload(target.adapter, target.checker, target.client) == []  # type: ignore[arg-type]
        assert target.recorder.not_testable["SDK-CHUNKED-UPLOAD"] == \
            f"openai-node {target.adapter.describe()['sdk_version']} has no upload_file_chunked"


# --- the protocol, with a stand-in driver ---------------------------------------------


def test_a_driver_without_http_reports_gets_synthesised_exchanges(
        emulator: EmulatorServer, fake_driver: list[str]) -> None:
    with target_with(emulator.base_url, _maker([*fake_driver, "--mode", "good"])) as target:
        assert run_machine(target, examples=8) == set()
        assert target.recorder.passes["SDK-RESULT-MATCHES"] > 20
        assert "reports no HTTP" in target.recorder.not_testable["SDK-REQUEST-CONFORMS"]
        answer = target.adapter.create(CREATE)
        assert answer.status == 200 and "synthesised from the SDK driver's reply" in \
            answer.exchange.curl
        assert answer.exchange.request_headers == {"Authorization": "Bearer [REDACTED]",
                                                   "Content-Type": "application/json"}
        missing = target.adapter.cancel("upload_nope")
        assert missing.status == 404 and missing.json["error"]["code"]  # an envelope again


@pytest.mark.parametrize(("mode", "requirement", "says"), [
    ("mislabel", "SDK-RESULT-MATCHES", "raised NotFoundError, not BadRequestError"),
    ("wrong-field", "SDK-REQUEST-CONFORMS", "0 form fields named 'data'"),
])
def test_a_broken_sdk_behind_a_driver_is_caught(emulator: EmulatorServer,
                                                fake_driver: list[str], mode: str,
                                                requirement: str, says: str) -> None:
    command = [*fake_driver, "--mode", mode, "--report-http"]
    with target_with(emulator.base_url, _maker(command)) as target:
        assert run_machine(target, examples=8) == {requirement}
        assert any(says in m for m in messages(target, requirement))


@pytest.mark.parametrize("report_http", [True, False], ids=["http reported", "synthesised"])
def test_a_drivers_chunked_helper_is_checked(emulator: EmulatorServer, fake_driver: list[str],
                                             report_http: bool) -> None:
    command = [*fake_driver, "--chunked", *(["--report-http"] if report_http else [])]
    with target_with(emulator.base_url, _maker(command)) as target:
        assert check_chunked_upload(target.adapter, target.checker, target.client) == []  # type: ignore[arg-type]
        assert target.recorder.passes["SDK-CHUNKED-UPLOAD"] == 4
        assert (target.recorder.passes["SDK-REQUEST-CONFORMS"] > 0) is report_http


def test_a_drivers_broken_chunked_helper_is_caught(emulator: EmulatorServer,
                                                   fake_driver: list[str]) -> None:
    command = [*fake_driver, "--chunked", "--report-http", "--mode", "wrong-field"]
    with target_with(emulator.base_url, _maker(command)) as target:
        found = check_chunked_upload(target.adapter, target.checker, target.client,  # type: ignore[arg-type]
                                     sizes=(10,))
        assert [f.requirement for f in found] == ["SDK-REQUEST-CONFORMS"]
        assert "0 form fields named 'data'" in found[0].message


@pytest.mark.parametrize(("mode", "says"), [
    ("exit", "exited with status 3; its stderr ends with:\nboom: the SDK could not be loaded"),
    ("garbage", "not a protocol message: 'Starting the fake driver"),
    ("silent", "no answer to the hello within 1 s"),
    ("not-ready", "not a ready message"),
    ("leak", "exited with status 5; its stderr ends with:\nconfig: api_key=[REDACTED]"),
])
def test_a_driver_that_cannot_start_is_a_clear_error_at_once(
        emulator: EmulatorServer, fake_driver: list[str], mode: str, says: str) -> None:
    started = time.monotonic()
    with pytest.raises(DriverError) as raised:
        # Only the silent driver waits out its timeout; the others fail of their own cause,
        # given time to start (a loaded machine takes a second to start Python and httpx).
        DriverAdapter([*fake_driver, "--mode", mode], emulator.base_url, API_KEY,
                      hello_timeout=1 if mode == "silent" else 3)
    assert says in str(raised.value) and API_KEY not in str(raised.value)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("flags", "says"), [
    (["--mode", "exit"], "exited with status 3; its stderr ends with:\nboom"),
    (["--lacks", "uploads"], "fake-sdk 0.1 has no Uploads API"),
])
def test_a_run_through_a_driver_that_cannot_start_stops_with_its_reason(
        fake_driver: list[str], tmp_path: Path, flags: list[str], says: str) -> None:
    command = shlex.join([*fake_driver, *flags])
    report = run(RunSettings(sdk_driver=command, report_dir=tmp_path))
    assert report.exit_status == EXIT_RUN_FAILED
    assert len(report.errors) == 1 and says in report.errors[0], report.errors


def test_a_driver_command_that_does_not_exist(emulator: EmulatorServer) -> None:
    with pytest.raises(DriverError, match="cannot start the SDK driver"):
        DriverAdapter("/no/such/driver --flag", emulator.base_url, API_KEY)


@pytest.mark.parametrize(("mode", "says"), [
    ("die-on-op", "exited with status 4; its stderr ends with:\nsegfault"),
    ("bad-reply", "is not {ok: true, result}"),
    ("wrong-id", "a message it was never sent (id 10000)"),
])
def test_a_driver_that_breaks_mid_run_is_a_clear_error_at_once(
        emulator: EmulatorServer, fake_driver: list[str], mode: str, says: str) -> None:
    adapter = DriverAdapter([*fake_driver, "--mode", mode], emulator.base_url, API_KEY)
    try:
        started = time.monotonic()
        with pytest.raises(DriverError) as raised:
            adapter.create(CREATE)
        assert says in str(raised.value)
        with pytest.raises(DriverError):  # and it stays broken, without waiting
            adapter.cancel("upload_x")
        assert time.monotonic() - started < 5
    finally:
        adapter.close()


def test_a_closed_driver_is_stopped_and_refuses_work(emulator: EmulatorServer,
                                                     fake_driver: list[str],
                                                     tmp_path: Path) -> None:
    pid_file = tmp_path / "driver.pid"
    adapter = DriverAdapter([*fake_driver, "--pid-file", str(pid_file)], emulator.base_url,
                            API_KEY)
    assert adapter.create(CREATE).status == 200
    adapter.close()
    # Gone, and reaped: no process has the driver's ID any more.
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    with pytest.raises(DriverError, match="closed by the suite"):
        adapter.cancel("upload_x")
