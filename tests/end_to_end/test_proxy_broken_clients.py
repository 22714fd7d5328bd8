"""Deliberately broken clients through the proxy: each fault named under its client requirement.

A plain httpx client makes one mistake per upload (the wrong multipart field name, parts
completed out of the order of their bytes, a wrong md5, a part listed that is not the
upload's, a part over 64 MiB, a request sent again after a refusal marked final); the
report must charge each to the client (CLIENT-*) and not to the emulator, which refused
each one as it should.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from conformance.api import PART_LIMIT
from conformance.emulator import EmulatorConfig
from conformance.emulator.app import create_app
from tests.support.proxy_session import (
    ProxySession,
    assert_key_kept,
    failed,
    messages,
    statuses,
)
from tests.support.serving import serve_app

SERVER_SIDE = ("CREATE-VALID", "PART-VALID", "PART-INVALID", "COMPLETE-MD5",
               "COMPLETE-FOREIGN-PART", "PART-SIZE-LIMIT", "ERROR-ENVELOPE", "NO-SERVER-ERROR")


class Client:
    """Just enough of the API, over httpx, to make one mistake at a time."""

    def __init__(self, base_url: str, key: str) -> None:
        self.http = httpx.Client(base_url=base_url + "/", trust_env=False, timeout=120,
                                 headers={"Authorization": f"Bearer {key}"})

    def create(self, size: int) -> str:
        answer = self.http.post("uploads", json={"bytes": size, "filename": "f.bin",
                                                 "purpose": "assistants",
                                                 "mime_type": "text/plain"})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"])

    def part(self, upload: str, data: bytes | Iterator[bytes], field: str = "data",
             size: int | None = None) -> httpx.Response:
        if isinstance(data, bytes):
            return self.http.post(f"uploads/{upload}/parts", files={field: ("p.bin", data)})
        boundary = "proxy-test-boundary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                f"filename=\"p.bin\"\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        assert size is not None

        def body() -> Iterator[bytes]:
            yield head
            yield from data
            yield tail

        return self.http.post(f"uploads/{upload}/parts", content=body(), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail))})

    def part_id(self, upload: str, data: bytes) -> str:
        answer = self.part(upload, data)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"])

    def complete(self, upload: str, part_ids: list[str], md5: str | None) -> httpx.Response:
        body: dict[str, Any] = {"part_ids": part_ids}
        if md5 is not None:
            body["md5"] = md5
        return self.http.post(f"uploads/{upload}/complete", json=body)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_each_broken_client_is_named_under_its_client_requirement(tmp_path: Path) -> None:
    key = "sk-broken-" + secrets.token_hex(12)
    with ProxySession(tmp_path) as proxy:
        client = Client(proxy.base_url, key)
        # The wrong field name: "file" where the document says "data".
        wrong_field = client.create(4)
        assert client.part(wrong_field, b"abcd", field="file").status_code == 400
        # Parts completed out of the order of their bytes (the md5 is the file's).
        reordered = client.create(8)
        first, second = client.part_id(reordered, b"head"), client.part_id(reordered, b"tail")
        assert client.complete(reordered, [second, first], _md5(b"headtail")).status_code \
            == 400
        # A wrong md5.
        wrong_md5 = client.create(4)
        only = client.part_id(wrong_md5, b"data")
        assert client.complete(wrong_md5, [only], "0" * 32).status_code == 400
        # A part of another upload listed.
        foreign = client.create(4)
        client.part_id(foreign, b"mine")
        assert client.complete(foreign, [only], None).status_code == 400
        # The key sent under another scheme than Bearer (the emulator takes any).
        odd = client.http.post("uploads", headers={"Authorization": f"Token {key}"}, json={
            "bytes": 1, "filename": "o.txt", "purpose": "assistants", "mime_type": "text/plain"})
        assert odd.status_code == 200
        # A part one byte over 64 MiB.
        too_big = client.create(PART_LIMIT + 1)
        block = b"x" * (1024 * 1024)
        chunks = iter([block] * 64 + [b"x"])
        assert client.part(too_big, chunks, size=PART_LIMIT + 1).status_code == 413
        client.http.close()
        report = proxy.report()
        assert proxy.stop() == 1
    assert failed(report) == {"CLIENT-REQUEST-CONFORMS", "CLIENT-MD5-MATCHES",
                              "CLIENT-PART-IDS", "CLIENT-PART-SIZE"}, report["verdict"]
    conformance = messages(report, "CLIENT-REQUEST-CONFORMS")
    assert "0 form fields named 'data'" in conformance[0]
    assert "Authorization is not 'Bearer <key>'" in conformance[1]
    md5_messages = messages(report, "CLIENT-MD5-MATCHES")
    assert len(md5_messages) == 2
    assert "the md5 of the parts in the order they were sent" in md5_messages[0]
    assert "order they were sent" not in md5_messages[1]
    assert "no part the target accepted" not in messages(report, "CLIENT-PART-IDS")[0]
    found = statuses(report)
    assert all(found[r] == "pass" for r in SERVER_SIDE), {r: found[r] for r in SERVER_SIDE}
    # Every finding carries its exchanges, each with a curl line, and the upload's steps.
    finding = next(r for r in report["requirements"] if r["id"] == "CLIENT-MD5-MATCHES"
                   )["failures"][0]
    assert finding["steps"][-1].startswith("complete u") and finding["exchanges"]
    assert all(e["curl"].startswith("# exchange") or "curl" in e["curl"]
               for e in finding["exchanges"])
    assert '"Authorization: Bearer $OPENAI_API_KEY"' in finding["exchanges"][-1]["curl"]
    assert_key_kept(proxy, key)


def _final_refusals(app: Any) -> Any:
    """The emulator, each refusal marked final (`x-should-retry: false`), as some servers do."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def marking(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-should-retry", b"false")]}
            await send(message)

        await app(scope, receive, marking)

    return wrapped


def test_a_request_sent_again_after_a_final_refusal_is_the_clients_fault(
        tmp_path: Path) -> None:
    key = "sk-retry-" + secrets.token_hex(12)
    with serve_app(_final_refusals(create_app(EmulatorConfig(api_key=None)))) as upstream, \
            ProxySession(tmp_path, "--upstream", upstream) as proxy:
        client = Client(proxy.base_url, key)
        patient = client.create(4)  # refused once, then the client sends something else
        part = client.part_id(patient, b"data")
        assert client.complete(patient, [part], "0" * 32).status_code == 400
        assert client.complete(patient, [part], _md5(b"data")).status_code == 200
        eager = client.create(4)  # refused, and sent again as it was
        part = client.part_id(eager, b"data")
        for _ in range(2):
            assert client.complete(eager, [part], "1" * 32).status_code == 400
        client.http.close()
        report = proxy.report()
        proxy.stop()
    assert statuses(report)["CLIENT-NO-FINAL-RETRY"] == "fail"
    found = next(r for r in report["requirements"] if r["id"] == "CLIENT-NO-FINAL-RETRY")
    assert found["passed"] == 1 and len(found["failures"]) == 1
    assert "x-should-retry: false" in found["failures"][0]["message"]
    assert_key_kept(proxy, key)
