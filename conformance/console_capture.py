"""The console is the suite's own: everything else a run prints goes, redacted, to a log.

    with captured_output(report_dir / "run.log", Redactor(api_key)) as console:
        pytest.main(...)                     # its output, Hypothesis's, workers': the log
        console.write("the suite's line\\n")  # the real terminal

Capture is at the file-descriptor level: fds 1 and 2 point at a pipe for the block, so
child processes (pytest-xdist workers, SDK drivers) inherit it, and so does whatever holds
the old `sys.stdout` or writes with `os.write`. A reader thread splits the pipe into lines,
scrubs each with the run's `Redactor` and appends it to the log.
"""

from __future__ import annotations

import io
import os
import select
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import BinaryIO, TextIO

from conformance.evidence import Redactor

__all__ = ["LINE_CAP", "Console", "StreamRedactor", "captured_output"]

LINE_CAP = 64 * 1024  # bytes of a line without a newline held before it is written in pieces
JOIN_TIMEOUT_S = 3.0  # how long exit waits for children that still hold the pipe
_READ_SIZE = 64 * 1024
_POLL_MS = 100  # how often the reader looks whether it was told to stop


class StreamRedactor:
    """Redacts a byte stream that arrives in arbitrary pieces.

    Whole lines are redacted as they complete; a partial last line waits for its newline
    (so a secret split across two writes is joined first). A line longer than `cap` is
    written in pieces, each time keeping back the last len(longest secret form) - 1 bytes
    of the redacted text: a secret that the cut would split starts in those bytes, so it is
    whole when the next piece is redacted.
    """

    __slots__ = ("_cap", "_keep", "_pending", "_redactor")

    def __init__(self, redactor: Redactor, cap: int = LINE_CAP) -> None:
        self._redactor = redactor
        self._cap = cap
        self._keep = max(redactor.longest - 1, 0)
        self._pending = bytearray()

    def feed(self, chunk: bytes) -> bytes:
        """The redacted bytes that can be written now that `chunk` has arrived."""
        self._pending += chunk
        end = self._pending.rfind(b"\n") + 1
        out = b""
        if end:
            out = self._redactor.data(bytes(self._pending[:end]))
            del self._pending[:end]
        if len(self._pending) >= self._cap + self._keep:
            scrubbed = self._redactor.data(bytes(self._pending))
            cut = len(scrubbed) - self._keep
            out += scrubbed[:cut]
            self._pending = bytearray(scrubbed[cut:])
        return out

    def finish(self) -> bytes:
        """The rest, at the end of the stream."""
        out = self._redactor.data(bytes(self._pending))
        self._pending.clear()
        return out


class Console(io.TextIOBase):
    """The real terminal (the stdout there was before the block), redacted write by write."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        super().__init__()
        self._stream = stream
        self._redactor = redactor

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._stream.write(self._redactor.text(text))
        if not text.endswith("\n"):  # a status line redrawn in place: show it now
            self._stream.flush()
        return len(text)

    def flush(self) -> None:
        if not self.closed:
            self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()  # flushes first
        finally:
            self._stream.close()


class _Reader(threading.Thread):
    """Drains the pipe into the log until end of file, or until told to stop.

    It owns the pipe's read end and the log: `finish` closes them once the thread is done.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(name="console-capture", daemon=True)
        self.fd: int | None = None
        self.log: BinaryIO | None = None
        self._lines = StreamRedactor(redactor)
        self._stopping = threading.Event()

    def run(self) -> None:
        assert self.fd is not None
        poller = select.poll()  # not select(): fds above 1023 are fine
        poller.register(self.fd, select.POLLIN)
        while not self._stopping.is_set():
            if not poller.poll(_POLL_MS):
                continue
            try:
                chunk = os.read(self.fd, _READ_SIZE)
            except OSError:
                break
            if not chunk:
                break
            self._write(self._lines.feed(chunk))
        self._write(self._lines.finish())

    def finish(self, timeout_s: float) -> None:
        """Wait for end of file (every write end closed), at most `timeout_s`: a child that
        still holds the pipe must not hang the run. Then stop reading and close."""
        if self.ident is not None:
            self.join(timeout_s)
            if self.is_alive():
                self._stopping.set()
                self.join(timeout_s + _POLL_MS / 1000)
            if self.is_alive():
                return  # stuck in a write to the log: what it holds dies with the process
        if self.fd is not None:
            os.close(self.fd)
        if self.log is not None:
            self.log.close()

    def _write(self, data: bytes) -> None:
        if not data or self.log is None:
            return
        try:
            self.log.write(data)
            self.log.flush()  # what a crash leaves behind is in the file
        except OSError:
            self.log = None  # a full disk must not stop the draining: writers would block


