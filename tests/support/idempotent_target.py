"""The reference emulator behind idempotency keys, for the retry-safety tests.

`idempotent_app(api_key)`: a POST that carries an `Idempotency-Key` already seen is not
sent to the emulator again; it is answered with the answer the first one got, as a target
that honours the keys would. With an SDK that sends a key per request and keeps it across
its retries, a lost answer retried does no harm: the combination the retry-safety checks
must pass. Serve it with `tests.support.serving.serve_app`.
"""

from __future__ import annotations

from typing import Any

from conformance.emulator import EmulatorConfig, create_app
from tests.support.flaky_targets import Message, Receive, Scope, Send

_KEY = b"idempotency-key"


class _Idempotent:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.answers: dict[bytes, list[Message]] = {}
        self.replayed = 0  # how many requests were answered from a key: the tests' proof

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = dict(scope.get("headers") or []).get(_KEY)
        if scope["type"] != "http" or scope["method"] != "POST" or key is None:
            await self.app(scope, receive, send)
            return
        if key in self.answers:
            more = True
            while more:  # read the repeat's body to its end, and drop it
                more = (await receive()).get("more_body", False)
            self.replayed += 1
            for message in self.answers[key]:
                await send(message)
            return
        kept: list[Message] = []

        async def keep(message: Message) -> None:
            kept.append(message)
            await send(message)

        await self.app(scope, receive, keep)
        self.answers[key] = kept


def idempotent_app(api_key: str) -> _Idempotent:
    return _Idempotent(create_app(EmulatorConfig(api_key=api_key)))
