"""The check of an SDK's chunked upload helper (`upload_file_chunked`), run as a whole.

`check_chunked_upload` uploads a few files through the helper of an SDK adapter and holds
each run to SDK-CHUNKED-UPLOAD: a create, parts of at most the part size holding the file's
bytes in order, one completion listing them, and a completed file holding those bytes. A
refusal of the helper's valid requests is the target's fault, reported as such.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import quote, urlsplit

from conformance.adapters.sdk_records import HttpRecord, SentRequest
from conformance.adapters.sdk_template import SdkAdapter, SdkCheck, held
from conformance.checks import Checker
from conformance.client import TargetClient
from conformance.openapi.judge import Intended
from conformance.recorder import ConformanceFailure
from conformance.results import Finding
from strategies.payloads import Payload

__all__ = ["CHUNKED_REQUIREMENT", "DEFAULT_CHUNKED_SIZES", "DEFAULT_PART_SIZE",
           "check_chunked_upload"]

DEFAULT_CHUNKED_SIZES: Final = (0, 1, 1000, 2500)  # with part size 1000: 0, 1, 1 and 3 parts
DEFAULT_PART_SIZE: Final = 1000
CHUNKED_REQUIREMENT: Final = "SDK-CHUNKED-UPLOAD"
_UNUSABLE: Final = ("unusable", None)  # the run's requests cannot be followed further
_REFUSED_AS: Final = {"createUpload": "CREATE-VALID", "addUploadPart": "PART-VALID",
                      "completeUpload": "COMPLETE-VALID"}


def check_chunked_upload(uploader: SdkAdapter, checker: Checker, client: TargetClient,
                         sizes: Sequence[int] = DEFAULT_CHUNKED_SIZES,
                         part_size: int = DEFAULT_PART_SIZE, *, seed: int = 0,
                         with_md5: bool = True, source: str = "sdk-chunked") -> list[Finding]:
    """Uploads files of `sizes` bytes with the SDK's helper and checks each run whole.

    The files alternate between bytes and a file on disk. Each run must send a create, then
    parts of at most `part_size` bytes holding the file's bytes in order, then a completion
    listing those parts in that order (with the md5, when `with_md5`); the completed file
    must hold the bytes (read back where GET /files/{id}/content serves it). Returns the
    findings, which are also recorded.
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
            run = _ChunkedCheck(uploader, checker, client, Payload(seed + index, size).read(),
                                part_size, with_md5, from_path=index % 2 == 1, steps=steps)
            try:
                run.run()
            except ConformanceFailure as failure:
                failure.steps = list(steps)
                finding = failure.to_finding(source)
                checker.recorder.failed(finding)
                findings.append(finding)
            finally:
                run.cleanup()
    finally:
        checker.current_steps = saved_steps
    return findings


