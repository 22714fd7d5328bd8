"""An emulator left running holds bounded resources: ended uploads are forgotten after their
retention, pending uploads and spooled bytes can be capped, and a full disk is answered
503 with nothing stored and nothing broken."""

from __future__ import annotations

import platform
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from conformance.emulator.heap import give_back_free_memory
from conformance.emulator.sqlite_store import DATABASE_NAME
from tests.support.emulator_helpers import Api, check_envelope, md5_hex, ok, refused, wait_until

RETENTION_S = 600.0


def _advance(api: Api, seconds: float) -> None:
    ok(api.http.post("/_conformance/clock/advance", json={"seconds": seconds}))


@pytest.fixture
def forgetful(tmp_path: Path) -> Iterator[tuple[EmulatorServer, Api]]:
    """Durable, with test controls, sweeping every 50 ms and a 10-minute retention."""
    config = EmulatorConfig(test_controls=True, data_dir=tmp_path / "data",
                            retention=RETENTION_S, sweep_interval=0.05)
    with EmulatorServer(config) as server:
        api = Api(server.base_url)
        yield server, api
        api.close()


def _rows(server: EmulatorServer, table: str) -> int:
    database = server.config.data_dir / DATABASE_NAME  # type: ignore[operator]
    with sqlite3.connect(database) as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_ended_uploads_are_forgotten_after_their_retention_and_files_stay(
        forgetful: tuple[EmulatorServer, Api]) -> None:
    server, api = forgetful
    service = server.app.state.service
    completed = api.completed([b"kept ", b"bytes"])
    cancelled = api.new_upload(4)
    api.new_part(cancelled["id"], b"gone")
    ok(api.cancel(cancelled["id"]))
    pending = api.new_upload(3)
    _advance(api, RETENTION_S - 5)  # not yet
    assert not wait_until(lambda: cancelled["id"] not in service.uploads, timeout=0.3)
    refused(api.cancel(cancelled["id"]), 400)  # still known: cancelled

    _advance(api, 10)
    assert wait_until(lambda: cancelled["id"] not in service.uploads)
    assert completed["id"] not in service.uploads
    assert service.parts == {}  # no part of an ended upload is held any more
    for upload in (completed, cancelled):  # unknown now: refused, with the envelope
        refused(api.cancel(upload["id"]), 404, "upload_not_found")
    # The completed upload's file is the user's: it stays, bytes and all.
    assert api.content(completed["file"]["id"]).content == b"kept bytes"
    assert pending["id"] in service.uploads  # pending: never forgotten
    assert _rows(server, "uploads") == 1  # the pending upload's row
    assert _rows(server, "parts") == 2  # the live file's pieces


def test_a_restart_keeps_what_retention_has_not_reached(
        forgetful: tuple[EmulatorServer, Api]) -> None:
    server, api = forgetful
    completed = api.completed([b"abc"])
    server.stop()
    server.start()
    api = Api(server.base_url)
    service = server.app.state.service
    # Ended before the restart: its retention counts from the restart, so it is still known.
    refused(api.cancel(completed["id"]), 400)
    _advance(api, RETENTION_S + 1)
    assert wait_until(lambda: completed["id"] not in service.uploads)
    assert api.content(completed["file"]["id"]).content == b"abc"
    ok(api.http.delete(f"/files/{completed['file']['id']}"))
    _advance(api, 1)  # the next sweep also drops the rows the deleted file kept
    assert wait_until(lambda: _rows(server, "parts") == 0 and _rows(server, "files") == 0)
    api.close()


def test_pending_uploads_beyond_the_limit_are_refused_429() -> None:
    with EmulatorServer(EmulatorConfig(max_pending_uploads=2)) as server:
        api = Api(server.base_url)
        first, _second = api.new_upload(1), api.new_upload(1)
        refused(api.create(1), 429, "too_many_pending_uploads")
        ok(api.cancel(first["id"]))  # one fewer pending: room again
        api.new_upload(1)
        api.close()


def test_connections_beyond_the_limit_are_answered_503() -> None:
    with EmulatorServer(EmulatorConfig(max_connections=1)) as server:
        holder, other = Api(server.base_url), Api(server.base_url)
        holder.new_upload(1)  # its keep-alive connection stays open
        assert other.create(1).status_code == 503
        holder.close()
        assert wait_until(lambda: other.create(1).status_code == 200)
        other.close()


def test_a_full_disk_is_answered_503_and_nothing_stored_is_harmed(tmp_path: Path) -> None:
    # The spool's quota fails a write with ENOSPC, exactly as a full disk does.
    config = EmulatorConfig(data_dir=tmp_path / "data", max_disk_bytes=10)
    with EmulatorServer(config) as server:
        api = Api(server.base_url)
        storage = server.app.state.storage
        earlier = api.completed([b"0123456"])
        upload = api.new_upload(6)
        full = api.add_part(upload["id"], b"abcdef")
        assert full.status_code == 503
        assert full.headers["retry-after"]
        check_envelope(full, "insufficient_storage")
        assert len(storage.spooled_files()) == 1  # the refused part left nothing behind
        assert api.content(earlier["file"]["id"]).content == b"0123456"
        ok(api.http.delete(f"/files/{earlier['file']['id']}"))  # space again...
        part = api.new_part(upload["id"], b"abcdef")  # ...and the upload was not harmed
        done = ok(api.complete(upload["id"], [part], md5=md5_hex(b"abcdef")))
        assert api.content(done["file"]["id"]).content == b"abcdef"
        api.close()


def test_a_full_database_is_answered_503_and_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with EmulatorServer(EmulatorConfig(data_dir=tmp_path / "data")) as server:
        api = Api(server.base_url)
        store, service = server.app.state.store, server.app.state.service
        upload = api.new_upload(3)
        part = api.new_part(upload["id"], b"xyz")

        def full(*args: object) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(store, "complete", full)
        monkeypatch.setattr(store, "add_upload", full)
        for answer in (api.create(3), api.complete(upload["id"], [part], md5=md5_hex(b"xyz"))):
            assert answer.status_code == 503, answer.text
            check_envelope(answer, "insufficient_storage")
        assert len(service.uploads) == 1 and service.uploads[upload["id"]].status == "pending"
        monkeypatch.undo()
        ok(api.complete(upload["id"], [part], md5=md5_hex(b"xyz")))
        api.close()


def test_freed_heap_is_given_back_to_the_os_where_the_allocator_can() -> None:
    # Each sweep calls it: without it glibc keeps freed pages and RSS creeps up for hours.
    assert give_back_free_memory() is (platform.libc_ver()[0] == "glibc")
