"""A durable emulator (`--data-dir`) killed with SIGKILL at the worst moments and restarted.

The emulator runs as a real process on 127.0.0.1. Each kill is synchronised on what the
server has done, never on a sleep: mid-part, on the spool file having grown past what the
client must have sent; mid-completion, on the server having read every byte it hashes while
the test holds the database's write lock, so the completion cannot have committed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conformance.emulator.sqlite_store import DATABASE_NAME
from tests.support.cli import child_environment, command
from tests.support.emulator_helpers import (
    API_KEY,
    MIB,
    Api,
    md5_hex,
    multipart,
    ok,
    part_request,
    raw_socket,
    refused,
    wait_until,
)

LISTENING_PREFIX = "Uploads emulator listening: base URL "


class EmulatorProcess:
    """`python -m conformance.emulator --data-dir DIR` on a free loopback port."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self._log = log.open("a")
        self.process = subprocess.Popen(
            command("--host", "127.0.0.1", "--port", "0", "--api-key", API_KEY,
                    "--test-controls", "--data-dir", str(data_dir),
                    module="conformance.emulator"),
            stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=data_dir.parent,
            env=child_environment())
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith(LISTENING_PREFIX), f"the emulator did not start: {line!r}"
        self.base_url = line[len(LISTENING_PREFIX):].strip()
        # Keep reading its output: a full pipe would stall the server.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.api = Api(self.base_url)

    def bytes_read(self) -> int:
        """Every byte the process has read so far (files and sockets): /proc/PID/io rchar."""
        io = Path(f"/proc/{self.process.pid}/io").read_text()
        return int(next(line.split()[1] for line in io.splitlines()
                        if line.startswith("rchar:")))

    def kill(self) -> None:
        self.api.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)
        self._log.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def start(data_dir: Path, tmp_path: Path) -> Iterator[Callable[[], EmulatorProcess]]:
    """Starts emulators on `data_dir`; every one still running at the end is killed."""
    started: list[EmulatorProcess] = []

    def start_one() -> EmulatorProcess:
        emulator = EmulatorProcess(data_dir, tmp_path / "emulator.log")
        started.append(emulator)
        return emulator

    try:
        yield start_one
    finally:
        for emulator in started:
            emulator.kill()


def spool_files(data_dir: Path) -> set[str]:
    return {path.name for path in (data_dir / "parts").iterdir()}


def test_a_kill_mid_part_loses_only_that_part(start: Callable[[], EmulatorProcess],
                                              data_dir: Path) -> None:
    first = start()
    api = first.api
    small_id, small_parts = api.uploaded([b"hello, ", b"world"])
    small = ok(api.complete(small_id, small_parts))
    big_data = os.urandom(300 * 1024) + os.urandom(200 * 1024)
    upload_id, big_parts = api.uploaded([big_data[:300 * 1024], big_data[300 * 1024:]])
    big = ok(api.complete(upload_id, big_parts, md5=md5_hex(big_data)))
    deleted_id, deleted_parts = api.uploaded([b"gone"])
    deleted = ok(api.complete(deleted_id, deleted_parts))
    ok(api.http.delete(f"/files/{deleted['file']['id']}"))
    cancelled_id, _ = api.uploaded([b"never"])
    ok(api.cancel(cancelled_id))
    kept, late = b"A" * 1000, os.urandom(4 * MIB)
    pending = api.new_upload(len(kept) + len(late))
    kept_part = api.new_part(pending["id"], kept)
    now_before = ok(api.http.post("/_conformance/clock/advance", json={"seconds": 900}))["now"]
    live = spool_files(data_dir)
    assert live == {*small_parts, *big_parts, kept_part}

    # Half of a 4 MiB part: killed once the server has spooled more than a buffer's worth.
    body = multipart([("data", late)])
    with raw_socket(first.base_url) as sock:
        sock.sendall(part_request(pending['id'], body, 3 * MIB))
        assert wait_until(lambda: _in_flight_size(data_dir, live) >= 2 * MIB, timeout=20)
        first.kill()
    assert len(spool_files(data_dir) - live) == 1  # the cut-off part, on disk, unrecorded

    second = start()
    api = second.api
    assert spool_files(data_dir) == live  # the orphan is gone; everything needed is there
    assert api.content(small["file"]["id"]).content == b"hello, world"
    assert api.content(big["file"]["id"]).content == big_data
    refused(api.get_file(deleted["file"]["id"]), 404)  # its deletion is kept too
    refused(api.cancel(cancelled_id), 400, code="upload_cancelled")
    now_after = ok(api.http.get("/_conformance"))["now"]
    assert now_after >= now_before  # the clock's offset survived: time never runs back
    # The pending upload kept its part and lost the half one: listing the kept part and a
    # new one is the complete list (a recorded half part would make it `missing_parts`).
    new_part = api.new_part(pending["id"], late)
    done = ok(api.complete(pending["id"], [kept_part, new_part], md5=md5_hex(kept + late)))
    assert api.content(done["file"]["id"]).content == kept + late
    assert spool_files(data_dir) == live | {new_part}


