"""The pipe to an SDK driver: a child process exchanging one JSON object a line with the suite.

`Connection` starts the driver, sends messages (several may wait for replies at once, matched
by `id`) and reads the replies on a thread of its own. A driver that dies, stays silent past
a timeout, or writes anything but protocol messages breaks the connection with a
`DriverError` saying so (the tail of its stderr included, the key redacted), never a hang.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import shlex
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from typing import Any, Final

from conformance.evidence import Redactor
from conformance.processes import stop

__all__ = ["Connection", "DriverError", "temporary_file"]

_STDERR_LINES: Final = 30
_CLOSED: Final = "closed by the suite"
_STDERR_SETTLE_S: Final = 1.0  # at most, for stderr written just before a reply
_STDERR_QUIET_S: Final = 0.1  # no new line for this long: the driver said what it had


class DriverError(RuntimeError):
    """The driver cannot be used: it did not start, died, went silent or spoke garbage."""


class Connection:
    """A running driver process and the JSON lines exchanged with it."""

    def __init__(self, command: str | Sequence[str], redactor: Redactor, *,
                 cwd: str | None = None, env: Mapping[str, str] | None = None) -> None:
        self._redactor = redactor  # what a driver prints may hold the key: never shown
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        self.command = command if isinstance(command, str) else shlex.join(argv)
        if not argv:
            raise DriverError("the SDK driver command is empty")
        try:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=cwd, env=None if env is None else dict(env))
        except OSError as error:
            raise DriverError(f"cannot start the SDK driver {self.command!r}: "
                              f"{error.strerror or error}") from None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._waiting: dict[object, Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._broken: DriverError | None = None
        self._closing = False
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._stderr_count = 0  # lines kept so far: `stderr_tail` waits for it to settle
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True,
                                               name="sdk-driver-stderr")
        self._stderr_thread.start()
        threading.Thread(target=self._read, daemon=True, name="sdk-driver-stdout").start()

    def request(self, message: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        """Sends a message and waits for the reply to it (the hello's: the ready)."""
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            if self._broken is not None:
                raise self._broken
            key: object = "hello" if message.get("type") == "hello" else next(self._ids)
            if key != "hello":
                message = {"id": key, **message}
            self._waiting[key] = future
        self._write(message)
        try:
            return future.result(timeout)
        except TimeoutError:
            raise self._break(f"no answer to {what} within {timeout:g} s") from None

    def _write(self, message: dict[str, Any]) -> None:
        line = (json.dumps(message) + "\n").encode()
        stdin = self._process.stdin
        assert stdin is not None
        try:
            with self._write_lock:
                stdin.write(line)
                stdin.flush()
        except (OSError, ValueError):
            raise self._break("its stdin is closed (has it exited?)") from None

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        for raw in stdout:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                self._break(f"it wrote a line that is not a protocol message: {line[:200]!r} "
                            "(a driver writes only JSON objects, one a line, to stdout; "
                            "diagnostics go to stderr)")
                return
            key = message.get("id", "hello")  # the ready has no id
            with self._lock:
                future = self._waiting.pop(key, None) if isinstance(key, str | int) else None
            if future is None:
                self._break(f"it answered a message it was never sent (id {key!r})")
                return
            future.set_result(message)
        try:
            status = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        self._stderr_thread.join(timeout=2)
        if self._closing:
            self._break(_CLOSED)
        elif status is None:
            self._break("it closed its stdout")
        else:
            self._break(f"it exited with status {status}")

    def stderr_tail(self, lines: int = 5) -> str:
        """The last lines the driver wrote to stderr, redacted ("" if none).

        Asked right after a reply: what the driver wrote before it may still be in the
        pipe, or read but not yet kept by the draining thread, so this waits (briefly)
        until the pipe is empty and no line has come for `_STDERR_QUIET_S`.
        """
        stderr = self._process.stderr
        deadline = time.monotonic() + _STDERR_SETTLE_S
        seen, quiet_since = self._stderr_count, time.monotonic()
        while stderr is not None and not stderr.closed and time.monotonic() < deadline:
            try:
                readable, _, _ = select.select([stderr], [], [], 0)
            except (OSError, ValueError):
                break
            if self._stderr_count != seen:
                seen, quiet_since = self._stderr_count, time.monotonic()
            elif not readable and time.monotonic() - quiet_since >= _STDERR_QUIET_S:
                break
            time.sleep(0.01)
        return self._redactor.text("\n".join(list(self._stderr)[-lines:]))

    def _drain_stderr(self) -> None:
        stderr = self._process.stderr
        assert stderr is not None
        for raw in stderr:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())
            self._stderr_count += 1

    def _break(self, reason: str) -> DriverError:
        """Marks the driver unusable: every waiting and later request gets this error."""
        with self._lock:
            if self._broken is None:
                tail = "\n".join(list(self._stderr)[-10:])
                text = f"SDK driver {self.command!r}: {reason}"
                if tail:
                    text += f"; its stderr ends with:\n{tail}"
                self._broken = DriverError(self._redactor.text(text))
                waiting, self._waiting = self._waiting, {}
            else:
                waiting = {}
            broken = self._broken
        for future in waiting.values():
            future.set_exception(broken)
        if self._process.poll() is None and reason != _CLOSED:
            self._process.kill()
        return broken

    # -- what a self-test of a driver needs (conformance.driver_check) --

    def notify(self, message: dict[str, Any]) -> None:
        """Sends a message no reply is awaited for (the bye)."""
        self._write(message)

    def close_stdin(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()

    def exit_status(self, timeout: float) -> int | None:
        """The driver's exit status within `timeout` seconds; None (and killed) if it
        did not exit."""
        try:
            return self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            return None

    def close(self) -> None:
        process = self._process
        self._closing = True
        if process.poll() is None:
            try:
                self._write({"type": "bye"})
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=3)
            except (DriverError, OSError, subprocess.TimeoutExpired):
                stop(process, grace_s=2)
        self._break(_CLOSED)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def temporary_file(chunks: Iterable[bytes]) -> Iterator[str]:
    """A temporary file holding `chunks`, deleted afterwards; yields its path."""
    handle, path = tempfile.mkstemp(prefix="uploads-conformance-", suffix=".bin")
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
        yield path
    finally:
        with suppress(OSError):
            os.unlink(path)
