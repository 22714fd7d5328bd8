"""The official Python SDK as an adapter: the machine through it, and broken SDKs caught."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from conformance.adapters.http import HttpAdapter
from conformance.adapters.sdk_python import (
    DEFAULT_CHUNKED_SIZES,
    OpenAIPythonAdapter,
    OpenAIPythonAsyncAdapter,
    PayloadReader,
    check_chunked_upload,
)
from conformance.adapters.sdk_records import SdkAnswer
from conformance.adapters.sdk_template import SdkCheck
from conformance.checks import Checker
from conformance.client import TargetClient
from conformance.emulator import EmulatorConfig, EmulatorServer
from conformance.exerciser import scenario
from conformance.recorder import ConformanceFailure, Recorder
from conformance.target import Target
from strategies.payloads import Payload, wrong_md5
from tests.support.adapter_helpers import (
    API_KEY,
    exchanges_text,
    messages,
    run_machine,
    sdk_passes,
    target_with,
)

ADAPTERS = [OpenAIPythonAdapter, OpenAIPythonAsyncAdapter]


def _maker(cls: type[OpenAIPythonAdapter], **options: Any
           ) -> Callable[[str, TargetClient, Checker], OpenAIPythonAdapter]:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> OpenAIPythonAdapter:
        return cls(base_url, API_KEY, recorder=recorder, sink=client.record_exchange,
                   fallback=HttpAdapter(client), **options)
    return make


@pytest.fixture
def sync_target(emulator: EmulatorServer) -> Iterator[Target]:
    with target_with(emulator.base_url, _maker(OpenAIPythonAdapter)) as target:
        yield target


# --- a correct SDK passes ---------------------------------------------------------------


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.name)
def test_the_machine_runs_through_the_sdk_without_failure(
        emulator: EmulatorServer, cls: type[OpenAIPythonAdapter]) -> None:
    with target_with(emulator.base_url, _maker(cls)) as target:
        assert run_machine(target) == set()
        passes = sdk_passes(target)
        assert passes["SDK-REQUEST-CONFORMS"] > 50 and passes["SDK-RESULT-MATCHES"] > 50
        seen = target.recorder.observations["OPEN-REFUSAL-CODE"]
        assert f"{cls.name}: 400 raises BadRequestError" in seen
        log = exchanges_text(target.client)
        assert API_KEY not in log and "x-stainless-package-version" in log


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.name)
def test_the_chunked_helper_uploads_the_bytes_in_order(emulator: EmulatorServer,
                                                       cls: type[OpenAIPythonAdapter]) -> None:
    with target_with(emulator.base_url, _maker(cls)) as target:
        found = check_chunked_upload(target.adapter, target.checker, target.client)  # type: ignore[arg-type]
        assert found == []
        assert target.recorder.passes["SDK-CHUNKED-UPLOAD"] == len(DEFAULT_CHUNKED_SIZES)
        assert "an empty file by the SDK's helper: completed" in \
            target.recorder.observations["OPEN-EMPTY-UPLOAD"]


def test_a_target_fault_is_the_targets_not_the_sdks() -> None:
    """A target that takes any md5: a completion with a wrong one, sent through the SDK, is
    the target's COMPLETE-MD5 and nothing of the SDK's (it sent what it was asked to). One
    fixed scenario, not an exploration: 15 examples did not always reach such a completion."""
    config = EmulatorConfig(api_key=API_KEY, test_controls=True, mutant="md5-unchecked")
    with EmulatorServer(config) as server, \
            target_with(server.base_url, _maker(OpenAIPythonAdapter)) as target:
        with scenario(target, "a wrong md5 through the SDK", ("COMPLETE-MD5",)) as ex:
            upload = ex.create({"filename": "m.txt", "purpose": "assistants", "bytes": 10,
                                "mime_type": "text/plain"})
            part = ex.add_part(upload, ex.payload(10)) if upload else None
            assert upload and part
            ex.complete(upload, [part], wrong_md5(ex.model.right_md5(upload, [part]) or ""))
        assert {f.requirement for f in target.recorder.failures} == {"COMPLETE-MD5"}
        assert target.recorder.passes["SDK-REQUEST-CONFORMS"] == 3


def test_an_unreachable_target_is_a_connection_error_not_an_sdk_fault(closed_port: int) -> None:
    recorder = Recorder()
    adapter = OpenAIPythonAdapter(f"http://127.0.0.1:{closed_port}/v1", API_KEY,
                                  recorder=recorder, timeout=2)
    answer = adapter.cancel("upload_1")
    adapter.report_checks(Checker(recorder, list), [answer])
    adapter.close()
    assert isinstance(answer, SdkAnswer) and answer.status is None and answer.exchange.error
    assert isinstance(answer.sdk_error, openai.APIConnectionError)
    assert recorder.passes["SDK-RESULT-MATCHES"] == 1 and not recorder.failures


# --- parts stream from the payload --------------------------------------------------------


def test_a_payload_reader_is_a_seekable_file_of_the_payloads_bytes() -> None:
    payload = Payload(7, 200_003)
    reader = PayloadReader(payload)
    assert reader.seek(0, io.SEEK_END) == len(payload) and reader.tell() == len(payload)
    assert reader.read(10) == b""
    reader.seek(0)
    pieces = iter(lambda: reader.read(65_521), b"")
    assert b"".join(pieces) == payload.read()
    reader.seek(100_000)
    assert reader.read(5) == payload.read()[100_000:100_005]
    reader.seek(-3, io.SEEK_END)
    assert reader.read() == payload.read()[-3:]


def test_parts_as_bytes_work_too(emulator: EmulatorServer) -> None:
    with target_with(emulator.base_url, _maker(OpenAIPythonAdapter, stream_parts=False)) as t:
        assert run_machine(t, examples=5) == set()


# --- broken SDKs are caught -------------------------------------------------------------


class WrongFieldName(OpenAIPythonAdapter):
    """An SDK that sends a part under the form field `file`."""

    def call_add_part(self, sdk: Any, upload_id: str, data: Any) -> Any:
        return sdk.post(f"/uploads/{upload_id}/parts", body={}, files=[("file", ("p", data))],
                        options={"headers": {"Content-Type": "multipart/form-data"}},
                        cast_to=openai.types.uploads.UploadPart)


class MislabelledErrors(OpenAIPythonAdapter):
    """An SDK whose 400 answers raise NotFoundError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The openai client makes every status error in this one (private) method of its own.
        make = self.sdk._make_status_error

        def mislabel(message: str, *, body: object, response: Any) -> Any:
            error = make(message, body=body, response=response)
            if response.status_code == 400:
                return openai.NotFoundError(message, response=response, body=error.body)
            return error

        self.sdk._make_status_error = mislabel