def _in_flight_size(data_dir: Path, known: set[str]) -> int:
    return sum((data_dir / "parts" / name).stat().st_size
               for name in spool_files(data_dir) - known)


def test_a_kill_mid_completion_leaves_the_upload_pending_and_whole(
        start: Callable[[], EmulatorProcess], data_dir: Path) -> None:
    first = start()
    sent = os.urandom(8 * MIB)
    upload_id, part_ids = first.api.uploaded([sent[:5 * MIB], sent[5 * MIB:]])
    live = spool_files(data_dir)
    # Listed in another order than they were sent, so that the completion hashes every
    # byte itself (in the order sent, the md5 was kept up as they arrived).
    part_ids, data = part_ids[::-1], sent[5 * MIB:] + sent[:5 * MIB]

    # Holding the write lock, the test lets the completion read and hash every byte, but
    # not commit: the kill lands between the checks and the commit.
    holder = sqlite3.connect(data_dir / DATABASE_NAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    read_before = first.bytes_read()
    with ThreadPoolExecutor(1) as pool:
        answer: Future[httpx.Response] = pool.submit(
            first.api.complete, upload_id, part_ids, md5=md5_hex(data))
        assert wait_until(lambda: first.bytes_read() - read_before >= len(data), timeout=20)
        first.kill()
        with pytest.raises(httpx.TransportError):
            answer.result(timeout=20)
    holder.execute("ROLLBACK")
    assert holder.execute("SELECT count(*) FROM files").fetchone() == (0,)
    holder.close()

    second = start()
    assert spool_files(data_dir) == live
    done = ok(second.api.complete(upload_id, part_ids, md5=md5_hex(data)))
    assert done["status"] == "completed"
    assert second.api.content(done["file"]["id"]).content == data


def test_a_completion_listing_the_parts_as_sent_reads_none_of_them_again(
        start: Callable[[], EmulatorProcess]) -> None:
    first = start()
    sent = os.urandom(8 * MIB)
    before = first.bytes_read()
    upload_id, part_ids = first.api.uploaded([sent[:5 * MIB], sent[5 * MIB:]])
    # The bytes come in off the socket, then are read once more to be hashed as they arrive.
    assert wait_until(lambda: first.bytes_read() - before >= 2 * len(sent), timeout=20)
    read_before = first.bytes_read()
    done = ok(first.api.complete(upload_id, part_ids, md5=md5_hex(sent)))
    assert done["status"] == "completed"
    assert first.bytes_read() - read_before < MIB  # the request, not the parts again
    assert first.api.content(done["file"]["id"]).content == sent


def test_a_second_emulator_on_the_same_data_dir_is_refused(start: Callable[[], EmulatorProcess],
                                                           data_dir: Path) -> None:
    start()
    other = subprocess.run(
        command("--port", "0", "--data-dir", str(data_dir), module="conformance.emulator"),
        capture_output=True, text=True, timeout=60, env=child_environment(), check=False)
    assert other.returncode == 2
    assert "in use" in other.stderr
