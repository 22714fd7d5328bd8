"""Concurrent client traffic through the proxy: parts in parallel, and a race on one upload.

Parts sent at once are judged one by one under the oracle's rule for parallel parts
(PART-PARALLEL); a completion sent while a part is still under way is judged with that part
as a history (RACE-LINEARIZABLE). The part is held back by the test's own client (its last
byte waits), so the two overlap at the proxy whatever the machine's speed.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.proxy_session import ProxySession, assert_key_kept, failed, statuses

BOUNDARY = "concurrency-boundary"


def _held_part(release: threading.Event, sent: threading.Event) -> Iterator[bytes]:
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"data\"; "
           f"filename=\"late.bin\"\r\n\r\n").encode() + b"lat"
    sent.set()
    release.wait(30)
    yield f"e\r\n--{BOUNDARY}--\r\n".encode()


def _run(base_url: str, key: str) -> None:
    with httpx.Client(base_url=base_url + "/", trust_env=False, timeout=60,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        def create(size: int) -> str:
            return str(http.post("uploads", json={
                "bytes": size, "filename": "c.bin", "purpose": "assistants",
                "mime_type": "text/plain"}).json()["id"])

        # Four parts at once, completed in their bytes' order.
        parallel = create(16)
        chunks = [bytes([65 + i]) * 4 for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda data: http.post(
                f"uploads/{parallel}/parts", files={"data": ("p", data)}), chunks))
        ids = [a.json()["id"] for a in answers]
        done = http.post(f"uploads/{parallel}/complete", json={
            "part_ids": ids, "md5": hashlib.md5(b"".join(chunks)).hexdigest()})
        assert done.status_code == 200, done.text
        content = http.get(f"files/{done.json()['file']['id']}/content")
        assert content.content == b"".join(chunks)
        # A completion racing a part still under way.
        racing = create(4)
        first = http.post(f"uploads/{racing}/parts", files={"data": ("f", b"done")}).json()
        release, sent = threading.Event(), threading.Event()
        with ThreadPoolExecutor(1) as pool:
            late = pool.submit(http.post, f"uploads/{racing}/parts",
                               content=_held_part(release, sent), headers={
                                   "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
            assert sent.wait(30)
            complete = http.post(f"uploads/{racing}/complete", json={"part_ids": [first["id"]]})
            release.set()
            assert complete.status_code == 200, complete.text
            late.result()


def test_parallel_parts_and_a_race_are_judged(tmp_path: Path) -> None:
    key = "sk-concurrent-" + secrets.token_hex(12)
    with EmulatorServer(EmulatorConfig(api_key=None)) as upstream, \
            ProxySession(tmp_path, "--upstream", upstream.base_url) as proxy:
        _run(proxy.base_url, key)
        report = proxy.report()
        proxy.stop()
    found = statuses(report)
    assert not failed(report), report["verdict"]
    assert found["PART-PARALLEL"] == "pass" and found["RACE-LINEARIZABLE"] == "pass"
    # With parts sent at once, the oracle judges the md5 under COMPLETE-ORDER (seen in
    # the file read back).
    assert found["CLIENT-MD5-MATCHES"] == "pass" and found["COMPLETE-ORDER"] == "pass"
    assert found["CONTENT-BYTES"] == "pass"
    assert_key_kept(proxy, key)
