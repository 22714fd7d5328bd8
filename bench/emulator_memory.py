"""Peak memory of the emulator while it takes a 1 GiB upload in 64 MiB parts.

    python bench/emulator_memory.py [--gib 1] [--parallel 1]

The emulator runs as its own process (`python -m conformance.emulator`); a thread samples
its resident set size (RSS) with psutil every 5 ms while the client sends the parts,
completes with md5, and downloads the file. A server that buffered whole parts would peak
above 64 MiB over its baseline; the aim is a peak under 150 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
from emulator_common import MIB, Client, emulator_process

PART = 64 * MIB


class RssSampler:
    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _part_data(index: int) -> list[bytes]:
    """A part as 64 chunks of 1 MiB, distinct per part (so order and md5 mean something)."""
    block = hashlib.sha256(str(index).encode()).digest() * (MIB // 32)
    return [block] * (PART // MIB)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=int, default=1, help="upload size in GiB")
    parser.add_argument("--parallel", type=int, default=1, help="connections sending parts")
    args = parser.parse_args()
    parts = args.gib * 1024 * MIB // PART
    mb = 1e6
    with emulator_process() as served:
        time.sleep(0.5)
        baseline = psutil.Process(served.process.pid).memory_info().rss
        print(f"baseline RSS                 : {baseline / mb:6.1f} MB")
        setup = Client(served)
        upload_id = setup.create(parts * PART)
        setup.close()
        part_ids: list[str] = [""] * parts

        def send(index: int, client: Client) -> None:
            part_ids[index] = client.add_part(upload_id, _part_data(index), PART)

        def send_share(worker: int) -> None:
            client = Client(served)
            for index in range(worker, parts, args.parallel):
                send(index, client)
            client.close()

        with RssSampler(served.process.pid) as during_parts:
            started = time.perf_counter()
            with ThreadPoolExecutor(args.parallel) as pool:
                list(pool.map(send_share, range(args.parallel)))
            elapsed = time.perf_counter() - started
        print(f"peak RSS taking {parts} parts    : {during_parts.peak / mb:6.1f} MB "
              f"({parts * PART / elapsed / mb:.0f} MB/s, {args.parallel} connection(s))")

        digest = hashlib.md5(usedforsecurity=False)
        for index in range(parts):
            for chunk in _part_data(index):
                digest.update(chunk)
        client = Client(served)  # a new connection: the first one idled past keep-alive
        with RssSampler(served.process.pid) as during_completion:
            upload = client.json("POST", f"/uploads/{upload_id}/complete",
                                {"part_ids": part_ids, "md5": digest.hexdigest()})
        print(f"peak RSS completing with md5 : {during_completion.peak / mb:6.1f} MB")

        with RssSampler(served.process.pid) as during_download:
            client.conn.request("GET", f"/v1/files/{upload['file']['id']}/content",
                                headers=client.headers)
            response = client.conn.getresponse()
            check = hashlib.md5(usedforsecurity=False)
            while chunk := response.read(MIB):
                check.update(chunk)
        assert check.hexdigest() == digest.hexdigest(), "downloaded bytes differ"
        print(f"peak RSS downloading         : {during_download.peak / mb:6.1f} MB")
        peak = max(during_parts.peak, during_completion.peak, during_download.peak)
        print(f"overall peak RSS             : {peak / mb:6.1f} MB "
              f"({(peak - baseline) / mb:.1f} MB over baseline)")
        client.close()


if __name__ == "__main__":
    main()
