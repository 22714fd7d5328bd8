"""Console capture: inside the block everything a process (or its children) writes on fds 1
and 2 lands, redacted, in the log, and only the suite's own lines reach the terminal.

The fd-level cases run in a child Python whose stdout and stderr are pipes this test reads,
so pytest's own capture neither hides nor swallows anything.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance.console_capture import StreamRedactor, captured_output
from conformance.evidence import REDACTED, Redactor

KEY = "sk-capture-PLANTED-1234567890"
MARK = REDACTED.encode()
ROOT = Path(__file__).resolve().parents[2]
PRELUDE = f"""\
import logging, os, subprocess, sys, time, warnings
from pathlib import Path
from conformance.console_capture import captured_output
from conformance.evidence import Redactor
KEY = {KEY!r}
LOG = Path(sys.argv[1])
"""


def run_child(body: str, log: Path,
              stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(body), str(log)],
                          stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)


def ok(body: str, log: Path) -> subprocess.CompletedProcess[bytes]:
    done = run_child(body, log)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done


def test_every_kind_of_output_goes_to_the_log_and_only_the_console_to_the_terminal(
        tmp_path: Path) -> None:
    log = tmp_path / "deep" / "run.log"
    done = ok("""
        early = logging.StreamHandler(sys.stderr)  # holds the stderr from before the block
        logging.getLogger("early").addHandler(early)
        with captured_output(LOG, Redactor(KEY)) as console:
            print("m-print")
            sys.stderr.write("m-stderr\\n")
            os.write(1, b"m-fd1\\n")
            os.write(2, b"m-fd2\\n")
            warnings.warn("m-warning")
            logging.getLogger("late").warning("m-logging")
            logging.getLogger("early").warning("m-early-handler")
            sys.__stdout__.write("m-dunder-unflushed\\n")
            subprocess.run([sys.executable, "-c",
                            "import sys; print('m-child-out'); sys.stderr.write('m-child-err')"],
                           check=True)
            console.write("the suite's own line\\n")
    """, log)
    assert done.stdout == b"the suite's own line\n"
    assert done.stderr == b""
    text = log.read_bytes().decode()
    for mark in ("m-print", "m-stderr", "m-fd1", "m-fd2", "UserWarning: m-warning",
                 "m-logging", "m-early-handler", "m-dunder-unflushed", "m-child-out",
                 "m-child-err"):
        assert mark in text, f"{mark} missing from the log:\n{text}"
    assert "suite's own" not in text


def test_a_planted_key_never_reaches_the_log_whole_split_or_inside_a_huge_line(
        tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    # Keys near the 64 KiB cap, in the middle and at the very end of a 200 KiB line.
    ok("""
        offsets = [0, 65536 - 20, 65536 + 20, 100_000, 204_800 - len(KEY)]
        line = bytearray(b"x" * 204_800)
        for at in offsets:
            line[at:at + len(KEY)] = KEY.encode()
        with captured_output(LOG, Redactor(KEY)):
            print("whole", KEY)
            os.write(1, b"split-fd " + KEY[:9].encode())
            time.sleep(0.3)  # the reader gets the first piece on its own
            os.write(1, KEY[9:].encode() + b" done\\n")
            sys.stdout.write("split-stream " + KEY[:15])
            sys.stdout.flush()
            time.sleep(0.3)
            sys.stdout.write(KEY[15:] + "\\n")
            os.write(2, bytes(line))
        assert len(bytes(line).split(KEY.encode())) == 6
    """, log)
    data = log.read_bytes()
    assert KEY.encode() not in data
    assert KEY[9:].encode() not in data and KEY[:15].encode() not in data  # no piece either
    line = bytearray(b"x" * 204_800)
    for at in (0, 65536 - 20, 65536 + 20, 100_000, 204_800 - len(KEY)):
        line[at:at + len(KEY)] = KEY.encode()
    # Nothing but the key changed: every byte around it reached the log.
    assert data == (b"whole " + MARK + b"\nsplit-fd " + MARK + b" done\nsplit-stream " + MARK
                    + b"\n" + bytes(line).replace(KEY.encode(), MARK))


@pytest.mark.parametrize("chunk", [1, 7, 64, 100, 1000])
def test_the_stream_redactor_catches_a_key_that_straddles_the_cap_anywhere(chunk: int) -> None:
    redactor = Redactor(KEY)
    cap = 64
    for at in range(0, 300, 3):  # the key at every phase of the cuts
        line = b"y" * at + KEY.encode() + b"z" * (700 - at)
        stream = StreamRedactor(redactor, cap=cap)
        out = bytearray()
        for start in range(0, len(line), chunk):
            out += stream.feed(line[start:start + chunk])
            # A line without newline is written in pieces, not held whole (at most cap +
            # the key's length held back; the out side is shorter by what redaction saved).
            shrink = len(KEY) - len(MARK)
            assert len(out) >= min(start + chunk, len(line)) - (cap + len(KEY)) - shrink
        out += stream.finish()
        assert bytes(out) == line.replace(KEY.encode(), MARK), f"key at {at}, chunks {chunk}"


def test_after_the_block_the_fds_and_sys_streams_are_back(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    done = ok("""
        before = (sys.stdout, sys.stderr, os.fstat(1).st_ino, os.fstat(2).st_ino)
        with captured_output(LOG, Redactor(KEY)):
            print("inside")
            kept = sys.stdout
        assert (sys.stdout, sys.stderr, os.fstat(1).st_ino, os.fstat(2).st_ino) == before
        try:
            kept.write("kept past the block\\n")
        except ValueError:
            pass
        else:
            raise AssertionError("a handle kept past the block still writes")
        print("after-print", flush=True)  # a pipe's stdout is block-buffered
        os.write(1, b"after-fd1\\n")
        sys.stderr.write("after-stderr\\n")
    """, log)
    assert done.stdout == b"after-print\nafter-fd1\n"
    assert done.stderr == b"after-stderr\n"
    assert log.read_bytes() == b"inside\n"


@pytest.mark.parametrize("error", ["ValueError", "KeyboardInterrupt"])
def test_an_exception_in_the_block_propagates_with_what_came_before_it_logged(
        tmp_path: Path, error: str) -> None:
    log = tmp_path / "run.log"
    done = ok(f"""
        try:
            with captured_output(LOG, Redactor(KEY)):
                print("before-raise")
                os.write(2, b"partial-before-raise")
                raise {error}("boom")
        except {error} as caught:
            print("caught", caught)
    """, log)
    assert done.stdout == b"caught boom\n"
    assert done.stderr == b""
    assert log.read_bytes() == b"before-raise\npartial-before-raise"


def test_the_last_lines_before_exit_are_all_in_the_log(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    ok("""
        with captured_output(LOG, Redactor(KEY)):
            for n in range(20_000):
                print(f"line {n}")
            sys.stdout.write("stream-tail")  # no newline: still in the stream's buffer
            sys.stdout.write("\\n")
            os.write(2, b"fd-tail")
    """, log)
    expected = "".join(f"line {n}\n" for n in range(20_000)) + "stream-tail\nfd-tail"
    assert log.read_bytes() == expected.encode()


def test_a_child_that_keeps_the_pipe_does_not_hang_the_exit(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    done = ok("""
        with captured_output(LOG, Redactor(KEY), join_timeout_s=0.5) as console:
            lingering = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            print("before-exit")
            leaving = time.monotonic()
        print(f"exit took {time.monotonic() - leaving:.1f}")
        lingering.kill()
        lingering.wait()
    """, log)
    took = float(done.stdout.decode().removeprefix("exit took "))
    assert took < 5, "exit waited for a child that still holds the pipe"
    assert log.read_bytes() == b"before-exit\n"


def test_without_a_log_the_output_is_discarded(tmp_path: Path) -> None:
    log = tmp_path / "never.log"
    done = ok("""
        with captured_output(None, Redactor(KEY)) as console:
            print("dropped")
            os.write(2, b"dropped too\\n")
            console.write("shown\\n")
    """, log)
    assert done.stdout == b"shown\n"
    assert done.stderr == b""
    assert not log.exists()


def test_the_console_is_redacted_and_tells_truly_whether_it_is_a_terminal(
        tmp_path: Path) -> None:
    body = """
        with captured_output(LOG, Redactor(KEY)) as console:
            console.write(f"isatty={console.isatty()} key={KEY}\\n")
            console.flush()
    """
    piped = ok(body, tmp_path / "piped.log")
    assert piped.stdout == b"isatty=False key=" + MARK + b"\n"
    controller, terminal = pty.openpty()
    try:
        done = run_child(body, tmp_path / "tty.log", stdout=terminal)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert shown.replace(b"\r\n", b"\n") == b"isatty=True key=" + MARK + b"\n"


def test_it_works_in_process_under_pytest_capture(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    before = sys.stdout, sys.stderr
    with captured_output(log, Redactor(KEY)):
        assert sys.stdout is not before[0]
        print("in-process", KEY)
        os.write(2, b"in-process fd\n")
    assert (sys.stdout, sys.stderr) == before
    assert log.read_bytes() == b"in-process " + MARK + b"\nin-process fd\n"