class ShiftedBytes(OpenAIPythonAdapter):
    """An SDK whose Upload shows one byte more than the target said."""

    def call_create(self, sdk: Any, params: dict[str, Any], extra: dict[str, Any]) -> Any:
        upload = super().call_create(sdk, params, extra)
        return upload.model_copy(update={"bytes": upload.bytes + 1})


@pytest.mark.parametrize(("cls", "requirement", "says"), [
    (WrongFieldName, "SDK-REQUEST-CONFORMS", "0 form fields named 'data'"),
    (MislabelledErrors, "SDK-RESULT-MATCHES", "a 400 answer raised NotFoundError, not "
                                              "BadRequestError"),
    (ShiftedBytes, "SDK-RESULT-MATCHES", "/bytes"),
], ids=["wrong field name", "mislabelled exception", "typed result differs"])
def test_the_machine_catches_a_broken_sdk(emulator: EmulatorServer,
                                          cls: type[OpenAIPythonAdapter], requirement: str,
                                          says: str) -> None:
    with target_with(emulator.base_url, _maker(cls)) as target:
        failed = run_machine(target, examples=10)
        assert requirement in failed
        assert failed <= {requirement, "SDK-REQUEST-CONFORMS", "SDK-RESULT-MATCHES"}, failed
        assert any(says in m for m in messages(target, requirement)), messages(target,
                                                                                requirement)
        evidence = target.recorder.failures[0].exchanges
        assert evidence and all(API_KEY not in e.curl for e in evidence)


def test_an_sdk_that_sends_nothing_is_reported_then_bypassed(sync_target: Target) -> None:
    class Refuses(OpenAIPythonAdapter):
        def call_cancel(self, sdk: Any, upload_id: str) -> Any:
            raise ValueError("will not cancel")

    adapter = Refuses(sync_target.base_url, API_KEY, recorder=sync_target.recorder,
                      fallback=HttpAdapter(sync_target.client))
    answer = adapter.cancel("upload_nope")  # the operation itself does not raise
    assert answer.status == 404  # through the fallback: raw HTTP
    assert answer.checks == [SdkCheck("SDK-REQUEST-CONFORMS", "openai-python: cancel raised "
                                      "ValueError: will not cancel before sending any request")]
    with pytest.raises(ConformanceFailure, match="before sending any request"):
        adapter.report_checks(sync_target.checker, [answer])
    adapter.report_checks(sync_target.checker, [answer])  # reported once: no second raise
    adapter.close()


