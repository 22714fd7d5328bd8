"""The chunked helper as users run it: its default part size at the API's part limit, empty
files, and arguments it should refuse (SDK-CHUNKED-UPLOAD, SDK-CHUNKED-ARGUMENTS).

Only one test sends real 64 MiB parts; the others shrink the part limit (`part_limit=`, and
the SDK's default with it) so that the same edges cost a few KiB.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import openai
import pytest

from conformance.adapters.chunked import check_chunked_upload
from conformance.adapters.chunked_arguments import (
    ARGUMENTS_REQUIREMENT,
    MAX_REQUESTS,
    check_chunked_arguments,
)
from conformance.adapters.driver import DriverAdapter
from conformance.adapters.http import HttpAdapter
from conformance.adapters.sdk_python import OpenAIPythonAdapter, OpenAIPythonAsyncAdapter
from conformance.adapters.sdk_wire import ScannedStream
from conformance.api import PART_LIMIT
from conformance.client import TargetClient
from conformance.emulator import EmulatorConfig, EmulatorServer, create_app
from conformance.recorder import Recorder
from conformance.reporting import RunFacts, build_report
from conformance.requirements import Level
from conformance.results import Outcome, RequirementResult
from conformance.target import Target
from strategies.payloads import Payload
from tests.support.adapter_helpers import API_KEY, target_with
from tests.support.fake_sdks import (
    GIVE_UP_AFTER,
    fake_openai,
    helper_checking_arguments,
    helper_retrying_parts,
    helper_with_default,
)
from tests.support.fake_targets import envelope
from tests.support.serving import serve_app

SMALL_LIMIT = 4096  # the part limit these tests shrink the API's 64 MiB to
AROUND_IT = (0, SMALL_LIMIT - 1, SMALL_LIMIT, SMALL_LIMIT + 1)
CHUNKED = ("SDK-CHUNKED-UPLOAD", ARGUMENTS_REQUIREMENT)


def _maker(cls: type[OpenAIPythonAdapter] = OpenAIPythonAdapter, **options: Any
           ) -> Callable[[str, TargetClient, Recorder], OpenAIPythonAdapter]:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> OpenAIPythonAdapter:
        return cls(base_url, API_KEY, recorder=recorder, sink=client.record_exchange,
                   fallback=HttpAdapter(client), **options)
    return make


def _verdict(target: Target, requirement: str) -> RequirementResult:
    return next(r for r in target.recorder.verdicts() if r.id == requirement)


def _others_failed(target: Target) -> set[str]:
    return {f.requirement for f in target.recorder.failures} - set(CHUNKED)


def _cancels(target: Target) -> list[int | None]:
    return [e.status for e in target.client.recent() if e.url.endswith("/cancel")]


@pytest.fixture
def small_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed SDK's default part size shrunk with the limit (its helper reads it
    from the module when it runs)."""
    monkeypatch.setattr(openai.resources.uploads.uploads, "DEFAULT_PART_SIZE", SMALL_LIMIT)


# --- the default part size ----------------------------------------------------------------


def test_the_default_part_size_fills_parts_up_to_the_real_limit(emulator: EmulatorServer
                                                                ) -> None:
    # The one run with real sizes: 64 MiB + 1 byte from disk, in a part of 64 MiB and one of
    # a byte, read back whole.
    with target_with(emulator.base_url, _maker()) as target:
        found = check_chunked_upload(target.adapter, target.checker, target.client,  # type: ignore[arg-type]
                                     (PART_LIMIT + 1,), part_size=None, from_path=True)
        assert found == []
        assert target.recorder.passes["SDK-CHUNKED-UPLOAD"] == 1
        parts = [e.request_body.rsplit(", ", 1)[-1] for e in target.client.recent()
                 if e.url.endswith("/parts")]
        assert parts == [f"{PART_LIMIT} bytes>", "1 bytes>"]


@pytest.mark.usefixtures("small_default")
@pytest.mark.parametrize("cls", [OpenAIPythonAdapter, OpenAIPythonAsyncAdapter],
                         ids=lambda c: c.name)
