"""The suite's own 8 GiB scenario against a bare http.client loop doing the same work.

    python bench/big_upload.py [--base-url URL --api-key KEY] [--size 8GiB] [--at-once 4]
                               [--spool-dir DIR] [--only suite|raw] [--raw-first]

Against one target, in one run: (a) `conformance.limit_upload.upload_of`, the code the
thorough profile's `suite/test_limit_bytes.py` runs (parts several at once, completion with
the md5, the file read back and compared), and (b) a bare loop on one http.client
connection: 64 MiB parts from prebuilt buffers (their md5 on a thread beside the sends),
completion with the md5, then `GET /files/{id}/content` read and its md5 checked. Each
run's file is deleted before the next starts, so the other finds the disk as it was.

Without --base-url the emulator is started here, in its own process
(`conformance.emulator.EmulatorServer`), its spool files on disk in `--spool-dir` (default:
the system's temporary directory), so its peak RSS is its own. Prints one JSON line:
`suite_s`, `raw_s`, `ratio`, the phases of each, `suite_peak_rss_mb` (this process, during
the suite's run) and `emulator_peak_rss_mb` (when it was started here), the load average.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from conformance.adapters.http import HttpAdapter
from conformance.api import PART_LIMIT
from conformance.checks import Answer
from conformance.client import TargetClient
from conformance.limit_upload import upload_of
from conformance.processes import stop
from conformance.profiles import PROFILES
from conformance.recorder import Recorder
from conformance.target import Target
from strategies.payloads import Payload

KEY = "sk-big-upload-bench"
MIB = 1 << 20
BOUNDARY = "big-upload-bench"
_SIZES = {"gib": 1 << 30, "mib": MIB}


# --- the emulator in a process of its own ------------------------------------------------

def serve() -> None:
    """The child: the embedded emulator until its stdin closes."""
    from conformance.emulator import EmulatorServer
    from conformance.emulator.config import EmulatorConfig

    with EmulatorServer(EmulatorConfig(api_key=os.environ["BENCH_KEY"])) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


@contextmanager
def emulator(spool_dir: Path | None) -> Iterator[tuple[str, int]]:
    env = {**os.environ, "BENCH_KEY": KEY}
    if spool_dir is not None:
        env["TMPDIR"] = str(spool_dir)  # where the emulator's temporary spool goes
    process = subprocess.Popen([sys.executable, __file__, "--serve"], env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip(), process.pid
    finally:
        if process.stdin is not None:
            process.stdin.close()
        stop(process, grace_s=30)


class PeakRss:
    """The peak resident set size of a process, sampled every 10 ms."""

    def __init__(self, pid: int) -> None:
        self._process, self.peak = psutil.Process(pid), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except psutil.Error:
                return

    def mb(self) -> float:
        self._stop.set()
        self._thread.join()
        return round(self.peak / 1e6, 1)


# --- (a) the suite's scenario, its phases timed ------------------------------------------

@dataclass
class Phases:
    spans: dict[str, list[float]] = field(default_factory=dict)
    file_id: str | None = None

    def mark(self, phase: str, start: float) -> None:
        span = self.spans.setdefault(phase, [start, start])
        span[0], span[1] = min(span[0], start), time.perf_counter()

    def seconds(self) -> dict[str, float]:
        return {name: round(end - start, 2) for name, (start, end) in self.spans.items()}


class TimedAdapter(HttpAdapter):
    def __init__(self, client: TargetClient, phases: Phases) -> None:
        super().__init__(client)
        self.phases = phases

    def add_part(self, upload_id: str, payload: Payload) -> Answer:
        start = time.perf_counter()
        try:
            return super().add_part(upload_id, payload)
        finally:
            self.phases.mark("parts", start)

    def complete(self, upload_id: str, body: Any) -> Answer:
        start = time.perf_counter()
        answer = super().complete(upload_id, body)
        self.phases.mark("complete", start)
        if answer.status == 200 and isinstance(answer.json, dict) and answer.json.get("file"):
            self.phases.file_id = answer.json["file"]["id"]
        return answer


def run_suite(base_url: str, api_key: str, size: int, at_once: int) -> dict[str, Any]:
    phases = Phases()
    with TargetClient(base_url, api_key) as client:
        target = Target(base_url, client, TimedAdapter(client, phases), Recorder(),
                        PROFILES["thorough"], seed=1, api_key=api_key)
        stream_get = client.stream_get

        @contextmanager
        def timed_get(path: str, **kwargs: Any) -> Iterator[Any]:
            start = time.perf_counter()
            with stream_get(path, **kwargs) as stream:
                yield stream
            phases.mark("download", start)

        client.stream_get = timed_get  # type: ignore[method-assign]
        rss = PeakRss(os.getpid())
        started = time.perf_counter()
        upload_of(target, size, at_once)
        elapsed = time.perf_counter() - started
        peak = rss.mb()
        failures = [f"{f.requirement}: {f.message}" for f in target.recorder.failures]
        if failures or "download" not in phases.spans:
            raise SystemExit(f"the suite's scenario did not pass: {failures or 'no read-back'}")
        client.request("DELETE", f"/files/{phases.file_id}")
    return {"suite_s": round(elapsed, 2), "suite_phases": phases.seconds(),
            "suite_peak_rss_mb": peak}


# --- (b) the bare loop --------------------------------------------------------------------

def run_raw(base_url: str, api_key: str, size: int) -> dict[str, Any]:
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "localhost", url.port or 80, timeout=300)
    auth = {"Authorization": f"Bearer {api_key}"}
    pool = memoryview(os.urandom(PART_LIMIT))  # every part's bytes, but its first eight
    phases: dict[str, float] = {}

    def call(method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> dict[str, Any]:
        conn.request(method, f"{url.path}{path}", body=body, headers={**auth, **(headers or {})})
        answer = conn.getresponse()
        data = answer.read()
        if answer.status != 200:
            raise SystemExit(f"bare loop: {method} {path} answered {answer.status}: {data[:200]!r}")
        result: dict[str, Any] = json.loads(data)
        return result

    def part_chunks(index: int, part_size: int) -> list[bytes | memoryview]:
        """Views of the prebuilt buffer, nothing copied; the first bytes number the part."""
        return [index.to_bytes(8, "little"),
                *(pool[at:min(at + 4 * MIB, part_size)] for at in range(8, part_size, 4 * MIB))]

    started = time.perf_counter()
    upload = call("POST", "/uploads", json.dumps(
        {"bytes": size, "filename": "big.bin", "purpose": "batch",
         "mime_type": "application/jsonl"}), {"Content-Type": "application/json"})
    digest = hashlib.md5()
    part_ids = []

    def hashed(chunks: list[bytes | memoryview]) -> None:
        for chunk in chunks:
            digest.update(chunk)

    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="data"; '
            f'filename="part.bin"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    with ThreadPoolExecutor(max_workers=1) as hasher:
        last = None
        for index, start in enumerate(range(0, size, PART_LIMIT)):
            chunks = part_chunks(index, min(PART_LIMIT, size - start))
            if last is not None:
                last.result()  # in order
            last = hasher.submit(hashed, chunks)
            part = call("POST", f"/uploads/{upload['id']}/parts", [head, *chunks, tail], {
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Content-Length": str(len(head) + sum(map(len, chunks)) + len(tail))})
            part_ids.append(part["id"])
        if last is not None:
            last.result()
    phases["parts"] = time.perf_counter() - started
    mark = time.perf_counter()
    md5 = digest.hexdigest()
    done = call("POST", f"/uploads/{upload['id']}/complete",
                json.dumps({"part_ids": part_ids, "md5": md5}),
                {"Content-Type": "application/json"})
    phases["complete"] = time.perf_counter() - mark
    mark = time.perf_counter()
    file_id = done["file"]["id"]
    conn.request("GET", f"{url.path}/files/{file_id}/content", headers=auth)
    answer, check = conn.getresponse(), hashlib.md5()
    buffer = bytearray(4 * MIB)
    view = memoryview(buffer)
    while read := answer.readinto(buffer):
        check.update(view[:read])
    if answer.status != 200 or check.hexdigest() != md5:
        raise SystemExit(f"bare loop: the download differs ({answer.status})")
    phases["download"] = time.perf_counter() - mark
    elapsed = time.perf_counter() - started
    call("DELETE", f"/files/{file_id}")
    conn.close()
    return {"raw_s": round(elapsed, 2),
            "raw_phases": {k: round(v, 2) for k, v in phases.items()}}


# --- the run ------------------------------------------------------------------------------

def parse_size(text: str) -> int:
    lowered = text.lower()
    for unit, factor in _SIZES.items():
        if lowered.endswith(unit) and lowered[:-len(unit)].isdigit():
            return int(lowered[:-len(unit)]) * factor
    if lowered.isdigit():
        return int(lowered)
    raise argparse.ArgumentTypeError(f"a size such as 8GiB, 512MiB or 1048576, not {text!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help="the target (default: an emulator started here)")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"))
    parser.add_argument("--size", type=parse_size, default=8 << 30, help="default 8GiB")
    parser.add_argument("--at-once", type=int, default=4, help="the suite's parts in flight")
    parser.add_argument("--spool-dir", type=Path, help="where a started emulator spools")
    parser.add_argument("--only", choices=("suite", "raw"))
    parser.add_argument("--raw-first", action="store_true", help="run the bare loop first")
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    if args.base_url is not None and not args.api_key:
        parser.error("--base-url needs --api-key (or OPENAI_API_KEY)")
    result: dict[str, Any] = {"size": args.size, "load_before": os.getloadavg()[0]}
    runs = [("suite", lambda url, key: run_suite(url, key, args.size, args.at_once)),
            ("raw", lambda url, key: run_raw(url, key, args.size))]
    if args.raw_first:
        runs.reverse()
    with tempfile.TemporaryDirectory(dir=args.spool_dir) as spool, _target(args, Path(spool)) \
            as (base_url, api_key, pid):
        emulator_rss = PeakRss(pid) if pid else None
        for name, run in runs:
            if args.only in (None, name):
                try:
                    result.update(run(base_url, api_key))
                except (OSError, http.client.HTTPException, SystemExit) as exc:
                    why = str(exc) or type(exc).__name__
                    raise SystemExit(f"{name}: {why}".replace(api_key, "[REDACTED]")) from None
                os.sync()  # the next run starts with nothing dirty of this one's
        if emulator_rss is not None:
            result["emulator_peak_rss_mb"] = emulator_rss.mb()
    if "suite_s" in result and "raw_s" in result:
        result["ratio"] = round(result["suite_s"] / result["raw_s"], 3)
    result["load_after"] = os.getloadavg()[0]
    print(json.dumps(result))
    return 0


@contextmanager
def _target(args: argparse.Namespace, spool: Path) -> Iterator[tuple[str, str, int | None]]:
    if args.base_url is not None:
        yield args.base_url, args.api_key, None
        return
    with emulator(spool) as (base_url, pid):
        yield base_url, KEY, pid


if __name__ == "__main__":
    sys.exit(main())
