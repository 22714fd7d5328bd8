"""Soak: many clients doing mixed work against one emulator process for a bounded time.

    python bench/emulator_soak.py [--seconds 60] [--clients 64] [--max-part-kib 384]
                                  [--keep-files 32] [--retention 10] [--memory-only]

64 threads, each with its own httpx client, loop until the time is up over: an upload of 1-4
parts of random sizes (up to `--max-part-kib`) completed with its md5 in a random part
order; an upload cancelled after a part (a part sent after the cancel must be refused); and
a download of one of its completed files, checked, then deleted (also the oldest, whenever
a client holds more than `--keep-files`: a steady state, as a server left running sees).
The emulator forgets ended uploads `--retention` seconds after they end. Afterwards every
file still held is downloaded and compared with what was sent, and the spool directory must
hold exactly the parts of those files (no leaked data). Printed: requests and their answers by
status class, 5xx and transport errors, lost or corrupt parts, and the emulator's RSS
sampled each second, with its trend over the second half of the run (a least-squares
slope; flat memory: about 0 MB/min). The emulator is durable (`--data-dir`, a temporary
directory) unless `--memory-only`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from emulator_common import API_KEY, emulator_process

KIB = 1024
_NOISE = os.urandom(4 * 1024 * KIB)  # part bytes are slices of this, at random offsets


@dataclass
class Tally:
    """What every client saw, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    lost_parts: int = 0  # a part answered 200 that its completion did not find
    corrupt: int = 0  # an md5 refused at completion, or a download unlike what was sent
    refused_as_due: int = 0  # 4xx that are right: a part sent after its upload's cancel
    unexpected: list[str] = field(default_factory=list)
    files: dict[str, tuple[str, int, list[str]]] = field(default_factory=dict)  # md5, size, parts
    completed = cancelled = downloads = 0

    def answer(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1

    def oddity(self, what: str) -> None:
        with self.lock:
            if len(self.unexpected) < 20:
                self.unexpected.append(what)


class SoakClient:
    def __init__(self, base_url: str, tally: Tally, max_part: int, seed: int,
                 keep_files: int = 0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60, trust_env=False,
                                 headers={"Authorization": f"Bearer {API_KEY}"})
        self.tally = tally
        self.max_part = max_part
        self.random = random.Random(seed)
        self.mine: list[str] = []  # the files this client completed and still holds
        self.keep_files = keep_files  # past this many held, the oldest goes (0: no limit)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            with self.tally.lock:
                self.tally.transport_errors += 1
            self.tally.oddity(f"{method} {path}: {exc!r}")
            return None
        self.tally.answer(response.status_code)
        return response

    def part_bytes(self) -> bytes:
        size = self.random.randint(1, self.max_part)
        start = self.random.randrange(len(_NOISE) - size)
        return _NOISE[start:start + size]

    def create(self, size: int) -> str | None:
        answer = self.call("POST", "/uploads", json={
            "bytes": size, "filename": "soak.bin", "purpose": "assistants",
            "mime_type": "application/octet-stream"})
        return answer.json()["id"] if answer is not None and answer.status_code == 200 else None

    def add_part(self, upload_id: str, data: bytes) -> httpx.Response | None:
        return self.call("POST", f"/uploads/{upload_id}/parts",
                         files={"data": ("part.bin", data, "application/octet-stream")})

    # --- the mixed operations ---------------------------------------------------------------
    def upload(self) -> None:
        chunks = [self.part_bytes() for _ in range(self.random.randint(1, 4))]
        upload_id = self.create(sum(map(len, chunks)))
        if upload_id is None:
            return
        sent: list[tuple[str, bytes]] = []
        for chunk in chunks:
            answer = self.add_part(upload_id, chunk)
            if answer is None or answer.status_code != 200:
                self.tally.oddity(f"part refused: {answer and answer.text[:200]}")
                return
            sent.append((answer.json()["id"], chunk))
        self.random.shuffle(sent)  # any order: the file is the parts in the listed order
        data = b"".join(chunk for _, chunk in sent)
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        answer = self.call("POST", f"/uploads/{upload_id}/complete",
                           json={"part_ids": [part_id for part_id, _ in sent], "md5": digest})
        if answer is None:
            return
        if answer.status_code != 200:
            code = answer.json().get("error", {}).get("code")
            with self.tally.lock:
                if code in ("unknown_part", "missing_parts", "bytes_mismatch"):
                    self.tally.lost_parts += 1
                elif code == "md5_mismatch":
                    self.tally.corrupt += 1
            self.tally.oddity(f"completion refused: {answer.text[:200]}")
            return
        file_id = answer.json()["file"]["id"]
        with self.tally.lock:
            self.tally.files[file_id] = (digest, len(data), [part_id for part_id, _ in sent])
            self.tally.completed += 1
        self.mine.append(file_id)
        if self.keep_files and len(self.mine) > self.keep_files:
            self.check_and_delete(self.mine.pop(0))

    def cancel(self) -> None:
        upload_id = self.create(2 * self.max_part)
        if upload_id is None:
            return
        self.add_part(upload_id, self.part_bytes())
        answer = self.call("POST", f"/uploads/{upload_id}/cancel")
        if answer is None or answer.status_code != 200:
            self.tally.oddity(f"cancel refused: {answer and answer.text[:200]}")
            return
        after = self.add_part(upload_id, b"late")
        if after is not None and after.status_code == 200:
            self.tally.oddity(f"a part was taken after cancel: {upload_id}")
        with self.tally.lock:
            self.tally.cancelled += 1
            self.tally.refused_as_due += after is not None and after.status_code == 400

    def download_and_delete(self) -> None:
        if not self.mine:
            return self.upload()
        self.check_and_delete(self.mine.pop(self.random.randrange(len(self.mine))))

    def check_and_delete(self, file_id: str) -> None:
        if check_file(self, file_id):
            answer = self.call("DELETE", f"/files/{file_id}")
            if answer is not None and answer.status_code == 200:
                with self.tally.lock:
                    del self.tally.files[file_id]
        with self.tally.lock:
            self.tally.downloads += 1

    def run_until(self, deadline: float) -> None:
        operations = [self.upload] * 6 + [self.cancel] * 2 + [self.download_and_delete] * 2
        while time.monotonic() < deadline:
            self.random.choice(operations)()
        self.http.close()


def check_file(client: SoakClient, file_id: str) -> bool:
    """Whether the file's content is what was sent (a mismatch is counted as corrupt)."""
    answer = client.call("GET", f"/files/{file_id}/content")
    if answer is None or answer.status_code != 200:
        client.tally.oddity(f"download of {file_id} failed: {answer and answer.status_code}")
        return False
    digest, size, _ = client.tally.files[file_id]
    if len(answer.content) != size or hashlib.md5(
            answer.content, usedforsecurity=False).hexdigest() != digest:
        with client.tally.lock:
            client.tally.corrupt += 1
        client.tally.oddity(f"file {file_id} differs from what was sent")
        return False
    return True


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every_s: float = 1.0) -> None:
        super().__init__(daemon=True)
        self._process = psutil.Process(pid)
        self._every_s = every_s
        self._done = threading.Event()
        self.samples: list[tuple[float, int]] = []

    def run(self) -> None:
        started = time.monotonic()
        while not self._done.wait(self._every_s):
            self.samples.append((time.monotonic() - started, self._process.memory_info().rss))

    def stop(self) -> None:
        self._done.set()
        self.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--max-part-kib", type=int, default=384)
    parser.add_argument("--keep-files", type=int, default=32,
                        help="files each client holds at most (0: every file it made)")
    parser.add_argument("--retention", type=float, default=10.0,
                        help="the emulator's --retention: seconds an ended upload is kept")
    parser.add_argument("--memory-only", action="store_true",
                        help="run the emulator without --data-dir")
    args = parser.parse_args()
    data_dir = None if args.memory_only else Path(tempfile.mkdtemp(prefix="emulator-soak-"))
    extra = [] if data_dir is None else ["--data-dir", str(data_dir)]
    tally = Tally()
    try:
        with emulator_process(*extra, "--sweep-interval", "5",
                              "--retention", str(args.retention)) as served:
            rss = RssSampler(served.process.pid)
            rss.start()
            clients = [SoakClient(served.base_url, tally, args.max_part_kib * KIB, seed,
                                  args.keep_files) for seed in range(args.clients)]
            started = time.monotonic()
            deadline = started + args.seconds
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(lambda client: client.run_until(deadline), clients))
            busy_s = time.monotonic() - started
            rss.stop()
            verify_s, leaked = verify_everything(served.base_url, tally, data_dir)
        report(args, tally, rss.samples, busy_s, verify_s, leaked)
    finally:
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