def test_the_official_default_stays_within_the_limit(emulator: EmulatorServer,
                                                     cls: type[OpenAIPythonAdapter]) -> None:
    with target_with(emulator.base_url, _maker(cls)) as target:
        found = check_chunked_upload(target.adapter, target.checker, target.client,  # type: ignore[arg-type]
                                     AROUND_IT, part_size=None, from_path=True,
                                     part_limit=SMALL_LIMIT)
        assert found == []
        assert _verdict(target, "SDK-CHUNKED-UPLOAD").status is Outcome.PASS
        assert target.recorder.passes["SDK-CHUNKED-UPLOAD"] == len(AROUND_IT)
        assert "an empty file by the SDK's helper: completed" in \
            target.recorder.observations["OPEN-EMPTY-UPLOAD"]


def test_a_default_above_the_limit_is_the_sdks_fault(emulator: EmulatorServer) -> None:
    sdk = fake_openai("9.0.0", chunked_helper=helper_with_default(SMALL_LIMIT + 1))
    with target_with(emulator.base_url, _maker(openai=sdk)) as target:
        found = check_chunked_upload(target.adapter, target.checker, target.client,  # type: ignore[arg-type]
                                     AROUND_IT, part_size=None, from_path=True,
                                     part_limit=SMALL_LIMIT)
        assert [f.requirement for f in found] == ["SDK-CHUNKED-UPLOAD"]
        assert f"part #1 holds {SMALL_LIMIT + 1} bytes (more than the API's part limit of " \
               f"{SMALL_LIMIT} bytes, with the helper's default part size)" in found[0].message
        assert "part_size=default" in found[0].steps[0]
        assert target.recorder.passes["SDK-CHUNKED-UPLOAD"] == 3  # the files within the limit
        assert _verdict(target, "SDK-CHUNKED-UPLOAD").status is Outcome.FAIL
        assert _others_failed(target) == set()


class _SmallPartLimit:
    """The emulator refusing parts whose body exceeds `limit` bytes and their framing, as a
    target does one past its part limit (here shrunk)."""

    def __init__(self, limit: int) -> None:
        self.app, self.limit = create_app(EmulatorConfig(api_key=API_KEY)), limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if scope["type"] == "http" and scope["path"].endswith("/parts") \
                and int(length) > self.limit + 1024:
            body = json.dumps(envelope("The part is too large.", param="data")).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_a_part_the_target_refuses_as_too_large_is_not_the_targets_fault() -> None:
    sdk = fake_openai("9.0.0", chunked_helper=helper_with_default(4 * SMALL_LIMIT))
    with serve_app(_SmallPartLimit(SMALL_LIMIT)) as base_url, \
            target_with(base_url, _maker(openai=sdk)) as target:
        found = check_chunked_upload(target.adapter, target.checker, target.client,  # type: ignore[arg-type]
                                     (4 * SMALL_LIMIT,), part_size=None, from_path=True,
                                     part_limit=SMALL_LIMIT)
        assert [f.requirement for f in found] == ["SDK-CHUNKED-UPLOAD"]
        assert "PART-VALID" not in target.recorder.failed_requirements()
        assert _cancels(target) == [200]  # its upload, left pending, is cancelled


# --- arguments the helper should refuse ---------------------------------------------------


def test_a_helper_that_refuses_them_passes(emulator: EmulatorServer) -> None:
    sdk = fake_openai("9.0.0", chunked_helper=helper_checking_arguments(PART_LIMIT))
    with target_with(emulator.base_url, _maker(openai=sdk)) as target:
        assert check_chunked_arguments(target.adapter, target.checker, target.client) == []  # type: ignore[arg-type]
        verdict = _verdict(target, ARGUMENTS_REQUIREMENT)
        assert (verdict.status, verdict.level, verdict.passed) == (Outcome.PASS, "SHOULD", 5)
        assert any("part_size=0 refused before sending: ValueError" in o
                   for o in verdict.observations)
        assert _cancels(target) == []  # nothing was sent, nothing left to cancel


def test_the_official_helper_sends_what_it_should_refuse(emulator: EmulatorServer) -> None:
    with target_with(emulator.base_url, _maker()) as target:
        found = check_chunked_arguments(target.adapter, target.checker, target.client)  # type: ignore[arg-type]
        assert [f.requirement for f in found] == [ARGUMENTS_REQUIREMENT]
        message = found[0].message
        assert "part_size=0: not refused: it sent a create (200), a completion (400)" in message
        assert "part_size=-1: not refused" in message and "the upload completed" in message
        assert "its create declares bytes=2501 for a file of 2500 bytes" in message
        assert "its create declares bytes=2499" in message
        assert "(the part limit + 1)" not in message  # one part within the limit: it holds
        assert any("(the part limit + 1) accepted; the file uploaded whole" in o for o in
                   target.recorder.observations[ARGUMENTS_REQUIREMENT])
        assert _others_failed(target) == set()  # the target did right: it is not blamed
        assert _cancels(target) == [200, 200, 200]  # each upload it left pending
        report = build_report(target.recorder, [], RunFacts(target.base_url, "embedded",
                                                            "quick", 0))
        assert report.summary()["should_failed"] == 1 and not report.summary()["must_failed"]


