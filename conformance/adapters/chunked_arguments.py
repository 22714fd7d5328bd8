"""Arguments an SDK's chunked upload helper should refuse (SDK-CHUNKED-ARGUMENTS, SHOULD).

The API documents parts of at most 64 MiB and a create that declares the file's size; it
says nothing of what an SDK's helper must do with a part size of 0, a negative one, or a
`bytes=` that is not the file's size. A demanding SDK author expects the helper to refuse
those before it sends anything, so this is a SHOULD, never a MUST:

    part_size=0, part_size=-1        refused before any request (nothing else holds: no
                                     part size can mean "no part" or "the whole file")
    part_size=64 MiB + 1             refused, or the file uploaded whole and correct (for a
                                     small file it is one part, within the limit)
    bytes= the file's size +1 / -1   refused, or the file uploaded whole under its real size

A helper that sends requests bound to be refused (a create declaring the wrong size, a
completion of no parts) fails, as does one that never ends: the adapter stops it at its
`max_requests`-th request. Whatever the helper does, the target is not judged here, and
every upload the helper left pending is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from conformance.adapters.chunked import cancel_left_pending, describe_call
from conformance.adapters.chunked_reading import (
    ChunkedFile,
    Reading,
    chunked_file,
    read_requests,
    was_stopped,
)
from conformance.adapters.sdk_records import ChunkedCall, ChunkedRun
from conformance.adapters.sdk_template import SdkAdapter
from conformance.api import PART_LIMIT
from conformance.checks import Checker
from conformance.client import TargetClient
from conformance.recorder import ConformanceFailure
from conformance.results import Exchange, Finding
from strategies.payloads import Payload

__all__ = ["ARGUMENTS_REQUIREMENT", "check_chunked_arguments"]

ARGUMENTS_REQUIREMENT: Final = "SDK-CHUNKED-ARGUMENTS"
FILE_SIZE: Final = 2500
MAX_REQUESTS: Final = 20  # a helper still sending after this many, for 2500 bytes, is stuck
_VALID_PART_SIZE: Final = 1000  # for the cases about `bytes=`
_MAX_EXCHANGES: Final = 30  # a finding's evidence


@dataclass(frozen=True, slots=True)
class _Case:
    what: str  # the argument, as a finding names it
    part_size: int | None
    from_path: bool
    bytes_offset: int = 0  # `bytes=` the file's size plus this (0: the size itself)
    must_refuse: bool = False  # True: only a refusal holds


def _cases(part_limit: int) -> tuple[_Case, ...]:
    return (
        _Case("part_size=0", 0, from_path=True, must_refuse=True),
        _Case("part_size=-1", -1, from_path=False, must_refuse=True),
        _Case(f"part_size={part_limit + 1} (the part limit + 1)", part_limit + 1,
              from_path=True),
        _Case(f"bytes={FILE_SIZE + 1} for {FILE_SIZE} bytes given as bytes", _VALID_PART_SIZE,
              from_path=False, bytes_offset=1),
        _Case(f"bytes={FILE_SIZE - 1} for a file of {FILE_SIZE} bytes", _VALID_PART_SIZE,
              from_path=True, bytes_offset=-1),
    )


def check_chunked_arguments(uploader: SdkAdapter, checker: Checker, client: TargetClient, *,
                            seed: int = 0, part_limit: int = PART_LIMIT,
                            source: str = "sdk-chunked-arguments") -> list[Finding]:
    """Gives the helper each argument it should refuse; one finding for those it did not
    (also recorded), a pass for each it handled. `part_limit`: the API's (a test may
    shrink it)."""
    recorder = checker.recorder
    if not uploader.capabilities.chunked_upload:
        recorder.cannot_test(ARGUMENTS_REQUIREMENT,
                             uploader.capabilities.lacks("upload_file_chunked"))
        return []
    if not uploader.stops_runaway_helpers:
        recorder.cannot_test(ARGUMENTS_REQUIREMENT, f"{uploader.name}: a helper that never "
                             "returned could not be stopped without ending the SDK driver")
        return []
    faults: list[str] = []
    steps: list[str] = []
    evidence: list[Exchange] = []
    for index, case in enumerate(_cases(part_limit)):
        case_steps: list[str] = []
        with chunked_file(Payload(seed + index, FILE_SIZE), f"arguments-{index}.txt") as file:
            call = ChunkedCall(file.path, file.size, "text/plain", "assistants",
                               case.part_size, None, case.from_path,
                               declared_bytes=FILE_SIZE + case.bytes_offset
                               if case.bytes_offset else None,
                               max_requests=MAX_REQUESTS)
            run = uploader.upload_file_chunked(call)
            case_steps.append(f"{describe_call(call)} -> "
                              f"{run.status if run.status is not None else run.error}")
            case_steps += [f"  {e.method} {e.url} -> {e.status}" for e in run.exchanges]
            reading = _reading(run, file, client.base_url, part_limit)
            fault = _judge(uploader, checker, case, call, run, reading)
            cancel_left_pending(client, reading, case_steps)
        steps += case_steps
        if fault is None:
            checker.ok(ARGUMENTS_REQUIREMENT)
        else:
            faults.append(fault)
            evidence += run.exchanges
    if not faults:
        return []
    try:
        checker.fail(ARGUMENTS_REQUIREMENT, f"{uploader.name}'s chunked upload helper: "
                     f"{'; '.join(faults)}")
    except ConformanceFailure as failure:
        failure.steps, failure.exchanges = steps, evidence[:_MAX_EXCHANGES]
        finding = failure.to_finding(source)
        recorder.failed(finding)
        return [finding]
    return []  # the requirement is left out of this run


def _reading(run: ChunkedRun, file: ChunkedFile, base_url: str,
             part_limit: int) -> Reading | None:
    if not run.records:
        return None
    return read_requests(run.records, base_url, file, part_limit=part_limit,
                         limit_label=f"more than the API's part limit of {part_limit} bytes",
                         md5=None)


def _judge(uploader: SdkAdapter, checker: Checker, case: _Case, call: ChunkedCall,
           run: ChunkedRun, reading: Reading | None) -> str | None:
    """What the helper did wrong with the case's argument; None when it did right."""
    if was_stopped(run, call):
        return f"{case.what}: it did not end: the suite stopped it at its request " \
               f"#{len(run.records or [])}"
    if reading is None:
        if run.error:
            checker.recorder.observe(ARGUMENTS_REQUIREMENT, f"{uploader.name}: {case.what} "
                                     f"refused before sending: {run.error[:120]}")
            return None
        return f"{case.what}: it returned without sending a request or raising"
    raised = f", then raised {run.error.split(':')[0]}" if run.error else ""
    sent = f"{reading.summary()}{raised}"
    pending = "; its upload was left pending" if reading.left_pending else ""
    if case.must_refuse:
        completed = ", and the upload completed" if _whole(reading) else ""
        return f"{case.what}: not refused: it sent {sent}{completed}{pending}"
    if not _whole(reading):
        wrong = "; ".join(reading.problems[:2]) or \
            f"the target refused its {reading.refused[0] if reading.refused else 'requests'}"
        return f"{case.what}: it sent requests bound to be refused: {sent} ({wrong}){pending}"
    checker.recorder.observe(ARGUMENTS_REQUIREMENT, f"{uploader.name}: {case.what} accepted; "
                             f"the file uploaded whole ({len(reading.parts)} part(s))")
    return None


def _whole(reading: Reading) -> bool:
    """Whether the requests were a correct chunked upload of the file, and it completed."""
    return not reading.problems and not reading.unusable and reading.completed
