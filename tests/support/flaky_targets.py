"""Faulty targets whose faults a replay sees differently: the reference emulator behind an ASGI
wrapper that rewrites some of its answers, for the tests of replay verdicts.

- `alternating_replicas_app`: not deterministic for the suite. New uploads go to two
  replicas in turn; replica B never learns that an upload ended, so a part sent to one of its
  uploads after a completion or cancel is taken (200). The same steps, replayed, land on the
  other replica one time in two: PART-AFTER-END fails, and a replay reproduces it one time in
  two (the suite cannot reset which replica is next).
- `stale_echo_app`: deterministic, but it needs an earlier upload, which may be one an
  earlier example left. Each create is answered with the filename the create before it
  asked for (an answer built from a buffer one request behind): CREATE-VALID fails as soon
  as two creates in a row name different files, and a replay of the steps that show it
  fails every time. Today's Hypothesis sees a one-create example fail or pass depending on
  the example before it, which is the state it cannot reset.

- `switchable_leak_app`: takes parts after the end while the test's `Switch` says so, for
  a replay verdict the test decides.

All keep everything else of the emulator (test controls on). Serve them with
`tests.support.serving.serve_app`.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from conformance.emulator import EmulatorConfig, create_app
from tests.support.fake_targets import part_object

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# (status, body) of the emulator's answer -> the answer to send instead, or None to keep it.
Rewrite = Callable[[Scope, bytes, int, bytes], Awaitable[tuple[int, bytes] | None]]

_ENDED_CODES = frozenset({"upload_completed", "upload_cancelled"})


class _Rewriting:
    """Sends every request to the emulator; `rewrite` may replace the answer to a POST."""

    def __init__(self, app: Any, rewrite: Rewrite) -> None:
        self.app, self.rewrite = app, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:  # the request whole, so that the rewrite can read it
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self.app(scope, receive_once(bytes(body)), keep)
        status = next(m["status"] for m in answer if m["type"] == "http.response.start")
        sent = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
        replaced = await self.rewrite(scope, bytes(body), status, sent)
        if replaced is None:
            for message in answer:
                await send(message)
            return
        status, sent = replaced
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(sent)).encode())]})
        await send({"type": "http.response.body", "body": sent})


def receive_once(body: bytes) -> Receive:
    """An ASGI `receive` that gives a request read already: its whole body, then a
    disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def _a_usable_part(scope: Scope, body: bytes) -> bool:
    """Whether a part request holds one non-empty `data` file: what replica B would take
    (it refuses a malformed request as the emulator does, for the upload's state it has)."""
    try:
        form = await Request(scope, receive_once(body)).form()
    except Exception:  # not multipart, or cut off: the emulator's refusal stands
        return False
    files = form.getlist("data")
    return len(files) == 1 and isinstance(files[0], UploadFile) and files[0].size != 0


async def _taken_after_the_end(scope: Scope, request: bytes, status: int, answer: bytes,
                               part_id: str) -> tuple[int, bytes] | None:
    """A made-up 200 for a part the emulator refused because its upload had ended (and for
    no other refusal); None otherwise."""
    path = scope["path"]
    if not path.endswith("/parts") or status != 400:
        return None
    error = (_json(answer) or {}).get("error") or {}
    if error.get("code") not in _ENDED_CODES or not await _a_usable_part(scope, request):
        return None
    return 200, json.dumps(part_object(part_id, _upload_of(path), int(time.time()))).encode()


def _upload_of(path: str) -> str:
    """The upload ID in /v1/uploads/{id}/..."""
    return path.split("/")[3] if path.count("/") >= 4 else ""


def alternating_replicas_app(api_key: str) -> _Rewriting:
    """The emulator, with every second upload on a replica that takes parts after the end."""
    on_replica_b: set[str] = set()
    creates = itertools.count()
    part_numbers = itertools.count(1)

    async def rewrite(scope: Scope, request: bytes, status: int,
                      answer: bytes) -> tuple[int, bytes] | None:
        path = scope["path"]
        if path == "/v1/uploads" and status == 200:
            if next(creates) % 2 == 1:
                on_replica_b.add(_json(answer)["id"])
            return None
        if _upload_of(path) in on_replica_b:
            return await _taken_after_the_end(scope, request, status, answer,
                                              f"part_replicab{next(part_numbers):011d}")
        return None

    return _Rewriting(create_app(EmulatorConfig(api_key=api_key, test_controls=True)),
                      rewrite)


@dataclass
class Switch:
    """Whether `switchable_leak_app` takes parts after the end, set by the test."""

    leaking: bool = True


def switchable_leak_app(api_key: str, switch: Switch) -> _Rewriting:
    """The emulator, taking a part after the end of any upload while `switch.leaking`: a
    test flips it between replays to make a fault come back exactly when it chooses."""
    part_numbers = itertools.count(1)

    async def rewrite(scope: Scope, request: bytes, status: int,
                      answer: bytes) -> tuple[int, bytes] | None:
        if switch.leaking:
            return await _taken_after_the_end(scope, request, status, answer,
                                              f"part_leaking{next(part_numbers):012d}")
        return None

    return _Rewriting(create_app(EmulatorConfig(api_key=api_key, test_controls=True)),
                      rewrite)


def stale_echo_app(api_key: str) -> _Rewriting:
    """The emulator, answering each create with the filename of the create before it."""
    previous: list[str] = []  # the filename the last create asked for

    async def rewrite(scope: Scope, request: bytes, status: int,
                      answer: bytes) -> tuple[int, bytes] | None:
        if scope["path"] != "/v1/uploads" or status != 200:
            return None
        asked = (_json(request) or {}).get("filename")
        body = _json(answer)
        stale = previous[0] if previous else asked
        previous[:] = [asked]
        if stale == body.get("filename"):
            return None
        return 200, json.dumps({**body, "filename": stale}).encode()

    return _Rewriting(create_app(EmulatorConfig(api_key=api_key, test_controls=True)),
                      rewrite)