class _ChunkedCheck:
    def __init__(self, uploader: SdkAdapter, checker: Checker, client: TargetClient,
                 data: bytes, part_size: int, with_md5: bool, from_path: bool,
                 steps: list[str]) -> None:
        self.uploader, self.checker, self.client = uploader, checker, client
        self.data, self.part_size, self.from_path, self.steps = data, part_size, from_path, steps
        self.md5 = hashlib.md5(data).hexdigest() if with_md5 else None
        self.filename = f"chunked-{len(data)}.txt"
        self.upload_id: str | None = None
        self.completed = False

    def run(self) -> None:
        size, check = len(self.data), self.checker
        run = self.uploader.upload_file_chunked(
            self.data, filename=self.filename, mime_type="text/plain", purpose="assistants",
            part_size=self.part_size, md5=self.md5, from_path=self.from_path)
        self.steps.append(f"upload_file_chunked({size} bytes from "
                          f"{'a file' if self.from_path else 'bytes'}, part_size="
                          f"{self.part_size}, md5={'given' if self.md5 else 'none'}) -> "
                          f"{run.status if run.status is not None else run.error}")
        self.steps += [f"  {e.method} {e.url} -> {e.status}" for e in run.exchanges]
        if run.records:
            self._held(self.uploader.result_check(f"the chunked upload of {size} bytes",
                                                  run.result_problems, run.exchanges))
        blame = CHUNKED_REQUIREMENT
        if run.records is not None:
            refused = self._check_requests(run.records)
            blame = "COMPLETE-VALID"  # the SDK did its part: what follows is the target's
            if refused is not None:
                self._refused(*refused)
                return
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

    def _check_requests(self, records: list[HttpRecord]) -> tuple[str, int | None] | None:
        """Checks the sequence the helper sent; the refused (operation, status), if any."""
        size, base_url = len(self.data), self.client.base_url
        problems: list[str] = []
        operations = [_operation_of(r.sent, base_url) for r in records]
        if not records or operations[0] != "createUpload":
            self.checker.fail(CHUNKED_REQUIREMENT, f"the chunked upload began with "
                              f"{operations[0] if records else 'no request'}, not a create")
            return _UNUSABLE
        create = records[0]
        want = {"bytes": size, "filename": self.filename, "mime_type": "text/plain",
                "purpose": "assistants"}
        self._request("the chunked upload's create", [create],
                                 Intended("createUpload", body=want))
        if create.status != 200 or not isinstance(create.json, dict):
            return "createUpload", create.status
        self.upload_id = upload_id = str(create.json.get("id"))
        offset, part_ids = 0, []
        index = 1
        while index < len(records) and operations[index] == "addUploadPart":
            record = records[index]
            self._request(f"the chunked upload's part #{index}", [record],
                                     Intended("addUploadPart", upload_id))
            data = next((f for f in record.sent.form or [] if f.name == "data"), None)
            if data is not None:
                expected = self.data[offset : offset + data.size]
                if not 0 < data.size <= self.part_size:
                    problems.append(f"part #{index} holds {data.size} bytes (part size "
                                    f"{self.part_size})")
                if hashlib.md5(expected).hexdigest() != data.md5 or len(expected) != data.size:
                    problems.append(f"part #{index} does not hold the file's bytes "
                                    f"{offset}..{offset + data.size} (parts out of order?)")
                offset += data.size
            if record.status != 200 or not isinstance(record.json, dict):
                self._fail_if(problems)
                return "addUploadPart", record.status
            part_ids.append(record.json.get("id"))
            index += 1
        if offset != size:
            problems.append(f"the parts hold {offset} of the file's {size} bytes")
        rest = operations[index:]
        if rest != ["completeUpload"]:
            problems.append(f"after the parts it sent {rest or 'nothing'}, not one completion")
            self._fail_if(problems)
            return _UNUSABLE
        complete = records[index]
        self._request("the chunked upload's completion", [complete],
                                 Intended("completeUpload", upload_id))
        sent = complete.sent.json if isinstance(complete.sent.json, dict) else {}
        if sent.get("part_ids") != part_ids:
            problems.append(f"the completion lists part_ids {sent.get('part_ids')}, but the "
                            f"parts were sent as {part_ids}")
        if sent.get("md5") != self.md5:
            problems.append(f"the completion's md5 is {sent.get('md5')!r}, not {self.md5!r}")
        self._fail_if(problems)
        if complete.status != 200:
            return "completeUpload", complete.status
        self.completed = True
        return None

    def _request(self, what: str, records: list[HttpRecord], intended: Intended) -> None:
        self._held(self.uploader.request_check(what, records, intended))

    def _held(self, check: SdkCheck) -> None:
        held(self.checker, check)

    def _fail_if(self, problems: list[str]) -> None:
        if problems:
            self.checker.fail(CHUNKED_REQUIREMENT, f"{self.uploader.name}: the chunked upload "
                              f"of {len(self.data)} bytes: {'; '.join(problems[:4])}")

    def _refused(self, operation: str, status: int | None) -> None:
        if operation == _UNUSABLE[0]:
            return  # already reported
        if len(self.data) == 0 and operation == "completeUpload" and status is not None \
                and 400 <= status < 500:
            self.checker.recorder.observe(
                "OPEN-EMPTY-UPLOAD", f"an empty file by the SDK's helper: refused ({status})")
            return
        requirement = "NO-SERVER-ERROR" if status is None or status >= 500 else \
            _REFUSED_AS[operation]
        self.checker.fail(requirement, f"the target answered {status} to the {operation} of "
                          f"the SDK's chunked upload of {len(self.data)} bytes, a valid request")

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
        self._expect(digest.hexdigest() == hashlib.md5(self.data).hexdigest(), requirement,
                     f"the file of the chunked upload holds {size} bytes with md5 "
                     f"{digest.hexdigest()}, not the {len(self.data)} bytes uploaded")

    def _expect(self, condition: bool, requirement: str, message: str) -> None:
        # The SDK's requirement counts one pass per run (at its end); the target's, per check.
        if requirement != CHUNKED_REQUIREMENT:
            self.checker.expect(condition, requirement, message)
        elif not condition:
            self.checker.fail(requirement, message)

    def cleanup(self) -> None:
        # A run that stopped half-way leaves its upload pending: cancel it.
        if self.upload_id is not None and not self.completed:
            self.client.request("POST", f"/uploads/{quote(self.upload_id, safe='')}/cancel")


def _operation_of(sent: SentRequest, base_url: str) -> str | None:
    base = [s for s in urlsplit(base_url).path.split("/") if s]
    path = [s for s in urlsplit(sent.url).path.split("/") if s][len(base):]
    if sent.method.upper() != "POST" or not path or path[0] != "uploads":
        return None
    if len(path) == 1:
        return "createUpload"
    if len(path) == 3:
        return {"parts": "addUploadPart", "complete": "completeUpload",
                "cancel": "cancelUpload"}.get(path[2])
    return None

