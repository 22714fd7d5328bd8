"""The suite's request rate against a plain httpx loop sending the same requests.

1. Runs the state machine (profile quick, fixed seed) against an emulator in its own
   process, recording every request it sends.
2. Runs it again, unrecorded, with the same seed, and times it: the suite's rate.
3. Replays the recorded requests with a bare `httpx.Client` loop against a fresh emulator,
   mapping the IDs the first run was given to the ones the replay is given, and times it.

The ratio of (2) to (3) is the suite's overhead: generation, the oracle, the checks,
recording and shrinking bookkeeping. Parallel part requests are replayed one after the
other, which favours the plain loop slightly.

    python bench/suite_overhead.py [--examples 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
from emulator_common import API_KEY, emulator_process

from conformance.adapters.http import HttpAdapter
from conformance.client import TargetClient
from conformance.engine import explore
from conformance.machine import bind_machine
from conformance.profiles import PROFILES
from conformance.recorder import Recorder
from conformance.target import Target

ID_PATTERN = re.compile(rb"(?:upload|part)_[A-Za-z0-9]{8,}|file-[A-Za-z0-9]{8,}")


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    answer: bytes


class RecordingTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[Sent] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("authorization", "content-type")}
        response = self.inner.handle_request(httpx.Request(
            request.method, request.url, headers=request.headers, content=body))
        answer = response.read()
        self.sent.append(Sent(request.method, str(request.url), headers, body, answer))
        return httpx.Response(response.status_code, headers=response.headers, content=answer)


def run_suite(base_url: str, examples: int, seed: int,
              transport: httpx.BaseTransport | None) -> tuple[float, int]:
    profile = PROFILES["quick"]
    with TargetClient(base_url, API_KEY, transport=transport) as client:
        target = Target(base_url, client, HttpAdapter(client), Recorder(), profile, seed=seed)
        counted = _count_requests(client)
        started = time.perf_counter()
        explore(target, bind_machine(target), "bench", max_examples=examples)
        elapsed = time.perf_counter() - started
        assert not target.recorder.failures, "the clean emulator must pass"
        return elapsed, counted()


def _count_requests(client: TargetClient) -> Any:
    sent = [0]
    inner = client._http.send  # type: ignore[attr-defined]

    def send(*args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return inner(*args, **kwargs)

    client._http.send = send  # type: ignore[attr-defined]
    return lambda: sent[0]


def replay(sent: list[Sent], old_base: str, new_base: str) -> float:
    ids: dict[bytes, bytes] = {}

    def remap(data: bytes) -> bytes:
        return ID_PATTERN.sub(lambda m: ids.get(m.group(0), m.group(0)), data)

    with httpx.Client(timeout=30) as client:
        started = time.perf_counter()
        for request in sent:
            url = remap(request.url.replace(old_base, new_base).encode()).decode()
            response = client.request(request.method, url, headers=request.headers,
                                      content=remap(request.body))
            for old, new in zip(ID_PATTERN.findall(request.answer),
                                ID_PATTERN.findall(response.content), strict=False):
                ids.setdefault(old, new)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for phase in ("record", "suite", "plain"):
        with emulator_process("--test-controls") as served:
            base_url = served.base_url
            if phase == "record":
                recorder = RecordingTransport()
                run_suite(base_url, args.examples, args.seed, recorder)
                recorded, recorded_base = recorder.sent, base_url
            elif phase == "suite":
                results["suite_s"], results["suite_requests"] = run_suite(
                    base_url, args.examples, args.seed, None)
            else:
                results["plain_s"] = replay(recorded, recorded_base, base_url)
                results["plain_requests"] = len(recorded)
    results["suite_rps"] = round(results["suite_requests"] / results["suite_s"], 1)
    results["plain_rps"] = round(results["plain_requests"] / results["plain_s"], 1)
    results["overhead"] = round(results["plain_rps"] / results["suite_rps"], 2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
