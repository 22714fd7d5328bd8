"""The check of an SDK's chunked upload helper (`upload_file_chunked`), run as a whole.

`check_chunked_upload` uploads a few files through the helper of an SDK adapter and holds
each run to SDK-CHUNKED-UPLOAD: a create, parts of at most the part size holding the file's
bytes in order, one completion listing them, and a completed file holding those bytes. With
no part size given, the helper's default must keep its parts within the API's part limit
(64 MiB). A refusal of the helper's valid requests is the target's fault, reported as such.
Each file is streamed to disk first and given to the helper from there, so a 64 MiB + 1 file
costs the suite a few blocks of memory (the SDK holds its parts as it likes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import quote

from conformance.adapters.chunked_reading import (
    ChunkedFile,
    Reading,
    chunked_file,
    read_requests,
    was_stopped,
)
from conformance.adapters.sdk_records import ChunkedCall, HttpRecord
from conformance.adapters.sdk_template import SdkAdapter, SdkCheck, held
from conformance.api import PART_LIMIT
from conformance.checks import Checker
from conformance.client import TargetClient
from conformance.openapi.judge import Intended
from conformance.recorder import ConformanceFailure
from conformance.results import Finding
from strategies.payloads import Payload

__all__ = ["CHUNKED_REQUIREMENT", "DEFAULT_CHUNKED_SIZES", "DEFAULT_PART_SIZE",
           "cancel_left_pending", "check_chunked_upload", "describe_call", "request_bound"]

DEFAULT_CHUNKED_SIZES: Final = (0, 1, 1000, 2500)  # with part size 1000: 0, 1, 1 and 3 parts
DEFAULT_PART_SIZE: Final = 1000
CHUNKED_REQUIREMENT: Final = "SDK-CHUNKED-UPLOAD"
# A helper that never ends is stopped at a bound: a part per 64 KiB of the file (below any
# sensible default part size) or per part size given, and a few requests more.
_SMALLEST_DEFAULT: Final = 64 * 1024
_SPARE_REQUESTS: Final = 8
_LARGEST_FROM_BYTES: Final = 1 << 20  # larger files reach the helper as a path only
_REFUSED_AS: Final = {"createUpload": "CREATE-VALID", "addUploadPart": "PART-VALID",
                      "completeUpload": "COMPLETE-VALID"}


def request_bound(size: int, part_size: int | None) -> int:
    """The most requests a helper may send for a file of `size` bytes before it is stopped."""
    per_part = part_size if part_size is not None and part_size > 0 else _SMALLEST_DEFAULT
    return -(-size // per_part) + _SPARE_REQUESTS


def check_chunked_upload(uploader: SdkAdapter, checker: Checker, client: TargetClient,
                         sizes: Sequence[int] = DEFAULT_CHUNKED_SIZES,
                         part_size: int | None = DEFAULT_PART_SIZE, *, seed: int = 0,
                         with_md5: bool = True, from_path: bool | None = None,
                         part_limit: int = PART_LIMIT,
                         source: str = "sdk-chunked") -> list[Finding]:
    """Uploads files of `sizes` bytes with the SDK's helper and checks each run whole.

    `part_size` None gives the helper none: its default, whose parts must stay within
    `part_limit` (the API's; a test may shrink it). The files alternate between bytes and a
    path (`from_path` None; files over 1 MiB always go as a path), or go as `from_path`
    says. Each run must send a create, then parts of at most the part size holding the
    file's bytes in order, then a completion listing those parts in that order (with the
    md5, when `with_md5`); the completed file must hold the bytes (read back where GET
    /files/{id}/content serves it). Returns the findings, which are also recorded.
    """
    if not uploader.capabilities.chunked_upload:
        # What the SDK (in this version) does not offer, as a missing test control is:
        # not testable for the target's reason, never a failure.
        checker.recorder.cannot_test(CHUNKED_REQUIREMENT,
                                     uploader.capabilities.lacks("upload_file_chunked"))
        return []
    findings: list[Finding] = []
    saved_steps = checker.current_steps
    try:
        for index, size in enumerate(sizes):
            steps: list[str] = []
            checker.current_steps = steps
            as_path = (index % 2 == 1 if from_path is None else from_path) \
                or size > _LARGEST_FROM_BYTES
            with chunked_file(Payload(seed + index, size), f"chunked-{size}.txt") as file:
                run = _ChunkedCheck(uploader, checker, client, file, _call(
                    file, part_size, with_md5, as_path), part_limit, steps)
                failure = None
                try:
                    run.run()
                except ConformanceFailure as raised:
                    failure = raised
                finally:
                    run.cleanup()  # before the finding is made: its steps show the cancel
                if failure is not None:
                    failure.steps = list(steps)
                    finding = failure.to_finding(source)
                    checker.recorder.failed(finding)
                    findings.append(finding)
    finally:
        checker.current_steps = saved_steps
    return findings


def _call(file: ChunkedFile, part_size: int | None, with_md5: bool,
          from_path: bool) -> ChunkedCall:
    return ChunkedCall(file.path, file.size, "text/plain", "assistants", part_size,
                       file.md5 if with_md5 else None, from_path,
                       max_requests=request_bound(file.size, part_size))


def describe_call(call: ChunkedCall) -> str:
    """The call as a step shows it: upload_file_chunked(2500 bytes from a file, ...)."""
    declared = "" if call.declared_bytes is None else f", bytes={call.declared_bytes}"
    part_size = "default" if call.part_size is None else call.part_size
    return (f"upload_file_chunked({call.size} bytes from "
            f"{'a file' if call.from_path else 'bytes'}, part_size={part_size}{declared}, "
            f"md5={'given' if call.md5 else 'none'})")


def cancel_left_pending(client: TargetClient, reading: Reading | None, steps: list[str]) -> None:
    """Cancels the uploads a helper's run left pending, each in a step."""
    for upload in reading.left_pending if reading is not None else ():
        answer = client.request("POST", f"/uploads/{quote(upload, safe='')}/cancel")
        steps.append(f"  cancel {upload} (left pending by the helper) -> {answer.status}")