def test_an_sdk_fault_is_raised_after_its_step_is_recorded(sync_target: Target) -> None:
    sync_target.adapter = ShiftedBytes(sync_target.base_url, API_KEY, recorder=sync_target.recorder,
                                  fallback=HttpAdapter(sync_target.client))
    with scenario(sync_target, "a create through a faulty SDK") as script, \
            pytest.raises(ConformanceFailure, match="/bytes") as raised:
        script.create({"filename": "x.txt", "purpose": "assistants", "bytes": 4,
                       "mime_type": "text/plain"})
    assert raised.value.steps and "= create(" in raised.value.steps[-1]
    sync_target.adapter.close()


def _chunked_by_hand(sdk: Any, kwargs: dict[str, Any], *, reorder: Callable[[list[str]],
                     list[str]] = list, send_backwards: bool = False,
                     part_size: int | None = None) -> Any:
    """A chunked upload helper with the bugs a hand-written one has."""
    file = kwargs["file"]
    data = file if isinstance(file, bytes) else Path(file).read_bytes()
    filename = kwargs.get("filename") or Path(file).name
    upload = sdk.uploads.create(bytes=len(data), filename=filename,
                                mime_type=kwargs["mime_type"], purpose=kwargs["purpose"])
    size = part_size or kwargs["part_size"]
    chunks = [data[at : at + size] for at in range(0, len(data), size)]
    order = list(range(len(chunks)))[:: -1 if send_backwards else 1]
    sent = [sdk.uploads.parts.create(upload.id, data=chunks[i]).id for i in order]
    return sdk.uploads.complete(upload.id, part_ids=reorder(sent), md5=kwargs["md5"])


class ReversedPartIds(OpenAIPythonAdapter):
    def call_upload_file_chunked(self, sdk: Any, **kwargs: Any) -> Any:
        return _chunked_by_hand(sdk, kwargs, reorder=lambda ids: ids[::-1])


class BackwardsParts(OpenAIPythonAdapter):
    def call_upload_file_chunked(self, sdk: Any, **kwargs: Any) -> Any:
        return _chunked_by_hand(sdk, kwargs, send_backwards=True)


class IgnoresPartSize(OpenAIPythonAdapter):
    def call_upload_file_chunked(self, sdk: Any, **kwargs: Any) -> Any:
        return _chunked_by_hand(sdk, kwargs, part_size=1 << 20)


@pytest.mark.parametrize(("cls", "says", "with_md5"), [
    (ReversedPartIds, "the completion lists part_ids", True),
    (ReversedPartIds, "the completion lists part_ids", False),
    (BackwardsParts, "part #1 does not hold the file's bytes 0..500", True),
    (IgnoresPartSize, "part #1 holds 2500 bytes (part size 1000)", False),
], ids=["reversed part_ids", "reversed part_ids, no md5", "parts sent backwards",
        "part size ignored"])
def test_a_broken_chunked_helper_is_caught(emulator: EmulatorServer,
                                           cls: type[OpenAIPythonAdapter], says: str,
                                           with_md5: bool) -> None:
    with target_with(emulator.base_url, _maker(cls)) as target:
        found = check_chunked_upload(target.adapter, target.checker, target.client,  # type: ignore[arg-type]
                                     sizes=(1, 2500), with_md5=with_md5)
        assert [f.requirement for f in found] == ["SDK-CHUNKED-UPLOAD"]
        assert says in found[0].message, found[0].message
        assert any("upload_file_chunked(2500 bytes" in s for s in found[0].steps)
        assert target.recorder.passes["SDK-CHUNKED-UPLOAD"] == 1  # the one-part file is fine


def test_a_chunked_upload_the_target_refuses_is_the_targets_fault() -> None:
    # The target assembles in the order parts arrived, not the part_ids order: with parts
    # sent in order that is no fault; a target that refuses valid completions is.
    config = EmulatorConfig(api_key=API_KEY, test_controls=True, mutant="complete-twice")
    with EmulatorServer(config) as server, \
            target_with(server.base_url, _maker(OpenAIPythonAdapter)) as target:
        found = check_chunked_upload(target.adapter, target.checker, target.client,  # type: ignore[arg-type]
                                     sizes=(1000,))
        assert found == []


def test_exchanges_reach_the_clients_log_redacted(sync_target: Target) -> None:
    answer = sync_target.adapter.create({"filename": "x.txt", "purpose": "assistants",
                                         "bytes": 4, "mime_type": "text/plain"})
    part = sync_target.adapter.add_part(answer.json["id"], Payload(3, 4))
    assert part.status == 200
    recorded = sync_target.client.recent(2)
    assert [e.url.rsplit("/", 1)[-1] for e in recorded] == ["uploads", "parts"]
    assert recorded[1].request_body == "<multipart/form-data: data=part.bin, 4 bytes>"
    assert recorded[0].request_headers["authorization"] == "Bearer [REDACTED]"
    assert hashlib.md5(Payload(3, 4).read()).hexdigest() in recorded[1].curl
    assert os.environ.get("OPENAI_API_KEY") != API_KEY  # the adapter needs no environment
