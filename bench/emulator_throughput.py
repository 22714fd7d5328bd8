"""Emulator throughput on loopback: MB/s for 64 MiB parts (one connection, then several at
once), completion with md5, download, and the rate of small requests.

    python bench/emulator_throughput.py [--parts 8] [--parallel 4] [--small 2000]

The emulator runs as its own process (`python -m conformance.emulator`), and the client is
plain http.client sending prebuilt buffers, so the figures are the server's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor

from emulator_common import MIB, Client, Served, emulator_process

PART = 64 * MIB
_BLOCK = os.urandom(MIB)


def _part_chunks() -> list[bytes]:
    return [_BLOCK] * (PART // MIB)  # a 64 MiB part sent from one 1 MiB buffer


def ingest_one_connection(served: Served, parts: int) -> tuple[float, str, list[str]]:
    client = Client(served)
    chunks = _part_chunks()
    upload_id = client.create(parts * PART)
    part_ids = []
    started = time.perf_counter()
    for _ in range(parts):
        part_ids.append(client.add_part(upload_id, chunks, PART))
    elapsed = time.perf_counter() - started
    client.close()
    return parts * PART / elapsed / 1e6, upload_id, part_ids


def ingest_parallel(served: Served, connections: int, parts_each: int) -> float:
    chunks = _part_chunks()
    setup = Client(served)
    upload_id = setup.create(connections * parts_each * PART)
    setup.close()

    def send_parts(_: int) -> None:
        client = Client(served)
        for _ in range(parts_each):
            client.add_part(upload_id, chunks, PART)
        client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(send_parts, range(connections)))
    elapsed = time.perf_counter() - started
    return connections * parts_each * PART / elapsed / 1e6


def complete_and_download(served: Served, upload_id: str, part_ids: list[str]) -> tuple[
        float, float]:
    client = Client(served)
    digest = hashlib.md5(usedforsecurity=False)
    for _ in range(len(part_ids) * (PART // MIB)):
        digest.update(_BLOCK)
    started = time.perf_counter()
    upload = client.json("POST", f"/uploads/{upload_id}/complete",
                         {"part_ids": part_ids, "md5": digest.hexdigest()})
    completion = time.perf_counter() - started
    started = time.perf_counter()
    client.conn.request("GET", f"/v1/files/{upload['file']['id']}/content",
                        headers=client.headers)
    response = client.conn.getresponse()
    received = 0
    while chunk := response.read(MIB):
        received += len(chunk)
    download = received / (time.perf_counter() - started) / 1e6
    client.close()
    return completion, download


def small_request_rate(served: Served, count: int, connections: int) -> float:
    def create_many(n: int) -> None:
        client = Client(served)
        for _ in range(n):
            client.create(10)
        client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(create_many, [count // connections] * connections))
    return (count // connections) * connections / (time.perf_counter() - started)


def small_part_rate(served: Served, count: int) -> float:
    client = Client(served)
    upload_id = client.create(count * 1024)
    data = [os.urandom(1024)]
    started = time.perf_counter()
    for _ in range(count):
        client.add_part(upload_id, data, 1024)
    rate = count / (time.perf_counter() - started)
    client.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=8, help="64 MiB parts on one connection")
    parser.add_argument("--parallel", type=int, default=4, help="connections sending at once")
    parser.add_argument("--small", type=int, default=2000, help="small requests to time")
    args = parser.parse_args()
    with emulator_process() as served:
        one, upload_id, part_ids = ingest_one_connection(served, args.parts)
        print(f"64 MiB parts, one connection : {one:8.0f} MB/s ({args.parts} parts)")
        many = ingest_parallel(served, args.parallel, 2)
        print(f"64 MiB parts, {args.parallel} connections : {many:8.0f} MB/s "
              f"({2 * args.parallel} parts)")
        completion, download = complete_and_download(served, upload_id, part_ids)
        size = args.parts * PART / 1e6
        print(f"complete with md5            : {completion:8.2f} s for {size:.0f} MB "
              f"({size / completion:.0f} MB/s)")
        print(f"download (files/.../content) : {download:8.0f} MB/s")
        print(f"create, one connection       : {small_request_rate(served, args.small, 1):8.0f}"
              " requests/s")
        print(f"create, 4 connections        : {small_request_rate(served, args.small, 4):8.0f}"
              " requests/s")
        print(f"1 KiB parts, one connection  : {small_part_rate(served, args.small // 2):8.0f}"
              " requests/s")


if __name__ == "__main__":
    main()
