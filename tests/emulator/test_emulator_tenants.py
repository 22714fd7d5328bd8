"""Several API keys, each its own tenant: what one key makes is unknown to every other.

Another tenant's upload or file is answered exactly as an ID never issued (404, the same
code), whatever is asked of it, and nothing another tenant sends changes it; a part of
another tenant's upload is an unknown part at completion. With a data dir, whose upload is
whose survives a restart, and a database made before tenants existed gains the column.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from conformance.emulator.sqlite_store import DATABASE_NAME
from tests.support.emulator_helpers import API_KEY, Api, md5_hex, ok, refused

OTHER_KEY = "sk-emulator-other-tenant-0123456789"
THIRD_KEY = "sk-emulator-third-tenant-9876543210"
UNKNOWN_UPLOAD = "upload_000000000000000000000000"
UNKNOWN_FILE = "file-000000000000000000000000"


@pytest.fixture(scope="module")
def tenants() -> Iterator[tuple[Api, Api]]:
    """An emulator taking two keys, and a client for each."""
    with EmulatorServer(EmulatorConfig(api_key=API_KEY, other_api_keys=(OTHER_KEY,))) \
            as server:
        ours, theirs = Api(server.base_url), Api(server.base_url, api_key=OTHER_KEY)
        yield ours, theirs
        ours.close()
        theirs.close()


def _as_never_issued(theirs: httpx.Response, never_issued: httpx.Response) -> None:
    """Another tenant's object is refused exactly as an ID never issued: status and code."""
    refused(theirs, never_issued.status_code, refused(never_issued)["code"])


def test_each_key_is_accepted_and_a_key_one_character_off_is_not(
        tenants: tuple[Api, Api]) -> None:
    ours, theirs = tenants
    ok(ours.create())
    ok(theirs.create())
    near = Api(ours.base_url, api_key=OTHER_KEY[:-1] + "0")
    try:
        refused(near.create(), 401, "invalid_api_key")
    finally:
        near.close()


def test_another_tenants_upload_is_unknown_whatever_is_asked(tenants: tuple[Api, Api]) -> None:
    ours, theirs = tenants
    upload_id, parts = ours.uploaded([b"abc", b"def"])
    _as_never_issued(theirs.add_part(upload_id, b"x"), theirs.add_part(UNKNOWN_UPLOAD, b"x"))
    _as_never_issued(theirs.complete(upload_id, parts), theirs.complete(UNKNOWN_UPLOAD, parts))
    _as_never_issued(theirs.cancel(upload_id), theirs.cancel(UNKNOWN_UPLOAD))
    # Nothing they sent took effect: our upload completes with our two parts, as it was.
    done = ok(ours.complete(upload_id, parts, md5=md5_hex(b"abcdef")))
    assert done["status"] == "completed" and done["file"]["bytes"] == 6


def test_another_tenants_file_is_unknown(tenants: tuple[Api, Api]) -> None:
    ours, theirs = tenants
    file_id = ours.completed([b"hello"])["file"]["id"]
    _as_never_issued(theirs.get_file(file_id), theirs.get_file(UNKNOWN_FILE))
    _as_never_issued(theirs.content(file_id), theirs.content(UNKNOWN_FILE))
    _as_never_issued(theirs.http.delete(f"/files/{file_id}"),
                     theirs.http.delete(f"/files/{UNKNOWN_FILE}"))
    assert ours.content(file_id).content == b"hello"  # still ours, not deleted


def test_a_part_of_another_tenants_upload_is_an_unknown_part(tenants: tuple[Api, Api]) -> None:
    ours, theirs = tenants
    _, their_parts = theirs.uploaded([b"abc"])
    upload = ours.new_upload(3)
    # The same refusal as for a part ID never issued: their part's existence is not told.
    refused(ours.complete(upload["id"], their_parts), 400, "unknown_part")


def test_the_other_tenant_sees_its_own_and_we_do_not(tenants: tuple[Api, Api]) -> None:
    ours, theirs = tenants
    their_upload, their_parts = theirs.uploaded([b"xyz"])
    _as_never_issued(ours.cancel(their_upload), ours.cancel(UNKNOWN_UPLOAD))
    assert ok(theirs.complete(their_upload, their_parts))["status"] == "completed"


def test_three_keys_are_three_tenants() -> None:
    config = EmulatorConfig(api_key=API_KEY, other_api_keys=(OTHER_KEY, THIRD_KEY))
    with EmulatorServer(config) as server:
        apis = [Api(server.base_url, api_key=key) for key in (API_KEY, OTHER_KEY, THIRD_KEY)]
        try:
            made = [api.new_upload(3)["id"] for api in apis]
            for n, api in enumerate(apis):
                for m, upload_id in enumerate(made):
                    answer = api.add_part(upload_id, b"abc")
                    assert (answer.status_code == 200) == (n == m), (n, m, answer.text)
        finally:
            for api in apis:
                api.close()


@pytest.mark.parametrize(("keys", "message"), [
    ((API_KEY,), "must differ"),
    (("",), "non-empty"),
    ((" padded",), "non-empty"),
])
def test_keys_that_cannot_be_tenants_are_refused(keys: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(api_key=API_KEY, other_api_keys=keys)


def test_more_keys_without_authentication_are_refused() -> None:
    with pytest.raises(ValueError, match="need an api_key"):
        EmulatorConfig(api_key=None, other_api_keys=(OTHER_KEY,))


def test_whose_upload_is_whose_survives_a_restart(tmp_path: Path) -> None:
    config = EmulatorConfig(api_key=API_KEY, other_api_keys=(OTHER_KEY,), data_dir=tmp_path)
    with EmulatorServer(config) as server:
        theirs = Api(server.base_url, api_key=OTHER_KEY)
        upload_id, parts = theirs.uploaded([b"abc"])
        file_id = theirs.completed([b"kept"])["file"]["id"]
        theirs.close()
    with EmulatorServer(config) as server:
        ours, theirs = Api(server.base_url), Api(server.base_url, api_key=OTHER_KEY)
        try:
            refused(ours.complete(upload_id, parts), 404, "upload_not_found")
            refused(ours.get_file(file_id), 404, "file_not_found")
            ok(theirs.complete(upload_id, parts))
            assert theirs.content(file_id).content == b"kept"
        finally:
            ours.close()
            theirs.close()
    with sqlite3.connect(tmp_path / DATABASE_NAME) as db:  # a digest, never the key
        stored = " ".join(str(row) for table in ("uploads", "files")
                          for row in db.execute(f"SELECT tenant FROM {table}"))
    assert OTHER_KEY not in stored and "key-" in stored


def test_a_database_from_before_tenants_gains_them_and_keeps_its_uploads_the_first_keys(
        tmp_path: Path) -> None:
    with EmulatorServer(EmulatorConfig(data_dir=tmp_path)) as server:
        ours = Api(server.base_url)
        upload_id, parts = ours.uploaded([b"abc"])
        ours.close()
    with sqlite3.connect(tmp_path / DATABASE_NAME) as db:  # as the first schema had it
        db.execute("ALTER TABLE uploads DROP COLUMN tenant")
        db.execute("ALTER TABLE files DROP COLUMN tenant")
    config = EmulatorConfig(api_key=API_KEY, other_api_keys=(OTHER_KEY,), data_dir=tmp_path)
    with EmulatorServer(config) as server:
        ours, theirs = Api(server.base_url), Api(server.base_url, api_key=OTHER_KEY)
        try:
            refused(theirs.cancel(upload_id), 404, "upload_not_found")
            ok(ours.complete(upload_id, parts))
        finally:
            ours.close()
            theirs.close()
