"""Correct clients through `uploads-conformance proxy` to the embedded emulator: clean reports.

The official Python SDK's `upload_file_chunked` (sync and async) and `curl` each upload a
file through the proxy and download it again; the report must judge the client and the
server on that traffic (CLIENT-*, the server's answers, the file's content) and find
nothing, and the key must be in no byte the proxy wrote or printed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.proxy_session import ProxySession, assert_key_kept, statuses

openai = pytest.importorskip("openai")

# What every clean upload with an md5, read back, must have judged and passed.
JUDGED = ("CLIENT-REQUEST-CONFORMS", "CLIENT-PART-IDS", "CLIENT-MD5-MATCHES", "CREATE-VALID",
          "PART-VALID", "COMPLETE-MD5", "OBJECT-UPLOAD", "OBJECT-PART", "OBJECT-FILE",
          "CONTENT-BYTES")
PART_SIZE = 4096


def _file(tmp_path: Path, size: int = 3 * PART_SIZE + 123) -> tuple[Path, str]:
    path = tmp_path / "notes.txt"
    data = bytes((i * 7 + i // 251) % 256 for i in range(size))
    path.write_bytes(data)
    return path, hashlib.md5(data).hexdigest()


def _assert_clean(report: dict[str, Any]) -> None:
    found = statuses(report)
    failures = [(r["id"], [f["message"] for f in r["failures"]])
                for r in report["requirements"] if r["status"] == "fail"]
    assert not failures, failures
    assert all(found[requirement] == "pass" for requirement in JUDGED), \
        {r: found[r] for r in JUDGED}
    assert report["exit_status"] == 0, report["verdict"]


def test_the_python_sdk_chunked_upload_is_clean(tmp_path: Path) -> None:
    key = "sk-proxy-" + secrets.token_hex(12)
    path, md5 = _file(tmp_path)
    with ProxySession(tmp_path) as proxy:
        client = openai.OpenAI(base_url=proxy.base_url, api_key=key, max_retries=0)
        upload = client.uploads.upload_file_chunked(
            file=path, mime_type="text/plain", purpose="assistants", part_size=PART_SIZE,
            md5=md5)
        assert upload.status == "completed" and upload.file is not None
        assert client.files.content(upload.file.id).read() == path.read_bytes()
        client.close()
        report = proxy.report()
        _assert_clean(report)
        # One create, four parts, one completion, one download: each a line as it ends.
        assert proxy.stdout.count("/parts (") == 4, proxy.stdout
        assert proxy.stop() == 0
        assert_key_kept(proxy, key)


def test_the_async_python_sdk_chunked_upload_is_clean(tmp_path: Path) -> None:
    key = "sk-proxy-async-" + secrets.token_hex(12)
    path, md5 = _file(tmp_path, size=2 * PART_SIZE)

    async def upload(base_url: str) -> bytes:
        async with openai.AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0) as client:
            done = await client.uploads.upload_file_chunked(
                file=path, mime_type="text/plain", purpose="assistants",
                part_size=PART_SIZE, md5=md5)
            assert done.file is not None
            content = await client.files.content(done.file.id)
            return content.read()

    with ProxySession(tmp_path) as proxy:
        assert asyncio.run(upload(proxy.base_url)) == path.read_bytes()
        _assert_clean(proxy.report())
        assert proxy.stop() == 0
        assert_key_kept(proxy, key)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not on this machine")
def test_curl_is_clean(tmp_path: Path) -> None:
    key = "sk-proxy-curl-" + secrets.token_hex(12)
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"hello, ")
    second.write_bytes(b"proxy")
    md5 = hashlib.md5(b"hello, proxy").hexdigest()
    with ProxySession(tmp_path) as proxy:
        def curl(path: str, *args: str) -> Any:
            done = subprocess.run(["curl", "-sS", "--fail-with-body", f"{proxy.base_url}{path}",
                                   "-H", f"Authorization: Bearer {key}", *args],
                                  capture_output=True, check=True, timeout=60)
            return done.stdout if path.endswith("/content") else json.loads(done.stdout)

        json_type = ("-H", "Content-Type: application/json")
        upload = curl("/uploads", *json_type, "-d", json.dumps(
            {"bytes": 12, "filename": "h.txt", "purpose": "assistants",
             "mime_type": "text/plain"}))
        parts = [curl(f"/uploads/{upload['id']}/parts", "-F", f"data=@{p}")["id"]
                 for p in (first, second)]
        done = curl(f"/uploads/{upload['id']}/complete", *json_type, "-d",
                    json.dumps({"part_ids": parts, "md5": md5}))
        assert curl(f"/files/{done['file']['id']}/content") == b"hello, proxy"
        _assert_clean(proxy.report())
        assert proxy.stop() == 0
        assert_key_kept(proxy, key)
