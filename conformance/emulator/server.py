"""Running the emulator: `EmulatorServer` (a background thread, for tests and the runner)
and `run_server` (blocking, for the command line)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from types import TracebackType

import httpx
import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .config import DEFAULT_API_KEY, EmulatorConfig

_START_TIMEOUT_SECONDS = 15.0
_STOP_TIMEOUT_SECONDS = 15.0


class EmulatorServer:
    """The emulator on a free loopback port, served by uvicorn in a background thread.

        with EmulatorServer(EmulatorConfig(test_controls=True)) as server:
            httpx.post(f"{server.base_url}/uploads", ...)
    """

    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.config = config or EmulatorConfig()
        self.host = host
        self.port = port
        self._requested_port = port
        self.app = create_app(self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._stopped = False

    @property
    def base_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}/v1"

    def start(self) -> None:
        if self._stopped:  # a restart: afresh, or from the data dir's records
            self.app = create_app(self.config)
        self._stopped = False
        sock = self._socket = _bind(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(_uvicorn_config(self.app, log_level="warning",
                                                limit=self.config.max_connections))
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name=f"uploads-emulator-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        try:  # any answer (401 or 404) shows it is serving; never through a proxy
            httpx.get(self.base_url, timeout=5, trust_env=False)
        except httpx.HTTPError:
            self.stop()
            raise

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT_SECONDS)
        if self._socket is not None:
            self._socket.close()
        self.app.state.close()  # in case the lifespan did not run to its end
        self._server = self._thread = self._socket = None
        self._stopped = True

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def run_server(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until Ctrl-C (or SIGTERM), then shut down cleanly."""
    app = create_app(config)
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    print(f"Uploads emulator listening: base URL http://{_url_host(host)}:{actual_port}/v1",
          flush=True)
    if config.api_key is None:
        print("Authentication is off: any request is accepted without an API key.", flush=True)
    elif not config.other_api_keys:
        print(f"API key: {_key_hint(config.api_key)} (send 'Authorization: Bearer <key>')",
              flush=True)
    else:
        hints = ", ".join(_key_hint(key) for key in config.api_keys)
        print(f"API keys, each its own tenant: {hints} (send 'Authorization: Bearer <key>')",
              flush=True)
    if config.test_controls:
        print("Test controls: on (/v1/_conformance)", flush=True)
    if config.mutant is not None:
        print(f"Mutant: {config.mutant} (a deliberately faulty emulator)", flush=True)
    server = uvicorn.Server(_uvicorn_config(app, log_level="info",
                                            limit=config.max_connections))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down already; it re-raises the signal it caught
    finally:
        sock.close()
        app.state.close()
    print("Uploads emulator stopped.", file=sys.stderr, flush=True)


def _key_hint(api_key: str) -> str:
    """The key to show on the console: the well-known default in full, any other masked."""
    if api_key == DEFAULT_API_KEY:
        return api_key
    # It may be a real OPENAI_API_KEY: never print a credential.
    return f"{api_key[:3]}...{api_key[-4:]}" if len(api_key) >= 16 else "*" * len(api_key)


def _uvicorn_config(app: Starlette, log_level: str, limit: int | None) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        # h11 finishes reading a request body the app refused early (a 413 mid-part), so
        # the client can read the refusal instead of meeting a reset connection.
        http="h11",
        lifespan="on",
        log_level=log_level,
        access_log=log_level == "info",
        timeout_graceful_shutdown=5,
        # Past it uvicorn answers 503 at once (its own plain answer, as a gateway's). It
        # counts the asking connection too: N + 1 lets N be open and the next one refused.
        limit_concurrency=None if limit is None else limit + 1,
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets that say so, and
    # without it every keep-alive answer waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    # Listening from here on: a client that reads the "listening" line may connect at once,
    # and waits in the backlog until uvicorn's loop accepts it.
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
