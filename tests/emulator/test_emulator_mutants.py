"""Each mutant's fault is really switched on: a detector sees it in the mutant, not in the
clean emulator. Also: the registry, where the faults live, and how an unknown mutant is
refused."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.emulator import MUTANTS, EmulatorConfig, EmulatorServer, create_app
from conformance.emulator.mutants import MUTANT_RULES
from conformance.emulator.rules import Rules
from tests.support.emulator_helpers import (
    API_KEY,
    GIB,
    MIB,
    MULTIPART,
    Api,
    md5_hex,
    multipart,
    multipart_stream,
    ok,
    raw_socket,
)

Detector = Callable[[Api], bool]
# Every emulator here has a second tenant; its key is longer than the first's 11 characters,
# so that a key one character off it differs only past the 16th.
OTHER_KEY = "sk-emulator-second-tenant-0123456789"


def _advance(api: Api, seconds: float) -> None:
    ok(api.http.post("/_conformance/clock/advance", json={"seconds": seconds}))


def _part_of(api: Api, upload_id: str, size: int) -> httpx.Response:
    return api.post_raw(f"/uploads/{upload_id}/parts", multipart_stream(size), MULTIPART)


# --- one detector per mutant: True when the fault shows ---------------------------------------
def exactly_64_mib_part_refused(api: Api) -> bool:
    upload = api.new_upload(64 * MIB)
    return _part_of(api, upload["id"], 64 * MIB).status_code != 200


def part_over_64_mib_accepted(api: Api) -> bool:
    upload = api.new_upload(64 * MIB + 1)
    return _part_of(api, upload["id"], 64 * MIB + 1).status_code == 200


def exactly_8_gib_refused(api: Api) -> bool:
    return api.create(8 * GIB).status_code != 200


def over_8_gib_accepted(api: Api) -> bool:
    return api.create(8 * GIB + 1).status_code == 200


def short_completion_accepted(api: Api) -> bool:
    upload = api.new_upload(10)
    part = api.new_part(upload["id"], b"12345")
    return api.complete(upload["id"], [part]).status_code == 200


def valid_two_part_completion_refused(api: Api) -> bool:
    upload_id, part_ids = api.uploaded([b"abc", b"def"])
    return api.complete(upload_id, part_ids).status_code != 200


def listed_order_ignored(api: Api) -> bool:
    upload_id, part_ids = api.uploaded([b"first-", b"second"])
    done = ok(api.complete(upload_id, part_ids[::-1]))
    return api.content(done["file"]["id"]).content != b"secondfirst-"


def wrong_md5_accepted(api: Api) -> bool:
    upload_id, part_ids = api.uploaded([b"abc"])
    return api.complete(upload_id, part_ids, md5=md5_hex(b"xyz")).status_code == 200


def part_after_completion_accepted(api: Api) -> bool:
    done = api.completed([b"abc"])
    return api.add_part(done["id"], b"d").status_code == 200


def part_after_cancel_accepted(api: Api) -> bool:
    upload = api.new_upload(6)
    ok(api.cancel(upload["id"]))
    return api.add_part(upload["id"], b"abc").status_code == 200


def second_completion_accepted(api: Api) -> bool:
    upload_id, part_ids = api.uploaded([b"abc"])
    ok(api.complete(upload_id, part_ids))
    return api.complete(upload_id, part_ids).status_code == 200


def completion_after_cancel_accepted(api: Api) -> bool:
    upload_id, part_ids = api.uploaded([b"abc"])
    ok(api.cancel(upload_id))
    return api.complete(upload_id, part_ids).status_code == 200


def cancel_after_completion_accepted(api: Api) -> bool:
    done = api.completed([b"abc"])
    return api.cancel(done["id"]).status_code == 200


def cancel_answers_pending(api: Api) -> bool:
    upload = api.new_upload(3)
    return bool(ok(api.cancel(upload["id"]))["status"] != "cancelled")


def foreign_part_accepted(api: Api) -> bool:
    upload = api.new_upload(6)
    own = api.new_part(upload["id"], b"abc")
    _, foreign = api.uploaded([b"def"])
    return api.complete(upload["id"], [own, *foreign]).status_code == 200


def unknown_part_accepted(api: Api) -> bool:
    upload_id, part_ids = api.uploaded([b"abc"])
    listed = [*part_ids, "part_000000000000000000000000"]
    return api.complete(upload_id, listed).status_code == 200


def _at_once(api: Api, requests: list[tuple[str, dict[str, Any]]],
             stagger: float = 0.0) -> list[httpx.Response]:
    """POSTs (path, httpx keyword arguments) sent together over their own connections, the
    n-th `n * stagger` seconds after the first."""
    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30,
                                     headers={"Authorization": f"Bearer {API_KEY}"}) as client:
            async def send(n: int, path: str, kw: dict[str, Any]) -> httpx.Response:
                await asyncio.sleep(n * stagger)
                return await client.post(path, **kw)

            return await asyncio.gather(*(send(n, path, kw)
                                          for n, (path, kw) in enumerate(requests)))

    return asyncio.run(send_all())


def _parts_at_once(api: Api, upload_id: str, count: int) -> list[str]:
    parts = [(f"/uploads/{upload_id}/parts", {"files": {"data": ("p", bytes([i]) * 10)}})
             for i in range(count)]
    return [ok(answer)["id"] for answer in _at_once(api, parts)]


def parallel_parts_lost(api: Api) -> bool:
    upload = api.new_upload(160)
    part_ids = _parts_at_once(api, upload["id"], 16)
    return api.complete(upload["id"], part_ids).status_code != 200


def parallel_part_ids_repeat(api: Api) -> bool:
    upload = api.new_upload(160)
    return len(set(_parts_at_once(api, upload["id"], 16))) < 16


# A window of 10 ms: on a loaded machine the next request can take longer, so a few tries.
def completion_right_after_a_part_refused(api: Api) -> bool:
    return any(api.complete(*api.uploaded([b"abc"])).status_code != 200 for _ in range(5))


def part_right_after_cancel_accepted(api: Api) -> bool:
    return any(part_after_cancel_accepted(api) for _ in range(5))


def part_ending_after_completion_accepted(api: Api) -> bool:
    upload = api.new_upload(6)
    body = multipart([("data", b"late!!")])
    with raw_socket(api.base_url) as sock:
        sock.sendall(f"POST /v1/uploads/{upload['id']}/parts HTTP/1.1\r\nHost: test\r\n"
                     f"Authorization: Bearer {API_KEY}\r\nContent-Type: {MULTIPART}\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:-20])
        first = api.new_part(upload["id"], b"abcdef")  # a round trip: the late part has begun
        ok(api.complete(upload["id"], [first]))
        sock.sendall(body[-20:])
        return sock.recv(64).startswith(b"HTTP/1.1 200")


def completions_at_once_all_succeed(api: Api) -> bool:
    def two_won() -> bool:
        upload_id, part_ids = api.uploaded([b"abc"])
        completion = (f"/uploads/{upload_id}/complete", {"json": {"part_ids": part_ids}})
        return sum(a.status_code == 200 for a in _at_once(api, [completion] * 8)) > 1

    return any(two_won() for _ in range(5))  # a window of half a millisecond: a few tries


def cancel_racing_completion_both_succeed(api: Api) -> bool:
    upload_id, part_ids = api.uploaded([b"abc"])
    cancel = (f"/uploads/{upload_id}/cancel", {})
    completion = (f"/uploads/{upload_id}/complete", {"json": {"part_ids": part_ids}})
    # The completion a few ms after the cancel: while the cancel's store write is under way.
    answers = _at_once(api, [cancel, completion], stagger=0.005)
    return all(answer.status_code == 200 for answer in answers)


def upload_ids_collide(api: Api) -> bool:
    # Five creations take milliseconds: at least two fall in the same second.
    return len({api.new_upload()["id"] for _ in range(5)}) < 5


def expiry_after_a_day(api: Api) -> bool:
    upload = api.new_upload(3)
    _advance(api, 3600)
    late_part = api.add_part(upload["id"], b"abc")
    return upload["expires_at"] - upload["created_at"] == 86_400 and late_part.status_code == 200


def expired_upload_accepts(api: Api) -> bool:
    upload = api.new_upload(3)
    _advance(api, 3601)
    part = api.add_part(upload["id"], b"abc")
    if part.status_code != 200:
        return False
    return api.complete(upload["id"], [part.json()["id"]]).status_code == 200


def completed_upload_without_file(api: Api) -> bool:
    return api.completed([b"abc"])["file"] is None


def file_bytes_of_first_part(api: Api) -> bool:
    return bool(api.completed([b"abc", b"de"])["file"]["bytes"] != 5)


def bare_not_found(api: Api) -> bool:
    answer = api.add_part("upload_unknown00000000000000000", b"abc")
    return answer.status_code == 404 and "error" not in answer.json()


def bad_json_is_a_server_error(api: Api) -> bool:
    answer = api.post_raw("/uploads", b'{"bytes": ', "application/json")
    if answer.status_code == 500:  # still an envelope, as every error is
        assert set(answer.json()["error"]) == {"message", "type", "param", "code"}
    return answer.status_code >= 500


def wrong_key_accepted(api: Api) -> bool:
    return Api(api.base_url, api_key="sk-wrong").create().status_code == 200


def key_one_character_off_accepted(api: Api) -> bool:
    near = Api(api.base_url, api_key=OTHER_KEY[:-1] + "0")
    try:
        return near.create().status_code == 200
    finally:
        near.close()


def other_tenants_upload_usable(api: Api) -> bool:
    upload = api.new_upload(6)
    theirs = Api(api.base_url, api_key=OTHER_KEY)
    try:
        return theirs.add_part(upload["id"], b"abc").status_code == 200
    finally:
        theirs.close()


def unknown_create_field_accepted(api: Api) -> bool:
    return api.create(10, colour="blue").status_code == 200


def long_filename_cut(api: Api) -> bool:
    name = "n" * 100 + ".bin"
    return api.create(10, filename=name).json()["filename"] != name


def negative_bytes_accepted(api: Api) -> bool:
    return api.create(-1).status_code == 200


def upload_object_field_missing(api: Api) -> bool:
    return "object" not in api.new_upload(10)


def lax_complete_body_accepted(api: Api) -> bool:
    upload, parts = api.uploaded([b"abc"])
    return api.complete(upload, parts, md5=123, colour="blue").status_code == 200


DETECTORS: dict[str, Detector] = {
    "part-limit-off-by-one": exactly_64_mib_part_refused,
    "part-limit-missing": part_over_64_mib_accepted,
    "upload-limit-off-by-one": exactly_8_gib_refused,
    "upload-limit-missing": over_8_gib_accepted,
    "byte-count-unchecked": short_completion_accepted,
    "byte-count-skips-last-part": valid_two_part_completion_refused,
    "order-ignored": listed_order_ignored,
    "md5-unchecked": wrong_md5_accepted,
    "part-after-complete": part_after_completion_accepted,
    "part-after-cancel": part_after_cancel_accepted,
    "complete-twice": second_completion_accepted,
    "complete-after-cancel": completion_after_cancel_accepted,
    "cancel-after-complete": cancel_after_completion_accepted,
    "status-not-updated": cancel_answers_pending,
    "foreign-part-accepted": foreign_part_accepted,
    "unknown-part-ignored": unknown_part_accepted,
    "lost-update": parallel_parts_lost,
    "upload-id-collision": upload_ids_collide,
    "expires-after-a-day": expiry_after_a_day,
    "expiry-not-enforced": expired_upload_accepts,
    "file-missing": completed_upload_without_file,
    "file-bytes-wrong": file_bytes_of_first_part,
    "error-envelope-missing": bare_not_found,
    "server-error-on-bad-json": bad_json_is_a_server_error,
    "auth-not-enforced": wrong_key_accepted,
    "unknown-create-fields-ignored": unknown_create_field_accepted,
    "filename-truncated": long_filename_cut,
    "accepts-negative-bytes": negative_bytes_accepted,
    "upload-without-object": upload_object_field_missing,
    "complete-fields-unchecked": lax_complete_body_accepted,
    "key-prefix-only": key_one_character_off_accepted,
    "tenant-leak": other_tenants_upload_usable,
    "lost-update-on-a-yield": parallel_parts_lost,
    "byte-count-race": parallel_parts_lost,
    "part-id-counter": parallel_part_ids_repeat,
    "part-recorded-late": completion_right_after_a_part_refused,
    "part-not-rechecked": part_ending_after_completion_accepted,
    "completion-race": completions_at_once_all_succeed,
    "cancel-check-then-act": cancel_racing_completion_both_succeed,
    "cancel-applied-late": part_right_after_cancel_accepted,
}


@pytest.fixture(scope="module")
def clean_api() -> Iterator[Api]:
    with EmulatorServer(EmulatorConfig(test_controls=True, other_api_keys=(OTHER_KEY,))) \
            as server:
        api = Api(server.base_url)
        yield api
        api.close()


def test_every_mutant_has_a_detector() -> None:
    assert set(DETECTORS) == set(MUTANTS)


@pytest.mark.parametrize("mutant", list(DETECTORS))
def test_mutant_fault_is_switched_on(mutant: str, clean_api: Api) -> None:
    detector = DETECTORS[mutant]
    assert detector(clean_api) is False, "the clean emulator shows the fault"
    with EmulatorServer(EmulatorConfig(mutant=mutant, test_controls=True,
                                       other_api_keys=(OTHER_KEY,))) as server:
        api = Api(server.base_url)
        assert detector(api) is True, f"mutant {mutant} does not show its fault"
        api.close()


def test_unknown_mutant_is_a_value_error_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown mutant 'md5-ignored'") as caught:
        EmulatorConfig(mutant="md5-ignored")
    assert "md5-unchecked" in str(caught.value)
    assert "lost-update" in str(caught.value)


def test_the_app_runs_the_chosen_rules() -> None:
    assert type(create_app(EmulatorConfig()).state.rules) is Rules
    for mutant in MUTANT_RULES:
        assert type(create_app(EmulatorConfig(mutant=mutant.name)).state.rules) is mutant


def test_each_mutant_overrides_a_decision_of_the_clean_rules() -> None:
    decisions = {name for name, _ in inspect.getmembers(Rules, inspect.isfunction)}
    for mutant in MUTANT_RULES:
        overridden = {name for name in vars(mutant) if name in decisions}
        assert overridden, f"{mutant.name} changes nothing"


def test_no_module_but_mutants_names_a_mutant() -> None:
    # The clean code paths ask their Rules; a mutant's name anywhere else is a fault hidden
    # in a handler.
    package = Path(inspect.getfile(Rules)).parent
    for module in package.glob("*.py"):
        if module.name == "mutants.py":
            continue
        text = module.read_text()
        named = [name for name in MUTANTS if name in text]
        assert named == [], f"{module.name} names {named}"


def test_registry_entries_are_described() -> None:
    for name, description in MUTANTS.items():
        assert name == name.lower() and " " not in name
        assert description and len(description) < 120
