"""Adding parts: the UploadPart object, the 64 MiB limit, and every malformed part request.

A refused part must leave the upload exactly as it was: each test ends by completing the
upload with only its good parts, which the emulator allows only if no other part was recorded.
"""

from __future__ import annotations

import re

import pytest

from conformance.emulator import EmulatorServer
from tests.support.emulator_helpers import (
    BOUNDARY,
    MIB,
    MULTIPART,
    Api,
    multipart,
    multipart_stream,
    ok,
    refused,
)

PART_ID = re.compile(r"part_[A-Za-z0-9]{24}")


def test_part_object_names_its_upload(api: Api) -> None:
    upload = api.new_upload(3)
    part = ok(api.add_part(upload["id"], b"abc"))
    assert set(part) == {"id", "object", "created_at", "upload_id"}
    assert PART_ID.fullmatch(part["id"])
    assert part["object"] == "upload.part"
    assert part["upload_id"] == upload["id"]
    assert part["created_at"] >= upload["created_at"]


def _still_usable(api: Api, upload_id: str, data: bytes) -> None:
    """The upload still takes exactly `data` and completes: the refusals changed nothing."""
    part_id = api.new_part(upload_id, data)
    completed = ok(api.complete(upload_id, [part_id]))
    assert completed["status"] == "completed"
    assert api.content(completed["file"]["id"]).content == data


def test_part_of_exactly_64_mib_is_accepted_and_one_byte_more_is_refused(api: Api) -> None:
    limit = 64 * MIB
    upload = api.new_upload(2 * limit + 1)
    accepted = api.post_raw(f"/uploads/{upload['id']}/parts", multipart_stream(limit),
                            MULTIPART)
    ok(accepted)
    over = api.post_raw(f"/uploads/{upload['id']}/parts", multipart_stream(limit + 1),
                        MULTIPART)
    refused(over, 413, code="part_too_large")
    # Known up front from Content-Length too: refused without reading the body.
    declared = multipart([("data", b"\x00" * (limit + 1))])
    refused(api.post_raw(f"/uploads/{upload['id']}/parts", declared, MULTIPART), 413)
    rest = api.new_part(upload["id"], b"\x01" * (limit + 1 - 2 * MIB))
    rest2 = api.new_part(upload["id"], b"\x02" * 2 * MIB)
    done = ok(api.complete(upload["id"], [accepted.json()["id"], rest, rest2]))
    assert done["file"]["bytes"] == 2 * limit + 1


def test_zero_byte_part_is_refused(api: Api) -> None:
    upload = api.new_upload(3)
    refused(api.add_part(upload["id"], b""), 400, code="empty_part")
    _still_usable(api, upload["id"], b"abc")


def test_part_past_the_declared_bytes_is_refused_at_once(api: Api) -> None:
    upload = api.new_upload(5)
    first = api.new_part(upload["id"], b"abc")
    refused(api.add_part(upload["id"], b"def"), 400, code="upload_bytes_exceeded")
    second = api.new_part(upload["id"], b"de")
    assert ok(api.complete(upload["id"], [first, second]))["status"] == "completed"


def test_zero_byte_upload_takes_no_part(api: Api) -> None:
    upload = api.new_upload(0)
    refused(api.add_part(upload["id"], b"x"), 400)
    assert ok(api.complete(upload["id"], []))["file"]["bytes"] == 0


def test_part_for_an_unknown_upload_is_404(api: Api) -> None:
    refused(api.add_part("upload_doesnotexist000000000", b"abc"), 404,
            code="upload_not_found")


@pytest.mark.parametrize("upload_id", [
    "..", "%2e%2e", "upload_%00", "upload_'; DROP TABLE uploads;--", "x" * 5000,
    "%F0%9F%92%A5", "upload_abc%20def",
])
def test_odd_upload_ids_are_unknown(api: Api, upload_id: str) -> None:
    refused(api.add_part(upload_id, b"abc"), 404)
    refused(api.complete(upload_id, []), 404)
    refused(api.cancel(upload_id), 404)