@contextmanager
def captured_output(log_path: Path | None, redactor: Redactor, *,
                    join_timeout_s: float = JOIN_TIMEOUT_S) -> Iterator[Console]:
    """For the block, fds 1 and 2 (and sys.stdout, sys.stderr) write, redacted, to
    `log_path` (made anew, with its folder; None: discarded). Yields the `Console`:
    the stdout there was before the block.

    On exit, however the block ends, the fds and sys streams are restored, and the log has
    everything written before exit. Children that still hold the pipe delay exit by at
    most `join_timeout_s`; what they write after that is dropped (they get EPIPE).
    """
    with ExitStack() as undo:
        reader = _Reader(redactor)
        undo.callback(reader.finish, join_timeout_s)
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            reader.log = open(log_path, "wb")  # noqa: SIM115
        reader.fd, write_end = os.pipe()
        unclosed = [write_end]
        undo.callback(_close_all, unclosed)
        # os.dup's copies are not inheritable: no child ever writes on the terminal.
        saved = {1: os.dup(1)}
        undo.callback(os.close, saved[1])
        saved[2] = os.dup(2)
        undo.callback(os.close, saved[2])
        reader.start()
        # The console owns a dup of its own, so closing it never closes a reused fd number.
        console = Console(open(os.dup(saved[1]), "w", buffering=1,  # noqa: SIM115
                               encoding=_encoding(), errors="backslashreplace"), redactor)
        undo.callback(console.close)
        # What was printed before the block is the terminal's.
        _flush(sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        undo.callback(_restore_fds, saved)
        os.dup2(write_end, 1)  # dup2 makes 1 and 2 inheritable: children write to the pipe
        os.dup2(write_end, 2)
        os.close(unclosed.pop())  # from here only fds 1 and 2 (and children) hold it
        ours = [_pipe_stream(1), _pipe_stream(2)]
        undo.callback(_restore_streams, sys.stdout, sys.stderr, ours)
        sys.stdout, sys.stderr = ours
        yield console


def _pipe_stream(fd: int) -> TextIO:
    # utf-8 whatever the locale: the log is bytes, and the key's forms are utf-8.
    return open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace",
                closefd=False)


def _encoding() -> str:
    return getattr(sys.__stdout__, "encoding", None) or "utf-8"


def _flush(*streams: object) -> None:
    for stream in streams:
        flush = getattr(stream, "flush", None)
        if flush is None:
            continue
        with suppress(OSError, ValueError):  # a closed or broken stream has nothing to lose
            flush()


def _restore_streams(stdout: TextIO, stderr: TextIO, ours: list[TextIO]) -> None:
    # While fds 1 and 2 are still the pipe: whatever waits in a buffer goes to the log,
    # not to the terminal once they are restored.
    _flush(sys.stdout, sys.stderr, *ours, stdout, stderr, sys.__stdout__, sys.__stderr__)
    sys.stdout, sys.stderr = stdout, stderr
    for stream in ours:
        # Closed, so that a handle kept past the block fails instead of printing on the
        # restored terminal (closefd=False: fds 1 and 2 stay open).
        with suppress(OSError, ValueError):
            stream.close()


def _restore_fds(saved: dict[int, int]) -> None:
    for fd, copy in saved.items():
        os.dup2(copy, fd)


def _close_all(fds: list[int]) -> None:
    while fds:
        os.close(fds.pop())
