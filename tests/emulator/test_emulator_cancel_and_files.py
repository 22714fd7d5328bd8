"""Cancelling uploads, and the files a completion makes: retrieve, content, delete, expiry."""

from __future__ import annotations

import threading

import httpx

from conformance.emulator import EmulatorServer
from tests.support.emulator_helpers import MIB, Api, ok, refused, wait_until


def test_cancel_answers_the_cancelled_upload(api: Api) -> None:
    upload_id, _ = api.uploaded([b"abc"])
    cancelled = ok(api.cancel(upload_id))
    assert cancelled["id"] == upload_id
    assert cancelled["object"] == "upload"
    assert cancelled["status"] == "cancelled"
    assert cancelled["file"] is None


def test_cancelled_upload_takes_no_part(api: Api) -> None:
    upload = api.new_upload(3)
    ok(api.cancel(upload["id"]))
    refused(api.add_part(upload["id"], b"abc"), 400, code="upload_cancelled")


def test_cancelling_twice_is_refused(api: Api) -> None:
    upload = api.new_upload(3)
    ok(api.cancel(upload["id"]))
    refused(api.cancel(upload["id"]), 400, code="upload_cancelled")


def test_cancelling_a_completed_upload_is_refused(api: Api) -> None:
    done = api.completed([b"abc"])
    refused(api.cancel(done["id"]), 400, code="upload_completed")
    assert api.content(done["file"]["id"]).content == b"abc"


def test_cancelling_an_unknown_upload_is_404(api: Api) -> None:
    refused(api.cancel("upload_nothere00000000000000000"), 404, code="upload_not_found")


def test_cancel_takes_an_empty_object_but_no_field(api: Api) -> None:
    first = api.new_upload(3)
    ok(api.http.post(f"/uploads/{first['id']}/cancel", json={}))
    second = api.new_upload(3)
    refused(api.http.post(f"/uploads/{second['id']}/cancel", json={"reason": "x"}), 400,
            code="unknown_parameter")
    refused(api.post_raw(f"/uploads/{second['id']}/cancel", b"[1", "application/json"), 400)
    assert ok(api.cancel(second["id"]))["status"] == "cancelled"


def test_cancel_deletes_the_spooled_parts(own_api: Api, emulator: EmulatorServer) -> None:
    storage = emulator.app.state.storage
    upload_id, _ = own_api.uploaded([b"abc", b"def"])
    assert len(storage.spooled_files()) == 2
    ok(own_api.cancel(upload_id))
    assert storage.spooled_files() == []


def test_file_can_be_retrieved_read_and_deleted(own_api: Api, emulator: EmulatorServer) -> None:
    done = own_api.completed([b"abc", b"def"])
    file = done["file"]
    assert ok(own_api.get_file(file["id"])) == file
    content = own_api.content(file["id"])
    assert content.status_code == 200
    assert content.headers["content-type"] == "application/octet-stream"
    assert content.headers["content-length"] == "6"
    assert content.content == b"abcdef"
    deleted = ok(own_api.http.delete(f"/files/{file['id']}"))
    assert deleted == {"id": file["id"], "object": "file", "deleted": True}
    refused(own_api.get_file(file["id"]), 404, code="file_not_found")
    refused(own_api.content(file["id"]), 404)
    refused(own_api.http.delete(f"/files/{file['id']}"), 404)
    assert emulator.app.state.storage.spooled_files() == []


def test_unknown_files_are_404(api: Api) -> None:
    refused(api.get_file("file-nothere"), 404)
    refused(api.content("file-nothere"), 404)
    refused(api.http.delete("/files/file-nothere"), 404)


def test_expires_after_sets_the_files_expiry_and_it_is_kept(own_api: Api,
                                                            emulator: EmulatorServer) -> None:
    upload = own_api.new_upload(3, expires_after={"anchor": "created_at", "seconds": 7200})
    part = own_api.new_part(upload["id"], b"abc")
    file = ok(own_api.complete(upload["id"], [part]))["file"]
    assert file["expires_at"] == file["created_at"] + 7200
    ok(own_api.http.post("/_conformance/clock/advance", json={"seconds": 7190}))
    assert own_api.content(file["id"]).content == b"abc"
    ok(own_api.http.post("/_conformance/clock/advance", json={"seconds": 20}))
    refused(own_api.get_file(file["id"]), 404)
    assert emulator.app.state.storage.spooled_files() == []


def test_delete_during_a_download_lets_the_download_finish(own_api: Api,
                                                           emulator: EmulatorServer) -> None:
    # Many parts: the download opens each part's spool only when it reaches it.
    chunks = [bytes([i]) * MIB for i in range(16)]
    data = b"".join(chunks)
    done = own_api.completed(chunks)
    file_id = done["file"]["id"]
    received = bytearray()
    started = threading.Event()
    with own_api.http.stream("GET", f"/files/{file_id}/content") as response:
        stream = response.iter_bytes(64 * 1024)
        received += next(stream)
        started.set()
        # A second connection deletes the file while this one is still reading it.
        other = httpx.Client(base_url=own_api.base_url,
                             headers={"Authorization": "Bearer sk-emulator"})
        ok(other.delete(f"/files/{file_id}"))
        other.close()
        for chunk in stream:
            received += chunk
    assert bytes(received) == data
    storage = emulator.app.state.storage
    assert wait_until(lambda: storage.spooled_files() == [])