def test_path_tricks_do_not_reach_another_route(api: Api) -> None:
    upload = api.new_upload(3)
    tricky = f"/uploads/{upload['id']}%2F..%2F..%2Ffiles/parts"
    refused(api.post_raw(tricky, multipart([("data", b"abc")]), MULTIPART), 404)
    _still_usable(api, upload["id"], b"abc")


BAD_PART_REQUESTS: dict[str, tuple[bytes, str | None]] = {
    "not multipart": (b"abc", "application/octet-stream"),
    "no content type": (b"abc", None),
    "json": (b'{"data": "abc"}', "application/json"),
    "urlencoded form": (b"data=abc", "application/x-www-form-urlencoded"),
    "multipart without boundary": (multipart([("data", b"abc")]), "multipart/form-data"),
    "wrong boundary": (multipart([("data", b"abc")], boundary="other"), MULTIPART),
    "missing data field": (multipart([("file", b"abc")]), MULTIPART),
    "no fields at all": (f"--{BOUNDARY}--\r\n".encode(), MULTIPART),
    "empty body": (b"", MULTIPART),
    "two data fields": (multipart([("data", b"ab"), ("data", b"c")]), MULTIPART),
    "an extra field after data": (multipart([("data", b"abc"), ("note", b"x")]), MULTIPART),
    "an extra field before data": (multipart([("note", b"x"), ("data", b"abc")]), MULTIPART),
    "no closing boundary": (multipart([("data", b"abc")], closed=False), MULTIPART),
    "garbage": (b"\x00\xff" * 100, MULTIPART),
    "no content-disposition": (
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nabc\r\n--{BOUNDARY}--\r\n".encode(),
        MULTIPART),
    "disposition without a name": (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--{BOUNDARY}--\r\n"
        .encode(), MULTIPART),
    "header line without colon": (
        f"--{BOUNDARY}\r\nContent-Disposition form-data\r\n\r\nabc\r\n--{BOUNDARY}--\r\n"
        .encode(), MULTIPART),
}


@pytest.mark.parametrize(("body", "content_type"), BAD_PART_REQUESTS.values(),
                         ids=BAD_PART_REQUESTS.keys())
def test_bad_part_requests_are_refused_and_change_nothing(api: Api, body: bytes,
                                                          content_type: str | None) -> None:
    upload = api.new_upload(3)
    response = api.post_raw(f"/uploads/{upload['id']}/parts", body, content_type)
    refused(response, 400)
    _still_usable(api, upload["id"], b"abc")


def test_refused_parts_leave_no_spool_file(own_api: Api, emulator: EmulatorServer) -> None:
    upload = own_api.new_upload(4)
    path = f"/uploads/{upload['id']}/parts"
    refused(own_api.post_raw(path, multipart([("data", b"ab"), ("data", b"cd")]), MULTIPART))
    refused(own_api.post_raw(path, multipart([("data", b"abcdef")]), MULTIPART))
    refused(own_api.post_raw(path, multipart([("data", b"ab")], closed=False), MULTIPART))
    assert emulator.app.state.storage.spooled_files() == []
    own_api.new_part(upload["id"], b"abcd")
    assert len(emulator.app.state.storage.spooled_files()) == 1


def test_a_large_part_streams_through_in_pieces(api: Api) -> None:
    size = 5 * MIB + 123
    upload = api.new_upload(size)
    part = ok(api.post_raw(f"/uploads/{upload['id']}/parts",
                           multipart_stream(size, fill=b"\x07", chunk=65_537), MULTIPART))
    done = ok(api.complete(upload["id"], [part["id"]]))
    content = api.content(done["file"]["id"]).content
    assert content == b"\x07" * size


def test_part_data_may_contain_boundary_lookalikes(api: Api) -> None:
    data = (b"\r\n--" + BOUNDARY.encode() + b"x") * 1000 + b"\r\n--" + BOUNDARY[:-1].encode()
    upload = api.new_upload(len(data))
    body = multipart([("data", data)])
    part = ok(api.post_raw(f"/uploads/{upload['id']}/parts", body, MULTIPART))
    done = ok(api.complete(upload["id"], [part["id"]]))
    assert api.content(done["file"]["id"]).content == data
