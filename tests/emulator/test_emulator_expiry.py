"""Expiry an hour after creation, seen through the test-control clock; and the controls."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.emulator_helpers import Api, ok, refused


def advance(api: Api, seconds: float) -> float:
    answer = ok(api.http.post("/_conformance/clock/advance", json={"seconds": seconds}))
    assert answer["object"] == "test_controls"
    return float(answer["now"])


def test_controls_report_the_clock(own_api: Api) -> None:
    answer = ok(own_api.http.get("/_conformance"))
    assert set(answer) == {"object", "now"}
    assert answer["object"] == "test_controls"
    assert abs(answer["now"] - time.time()) < 5


def test_advancing_moves_the_clock_and_new_uploads_with_it(own_api: Api) -> None:
    before = ok(own_api.http.get("/_conformance"))["now"]
    after = advance(own_api, 86_400)
    assert 86_400 <= after - before < 86_405
    assert advance(own_api, 0) >= after
    assert advance(own_api, 0.5) >= after + 0.5
    upload = own_api.new_upload()
    assert upload["created_at"] >= int(after)


@pytest.mark.parametrize("body", [
    {}, {"seconds": -1}, {"seconds": "10"}, {"seconds": True}, {"seconds": None},
    {"seconds": 10, "minutes": 1}, [10],
])
def test_bad_advance_bodies_are_refused(own_api: Api, body: Any) -> None:
    before = ok(own_api.http.get("/_conformance"))["now"]
    refused(own_api.http.post("/_conformance/clock/advance", json=body), 400)
    assert ok(own_api.http.get("/_conformance"))["now"] - before < 5


def test_controls_need_the_api_key(emulator: EmulatorServer) -> None:
    anonymous = Api(emulator.base_url, api_key=None)
    refused(anonymous.http.get("/_conformance"), 401)
    refused(anonymous.http.post("/_conformance/clock/advance", json={"seconds": 1}), 401)


def test_controls_are_unknown_routes_when_off(api: Api) -> None:
    refused(api.http.get("/_conformance"), 404, code="unknown_url")
    refused(api.http.post("/_conformance/clock/advance", json={"seconds": 1}), 404)


def test_upload_is_pending_until_its_hour_is_over(own_api: Api) -> None:
    upload = own_api.new_upload(6)
    assert upload["expires_at"] == upload["created_at"] + 3600
    advance(own_api, 3598)  # created_at is rounded down, so at most 3599 s of its hour ran
    part = own_api.new_part(upload["id"], b"abc")
    advance(own_api, 2)  # now >= expires_at
    refused(own_api.add_part(upload["id"], b"def"), 400, code="upload_expired")
    refused(own_api.complete(upload["id"], [part]), 400, code="upload_expired")
    refused(own_api.cancel(upload["id"]), 400, code="upload_expired")


def test_expired_upload_refuses_completion_even_with_all_its_bytes(
        own_api: Api, emulator: EmulatorServer) -> None:
    upload_id, part_ids = own_api.uploaded([b"abc", b"def"])
    advance(own_api, 3600)
    refused(own_api.complete(upload_id, part_ids), 400, code="upload_expired")
    assert emulator.app.state.storage.spooled_files() == []  # expiry deleted the data


def test_completed_and_cancelled_uploads_do_not_expire(own_api: Api) -> None:
    done = own_api.completed([b"abc"])
    cancelled = own_api.new_upload(3)
    ok(own_api.cancel(cancelled["id"]))
    advance(own_api, 7200)
    refused(own_api.cancel(done["id"]), 400, code="upload_completed")
    refused(own_api.cancel(cancelled["id"]), 400, code="upload_cancelled")
    assert own_api.content(done["file"]["id"]).content == b"abc"


class FakeClock:
    def __init__(self, now: float) -> None:
        self.value = now

    def now(self) -> float:
        return self.value


def test_an_injected_clock_drives_timestamps_and_expiry() -> None:
    clock = FakeClock(1_700_000_000.7)
    with EmulatorServer(EmulatorConfig(clock=clock)) as server:
        api = Api(server.base_url)
        upload = api.new_upload(3)
        assert upload["created_at"] == 1_700_000_000
        assert upload["expires_at"] == 1_700_003_600
        clock.value += 3599
        part = api.new_part(upload["id"], b"abc")
        clock.value += 0.3  # 1_700_003_600.0: the hour is over
        refused(api.complete(upload["id"], [part]), 400, code="upload_expired")