def verify_everything(base_url: str, tally: Tally, data_dir: Path | None) -> tuple[float, int]:
    """Every file still held checked byte for byte; returns the time and the spool files
    that no held file needs (leaked data)."""
    started = time.monotonic()
    checker = SoakClient(base_url, tally, 1, 0)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda file_id: check_file(checker, file_id), list(tally.files)))
    leaked = 0
    if data_dir is not None:
        needed = {part for _, _, parts in tally.files.values() for part in parts}
        leaked = len({path.name for path in (data_dir / "parts").iterdir()} - needed)
    return time.monotonic() - started, leaked


def report(args: argparse.Namespace, tally: Tally, samples: list[tuple[float, int]],
           busy_s: float, verify_s: float, leaked: int) -> None:
    requests = sum(tally.statuses.values())
    classes = Counter(f"{status // 100}xx" for status in tally.statuses.elements())
    mode = "memory only" if args.memory_only else "durable (--data-dir)"
    print(f"emulator soak: {args.clients} clients for {busy_s:.1f} s, {mode}, "
          f"--keep-files {args.keep_files}, --retention {args.retention:g}")
    print(f"requests       {requests} ({requests / busy_s:.0f}/s), by class: "
          + ", ".join(f"{name} {count}" for name, count in sorted(classes.items())))
    print(f"4xx expected   {tally.refused_as_due} (parts sent after a cancel)")
    print(f"5xx            {classes.get('5xx', 0)}")
    print(f"transport err  {tally.transport_errors}")
    print(f"uploads        {tally.completed} completed, {tally.cancelled} cancelled, "
          f"{tally.downloads} downloaded+deleted mid-run")
    print(f"files checked  {len(tally.files)} at the end ({verify_s:.1f} s)")
    print(f"lost parts     {tally.lost_parts}")
    print(f"corrupt        {tally.corrupt}")
    print(f"leaked spool   {leaked} files no held file needs")
    if samples:
        mb = [value / 1e6 for _, value in samples]
        step = max(1, len(samples) // 6)
        marks = [f"{t:.0f}s {value / 1e6:.0f}" for t, value in samples[::step]]
        print(f"emulator RSS   MB: first {mb[0]:.0f}, median {statistics.median(mb):.0f}, "
              f"max {max(mb):.0f}, last {mb[-1]:.0f}  ({', '.join(marks)})")
        # The trend, not max minus first: RSS rises and falls as buffers come and go, and
        # a least-squares slope over the second half says whether it keeps climbing.
        half = samples[len(samples) // 2:]
        if len(half) >= 2:
            slope = statistics.linear_regression([t for t, _ in half],
                                                 [value / 1e6 for _, value in half]).slope
            print(f"RSS trend      {slope * 60:+.1f} MB/min over the second half "
                  f"({len(half)} samples, {half[0][1] / 1e6:.0f} → {half[-1][1] / 1e6:.0f} MB)")
    for oddity in tally.unexpected:
        print(f"  unexpected: {oddity}")


if __name__ == "__main__":
    main()
