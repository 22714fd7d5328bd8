"""The reference emulator behind two connection-level behaviours of real servers.

- `CloseAfterErrors`: after a 4xx answer, the target closes that keep-alive connection
  without having said `Connection: close`. A server that closes it right after the answer
  races the client's next request on it; here the close waits for that request to arrive
  and the request gets no answer, so the race is lost every time, and the application
  (the emulator) never sees the request.
- `dying_target(...)`: an emulator in a process of its own that dies (`os._exit`) when it
  receives its first completion, as a target that crashes on one request does.

`python -m tests.support.connection_targets KEY` serves the dying one and prints its URL.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from conformance.emulator import EmulatorConfig, create_app
from tests.support.serving import serve_app


def _transport(send: Send) -> Any:
    # uvicorn's h11 cycle owns the bound `send` and holds the connection's transport.
    return getattr(getattr(send, "__self__", None), "transport", None)


class CloseAfterErrors:
    """ASGI: the emulator, closing each connection after a 4xx answer (see the module)."""

    def __init__(self, api_key: str) -> None:
        self._app = create_app(EmulatorConfig(api_key=api_key, test_controls=True))
        self._after_error: set[Any] = set()  # transports whose last answer was a 4xx
        self.closed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = _transport(send) if scope["type"] == "http" else None
        if transport is None:
            await self._app(scope, receive, send)
            return
        if transport in self._after_error:
            self._after_error.discard(transport)
            self.closed += 1
            transport.close()
            return
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self._app(scope, receive, watched)
        if 400 <= status < 500:
            self._after_error.add(transport)


@contextlib.contextmanager
def closing_after_errors(api_key: str) -> Iterator[tuple[str, CloseAfterErrors]]:
    """Serve `CloseAfterErrors` on 127.0.0.1; yields its base URL and the app."""
    app = CloseAfterErrors(api_key)
    with serve_app(app) as url:
        yield url, app


class DieOnComplete:
    """ASGI: the emulator, until a completion arrives: then the process exits at once."""

    def __init__(self, api_key: str) -> None:
        self._app = create_app(EmulatorConfig(api_key=api_key, test_controls=True))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).endswith("/complete"):
            os._exit(3)  # no answer, no clean-up: the kernel closes the sockets
        await self._app(scope, receive, send)


@contextlib.contextmanager
def dying_target(api_key: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start `DieOnComplete` in a child process; yields its base URL and the process
    (`returncode` 3 once it has died of a completion)."""
    process = subprocess.Popen([sys.executable, "-m", __name__, api_key],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the dying target did not start: {url!r}")
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


if __name__ == "__main__":
    with serve_app(DieOnComplete(sys.argv[1])) as base_url:
        print(base_url, flush=True)
        threading.Event().wait()