class _AsyncEndless(OpenAIPythonAsyncAdapter):
    """An async helper that sends an empty part, refused, again and again."""

    def call_upload_file_chunked(self, sdk: Any, **kwargs: Any) -> Any:
        async def endless() -> Any:
            upload = await sdk.uploads.create(bytes=2500, filename="endless.txt",
                                              mime_type="text/plain", purpose="assistants")
            for _ in range(GIVE_UP_AFTER):  # endless, but for a suite that fails to stop it
                with contextlib.suppress(openai.APIStatusError):
                    await sdk.uploads.parts.create(upload.id, data=b"")
            raise RuntimeError("gave up")
        return endless()


@pytest.mark.parametrize("make", [
    _maker(openai=fake_openai("9.0.0", chunked_helper=helper_retrying_parts)),
    _maker(_AsyncEndless),
], ids=["sync, retrying refused parts", "async, sending empty parts"])
def test_a_helper_that_never_ends_is_stopped(emulator: EmulatorServer,
                                             make: Callable[..., OpenAIPythonAdapter]) -> None:
    with target_with(emulator.base_url, make) as target:
        found = check_chunked_arguments(target.adapter, target.checker, target.client)  # type: ignore[arg-type]
        assert [f.requirement for f in found] == [ARGUMENTS_REQUIREMENT]
        assert re.search(f"part_size=0: it did not end: the suite stopped it at its "
                         f"request #{MAX_REQUESTS};", found[0].message), found[0].message
        assert _verdict(target, ARGUMENTS_REQUIREMENT).level == Level.SHOULD.value
        assert _others_failed(target) == set()
        assert _cancels(target) and set(_cancels(target)) == {200}
        assert "cancel upload_" in "\n".join(found[0].steps)


def test_a_driver_gets_the_default_and_no_arguments_it_could_hang_on(
        emulator: EmulatorServer, fake_driver: list[str]) -> None:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> DriverAdapter:
        return DriverAdapter([*fake_driver, "--chunked", "--report-http"], base_url, API_KEY,
                             recorder=recorder, sink=client.record_exchange,
                             fallback=HttpAdapter(client))
    with target_with(emulator.base_url, make) as target:
        assert check_chunked_upload(target.adapter, target.checker, target.client,  # type: ignore[arg-type]
                                    (0, 2500), part_size=None, from_path=True) == []
        assert target.recorder.passes["SDK-CHUNKED-UPLOAD"] == 2
        parts = [e for e in target.client.recent() if e.url.endswith("/parts")]
        assert len(parts) == 1  # 2500 bytes in one part: the driver's own default
        assert check_chunked_arguments(target.adapter, target.checker, target.client) == []  # type: ignore[arg-type]
        verdict = _verdict(target, ARGUMENTS_REQUIREMENT)
        assert verdict.status is Outcome.NOT_TESTABLE
        assert "could not be stopped without ending the SDK driver" in \
            verdict.not_testable_reason



def test_a_part_held_whole_goes_out_and_is_scanned_a_mib_at_a_time() -> None:
    # The helper hands its HTTP library a 64 MiB part as one bytes object: sent and scanned
    # whole, asyncio's socket buffer and the scanner would each copy it.
    data = Payload(3, 3 * 2**20 + 5).read()
    body = (b'--b\r\nContent-Disposition: form-data; name="data"; filename="p"\r\n\r\n' + data
            + b"\r\n--b--\r\n")
    stream = ScannedStream([body], "multipart/form-data; boundary=b")
    pieces = list(stream)
    assert b"".join(pieces) == body and max(map(len, pieces)) == 2**20
    field = stream.scanner.fields[0]
    assert (field.name, field.size, field.md5) == ("data", len(data),
                                                   hashlib.md5(data).hexdigest())