class _ChunkedCheck:
    def __init__(self, uploader: SdkAdapter, checker: Checker, client: TargetClient,
                 file: ChunkedFile, call: ChunkedCall, part_limit: int,
                 steps: list[str]) -> None:
        self.uploader, self.checker, self.client = uploader, checker, client
        self.file, self.call, self.steps = file, call, steps
        if call.part_size is None:
            self.part_limit, self.limit_label = part_limit, (
                f"more than the API's part limit of {part_limit} bytes, with the helper's "
                "default part size")
        else:
            self.part_limit, self.limit_label = call.part_size, f"part size {call.part_size}"
        self.reading: Reading | None = None
        self.error: str | None = None  # what the helper raised

    def run(self) -> None:
        size, check, call = self.file.size, self.checker, self.call
        run = self.uploader.upload_file_chunked(call)
        self.error = run.error
        self.steps.append(f"{describe_call(call)} -> "
                          f"{run.status if run.status is not None else run.error}")
        self.steps += [f"  {e.method} {e.url} -> {e.status}" for e in run.exchanges]
        if run.records is not None:
            self.reading = read_requests(
                run.records, self.client.base_url, self.file, part_limit=self.part_limit,
                limit_label=self.limit_label, md5=call.md5)
        if was_stopped(run, call):
            check.fail(CHUNKED_REQUIREMENT, f"{self.uploader.name}: the chunked upload of "
                       f"{size} bytes did not end: the suite stopped it at its request "
                       f"#{len(run.records or [])}")
            return
        if run.records:
            self._held(self.uploader.result_check(f"the chunked upload of {size} bytes",
                                                  run.result_problems, run.exchanges))
        blame = CHUNKED_REQUIREMENT
        if self.reading is not None:
            if not self._check_requests(self.reading):
                return
            blame = "COMPLETE-VALID"  # the SDK did its part: what follows is the target's
        elif run.status is None or not 200 <= run.status < 300:
            if size == 0:
                check.recorder.observe("OPEN-EMPTY-UPLOAD",
                                       f"an empty file by the SDK's helper: refused ({run.status})")
                return
            check.fail(CHUNKED_REQUIREMENT, f"{self.uploader.name}: the chunked upload of "
                       f"{size} bytes ended with {run.error or run.status}")
        upload: dict[str, Any] = run.json if isinstance(run.json, dict) else {}
        file: dict[str, Any] = upload["file"] if isinstance(upload.get("file"), dict) else {}
        self._expect(upload.get("status") == "completed" and file.get("bytes") == size, blame,
                     f"the chunked upload of {size} bytes ended with status "
                     f"{upload.get('status')!r} and a file of {file.get('bytes')!r} bytes")
        if size == 0:
            check.recorder.observe("OPEN-EMPTY-UPLOAD",
                                   "an empty file by the SDK's helper: completed")
        self._check_content(str(file.get("id")), blame)
        check.ok(CHUNKED_REQUIREMENT)

    def _check_requests(self, reading: Reading) -> bool:
        """Holds the helper's requests to the document and to the chunked rules; whether
        the run went through (False: a refusal, or a fault already reported)."""
        if reading.create is not None:
            want = {"bytes": self.file.size, "filename": self.call.filename,
                    "mime_type": self.call.mime_type, "purpose": self.call.purpose}
            self._request("the chunked upload's create", reading.create,
                          Intended("createUpload", body=want))
        upload_id = reading.upload_id or ""
        for index, record in enumerate(reading.parts, start=1):
            self._request(f"the chunked upload's part #{index}", record,
                          Intended("addUploadPart", upload_id))
        if reading.completion is not None:
            self._request("the chunked upload's completion", reading.completion,
                          Intended("completeUpload", upload_id))
        if reading.problems:
            raised = f"; it raised {self.error}" if self.error and not reading.records else ""
            self.checker.fail(CHUNKED_REQUIREMENT, f"{self.uploader.name}: the chunked upload "
                              f"of {self.file.size} bytes: {'; '.join(reading.problems[:4])}"
                              f"{raised}")
            return False
        if reading.refused is not None:
            self._refused(*reading.refused)
            return False
        return not reading.unusable

    def _request(self, what: str, record: HttpRecord, intended: Intended) -> None:
        self._held(self.uploader.request_check(what, [record], intended))

    def _held(self, check: SdkCheck) -> None:
        held(self.checker, check)

    def _refused(self, operation: str, status: int | None) -> None:
        if self.file.size == 0 and operation == "completeUpload" and status is not None \
                and 400 <= status < 500:
            self.checker.recorder.observe(
                "OPEN-EMPTY-UPLOAD", f"an empty file by the SDK's helper: refused ({status})")
            return
        requirement = "NO-SERVER-ERROR" if status is None or status >= 500 else \
            _REFUSED_AS[operation]
        self.checker.fail(requirement, f"the target answered {status} to the {operation} of "
                          f"the SDK's chunked upload of {self.file.size} bytes, a valid request")

    def _check_content(self, file_id: str, blame: str) -> None:
        digest, size = hashlib.md5(), 0
        with self.client.stream_get(f"/files/{quote(file_id, safe='')}/content") as stream:
            for chunk in stream:
                digest.update(chunk)
                size += len(chunk)
            status = stream.status
        if status != 200:
            self.checker.recorder.observe("OPEN-FILE-ENDPOINTS",
                                          f"GET /files/{{id}}/content not served ({status})")
            return
        self.steps.append(f"GET /files/{file_id}/content -> 200, {size} bytes")
        requirement = "CONTENT-BYTES" if blame != CHUNKED_REQUIREMENT else blame
        self._expect(digest.hexdigest() == self.file.md5, requirement,
                     f"the file of the chunked upload holds {size} bytes with md5 "
                     f"{digest.hexdigest()}, not the {self.file.size} bytes uploaded")

    def _expect(self, condition: bool, requirement: str, message: str) -> None:
        # The SDK's requirement counts one pass per run (at its end); the target's, per check.
        if requirement != CHUNKED_REQUIREMENT:
            self.checker.expect(condition, requirement, message)
        elif not condition:
            self.checker.fail(requirement, message)

    def cleanup(self) -> None:
        # A run that stopped half-way leaves its upload pending: cancel it.
        cancel_left_pending(self.client, self.reading, self.steps)

