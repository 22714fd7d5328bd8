"""An emulator left running: stalled request bodies are given up on, and the data of expired
uploads and files is swept away in the background, while nothing still needed is touched."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.emulator_helpers import (
    API_KEY,
    BOUNDARY,
    Api,
    md5_hex,
    multipart,
    ok,
    part_request,
    raw_socket,
    refused,
    wait_until,
)

STALL_S = 0.5


@pytest.fixture
def impatient(tmp_path: Path) -> Iterator[EmulatorServer]:
    """An emulator that gives up on a body after half a second without a byte."""
    with EmulatorServer(EmulatorConfig(data_dir=tmp_path / "data",
                                       body_timeout=STALL_S)) as server:
        yield server


def _answer_then_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_part_that_stalls_is_abandoned_and_its_spool_removed(impatient: EmulatorServer
                                                               ) -> None:
    api = Api(impatient.base_url)
    data = bytes(range(256)) * 800
    upload = api.new_upload(len(data))
    storage = impatient.app.state.storage
    body = multipart([("data", data)])
    with raw_socket(api.base_url) as sock:
        sock.sendall(part_request(upload['id'], body, 100_000))
        assert wait_until(lambda: len(storage.spooled_files()) == 1)
        answer = _answer_then_close(sock)  # the server answers, then closes: not a hang
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:300]
    assert b"connection: close" in head.lower()
    assert b'"code":"body_timeout"' in payload
    assert storage.spooled_files() == []  # the half part is gone...
    part = api.new_part(upload["id"], data)  # ...and the upload is as it was
    done = ok(api.complete(upload["id"], [part], md5=md5_hex(data)))
    assert api.content(done["file"]["id"]).content == data
    api.close()


def test_a_json_body_that_stalls_is_abandoned(impatient: EmulatorServer) -> None:
    with raw_socket(impatient.base_url) as sock:
        sock.sendall(b"POST /v1/uploads HTTP/1.1\r\nHost: test\r\n"
                     b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                     b'{"bytes": ')
        answer = _answer_then_close(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:300]


def test_a_slow_body_that_keeps_coming_is_not_cut_off(impatient: EmulatorServer) -> None:
    # The limit is on silence, not on the whole body: slices 0.1 s apart for over a second.
    data = b"x" * 12

    def trickle() -> Iterator[bytes]:
        body = multipart([("data", data)])
        for start in range(0, len(body), len(body) // 12 + 1):
            time.sleep(STALL_S / 5)
            yield body[start:start + len(body) // 12 + 1]

    api = Api(impatient.base_url)
    upload = api.new_upload(len(data))
    answer = api.post_raw(f"/uploads/{upload['id']}/parts", trickle(),
                          content_type=f"multipart/form-data; boundary={BOUNDARY}")
    ok(answer)
    api.close()


# --- the sweep --------------------------------------------------------------------------------
@pytest.fixture
def swept(tmp_path: Path) -> Iterator[EmulatorServer]:
    """An emulator with test controls whose sweeper runs every 50 ms."""
    config = EmulatorConfig(test_controls=True, data_dir=tmp_path / "data", sweep_interval=0.05)
    with EmulatorServer(config) as server:
        yield server


def test_the_sweep_removes_expired_data_and_keeps_what_is_needed(swept: EmulatorServer) -> None:
    api = Api(swept.base_url)
    storage = swept.app.state.storage

    def advance(seconds: int) -> None:
        ok(api.http.post("/_conformance/clock/advance", json={"seconds": seconds}))

    def spooled() -> set[str]:
        return {path.name for path in storage.spooled_files()}

    old_id, old_parts = api.uploaded([b"old"])  # expires in an hour, untouched after
    expiring = api.new_upload(4, expires_after={"anchor": "created_at", "seconds": 3600})
    expiring_part = api.new_part(expiring["id"], b"file")
    expiring_file = ok(api.complete(expiring["id"], [expiring_part]))["file"]
    keeper_id, keeper_parts = api.uploaded([b"kept", b" for good"])
    keeper = ok(api.complete(keeper_id, keeper_parts))["file"]
    advance(1800)
    young_id, young_parts = api.uploaded([b"young"])  # half an hour younger: not yet due
    advance(1800)

    # Nobody touches the expired upload or the expired file: the sweeper finds them.
    assert wait_until(lambda: spooled() == {*keeper_parts, *young_parts})
    refused(api.add_part(old_id, b"x"), 400, code="upload_expired")
    refused(api.get_file(expiring_file["id"]), 404)
    assert api.content(keeper["id"]).content == b"kept for good"
    done = ok(api.complete(young_id, young_parts))
    assert api.content(done["file"]["id"]).content == b"young"
    assert old_parts[0] not in spooled()
    api.close()
