"""Parallel requests: parts added at once, completions and cancels racing parts, and clients
that go away half-way through a part."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx

from conformance.emulator import EmulatorServer
from tests.support.emulator_helpers import (
    API_KEY,
    MULTIPART,
    Api,
    md5_hex,
    multipart,
    ok,
    part_request,
    raw_socket,
    refused,
    wait_until,
)


async def _add_parts_in_parallel(base_url: str, upload_id: str,
                                 chunks: list[bytes]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(chunks))
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60,
                                 headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        return await asyncio.gather(*(
            client.post(f"/uploads/{upload_id}/parts", files={"data": ("p", chunk)})
            for chunk in chunks
        ))


def test_dozens_of_parallel_parts_are_all_recorded(own_api: Api) -> None:
    chunks = [bytes([i]) * (1000 + 37 * i) for i in range(48)]
    upload = own_api.new_upload(sum(map(len, chunks)))
    answers = asyncio.run(_add_parts_in_parallel(own_api.base_url, upload["id"], chunks))
    part_ids = [ok(answer)["id"] for answer in answers]
    assert len(set(part_ids)) == len(chunks)
    order = list(range(len(chunks)))
    random.Random(7).shuffle(order)
    expected = b"".join(chunks[i] for i in order)
    done = ok(own_api.complete(upload["id"], [part_ids[i] for i in order], md5=md5_hex(expected)))
    assert own_api.content(done["file"]["id"]).content == expected


def test_parallel_parts_past_the_declared_bytes_overflow_no_further(own_api: Api,
                                                                    emulator: EmulatorServer
                                                                    ) -> None:
    chunks = [bytes([i]) * 100 for i in range(20)]
    upload = own_api.new_upload(1000)  # room for 10 of the 20
    answers = asyncio.run(_add_parts_in_parallel(own_api.base_url, upload["id"], chunks))
    accepted = [answer.json()["id"] for answer in answers if answer.status_code == 200]
    for answer in answers:
        if answer.status_code != 200:
            refused(answer, 400, code="upload_bytes_exceeded")
    assert len(accepted) == 10
    ok(own_api.complete(upload["id"], accepted))
    assert len(emulator.app.state.storage.spooled_files()) == 10


class SlowPart:
    """A part request whose last bytes wait for a signal: a part still arriving."""

    def __init__(self, base_url: str, upload_id: str, data: bytes) -> None:
        self.release = threading.Event()
        self.streaming = threading.Event()
        body = multipart([("data", data)])
        self._head, self._tail = body[:-20], body[-20:]
        self._client = httpx.Client(base_url=base_url, timeout=30,
                                    headers={"Authorization": f"Bearer {API_KEY}"})
        self._pool = ThreadPoolExecutor(1)
        self.answer = self._pool.submit(self._client.post, f"/uploads/{upload_id}/parts",
                                        content=self._body(), headers={"Content-Type": MULTIPART})

    def _body(self) -> Iterator[bytes]:
        yield self._head
        self.streaming.set()
        self.release.wait(20)
        yield self._tail

    def finish(self) -> httpx.Response:
        self.release.set()
        response = self.answer.result(30)
        self._pool.shutdown()
        self._client.close()
        return response


def test_part_finishing_after_completion_is_refused_and_deleted(own_api: Api,
                                                                emulator: EmulatorServer
                                                                ) -> None:
    upload = own_api.new_upload(6)
    slow = SlowPart(own_api.base_url, upload["id"], b"late!")
    assert slow.streaming.wait(10)
    first = own_api.new_part(upload["id"], b"abc")
    second = own_api.new_part(upload["id"], b"def")
    done = ok(own_api.complete(upload["id"], [first, second]))
    refused(slow.finish(), 400, code="upload_completed")
    assert own_api.content(done["file"]["id"]).content == b"abcdef"
    storage = emulator.app.state.storage
    assert wait_until(lambda: len(storage.spooled_files()) == 2)


def test_part_finishing_after_cancel_is_refused_and_nothing_is_left(own_api: Api,
                                                                    emulator: EmulatorServer
                                                                    ) -> None:
    upload = own_api.new_upload(10)
    own_api.new_part(upload["id"], b"abc")
    slow = SlowPart(own_api.base_url, upload["id"], b"late!")
    assert slow.streaming.wait(10)
    assert ok(own_api.cancel(upload["id"]))["status"] == "cancelled"
    refused(slow.finish(), 400, code="upload_cancelled")
    storage = emulator.app.state.storage
    assert wait_until(lambda: storage.spooled_files() == [])


def test_part_finishing_before_completion_makes_a_subset_completion_fail(own_api: Api) -> None:
    upload = own_api.new_upload(8)
    slow = SlowPart(own_api.base_url, upload["id"], b"abcde")
    assert slow.streaming.wait(10)
    late = ok(slow.finish())["id"]
    early = own_api.new_part(upload["id"], b"fgh")
    refused(own_api.complete(upload["id"], [early]), 400)
    assert ok(own_api.complete(upload["id"], [late, early]))["file"]["bytes"] == 8


def test_parallel_completions_have_one_winner(own_api: Api) -> None:
    upload_id, part_ids = own_api.uploaded([b"abc", b"def"])

    def complete() -> httpx.Response:
        with httpx.Client(base_url=own_api.base_url,
                          headers={"Authorization": f"Bearer {API_KEY}"}) as client:
            return client.post(f"/uploads/{upload_id}/complete",
                               json={"part_ids": part_ids, "md5": md5_hex(b"abcdef")})

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: complete(), range(12)))
    winners = [answer for answer in answers if answer.status_code == 200]
    assert len(winners) == 1
    for answer in answers:
        if answer.status_code != 200:
            refused(answer, 400, code="upload_completed")


def test_completion_racing_cancel_has_one_winner(own_api: Api) -> None:
    for _ in range(10):
        upload_id, part_ids = own_api.uploaded([b"abc"])
        with ThreadPoolExecutor(2) as pool:
            completion = pool.submit(own_api.complete, upload_id, part_ids)
            cancel = pool.submit(own_api.cancel, upload_id)
        statuses = sorted([completion.result().status_code, cancel.result().status_code])
        assert statuses == [200, 400]


def test_client_leaving_mid_part_leaves_the_upload_as_it_was(own_api: Api,
                                                             emulator: EmulatorServer) -> None:
    data = bytes(range(256)) * 800
    upload = own_api.new_upload(len(data))
    storage = emulator.app.state.storage
    body = multipart([("data", data)])
    with raw_socket(own_api.base_url) as sock:
        sock.sendall(part_request(upload['id'], body, 120_000))
        assert wait_until(lambda: len(storage.spooled_files()) == 1)
    # The half part is forgotten and its spool file removed...
    assert wait_until(lambda: storage.spooled_files() == [])
    # ...and the upload takes its real part and completes.
    part = own_api.new_part(upload["id"], data)
    done = ok(own_api.complete(upload["id"], [part]))
    assert own_api.content(done["file"]["id"]).content == data
