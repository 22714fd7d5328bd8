"""The proxy adds nothing to the traffic: what the client sends is what the upstream gets,
and what the upstream answers is what the client gets, headers and bytes."""

from __future__ import annotations

import hashlib
import http.client
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.support.proxy_session import ProxySession, assert_key_kept
from tests.support.serving import serve_app


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with what it got: the request line, its headers, its body's size and md5."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    digest, size = hashlib.md5(), 0
    while True:
        message = await receive()
        digest.update(message.get("body", b""))
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = json.dumps({
        "method": scope["method"], "path": scope["path"],
        "query": scope["query_string"].decode(),
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "size": size, "md5": digest.hexdigest()}).encode()
    await send({"type": "http.response.start", "status": 418, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"x-upstream", b"one"), (b"x-upstream", b"two")]})
    await send({"type": "http.response.body", "body": body})


def _send(base_url: str, method: str, path: str, body: bytes,
          headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], dict[str, Any]]:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    data = json.loads(answer.read())
    connection.close()
    return answer.status, answer.getheaders(), data


def test_requests_and_answers_go_through_as_they_came(tmp_path: Path) -> None:
    key = "sk-forward-" + secrets.token_hex(12)
    body = bytes(range(256)) * 4096  # 1 MiB, every byte value
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream",
               "X-Client-Header": "kept", "User-Agent": "my-program/1.0"}
    with serve_app(_echo, date_header=False) as upstream, \
            ProxySession(tmp_path, "--upstream", upstream) as proxy:
        status, answered, seen = _send(proxy.base_url, "PUT", "/v1/anything/else?x=1", body,
                                       headers)
        _, _, direct = _send(upstream, "PUT", "/v1/anything/else?x=1", body, headers)
        proxy.report()
        proxy.stop()
    assert status == 418
    assert [v for k, v in answered if k.lower() == "x-upstream"] == ["one", "two"]
    assert seen["path"] == "/v1/anything/else" and seen["query"] == "x=1"
    assert (seen["size"], seen["md5"]) == (len(body), hashlib.md5(body).hexdigest())

    def shown(data: dict[str, Any]) -> list[tuple[str, str]]:
        # The Host header names whoever was asked: the upstream, in both cases.
        return sorted((k, v) for k, v in data["headers"] if k != "host")

    assert shown(seen) == shown(direct)  # nothing added, nothing taken away
    assert "(not an Uploads operation: not judged)" in proxy.stdout
    assert_key_kept(proxy, key)
