"""Peak memory of the schema checks' transport against a target whose answer never ends.

    python bench/schema_huge_answer.py

A raw server announces a 2 GiB body and streams zeros; one request goes through a
requests.Session with the schema checks' `BoundedAdapter` (conformance/schema/bounded.py),
which must stop at its cap (1 MiB, the client's too). Plain requests read the whole body
into memory (a 13 GB process was seen). Prints the process's peak resident set size before and after
(`ru_maxrss`, KiB on Linux), and how much the server got to send.
"""

from __future__ import annotations

import resource
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from conformance.schema.bounded import MAX_BODY_BYTES, mount_bounded  # noqa: E402
from tests.support.serving import RawServer, read_request  # noqa: E402

MIB = 1024 * 1024
HUGE = 2 * 1024 * MIB


def main() -> None:
    sent = 0
    hung_up = threading.Event()

    def endless(conn: socket.socket) -> None:
        nonlocal sent
        read_request(conn)
        zeros = bytes(MIB)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         + f"Content-Length: {HUGE}\r\n\r\n".encode())
            while sent < HUGE:
                conn.sendall(zeros)
                sent += len(zeros)
        except OSError:
            hung_up.set()

    server = RawServer(endless)
    http = requests.Session()
    mount_bounded(http)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    try:
        http.get(f"{server.url}/uploads", timeout=60)
        outcome = "answered (the cap did not hold)"
    except requests.RequestException as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hung_up.wait(10)
    http.close()
    server.close()
    print(f"announced {HUGE // MIB} MiB, cap {MAX_BODY_BYTES // MIB} MiB; server sent "
          f"{sent // MIB} MiB before the hang-up; {seconds:.2f} s")
    print(f"outcome: {outcome}")
    print(f"peak RSS before: {before} KiB ({before / 1024:.0f} MiB); after: {after} KiB "
          f"({after / 1024:.0f} MiB); growth {(after - before) / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
