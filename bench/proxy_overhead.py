"""What `uploads-conformance proxy` costs: a 1 GiB upload through it and straight to the
same emulator, in one run, and the proxy's peak memory.

    python bench/proxy_overhead.py [--gib 1] [--rounds 2]

The emulator and the proxy each run as their own process (`python -m conformance.emulator`,
`python -m conformance.cli proxy --upstream <emulator>`); a plain `http.client` client sends
16 parts of 64 MiB (prebuilt buffers, so the figures are the servers') and completes with
the md5, first straight to the emulator, then through the proxy, `--rounds` times in turn.
A thread samples the proxy's resident set size (RSS) every 5 ms for the whole run, its
judgement of the traffic included (the run ends with `POST /_proxy/report`, which waits
for the judge). Prints one JSON line: the best time of each way (`direct_s`, `proxy_s`),
their `ratio`, `proxy_peak_rss_mb`, and every round's figures and the proxy's CPU time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
from emulator_common import MIB, Client, Served, emulator_process

from conformance.processes import stop

PART = 64 * MIB
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+/v1)")


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.005)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def proxy_process(upstream: str, report_dir: Path) -> Iterator[Served]:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "proxy", "--upstream", upstream,
         "--port", "0", "--report-dir", str(report_dir), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        match = _LISTENING.search(process.stdout.readline())
        if match is None:
            raise RuntimeError("the proxy did not start")
        threading.Thread(target=lambda: [None for _ in process.stdout or ()],
                         daemon=True).start()
        yield Served(process, match.group(1))
    finally:
        stop(process, grace_s=60)


def _part_data(index: int) -> list[bytes]:
    """A part as 64 chunks of 1 MiB, distinct per part (so order and md5 mean something)."""
    block = hashlib.sha256(str(index).encode()).digest() * (MIB // 32)
    return [block] * (PART // MIB)


def upload(served: Served, parts: int, md5: str) -> float:
    """One upload of `parts` parts, completed with its md5; the seconds it took."""
    client = Client(served)
    started = time.perf_counter()
    upload_id = client.create(parts * PART)
    part_ids = [client.add_part(upload_id, _part_data(i), PART) for i in range(parts)]
    done = client.json("POST", f"/uploads/{upload_id}/complete",
                       {"part_ids": part_ids, "md5": md5})
    took = time.perf_counter() - started
    client.close()
    assert done["status"] == "completed", done
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=int, default=1, help="upload size in GiB")
    parser.add_argument("--rounds", type=int, default=2, help="uploads each way, in turn")
    args = parser.parse_args()
    parts = args.gib * 1024 * MIB // PART
    digest = hashlib.md5(usedforsecurity=False)
    for index in range(parts):
        for chunk in _part_data(index):
            digest.update(chunk)
    md5 = digest.hexdigest()
    direct: list[float] = []
    proxied: list[float] = []
    cpu: list[float] = []
    with tempfile.TemporaryDirectory() as reports, emulator_process() as emulator, \
            proxy_process(emulator.base_url, Path(reports)) as proxy:
        sampler = RssSampler(proxy.process.pid)
        for _ in range(args.rounds):
            direct.append(upload(emulator, parts, md5))
            before = sum(sampler.process.cpu_times()[:2])
            proxied.append(upload(proxy, parts, md5))
            # The report waits for the judge: its work on this round is done before the next.
            answer = httpx.post(f"{proxy.base_url}/_proxy/report", timeout=600,
                                trust_env=False)
            cpu.append(sum(sampler.process.cpu_times()[:2]) - before)
        sampler.close()
        verdict = answer.json()["verdict"]
    print(json.dumps({
        "gib": args.gib, "proxy_s": round(min(proxied), 2), "direct_s": round(min(direct), 2),
        "ratio": round(min(proxied) / min(direct), 3),
        "proxy_peak_rss_mb": round(sampler.peak / 1e6, 1),
        "proxy_rounds_s": [round(t, 2) for t in proxied],
        "direct_rounds_s": [round(t, 2) for t in direct],
        "proxy_cpu_s": [round(t, 2) for t in cpu], "verdict": verdict}))


if __name__ == "__main__":
    main()
